//! Group commit: the queue writers.
//!
//! The dispatcher gathers everything that must be written while the writers
//! are busy — new entries, marks against repeats, deletions of acknowledged
//! entries — and hands it to a free writer as one [`Order`]: one transaction,
//! one commit (one fsync, and only if it stores entries) for many messages.
//! One writer for SQLite (it has one writer anyway), four for Postgres. Each
//! keeps its own connection.

use crate::store::queue::{AckDelete, Batch, SendWrite, Written};
use crate::store::{Store, StoreError};
use courier_shared::ids::{DeviceId, MessageId};
use std::sync::Arc;
use tokio::sync::{Mutex, mpsc};

use super::job::Done;

/// What one send of an order is for, in the dispatcher's books.
#[derive(Debug)]
pub enum Item {
    /// The first write of a job (its entries for devices that could not be
    /// pushed to, and its mark).
    First {
        /// The job.
        job: u64,
    },
    /// Entries of a job that were pushed but not acknowledged in time.
    Miss {
        /// The job.
        job: u64,
        /// Which of its entries.
        entries: Vec<usize>,
    },
    /// The mark of a job settled without storing anything.
    Mark {
        /// The job's (sender device, id).
        key: (DeviceId, MessageId),
    },
    /// One deletion of acknowledged entries.
    Delete {
        /// Who to tell.
        done: Done,
        /// The entries.
        ids: Vec<MessageId>,
    },
}

/// One transaction's work and what each piece is for: the sends are the
/// [`Item::First`], [`Item::Miss`] and [`Item::Mark`] items in order, the
/// deletes the [`Item::Delete`] ones.
#[derive(Debug)]
pub struct Order {
    /// Sends to store.
    pub sends: Vec<SendWrite>,
    /// Acknowledged entries to delete.
    pub deletes: Vec<AckDelete>,
    /// What each is for.
    pub items: Vec<Item>,
    /// Most entries one device's queue may hold.
    pub queue_cap: u64,
}

/// What a writer did with an order.
pub type Outcome = (Vec<Item>, Result<Written, StoreError>);

/// Starts `writers` writer tasks for `store`; returns where to send orders
/// (one waits per writer at most, so that the rest gather into the next
/// order) and where their outcomes come back.
pub fn start(
    store: Store,
    writers: usize,
) -> (mpsc::Sender<Order>, mpsc::UnboundedReceiver<Outcome>) {
    let (orders, receiver) = mpsc::channel(writers.max(1));
    let (outcomes, results) = mpsc::unbounded_channel();
    let receiver = Arc::new(Mutex::new(receiver));
    for _ in 0..writers.max(1) {
        tokio::spawn(run(store.clone(), receiver.clone(), outcomes.clone()));
    }
    (orders, results)
}

async fn run(
    store: Store,
    orders: Arc<Mutex<mpsc::Receiver<Order>>>,
    outcomes: mpsc::UnboundedSender<Outcome>,
) {
    let mut connection = None;
    loop {
        let Some(order) = orders.lock().await.recv().await else {
            return;
        };
        let batch = Batch {
            sends: &order.sends,
            deletes: &order.deletes,
            queue_cap: order.queue_cap,
        };
        let mut result = write(&store, &mut connection, &batch).await;
        if result.as_ref().is_err_and(retryable) {
            result = write(&store, &mut connection, &batch).await;
        }
        if outcomes.send((order.items, result)).is_err() {
            return;
        }
    }
}

async fn write(
    store: &Store,
    connection: &mut Option<crate::store::queue::WriterConnection>,
    batch: &Batch<'_>,
) -> Result<Written, StoreError> {
    if connection.is_none() {
        *connection = Some(store.writer_connection().await?);
    }
    let Some(conn) = connection.as_mut() else {
        return Err(StoreError::Query(sqlx::Error::PoolClosed));
    };
    let result = conn.write(batch).await;
    if result.is_err() {
        // Start the next batch on a fresh connection.
        *connection = None;
    }
    result
}

/// Whether a failed transaction may simply be run again: a Postgres
/// deadlock or serialisation failure, or a lost connection.
fn retryable(err: &StoreError) -> bool {
    match err {
        StoreError::Query(sqlx::Error::Database(db)) => {
            matches!(db.code().as_deref(), Some("40P01" | "40001"))
        }
        StoreError::Query(sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut) => true,
        _ => false,
    }
}
