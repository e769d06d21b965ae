//! The per-device queues: entries wait here until their device acknowledges
//! them or they expire.
//!
//! An entry is a message (one payload for one device) or a receipt. A message
//! is written for all its recipient devices in one transaction, together with
//! a marker that makes a retried send a no-op.

use super::directory::{RoutedDevice, check_recipients};
use super::{Store, StoreError, builder, committed, from_db, statement, to_db, with_pool};
use courier_shared::ids::{DeviceId, DeviceSetDigest, GroupId, MessageId, UserId};

/// What a queued entry carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A message payload.
    Message,
    /// A delivery or read receipt.
    Receipt,
}

impl EntryKind {
    fn as_db(self) -> i16 {
        match self {
            Self::Message => 1,
            Self::Receipt => 2,
        }
    }

    fn from_db(value: i16) -> Option<Self> {
        match value {
            1 => Some(Self::Message),
            2 => Some(Self::Receipt),
            _ => None,
        }
    }
}

/// An entry to queue for one device.
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

/// An entry waiting in a device's queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedEntry {
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

/// What queuing a message did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enqueued {
    /// Newly queued for these devices.
    Queued(Vec<DeviceId>),
    /// The same sender already sent this message id; nothing was written.
    Duplicate,
}

type EntryRow = (Vec<u8>, i16, i64, i64, i64, Vec<u8>);

/// Queue rows per `INSERT` statement (8 parameters each, well within both
/// databases' limits).
const INSERT_CHUNK: usize = 1_000;

/// A group message: one payload for every listed device of every member
/// but the sending device, resolved inside the transaction that queues it.
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

/// One send to queue as part of a batch.
#[derive(Debug, Clone)]
pub struct EnqueueJob {
    /// The sending user and device.
    pub sender: (UserId, DeviceId),
    /// One entry per recipient device.
    pub entries: Vec<NewEntry>,
    /// A group message, queued for the group's devices (on top of
    /// `entries`, which are then usually empty).
    pub group: Option<GroupSend>,
    /// The message id to record against repeats, for messages.
    pub dedupe: Option<MessageId>,
    /// Whether the recipients must be exactly the listed devices of the
    /// users they belong to (the device check for messages; see
    /// [`super::directory::check_recipients`]). Otherwise they need only exist.
    pub check_devices: bool,
    /// When it is queued (Unix ms).
    pub now_ms: i64,
    /// When it expires (Unix ms).
    pub expires_at: i64,
}

/// One queue row to insert, borrowing from its job.
struct Row<'a> {
    job: &'a EnqueueJob,
    device: DeviceId,
    id: MessageId,
    kind: EntryKind,
    payload: &'a [u8],
}

/// The devices a group message goes to, given the group's listed member
/// devices as `(device, user)` rows: every one but the sender's, provided
/// the sender is a member and encrypted for exactly these devices.
fn route_group(
    sender: (UserId, DeviceId),
    send: &GroupSend,
    members: &[(i64, i64)],
) -> Result<Vec<DeviceId>, StoreError> {
    if !members.iter().any(|(_, user)| from_db(*user) == sender.0.0) {
        return Err(StoreError::Forbidden(
            "you are not a member of this group".into(),
        ));
    }
    let devices: Vec<DeviceId> = members
        .iter()
        .map(|(device, _)| DeviceId(from_db(*device)))
        .filter(|device| *device != sender.1)
        .collect();
    if courier_shared::proto::device_set_digest(&devices) != send.devices {
        return Err(StoreError::Stale(
            "the group's members or their devices changed: fetch the group and its members' \
             device lists"
                .into(),
        ));
    }
    Ok(devices)
}

impl Store {
    /// Queues `entries` from `sender`, all or nothing. With `dedupe`, the
    /// message id is recorded for the sender's device until `expires_at`, and a
    /// second call with the same id writes nothing. Fails with `NotFound` if a
    /// recipient device does not exist.
    pub async fn enqueue(
        &self,
        sender: (UserId, DeviceId),
        entries: &[NewEntry],
        dedupe: Option<MessageId>,
        now_ms: i64,
        expires_at: i64,
    ) -> Result<Enqueued, StoreError> {
        let job = EnqueueJob {
            sender,
            entries: entries.to_vec(),
            group: None,
            dedupe,
            check_devices: false,
            now_ms,
            expires_at,
        };
        let (mut outcomes, _) = self.write_batch(std::slice::from_ref(&job), &[]).await?;
        outcomes.pop().unwrap_or(Ok(Enqueued::Duplicate))
    }

    /// Queues several independent sends and applies several acknowledgements
    /// in one transaction (one commit, one fsync). Each send is all or
    /// nothing: one naming an unknown device gets `NotFound` and writes
    /// nothing, without failing the others. Returns each send's outcome and
    /// each acknowledgement's count of deleted entries; a database failure
    /// fails them all.
    pub async fn write_batch(
        &self,
        jobs: &[EnqueueJob],
        acks: &[(DeviceId, Vec<MessageId>)],
    ) -> Result<(Vec<Result<Enqueued, StoreError>>, Vec<u64>), StoreError> {
        let mut deleted = Vec::with_capacity(acks.len());
        let mark = "INSERT INTO accepted (sender_device, message_id, expires_at) VALUES ($1, $2, $3) \
                    ON CONFLICT (sender_device, message_id) DO NOTHING";
        let mut outcomes = Vec::with_capacity(jobs.len());
        let mut rows: Vec<Row> = Vec::new();
        let group_devices = "SELECT d.id, d.user_id FROM group_members m JOIN devices d \
                             ON d.user_id = m.user_id WHERE m.group_id = $1 AND d.listed";
        with_pool!(self, pool => {
            let mut tx = super::begin_write(pool).await?;
            for job in jobs {
                let mut devices: Vec<DeviceId> = job.entries.iter().map(|e| e.device).collect();
                let mut fanned = Vec::new();
                if let Some(send) = &job.group {
                    let members: Vec<(i64, i64)> = sqlx::query_as(group_devices)
                        .bind(to_db(send.group.0))
                        .fetch_all(&mut *tx)
                        .await?;
                    statement();
                    match route_group(job.sender, send, &members) {
                        Ok(to) => fanned = to,
                        Err(err) => {
                            outcomes.push(Err(err));
                            continue;
                        }
                    }
                    devices.extend(&fanned);
                }
                devices.sort_unstable();
                devices.dedup();
                if devices.is_empty() {
                    outcomes.push(Ok(Enqueued::Queued(devices)));
                    continue;
                }
                if job.check_devices {
                    // One query, inside the batch's transaction: the devices
                    // of every user the message reaches.
                    let mut owners = builder(
                        pool,
                        "SELECT id, user_id, listed FROM devices WHERE user_id IN \
                         (SELECT user_id FROM devices WHERE id IN (",
                    );
                    let mut list = owners.separated(", ");
                    for device in &devices {
                        list.push_bind(to_db(device.0));
                    }
                    list.push_unseparated("))");
                    let rows: Vec<(i64, i64, bool)> =
                        owners.build_query_as().fetch_all(&mut *tx).await?;
                    statement();
                    let owners: Vec<RoutedDevice> = rows.into_iter().map(RoutedDevice::from).collect();
                    if let Err(reason) = check_recipients(job.sender.1, &devices, &owners) {
                        outcomes.push(Err(StoreError::Stale(reason)));
                        continue;
                    }
                } else {
                    let mut count = builder(pool, "SELECT COUNT(*) FROM devices WHERE id IN (");
                    let mut list = count.separated(", ");
                    for device in &devices {
                        list.push_bind(to_db(device.0));
                    }
                    list.push_unseparated(")");
                    let found: i64 = count.build_query_scalar().fetch_one(&mut *tx).await?;
                    statement();
                    if usize::try_from(found).ok() != Some(devices.len()) {
                        outcomes.push(Err(StoreError::NotFound("recipient device")));
                        continue;
                    }
                }
                if let Some(id) = job.dedupe {
                    let marked = sqlx::query(mark)
                        .bind(to_db(job.sender.1.0))
                        .bind(id.as_bytes().as_slice())
                        .bind(job.expires_at)
                        .execute(&mut *tx)
                        .await?;
                    statement();
                    if marked.rows_affected() == 0 {
                        outcomes.push(Ok(Enqueued::Duplicate));
                        continue;
                    }
                }
                rows.extend(job.entries.iter().map(|entry| Row {
                    job,
                    device: entry.device,
                    id: entry.id,
                    kind: entry.kind,
                    payload: &entry.payload,
                }));
                if let (Some(send), Some(id)) = (&job.group, job.dedupe) {
                    rows.extend(fanned.iter().map(|device| Row {
                        job,
                        device: *device,
                        id,
                        kind: EntryKind::Message,
                        payload: &send.payload,
                    }));
                }
                outcomes.push(Ok(Enqueued::Queued(devices)));
            }
            for chunk in rows.chunks(INSERT_CHUNK) {
                let mut insert = builder(
                    pool,
                    "INSERT INTO queue (device_id, entry_id, kind, sender_user, sender_device, \
                     payload, created_at, expires_at) ",
                );
                insert.push_values(chunk, |mut values, row| {
                    values
                        .push_bind(to_db(row.device.0))
                        .push_bind(row.id.as_bytes().as_slice())
                        .push_bind(row.kind.as_db())
                        .push_bind(to_db(row.job.sender.0.0))
                        .push_bind(to_db(row.job.sender.1.0))
                        .push_bind(row.payload)
                        .push_bind(row.job.now_ms)
                        .push_bind(row.job.expires_at);
                });
                insert.push(" ON CONFLICT (device_id, entry_id) DO NOTHING");
                insert.build().execute(&mut *tx).await?;
                statement();
            }
            for (device, ids) in acks {
                if ids.is_empty() {
                    deleted.push(0);
                    continue;
                }
                let mut delete = builder(pool, "DELETE FROM queue WHERE device_id = ");
                delete.push_bind(to_db(device.0)).push(" AND entry_id IN (");
                let mut list = delete.separated(", ");
                for id in ids {
                    list.push_bind(id.as_bytes().as_slice());
                }
                list.push_unseparated(")");
                deleted.push(delete.build().execute(&mut *tx).await?.rows_affected());
                statement();
            }
            tx.commit().await?;
            committed();
        });
        Ok((outcomes, deleted))
    }

    /// The oldest `limit` unexpired entries waiting for `device`.
    pub async fn pending(
        &self,
        device: DeviceId,
        limit: u32,
        now_ms: i64,
    ) -> Result<Vec<QueuedEntry>, StoreError> {
        let select = "SELECT entry_id, kind, sender_user, sender_device, created_at, payload \
                      FROM queue WHERE device_id = $1 AND expires_at > $2 ORDER BY seq LIMIT $3";
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
            .filter_map(|(id, kind, from, from_device, created_at, payload)| {
                Some(QueuedEntry {
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
        let acks = [(device, ids.to_vec())];
        let (_, deleted) = self.write_batch(&[], &acks).await?;
        Ok(deleted.first().copied().unwrap_or(0))
    }

    /// How many entries wait for `device`.
    pub async fn queue_depth(&self, device: DeviceId) -> Result<u64, StoreError> {
        let select = "SELECT COUNT(*) FROM queue WHERE device_id = $1";
        let count: i64 = with_pool!(self, pool => {
            sqlx::query_scalar(select).bind(to_db(device.0)).fetch_one(pool).await?
        });
        Ok(from_db(count))
    }

    /// How many queues hold entry `id`, and their payloads' bytes together:
    /// what one message's fan-out wrote.
    pub async fn queued_copies(&self, id: MessageId) -> Result<(u64, u64), StoreError> {
        let select =
            "SELECT COUNT(*), COALESCE(SUM(LENGTH(payload)), 0) FROM queue WHERE entry_id = $1";
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

    /// Deletes expired entries, send markers and device links; returns how many entries went.
    pub async fn purge_expired(&self, now_ms: i64) -> Result<u64, StoreError> {
        let deleted = with_pool!(self, pool => {
            let entries = sqlx::query("DELETE FROM queue WHERE expires_at <= $1")
                .bind(now_ms)
                .execute(pool)
                .await?
                .rows_affected();
            sqlx::query("DELETE FROM accepted WHERE expires_at <= $1")
                .bind(now_ms)
                .execute(pool)
                .await?;
            sqlx::query("DELETE FROM links WHERE expires_at <= $1")
                .bind(now_ms)
                .execute(pool)
                .await?;
            entries
        });
        Ok(deleted)
    }
}
