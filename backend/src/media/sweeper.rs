//! The media sweeper: deletes objects past their TTL and uploads whose slot
//! expired without being completed — the object first, then its record, so
//! that nothing is ever left in the store without a record pointing at it.

use super::MediaStore;
use crate::clock::now_ms;
use crate::store::Store;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Objects deleted per round at most.
const BATCH: u32 = 500;

/// Sweeps every `interval` until `shutdown` is cancelled.
pub async fn worker(
    store: Store,
    media: MediaStore,
    interval: Duration,
    shutdown: CancellationToken,
) {
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
        match sweep(&store, &media).await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "expired media deleted"),
            Err(err) => tracing::warn!(%err, "media sweep failed"),
        }
    }
}

/// Deletes what expired by now; returns how many objects went.
pub async fn sweep(store: &Store, media: &MediaStore) -> anyhow::Result<usize> {
    let expired = store.expired_media(now_ms(), BATCH).await?;
    for id in &expired {
        media.delete(id).await?;
        store.delete_media(id).await?;
    }
    Ok(expired.len())
}
