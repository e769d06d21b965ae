//! [`AppState`]: what every handler and session shares.

use crate::media::MediaStore;
use crate::session::task::SessionConfig;
use crate::store::Store;
use std::sync::Arc;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Shared, cheaply cloned server state.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// The media object store.
    pub media: MediaStore,
    /// Timing rules for every session.
    pub session_config: SessionConfig,
    /// One permit per WebSocket this node may hold.
    pub connection_slots: Arc<Semaphore>,
    /// Every running session, so that shutdown can wait for them.
    pub sessions: TaskTracker,
    /// Cancelled when the server begins to shut down.
    pub shutdown: CancellationToken,
    /// This deployment's id, shared by every node.
    pub deployment_id: Arc<str>,
}
