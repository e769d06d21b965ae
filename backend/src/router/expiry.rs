//! The expiry sweeper: deletes queue entries older than the TTL.

use crate::clock::now_ms;
use crate::store::Store;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Purges expired entries every `interval` until `shutdown` is cancelled.
pub async fn worker(store: Store, interval: Duration, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
        if let Err(err) = store.purge_dead_nodes(now_ms()).await {
            tracing::warn!(%err, "cannot sweep stopped nodes");
        }
        match store.purge_expired(now_ms()).await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "expired queue entries deleted"),
            Err(err) => tracing::warn!(%err, "expiry sweep failed"),
        }
    }
}
