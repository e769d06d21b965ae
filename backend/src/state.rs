//! [`AppState`]: what every handler and session shares.

use crate::bus::Bus;
use crate::media::MediaStore;
use crate::presence::Presence;
use crate::router::Router;
use crate::router::registry::Registry;
use crate::session::rate_limit::Limits;
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
    /// Routes entries through the queues.
    pub router: Router,
    /// The devices connected to this node.
    pub registry: Registry,
    /// Events to and from the other nodes.
    pub bus: Bus,
    /// Presence subscriptions on this node.
    pub presence: Presence,
    /// The media object store.
    pub media: MediaStore,
    /// Timing rules for every session.
    pub session_config: SessionConfig,
    /// The rate limits of this node, kept across connections.
    pub limits: Arc<Limits>,
    /// One permit per WebSocket this node may hold.
    pub connection_slots: Arc<Semaphore>,
    /// Every running session, so that shutdown can wait for them.
    pub sessions: TaskTracker,
    /// Cancelled when the server begins to shut down.
    pub shutdown: CancellationToken,
    /// This deployment's id, shared by every node.
    pub deployment_id: Arc<str>,
    /// The TURN servers for calls and the secret shared with them.
    pub turn: crate::turn::Turn,
}
