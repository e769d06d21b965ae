//! Reading the per-device queues, and the sweep of expired entries; the
//! writes are in [`super::queue`].

use super::queue::{AckDelete, Batch, EntryKind, SendOutcome, SendWrite};
use super::{Store, StoreError, builder, from_db, statement, to_db, with_pool};
use bytes::Bytes;
use courier_shared::ids::{DeviceId, MessageId, UserId};

/// An entry waiting in a device's queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedEntry {
    /// Its position in the queues (what an acknowledgement deletes by).
    pub seq: i64,
    /// The entry's id.
    pub id: MessageId,
    /// Message or receipt.
    pub kind: EntryKind,
    /// Who sent it.
    pub from: UserId,
    /// From which device.
    pub from_device: DeviceId,
    /// When it was queued (Unix ms).
    pub created_at: u64,
    /// The bytes to deliver.
    pub payload: Vec<u8>,
}

type EntryRow = (i64, Vec<u8>, i16, i64, i64, i64, Vec<u8>);

/// An entry to queue for one device, for [`Store::enqueue`].
#[derive(Debug, Clone)]
pub struct NewEntry {
    /// The recipient device.
    pub device: DeviceId,
    /// The entry's id (the message id, for messages).
    pub id: MessageId,
    /// Message or receipt.
    pub kind: EntryKind,
    /// The bytes to deliver.
    pub payload: Vec<u8>,
}

/// What [`Store::enqueue`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enqueued {
    /// Newly queued for these devices.
    Queued(Vec<DeviceId>),
    /// The same sender already sent this message id; nothing was written.
    Duplicate,
    /// A recipient device does not exist; nothing was written.
    UnknownRecipient,
}

impl Store {
    /// Queues `entries` (of one id and kind) from `sender`, all or nothing,
    /// without a queue cap; with `dedupe`, the id is recorded for the
    /// sender's device until `expires_at` and a repeat writes nothing; writes
    /// nothing if a recipient device does not exist
    /// ([`Enqueued::UnknownRecipient`]). (The router
    /// batches its sends instead; this is the one-off form.)
    pub async fn enqueue(
        &self,
        sender: (UserId, DeviceId),
        entries: &[NewEntry],
        dedupe: Option<MessageId>,
        now_ms: i64,
        expires_at: i64,
    ) -> Result<Enqueued, StoreError> {
        let Some(first) = entries.first() else {
            return Ok(Enqueued::Queued(Vec::new()));
        };
        let mut devices: Vec<DeviceId> = entries.iter().map(|e| e.device).collect();
        devices.sort_unstable();
        devices.dedup();
        let found: i64 = with_pool!(self, pool => {
            let mut count = builder(pool, "SELECT COUNT(*) FROM devices WHERE id IN (");
            let mut list = count.separated(", ");
            for device in &devices {
                list.push_bind(to_db(device.0));
            }
            list.push_unseparated(")");
            count.build_query_scalar().fetch_one(pool).await?
        });
        if usize::try_from(found).ok() != Some(devices.len()) {
            return Ok(Enqueued::UnknownRecipient);
        }
        let send = SendWrite {
            sender,
            id: dedupe.unwrap_or(first.id),
            kind: first.kind,
            mark: dedupe.is_some(),
            capped: false,
            shared: None,
            rows: entries
                .iter()
                .map(|e| (e.device, Some(Bytes::from(e.payload.clone()))))
                .collect(),
            now_ms,
            expires_at,
        };
        let batch = Batch {
            sends: std::slice::from_ref(&send),
            deletes: &[],
            queue_cap: u64::MAX,
        };
        match self.write(&batch).await?.sends.first() {
            Some(SendOutcome::Written) => Ok(Enqueued::Queued(devices)),
            _ => Ok(Enqueued::Duplicate),
        }
    }

    /// The oldest `limit` unexpired entries waiting for `device`.
    pub async fn pending(
        &self,
        device: DeviceId,
        limit: u32,
        now_ms: i64,
    ) -> Result<Vec<QueuedEntry>, StoreError> {
        let select = "SELECT q.seq, q.entry_id, q.kind, q.sender_user, q.sender_device, \
                      q.created_at, COALESCE(q.payload, p.data) \
                      FROM queue q LEFT JOIN payloads p ON p.id = q.payload_id \
                      WHERE q.device_id = $1 AND q.expires_at > $2 ORDER BY q.seq LIMIT $3";
        let rows: Vec<EntryRow> = with_pool!(self, pool => {
            sqlx::query_as(select)
                .bind(to_db(device.0))
                .bind(now_ms)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?
        });
        statement();
        Ok(rows
            .into_iter()
            .filter_map(|(seq, id, kind, from, from_device, created_at, payload)| {
                Some(QueuedEntry {
                    seq,
                    id: MessageId::from_slice(&id)?,
                    kind: EntryKind::from_db(kind)?,
                    from: UserId(from_db(from)),
                    from_device: DeviceId(from_db(from_device)),
                    created_at: from_db(created_at),
                    payload,
                })
            })
            .collect())
    }

    /// Deletes `device`'s entries with these ids; returns how many there were.
    /// Only ever touches `device`'s own queue.
    pub async fn ack(&self, device: DeviceId, ids: &[MessageId]) -> Result<u64, StoreError> {
        let deletes = [AckDelete {
            device,
            seqs: Vec::new(),
            ids: ids.to_vec(),
        }];
        let batch = Batch {
            sends: &[],
            deletes: &deletes,
            queue_cap: u64::MAX,
        };
        Ok(self
            .write(&batch)
            .await?
            .deleted
            .first()
            .copied()
            .unwrap_or(0))
    }

    /// How many entries wait for `device`.
    pub async fn queue_depth(&self, device: DeviceId) -> Result<u64, StoreError> {
        let select = "SELECT COUNT(*) FROM queue WHERE device_id = $1";
        let count: i64 = with_pool!(self, pool => {
            sqlx::query_scalar(select).bind(to_db(device.0)).fetch_one(pool).await?
        });
        Ok(from_db(count))
    }

    /// How many queues hold entry `id`, and how many payload bytes they
    /// keep for it (a payload shared by several rows counts once).
    pub async fn queued_copies(&self, id: MessageId) -> Result<(u64, u64), StoreError> {
        let select = "SELECT COUNT(*), COALESCE(SUM(LENGTH(payload)), 0) + COALESCE(( \
                          SELECT SUM(LENGTH(data)) FROM payloads WHERE id IN ( \
                              SELECT payload_id FROM queue WHERE entry_id = $1)), 0) \
                      FROM queue WHERE entry_id = $1";
        let (count, bytes): (i64, i64) = with_pool!(self, pool => {
            sqlx::query_as(select).bind(id.as_bytes().as_slice()).fetch_one(pool).await?
        });
        Ok((from_db(count), from_db(bytes)))
    }

    /// How many entries wait in all queues together.
    pub async fn total_queued(&self) -> Result<u64, StoreError> {
        let count: i64 = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM queue").fetch_one(pool).await?
        });
        Ok(from_db(count))
    }

    /// How many shared payloads are stored (each once, for all its rows).
    pub async fn shared_payloads(&self) -> Result<u64, StoreError> {
        let count: i64 = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM payloads").fetch_one(pool).await?
        });
        Ok(from_db(count))
    }

    /// Deletes expired entries (keeping the queue counts in step), expired
    /// payloads, send marks and device links; returns how many entries went.
    pub async fn purge_expired(&self, now_ms: i64) -> Result<u64, StoreError> {
        let recount = "UPDATE queue_counts SET entries = \
                       (SELECT COUNT(*) FROM queue WHERE device_id = $1) WHERE device_id = $1";
        let deleted = with_pool!(self, pool => {
            let mut tx = super::begin_write(pool).await?;
            let devices: Vec<i64> =
                sqlx::query_scalar("DELETE FROM queue WHERE expires_at <= $1 RETURNING device_id")
                    .bind(now_ms)
                    .fetch_all(&mut *tx)
                    .await?;
            let mut touched = devices.clone();
            touched.sort_unstable();
            touched.dedup();
            for device in &touched {
                sqlx::query(recount).bind(*device).execute(&mut *tx).await?;
            }
            for table in ["payloads", "accepted", "links"] {
                sqlx::query(&format!("DELETE FROM {table} WHERE expires_at <= $1"))
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            u64::try_from(devices.len()).unwrap_or(u64::MAX)
        });
        Ok(deleted)
    }
}
