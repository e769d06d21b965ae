//! The Courier server.
//!
//! Layout, in the order a connection travels through it:
//! - [`config`]: [`Settings`] from flags and `COURIER_*` variables.
//! - [`http`]: the route table, health endpoints and the web client's files.
//! - [`session`]: the WebSocket upgrade, the per-socket task, its I/O-free
//!   protocol state machine and the requests it carries out.
//! - [`router`]: entry → durable queue → wake the recipients' sessions, through
//!   the [`router::registry`] of connected devices; the expiry sweeper.
//! - [`presence`]: who follows whose online state.
//! - [`refusal`]: how failures become the client's `Refusal`.
//! - [`store`]: the database (SQLite or Postgres): accounts and queues.
//! - [`media`]: the object store for encrypted media.
//! - [`turn`]: short-lived TURN credentials for calls.
//! - [`bus`]: events between the nodes of a deployment (Postgres NOTIFY).
//! - [`metrics`]: Prometheus metrics.
//! - [`state`] and [`shutdown`]: what handlers share, and how the server stops.
//!
//! `main.rs` only reads the settings and calls [`run`]; tests call [`run`] on a
//! listener bound to port 0.

pub mod bus;
pub mod clock;
pub mod config;
pub mod http;
pub mod media;
pub mod metrics;
pub mod presence;
pub mod refusal;
pub mod router;
pub mod session;
pub mod shutdown;
pub mod state;
pub mod store;
pub mod turn;

pub use config::Settings;

use anyhow::Context;
use bus::Bus;
use media::MediaStore;
use presence::Presence;
use router::Router;
use router::registry::Registry;
use session::task::SessionConfig;
use state::AppState;
use std::future::Future;
use std::sync::Arc;
use store::Store;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Runs the server on `listener` until `shutdown` completes, then closes every
/// session (asking clients to reconnect) and waits for them within the grace
/// period.
pub async fn run(
    listener: TcpListener,
    settings: Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let store = Store::open(&settings.database_url(), settings.database_max_connections)
        .await
        .context("opening the database")?;
    let deployment_id = store
        .deployment_id()
        .await
        .context("reading the deployment id")?;
    let mut url_key = [0u8; 32];
    getrandom::fill(&mut url_key).context("randomness for the media URL key")?;
    let url_key = store
        .secret("media-url-key", &url_key)
        .await
        .context("reading the media URL key")?;
    let url_key: [u8; 32] = url_key
        .try_into()
        .map_err(|_| anyhow::anyhow!("the stored media URL key is not 32 bytes"))?;
    let media = MediaStore::from_settings(&settings)
        .context("setting up media storage")?
        .with_url_key(media::local_url::UrlKey::new(url_key));
    tracing::info!(
        database = ?store.backend(),
        media = ?media.backend(),
        deployment = %deployment_id,
        "storage ready"
    );

    let registry = Registry::default();
    let presence = Presence::default();
    let node = bus::new_node_id();
    store
        .node_heartbeat(node, clock::now_ms())
        .await
        .context("registering this node")?;
    let bus = Bus::new(node, &store, registry.clone(), presence.clone());
    let state = AppState {
        store: store.clone(),
        router: Router::new(
            store.clone(),
            bus.clone(),
            router::RouterSettings {
                ttl_ms: settings.message_ttl_ms(),
                persist_after: std::time::Duration::from_millis(settings.persist_after_ms),
                queue_cap: settings.queue_max_entries,
            },
        ),
        registry,
        bus: bus.clone(),
        presence,
        media,
        session_config: SessionConfig {
            handshake_timeout: settings.handshake_timeout(),
            idle_timeout: settings.idle_timeout(),
            heartbeat_secs: settings.heartbeat_secs.max(1),
        },
        limits: Arc::new(session::rate_limit::Limits::new(&settings)),
        connection_slots: Arc::new(Semaphore::new(settings.max_connections)),
        sessions: TaskTracker::new(),
        shutdown: CancellationToken::new(),
        deployment_id: deployment_id.into(),
        turn: turn::Turn::new(&settings),
    };
    let workers = [
        tokio::spawn(router::expiry::worker(
            store.clone(),
            settings.sweep_interval(),
            state.shutdown.clone(),
        )),
        tokio::spawn(media::sweeper::worker(
            store.clone(),
            state.media.clone(),
            settings.sweep_interval(),
            state.shutdown.clone(),
        )),
        tokio::spawn(bus::listen(bus.clone(), state.shutdown.clone())),
        tokio::spawn(bus::heartbeat::worker(
            store.clone(),
            node,
            state.shutdown.clone(),
        )),
    ];
    let app = http::router::router(state.clone(), &settings.web_dir);
    let metrics_server = match settings.metrics_listen {
        Some(addr) => {
            let metrics_listener = TcpListener::bind(addr)
                .await
                .with_context(|| format!("binding the metrics listener {addr}"))?;
            let routes = http::metrics::router(state.clone(), settings.metrics_queue_every());
            let stop = state.shutdown.clone();
            Some(tokio::spawn(async move {
                let served = axum::serve(metrics_listener, routes)
                    .with_graceful_shutdown(stop.cancelled_owned())
                    .await;
                if let Err(err) = served {
                    tracing::warn!(%err, "the metrics listener failed");
                }
            }))
        }
        None => None,
    };
    let cancel = state.shutdown.clone();
    let addr = listener.local_addr().context("listener has no address")?;
    tracing::info!(%addr, node, "listening");
    http::serve::serve(listener, app, settings.header_read_timeout(), async move {
        shutdown.await;
        cancel.cancel();
    })
    .await;

    state.shutdown.cancel();
    state.sessions.close();
    let open = state.sessions.len();
    if tokio::time::timeout(settings.shutdown_grace(), state.sessions.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            open,
            "shutdown grace period over; dropping remaining sessions"
        );
    }
    for worker in workers.into_iter().chain(metrics_server) {
        let _ = worker.await;
    }
    if let Err(err) = store.remove_node(node).await {
        tracing::warn!(%err, "cannot remove this node from the deployment");
    }
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}
