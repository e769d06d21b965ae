//! [`Bus`]: how the nodes of a deployment tell each other what happened.
//!
//! Every event is applied on this node at once and, with Postgres, published
//! with `NOTIFY` on one channel; every other node `LISTEN`s and applies it to
//! its own connected devices. The queue stays the source of truth: a lost
//! wake-up only delays a delivery until the next one, and after the listener
//! reconnects (a database restart, say) every local session is woken to catch
//! up. With SQLite there is one node and the bus is local only.

mod event;
pub mod heartbeat;
mod listener;

pub use event::Event;
pub use listener::listen;

use crate::presence::Presence;
use crate::router::registry::Registry;
use crate::store::Store;
use courier_shared::ids::DeviceId;
use courier_shared::proto::ServerFrame;
use sqlx::PgPool;

/// The Postgres channel the nodes talk on.
pub const CHANNEL: &str = "courier_events";

/// Most device ids in one wake-up notification (payloads are limited to
/// 8,000 bytes).
const WAKE_CHUNK: usize = 400;

/// This node's view of the deployment-wide event bus.
#[derive(Debug, Clone)]
pub struct Bus {
    node: i64,
    pg: Option<PgPool>,
    /// Whether the listener hears the other nodes (Postgres only).
    listening: std::sync::Arc<std::sync::atomic::AtomicBool>,
    registry: Registry,
    presence: Presence,
}

impl Bus {
    /// A bus for node `node`; it publishes through Postgres when `store` is
    /// Postgres.
    pub fn new(node: i64, store: &Store, registry: Registry, presence: Presence) -> Self {
        let pg = match store {
            Store::Postgres(pool) => Some(pool.clone()),
            Store::Sqlite(_) => None,
        };
        Self {
            node,
            pg,
            listening: std::sync::Arc::default(),
            registry,
            presence,
        }
    }

    /// Whether this node hears the other nodes' events: always with SQLite
    /// (one node), with Postgres once `LISTEN` is in place. A node that
    /// does not is not ready: it would miss evictions and wake-ups.
    pub fn is_listening(&self) -> bool {
        self.pg.is_none() || self.listening.load(std::sync::atomic::Ordering::Acquire)
    }

    fn set_listening(&self, on: bool) {
        self.listening
            .store(on, std::sync::atomic::Ordering::Release);
    }

    /// The devices connected to this node.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// This node's id.
    pub fn node(&self) -> i64 {
        self.node
    }

    /// Applies `event` here (evictions excepted: they are for other nodes)
    /// and publishes it to the other nodes.
    pub fn publish(&self, event: Event) {
        if !matches!(event, Event::Evict(_) | Event::Removed(_)) {
            self.apply(&event);
        }
        let Some(pool) = self.pg.clone() else {
            return;
        };
        let payloads: Vec<String> = match &event {
            Event::Wake(devices) => devices
                .chunks(WAKE_CHUNK)
                .map(|chunk| Event::Wake(chunk.to_vec()).encode(self.node))
                .collect(),
            other => vec![other.encode(self.node)],
        };
        tokio::spawn(async move {
            for payload in payloads {
                let sent = sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(CHANNEL)
                    .bind(&payload)
                    .execute(&pool)
                    .await;
                crate::store::statement();
                if let Err(err) = sent {
                    tracing::warn!(%err, "cannot notify the other nodes");
                }
            }
        });
    }

    /// Applies an event to the devices connected to this node.
    pub(crate) fn apply(&self, event: &Event) {
        match event {
            Event::Wake(devices) => self.registry.wake(devices),
            Event::Presence {
                user,
                online,
                last_seen,
            } => self
                .presence
                .announce(&self.registry, *user, *online, *last_seen),
            Event::Typing { from, to, typing } => {
                for device in self.registry.online_devices(*to) {
                    let frame = ServerFrame::Typing {
                        from: *from,
                        typing: *typing,
                    };
                    self.registry.signal(device, frame);
                }
            }
            Event::KeysLow { device, one_time } => {
                let frame = ServerFrame::KeyCount {
                    request: courier_shared::ids::RequestId::NONE,
                    one_time: *one_time,
                };
                self.registry.signal(*device, frame);
            }
            Event::Evict(device) | Event::Removed(device) => self.registry.evict(*device),
            Event::Directory => crate::store::routing::changed(),
        }
    }

    /// Whether `device` is placed on this node now (`online_devices`): an
    /// eviction published by another node before the device signed in here
    /// is stale and must not close the newer connection. Notifications from
    /// different nodes are not ordered, so this is what orders them.
    pub(crate) async fn placed_here(&self, device: DeviceId) -> bool {
        let Some(pool) = &self.pg else {
            return false;
        };
        let placed: Result<Option<i64>, sqlx::Error> =
            sqlx::query_scalar("SELECT node_id FROM online_devices WHERE device_id = $1")
                .bind(crate::store::to_db(device.0))
                .fetch_optional(pool)
                .await;
        match placed {
            Ok(node) => node == Some(self.node),
            Err(err) => {
                tracing::warn!(%err, "cannot read where the device is; evicting");
                false
            }
        }
    }

    /// Wakes every session on this node, after notifications may have been
    /// missed.
    pub(crate) fn wake_all(&self) {
        self.registry.wake_all();
    }

    /// Wakes the sessions of `devices`, wherever they are connected.
    pub fn wake(&self, devices: Vec<DeviceId>) {
        self.publish(Event::Wake(devices));
    }
}

/// A random positive node id.
pub fn new_node_id() -> i64 {
    let mut bytes = [0u8; 8];
    if let Err(err) = getrandom::fill(&mut bytes) {
        tracing::error!(%err, "no randomness for the node id");
    }
    i64::from_le_bytes(bytes) & i64::MAX
}
