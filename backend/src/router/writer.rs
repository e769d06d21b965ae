//! Group commit: the queue writers.
//!
//! Sessions hand their sends and acknowledgements to a few writer tasks
//! instead of each opening its own transaction. A writer takes every job that
//! is waiting (up to [`MAX_BATCH`]) and applies them all in one transaction:
//! one commit — one fsync — for many messages. Each sender still hears
//! "accepted" only after that commit.

use crate::store::queue::{EnqueueJob, Enqueued};
use crate::store::{Backend, Store, StoreError};
use courier_shared::ids::{DeviceId, MessageId};
use std::sync::Arc;
use tokio::sync::{Mutex, mpsc, oneshot};

/// Most jobs in one transaction.
pub const MAX_BATCH: usize = 256;
/// Jobs that may wait for a writer before sessions wait too.
const BACKLOG: usize = 4_096;

/// One piece of work for a writer, with where to send its outcome.
enum Job {
    Enqueue(EnqueueJob, oneshot::Sender<Result<Enqueued, StoreError>>),
    Ack(
        DeviceId,
        Vec<MessageId>,
        oneshot::Sender<Result<u64, StoreError>>,
    ),
}

/// The handle sessions write through.
#[derive(Debug, Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Enqueue(job, _) => write!(f, "Enqueue({} entries)", job.entries.len()),
            Self::Ack(device, ids, _) => write!(f, "Ack({device:?}, {} ids)", ids.len()),
        }
    }
}

fn closed() -> StoreError {
    StoreError::Query(sqlx::Error::PoolClosed)
}

impl Writer {
    /// Starts the writer tasks for `store`: one for SQLite (it has one writer
    /// anyway), four for Postgres. They stop when every handle is dropped.
    pub fn start(store: Store) -> Self {
        let (jobs, receiver) = mpsc::channel(BACKLOG);
        let receiver = Arc::new(Mutex::new(receiver));
        let writers = match store.backend() {
            Backend::Sqlite => 1,
            Backend::Postgres => 4,
        };
        for _ in 0..writers {
            tokio::spawn(run(store.clone(), receiver.clone()));
        }
        Self { jobs }
    }

    /// Queues `job` with whatever else is waiting; returns once committed.
    pub async fn enqueue(&self, job: EnqueueJob) -> Result<Enqueued, StoreError> {
        let (reply, outcome) = oneshot::channel();
        self.jobs
            .send(Job::Enqueue(job, reply))
            .await
            .map_err(|_| closed())?;
        outcome.await.unwrap_or_else(|_| Err(closed()))
    }

    /// Deletes `device`'s entries `ids` with whatever else is waiting;
    /// returns how many there were, once committed.
    pub async fn ack(&self, device: DeviceId, ids: Vec<MessageId>) -> Result<u64, StoreError> {
        let (reply, outcome) = oneshot::channel();
        self.jobs
            .send(Job::Ack(device, ids, reply))
            .await
            .map_err(|_| closed())?;
        outcome.await.unwrap_or_else(|_| Err(closed()))
    }
}

async fn run(store: Store, receiver: Arc<Mutex<mpsc::Receiver<Job>>>) {
    loop {
        let mut batch = Vec::new();
        {
            let mut receiver = receiver.lock().await;
            match receiver.recv().await {
                Some(first) => batch.push(first),
                None => return,
            }
            while batch.len() < MAX_BATCH {
                match receiver.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
        }
        let mut sends = Vec::new();
        let mut send_replies = Vec::new();
        let mut acks = Vec::new();
        let mut ack_replies = Vec::new();
        for job in batch {
            match job {
                Job::Enqueue(job, reply) => {
                    sends.push(job);
                    send_replies.push(reply);
                }
                Job::Ack(device, ids, reply) => {
                    acks.push((device, ids));
                    ack_replies.push(reply);
                }
            }
        }
        match store.write_batch(&sends, &acks).await {
            Ok((outcomes, deleted)) => {
                for (reply, outcome) in send_replies.into_iter().zip(outcomes) {
                    let _ = reply.send(outcome);
                }
                for (reply, count) in ack_replies.into_iter().zip(deleted) {
                    let _ = reply.send(Ok(count));
                }
            }
            Err(err) => {
                tracing::warn!(%err, sends = sends.len(), acks = acks.len(), "a queue transaction failed");
                let failed = || StoreError::Query(sqlx::Error::Protocol(err.to_string()));
                for reply in send_replies {
                    let _ = reply.send(Err(failed()));
                }
                for reply in ack_replies {
                    let _ = reply.send(Err(failed()));
                }
            }
        }
    }
}
