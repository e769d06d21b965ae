//! A queue batch on SQLite: one transaction on the writer's own connection,
//! committed with fsync (`synchronous = FULL`) only when it stores rows.
//! Multi-row statements come in power-of-two sizes, so that each size is
//! prepared once and then found in the statement cache.

use super::queue::{
    Batch, Plan, Row, SendWrite, Written, count_changes, deleted_counts, insert_payloads, mark_key,
    rows,
};
use super::{StoreError, from_db, statement, to_db};
use courier_shared::ids::DeviceId;
use sqlx::{Connection, QueryBuilder, Sqlite, SqliteConnection};
use std::collections::{HashMap, HashSet};

/// Largest multi-row statement or `IN` list (9 parameters a row: 4,608,
/// well within SQLite's 32,766).
const MAX_CHUNK: usize = 512;

/// Splits `items` into power-of-two pieces of at most [`MAX_CHUNK`].
pub(super) fn chunks<T>(mut items: &[T]) -> impl Iterator<Item = &[T]> {
    std::iter::from_fn(move || {
        if items.is_empty() {
            return None;
        }
        let size = items.len().min(MAX_CHUNK);
        let size = 1 << (usize::BITS - 1 - size.leading_zeros());
        let (head, rest) = items.split_at(size);
        items = rest;
        Some(head)
    })
}

/// Applies `batch`, switching the connection's fsync mode if need be.
pub(super) async fn write(
    conn: &mut SqliteConnection,
    relaxed: &mut bool,
    batch: &Batch<'_>,
) -> Result<Written, StoreError> {
    let want_relaxed = !batch.durable();
    if *relaxed != want_relaxed {
        let pragma = if want_relaxed {
            "PRAGMA synchronous = NORMAL"
        } else {
            "PRAGMA synchronous = FULL"
        };
        sqlx::query(pragma).execute(&mut *conn).await?;
        statement();
        *relaxed = want_relaxed;
    }
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    let written = apply(&mut tx, batch).await?;
    tx.commit().await?;
    Ok(written)
}

async fn apply(tx: &mut SqliteConnection, batch: &Batch<'_>) -> Result<Written, StoreError> {
    let counts = counts(tx, batch).await?;
    let mut plan = Plan::new(batch, &counts);
    let marks: Vec<&SendWrite> = batch
        .sends
        .iter()
        .zip(&plan.outcomes)
        .filter(|(send, outcome)| send.mark && **outcome == super::queue::SendOutcome::Written)
        .map(|(send, _)| send)
        .collect();
    let inserted = insert_marks(tx, &marks).await?;
    plan.apply_marks(batch, &inserted);
    let written = plan.written(batch);
    let payload_ids = insert_payloads!(tx, &written);
    let rows = rows(&written, &payload_ids);
    for chunk in chunks(&rows) {
        insert_rows(tx, chunk).await?;
    }
    let per_device = delete(tx, batch).await?;
    let changes = count_changes(&rows, &per_device);
    for chunk in chunks(&changes) {
        let mut sql = QueryBuilder::<Sqlite>::new("INSERT INTO queue_counts (device_id, entries) ");
        sql.push_values(chunk, |mut values, (device, change)| {
            values.push_bind(*device).push_bind(*change);
        });
        sql.push(
            " ON CONFLICT (device_id) DO UPDATE SET \
             entries = MAX(0, queue_counts.entries + excluded.entries)",
        );
        sql.build().execute(&mut *tx).await?;
        statement();
    }
    Ok(Written {
        sends: plan.outcomes,
        deleted: deleted_counts(batch.deletes, &per_device),
    })
}

/// Deletes the acknowledged entries, one statement per device (and per
/// kind of key) however many acknowledgements it sent; returns how many each
/// device lost.
async fn delete(
    tx: &mut SqliteConnection,
    batch: &Batch<'_>,
) -> Result<Vec<(DeviceId, u64)>, StoreError> {
    let mut by_device: HashMap<DeviceId, (Vec<i64>, Vec<&[u8]>)> = HashMap::new();
    for delete in batch.deletes {
        let (seqs, ids) = by_device.entry(delete.device).or_default();
        seqs.extend(&delete.seqs);
        ids.extend(delete.ids.iter().map(|id| id.as_bytes().as_slice()));
    }
    let mut per_device = Vec::new();
    for (device, (seqs, ids)) in by_device {
        let mut count = 0;
        for chunk in chunks(&seqs) {
            let mut sql = QueryBuilder::<Sqlite>::new("DELETE FROM queue WHERE device_id = ");
            sql.push_bind(to_db(device.0)).push(" AND seq IN (");
            let mut list = sql.separated(", ");
            for seq in chunk {
                list.push_bind(*seq);
            }
            list.push_unseparated(")");
            count += sql.build().execute(&mut *tx).await?.rows_affected();
            statement();
        }
        for chunk in chunks(&ids) {
            let mut sql = QueryBuilder::<Sqlite>::new("DELETE FROM queue WHERE device_id = ");
            sql.push_bind(to_db(device.0)).push(" AND entry_id IN (");
            let mut list = sql.separated(", ");
            for id in chunk {
                list.push_bind(*id);
            }
            list.push_unseparated(")");
            count += sql.build().execute(&mut *tx).await?.rows_affected();
            statement();
        }
        per_device.push((device, count));
    }
    Ok(per_device)
}

/// The queue counts of the devices that capped sends go to.
async fn counts(
    tx: &mut SqliteConnection,
    batch: &Batch<'_>,
) -> Result<HashMap<DeviceId, i64>, StoreError> {
    let devices = batch.capped_devices();
    let mut counts = HashMap::new();
    for chunk in chunks(&devices) {
        let mut sql = QueryBuilder::<Sqlite>::new(
            "SELECT device_id, entries FROM queue_counts WHERE device_id IN (",
        );
        let mut list = sql.separated(", ");
        for device in chunk {
            list.push_bind(*device);
        }
        list.push_unseparated(")");
        let found: Vec<(i64, i64)> = sql.build_query_as().fetch_all(&mut *tx).await?;
        statement();
        counts.extend(
            found
                .into_iter()
                .map(|(device, entries)| (DeviceId(from_db(device)), entries)),
        );
    }
    Ok(counts)
}

/// Inserts the marks of `sends`; returns the keys newly inserted.
async fn insert_marks(
    tx: &mut SqliteConnection,
    sends: &[&SendWrite],
) -> Result<HashSet<(i64, Vec<u8>)>, StoreError> {
    let mut inserted = HashSet::new();
    for chunk in chunks(sends) {
        let mut sql = QueryBuilder::<Sqlite>::new(
            "INSERT INTO accepted (sender_device, message_id, expires_at) ",
        );
        sql.push_values(chunk, |mut values, send| {
            let (device, id) = mark_key(send);
            values
                .push_bind(device)
                .push_bind(id)
                .push_bind(send.expires_at);
        });
        sql.push(" ON CONFLICT (sender_device, message_id) DO NOTHING RETURNING sender_device, message_id");
        let keys: Vec<(i64, Vec<u8>)> = sql.build_query_as().fetch_all(&mut *tx).await?;
        statement();
        inserted.extend(keys);
    }
    Ok(inserted)
}

async fn insert_rows(tx: &mut SqliteConnection, rows: &[Row<'_>]) -> Result<(), StoreError> {
    let mut sql = QueryBuilder::<Sqlite>::new(
        "INSERT INTO queue (device_id, entry_id, kind, sender_user, sender_device, payload, \
         payload_id, created_at, expires_at) ",
    );
    sql.push_values(rows, |mut values, row| {
        values
            .push_bind(to_db(row.device.0))
            .push_bind(row.send.id.as_bytes().as_slice())
            .push_bind(row.send.kind.as_db())
            .push_bind(to_db(row.send.sender.0.0))
            .push_bind(to_db(row.send.sender.1.0))
            .push_bind(row.payload)
            .push_bind(row.payload_id)
            .push_bind(row.send.now_ms)
            .push_bind(row.send.expires_at);
    });
    sql.build().execute(&mut *tx).await?;
    statement();
    Ok(())
}
