//! The node's heartbeat: proof of life that keeps its devices counted online.

use crate::clock::now_ms;
use crate::store::Store;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often a node records that it is alive.
pub const INTERVAL: Duration = Duration::from_secs(5);

/// Records the heartbeat of `node` every [`INTERVAL`] until `shutdown`.
pub async fn worker(store: Store, node: i64, shutdown: CancellationToken) {
    loop {
        if let Err(err) = store.node_heartbeat(node, now_ms()).await {
            tracing::warn!(%err, "cannot record the node heartbeat");
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(INTERVAL) => {}
        }
    }
}
