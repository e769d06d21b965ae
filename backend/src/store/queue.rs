//! The per-device queues: entries wait here until their device acknowledges
//! them or they expire.
//!
//! An entry is a message or a receipt for one device. The queue writers
//! ([`crate::router`]) apply a [`Batch`] — the sends to store, each all or
//! nothing, and the entries devices acknowledged — in one transaction through
//! a [`WriterConnection`]. A payload addressed to many devices is stored once
//! (`payloads`) and referenced by their rows; a send records its id
//! (`accepted`) so that a repeat writes nothing; each device's queue is
//! capped (`queue_counts`). Reading the queues: [`super::queue_read`].

pub use super::queue_read::{Enqueued, NewEntry, QueuedEntry};
use super::{Store, StoreError, committed, queue_postgres, queue_sqlite};
use bytes::Bytes;
use courier_shared::ids::{DeviceId, DeviceSetDigest, GroupId, MessageId, UserId};
use std::collections::{HashMap, HashSet};

/// What a queued entry carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A message payload.
    Message,
    /// A delivery or read receipt.
    Receipt,
}

impl EntryKind {
    pub(super) fn as_db(self) -> i16 {
        match self {
            Self::Message => 1,
            Self::Receipt => 2,
        }
    }

    pub(super) fn from_db(value: i16) -> Option<Self> {
        match value {
            1 => Some(Self::Message),
            2 => Some(Self::Receipt),
            _ => None,
        }
    }
}

/// A group message: one payload for every listed device of every member
/// but the sending device.
#[derive(Debug, Clone)]
pub struct GroupSend {
    /// The group.
    pub group: GroupId,
    /// The digest of the devices the sender encrypted for; it must match
    /// the group's current devices.
    pub devices: DeviceSetDigest,
    /// The one payload.
    pub payload: Vec<u8>,
}

/// One send to store: its queue rows and its mark against repeats, all or
/// nothing.
#[derive(Debug, Clone)]
pub struct SendWrite {
    /// The sending user and device.
    pub sender: (UserId, DeviceId),
    /// The entry's id (the sender's message id, for messages).
    pub id: MessageId,
    /// Message or receipt.
    pub kind: EntryKind,
    /// Record `(sender device, id)` until the send expires; if it is already
    /// recorded, the send is a repeat and writes nothing.
    pub mark: bool,
    /// Refuse the send if one of its devices' queues is full.
    pub capped: bool,
    /// The payload of the rows that have none of their own, stored once.
    pub shared: Option<Bytes>,
    /// The rows: a device, and its own payload or `None` for the shared one.
    pub rows: Vec<(DeviceId, Option<Bytes>)>,
    /// When it was sent (Unix ms).
    pub now_ms: i64,
    /// When it expires (Unix ms).
    pub expires_at: i64,
}

/// What storing one send did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendOutcome {
    /// Its rows (and mark) are written.
    Written,
    /// It was marked before: nothing was written.
    Duplicate,
    /// This device's queue is full: nothing was written.
    Full(DeviceId),
}

/// Entries one device acknowledged: by queue position where its session
/// knows it (it read the entry from the queue), else by entry id.
#[derive(Debug, Clone)]
pub struct AckDelete {
    /// The device (only its own queue is touched).
    pub device: DeviceId,
    /// Queue positions.
    pub seqs: Vec<i64>,
    /// Entry ids whose positions are not known.
    pub ids: Vec<MessageId>,
}

/// One transaction's work.
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a> {
    /// Sends to store.
    pub sends: &'a [SendWrite],
    /// Acknowledged entries to delete.
    pub deletes: &'a [AckDelete],
    /// Most entries one device's queue may hold.
    pub queue_cap: u64,
}

impl Batch<'_> {
    /// The devices (sorted, as database ids) that capped sends go to:
    /// whose queue counts the batch must read.
    pub(super) fn capped_devices(&self) -> Vec<i64> {
        let mut devices: Vec<i64> = self
            .sends
            .iter()
            .filter(|send| send.capped)
            .flat_map(|send| send.rows.iter().map(|(device, _)| super::to_db(device.0)))
            .collect();
        devices.sort_unstable();
        devices.dedup();
        devices
    }

    /// Whether the commit must reach the disk before it returns: only new
    /// queue rows are a promise (a sender is told "accepted"). A lost mark
    /// or deletion after a crash costs a repeated delivery, which the
    /// device drops by its id.
    pub fn durable(&self) -> bool {
        self.sends.iter().any(|send| !send.rows.is_empty())
    }
}

/// What a batch did: each send's outcome, each deletion's count.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Written {
    /// One per send, in order.
    pub sends: Vec<SendOutcome>,
    /// Entries deleted, one count per [`AckDelete`] (a device named twice
    /// has its total on the first).
    pub deleted: Vec<u64>,
}

/// The queue's rows as one statement inserts them.
pub(super) struct Row<'a> {
    pub send: &'a SendWrite,
    pub device: DeviceId,
    pub payload: Option<&'a [u8]>,
    pub payload_id: Option<i64>,
}

/// The plan of a batch once the queue counts are known: which sends go in.
pub(super) struct Plan {
    pub outcomes: Vec<SendOutcome>,
}

impl Plan {
    /// Decides which sends fit their devices' queues, given the current
    /// `counts` and `cap`. Duplicates are found later, by the marks.
    pub fn new(batch: &Batch<'_>, counts: &HashMap<DeviceId, i64>) -> Self {
        let mut added: HashMap<DeviceId, i64> = HashMap::new();
        let cap = i64::try_from(batch.queue_cap).unwrap_or(i64::MAX);
        let outcomes = batch
            .sends
            .iter()
            .map(|send| {
                if send.capped {
                    let full = send.rows.iter().find(|(device, _)| {
                        let now = counts.get(device).copied().unwrap_or(0);
                        now + added.get(device).copied().unwrap_or(0) >= cap
                    });
                    if let Some((device, _)) = full {
                        return SendOutcome::Full(*device);
                    }
                }
                for (device, _) in &send.rows {
                    *added.entry(*device).or_default() += 1;
                }
                SendOutcome::Written
            })
            .collect();
        Self { outcomes }
    }

    /// Marks as duplicates the marked sends whose mark was not newly
    /// inserted (`inserted`), and any second send of one mark in the batch.
    pub fn apply_marks(&mut self, batch: &Batch<'_>, inserted: &HashSet<(i64, Vec<u8>)>) {
        let mut seen = HashSet::new();
        for (send, outcome) in batch.sends.iter().zip(&mut self.outcomes) {
            if !send.mark || *outcome != SendOutcome::Written {
                continue;
            }
            let key = mark_key(send);
            if !inserted.contains(&key) || !seen.insert(key) {
                *outcome = SendOutcome::Duplicate;
            }
        }
    }

    /// The sends to write, with their index in the batch.
    pub fn written<'a>(&self, batch: &Batch<'a>) -> Vec<(usize, &'a SendWrite)> {
        batch
            .sends
            .iter()
            .enumerate()
            .filter(|(n, _)| self.outcomes[*n] == SendOutcome::Written)
            .collect()
    }
}

/// Inserts the shared payload of each send in `$written` that has rows
/// referencing it, on connection `$tx`; evaluates to their ids by the
/// send's index in the batch. (One statement per payload: shared payloads
/// come with fan-outs, few per batch.)
macro_rules! insert_payloads {
    ($tx:expr, $written:expr) => {{
        let mut payload_ids = std::collections::HashMap::new();
        for (n, send) in $written {
            let refs = send.rows.iter().filter(|(_, own)| own.is_none()).count();
            if let (Some(shared), true) = (&send.shared, refs > 0) {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO payloads (data, refs, expires_at) VALUES ($1, $2, $3) \
                     RETURNING id",
                )
                .bind(shared.as_ref())
                .bind(i32::try_from(refs).unwrap_or(i32::MAX))
                .bind(send.expires_at)
                .fetch_one(&mut *$tx)
                .await?;
                $crate::store::statement();
                payload_ids.insert(*n, id);
            }
        }
        payload_ids
    }};
}
pub(super) use insert_payloads;

/// The `accepted` key of a send.
pub(super) fn mark_key(send: &SendWrite) -> (i64, Vec<u8>) {
    (super::to_db(send.sender.1.0), send.id.as_bytes().to_vec())
}

/// The rows of `sends`, their shared payloads referenced by `payload_ids`
/// (one per send that has one, in order).
pub(super) fn rows<'a>(
    sends: &[(usize, &'a SendWrite)],
    payload_ids: &HashMap<usize, i64>,
) -> Vec<Row<'a>> {
    let mut rows = Vec::new();
    for (n, send) in sends {
        for (device, payload) in &send.rows {
            rows.push(Row {
                send,
                device: *device,
                payload: payload.as_deref(),
                payload_id: if payload.is_none() {
                    payload_ids.get(n).copied()
                } else {
                    None
                },
            });
        }
    }
    rows
}

/// How many entries each device gains or loses, sorted by device (so that
/// concurrent Postgres writers lock the counts in the same order).
pub(super) fn count_changes(rows: &[Row<'_>], deleted: &[(DeviceId, u64)]) -> Vec<(i64, i64)> {
    let mut changes: HashMap<DeviceId, i64> = HashMap::new();
    for row in rows {
        *changes.entry(row.device).or_default() += 1;
    }
    for (device, count) in deleted {
        *changes.entry(*device).or_default() -= i64::try_from(*count).unwrap_or(0);
    }
    let mut changes: Vec<(i64, i64)> = changes
        .into_iter()
        .filter(|(_, change)| *change != 0)
        .map(|(device, change)| (super::to_db(device.0), change))
        .collect();
    changes.sort_unstable();
    changes
}

/// The per-deletion counts from the counts per device.
pub(super) fn deleted_counts(deletes: &[AckDelete], per_device: &[(DeviceId, u64)]) -> Vec<u64> {
    let mut left: HashMap<DeviceId, u64> = HashMap::new();
    for (device, count) in per_device {
        *left.entry(*device).or_default() += count;
    }
    deletes
        .iter()
        .map(|delete| left.remove(&delete.device).unwrap_or(0))
        .collect()
}

/// A connection a queue writer keeps for itself, outside the pool (so that
/// closing the pool does not wait for it, and its commit mode — durable or
/// not — is its own to switch).
pub enum WriterConnection {
    /// SQLite, and whether it is set to commit without fsync.
    Sqlite(sqlx::SqliteConnection, bool),
    /// Postgres.
    Postgres(sqlx::PgConnection),
}

impl std::fmt::Debug for WriterConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite(..) => f.write_str("WriterConnection(SQLite)"),
            Self::Postgres(_) => f.write_str("WriterConnection(Postgres)"),
        }
    }
}

impl WriterConnection {
    /// Applies `batch` in one transaction; durable only if it stores rows.
    pub async fn write(&mut self, batch: &Batch<'_>) -> Result<Written, StoreError> {
        let written = match self {
            Self::Sqlite(conn, relaxed) => queue_sqlite::write(conn, relaxed, batch).await?,
            Self::Postgres(conn) => queue_postgres::write(conn, batch).await?,
        };
        committed();
        let stored: usize = batch
            .sends
            .iter()
            .zip(&written.sends)
            .filter(|(_, outcome)| **outcome == SendOutcome::Written)
            .map(|(send, _)| send.rows.len())
            .sum();
        crate::metrics::metrics()
            .entries_stored
            .inc_by(u64::try_from(stored).unwrap_or(u64::MAX));
        Ok(written)
    }
}

impl Store {
    /// A connection for a queue writer.
    pub async fn writer_connection(&self) -> Result<WriterConnection, StoreError> {
        use sqlx::ConnectOptions;
        Ok(match self {
            Self::Sqlite(pool) => {
                WriterConnection::Sqlite(pool.connect_options().connect().await?, false)
            }
            Self::Postgres(pool) => {
                WriterConnection::Postgres(pool.connect_options().connect().await?)
            }
        })
    }

    /// Applies one batch on a connection of its own (tests and one-off work;
    /// the router's writers keep theirs).
    pub async fn write(&self, batch: &Batch<'_>) -> Result<Written, StoreError> {
        self.writer_connection().await?.write(batch).await
    }
}
