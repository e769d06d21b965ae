//! A queue batch on Postgres: one transaction, committed without waiting for
//! the WAL flush (`synchronous_commit = off`) unless it stores rows. Each
//! step is one statement whatever the batch's size: rows travel as arrays
//! (`unnest`), so every statement is prepared once per connection.

use super::queue::{
    Batch, Plan, SendOutcome, SendWrite, Written, count_changes, deleted_counts, insert_payloads,
    mark_key, rows,
};
use super::{StoreError, from_db, statement, to_db};
use courier_shared::ids::DeviceId;
use sqlx::{Connection, PgConnection};
use std::collections::{HashMap, HashSet};

/// Applies `batch` in one transaction.
pub(super) async fn write(
    conn: &mut PgConnection,
    batch: &Batch<'_>,
) -> Result<Written, StoreError> {
    let mut tx = conn.begin().await?;
    if !batch.durable() {
        sqlx::query("SET LOCAL synchronous_commit = off")
            .execute(&mut *tx)
            .await?;
        statement();
    }
    let written = apply(&mut tx, batch).await?;
    tx.commit().await?;
    Ok(written)
}

async fn apply(tx: &mut PgConnection, batch: &Batch<'_>) -> Result<Written, StoreError> {
    let devices = batch.capped_devices();
    let mut counts = HashMap::new();
    if !devices.is_empty() {
        let found: Vec<(i64, i64)> =
            sqlx::query_as("SELECT device_id, entries FROM queue_counts WHERE device_id = ANY($1)")
                .bind(&devices)
                .fetch_all(&mut *tx)
                .await?;
        statement();
        counts.extend(
            found
                .into_iter()
                .map(|(device, entries)| (DeviceId(from_db(device)), entries)),
        );
    }
    let mut plan = Plan::new(batch, &counts);
    let marks: Vec<&SendWrite> = batch
        .sends
        .iter()
        .zip(&plan.outcomes)
        .filter(|(send, outcome)| send.mark && **outcome == SendOutcome::Written)
        .map(|(send, _)| send)
        .collect();
    let mut inserted = HashSet::new();
    if !marks.is_empty() {
        let (senders, ids): (Vec<i64>, Vec<Vec<u8>>) = marks.iter().map(|s| mark_key(s)).unzip();
        let expiries: Vec<i64> = marks.iter().map(|s| s.expires_at).collect();
        let keys: Vec<(i64, Vec<u8>)> = sqlx::query_as(
            "INSERT INTO accepted (sender_device, message_id, expires_at) \
             SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::bigint[]) \
             ON CONFLICT (sender_device, message_id) DO NOTHING \
             RETURNING sender_device, message_id",
        )
        .bind(&senders)
        .bind(&ids)
        .bind(&expiries)
        .fetch_all(&mut *tx)
        .await?;
        statement();
        inserted.extend(keys);
    }
    plan.apply_marks(batch, &inserted);
    let written = plan.written(batch);
    let payload_ids = insert_payloads!(tx, &written);
    let rows = rows(&written, &payload_ids);
    if !rows.is_empty() {
        let column = |f: &dyn Fn(&super::queue::Row<'_>) -> i64| rows.iter().map(f).collect();
        let devices: Vec<i64> = column(&|r| to_db(r.device.0));
        let users: Vec<i64> = column(&|r| to_db(r.send.sender.0.0));
        let senders: Vec<i64> = column(&|r| to_db(r.send.sender.1.0));
        let created: Vec<i64> = column(&|r| r.send.now_ms);
        let expires: Vec<i64> = column(&|r| r.send.expires_at);
        let ids: Vec<&[u8]> = rows
            .iter()
            .map(|r| r.send.id.as_bytes().as_slice())
            .collect();
        let kinds: Vec<i16> = rows.iter().map(|r| r.send.kind.as_db()).collect();
        let payloads: Vec<Option<&[u8]>> = rows.iter().map(|r| r.payload).collect();
        let payload_ids: Vec<Option<i64>> = rows.iter().map(|r| r.payload_id).collect();
        sqlx::query(
            "INSERT INTO queue (device_id, entry_id, kind, sender_user, sender_device, payload, \
             payload_id, created_at, expires_at) \
             SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::smallint[], $4::bigint[], \
             $5::bigint[], $6::bytea[], $7::bigint[], $8::bigint[], $9::bigint[])",
        )
        .bind(&devices)
        .bind(&ids)
        .bind(&kinds)
        .bind(&users)
        .bind(&senders)
        .bind(&payloads)
        .bind(&payload_ids)
        .bind(&created)
        .bind(&expires)
        .execute(&mut *tx)
        .await?;
        statement();
    }
    let per_device = delete(tx, batch).await?;
    let changes = count_changes(&rows, &per_device);
    if !changes.is_empty() {
        let (devices, deltas): (Vec<i64>, Vec<i64>) = changes.into_iter().unzip();
        sqlx::query(
            "INSERT INTO queue_counts (device_id, entries) \
             SELECT * FROM unnest($1::bigint[], $2::bigint[]) \
             ON CONFLICT (device_id) DO UPDATE SET \
             entries = GREATEST(0, queue_counts.entries + excluded.entries)",
        )
        .bind(&devices)
        .bind(&deltas)
        .execute(&mut *tx)
        .await?;
        statement();
    }
    Ok(Written {
        sends: plan.outcomes,
        deleted: deleted_counts(batch.deletes, &per_device),
    })
}

/// Deletes the acknowledged entries, by position and then by id; returns
/// how many each device lost.
async fn delete(
    tx: &mut PgConnection,
    batch: &Batch<'_>,
) -> Result<Vec<(DeviceId, u64)>, StoreError> {
    let mut by_seq: (Vec<i64>, Vec<i64>) = (Vec::new(), Vec::new());
    let mut by_id: (Vec<i64>, Vec<&[u8]>) = (Vec::new(), Vec::new());
    for delete in batch.deletes {
        let device = to_db(delete.device.0);
        for seq in &delete.seqs {
            by_seq.0.push(device);
            by_seq.1.push(*seq);
        }
        for id in &delete.ids {
            by_id.0.push(device);
            by_id.1.push(id.as_bytes().as_slice());
        }
    }
    let mut gone: Vec<i64> = Vec::new();
    if !by_seq.0.is_empty() {
        gone.extend(
            sqlx::query_scalar::<_, i64>(
                "DELETE FROM queue q USING unnest($1::bigint[], $2::bigint[]) AS a(device_id, seq) \
                 WHERE q.seq = a.seq AND q.device_id = a.device_id RETURNING q.device_id",
            )
            .bind(&by_seq.0)
            .bind(&by_seq.1)
            .fetch_all(&mut *tx)
            .await?,
        );
        statement();
    }
    if !by_id.0.is_empty() {
        gone.extend(
            sqlx::query_scalar::<_, i64>(
                "DELETE FROM queue q USING unnest($1::bigint[], $2::bytea[]) AS a(device_id, entry_id) \
                 WHERE q.device_id = a.device_id AND q.entry_id = a.entry_id RETURNING q.device_id",
            )
            .bind(&by_id.0)
            .bind(&by_id.1)
            .fetch_all(&mut *tx)
            .await?,
        );
        statement();
    }
    let mut per_device: HashMap<DeviceId, u64> = HashMap::new();
    for device in gone {
        *per_device.entry(DeviceId(from_db(device))).or_default() += 1;
    }
    Ok(per_device.into_iter().collect())
}
