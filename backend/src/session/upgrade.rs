//! `GET /ws`: admits a WebSocket within the connection cap and its address's
//! share of connections not yet signed in, and starts its task.

use super::address::{AddressKey, Client, Peer};
use super::task;
use crate::metrics::metrics;
use crate::state::AppState;
use axum::Extension;
use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use courier_shared::proto::MAX_FRAME_BYTES;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::OwnedSemaphorePermit;
use tokio_util::task::task_tracker::TaskTrackerToken;

/// The transport's message limit: above the protocol's, so that a frame that is
/// merely too large still reaches the codec and gets a proper error frame.
const TRANSPORT_MAX_BYTES: usize = 4 * MAX_FRAME_BYTES;

/// Bytes read from the socket at a time. Small, because an idle connection
/// keeps its read buffer for good (tungstenite's default is 128 KiB; a
/// larger frame grows it as needed): it is the largest single item of an
/// idle socket's memory after the session's task. 512 bytes hold three or
/// four message frames (about 135 bytes each with a 100-byte payload), so a
/// busy socket still takes several per read. (Smaller saves nothing: the
/// sign-in frames grow the buffer to 512 bytes anyway.)
const READ_BUFFER_BYTES: usize = 512;
/// Bytes buffered before a write is flushed to the socket.
const WRITE_BUFFER_BYTES: usize = 4 * 1024;
/// Bytes a slow reader may leave unsent before its connection fails, so that
/// no client can make the server's memory grow.
const MAX_WRITE_BUFFER_BYTES: usize = 2 * TRANSPORT_MAX_BYTES;

static NEXT_CONNECTION: AtomicU64 = AtomicU64::new(1);

/// What an admitted connection holds until its session ends: its place
/// under the connection cap, its place among the sessions that shutdown
/// waits for, and its count in the `connections` gauge.
struct Admission {
    _permit: OwnedSemaphorePermit,
    _tracker: TaskTrackerToken,
}

impl Admission {
    fn new(permit: OwnedSemaphorePermit, tracker: TaskTrackerToken) -> Self {
        metrics().connections.inc();
        Self {
            _permit: permit,
            _tracker: tracker,
        }
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        metrics().connections.dec();
    }
}

/// Upgrades the request to a WebSocket session; answers 503 when the node
/// is full or shutting down, 429 when the client's address already holds as
/// many connections that have not signed in as it may.
///
/// The state comes shared (`Arc`), and the session runs as a task of its
/// own rather than inside axum's upgrade task: an idle session then holds one
/// pointer to the state and one copy of the socket, not the copies that each
/// layer of futures would keep (axum's task keeps its callback and the
/// handshake's state alive for as long as the callback runs).
pub async fn handler(
    State(state): State<Arc<AppState>>,
    peer: Option<Extension<Peer>>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if state.shutdown.is_cancelled() {
        return (StatusCode::SERVICE_UNAVAILABLE, "server is shutting down").into_response();
    }
    let limits = &state.limits;
    let address = AddressKey::of_request(
        peer.map(|Extension(p)| p),
        &headers,
        &limits.trusted_proxies,
    );
    let Some(unsigned) = limits.unsigned.admit(address) else {
        tracing::info!(
            ?address,
            "too many connections not signed in from one address"
        );
        return (
            StatusCode::TOO_MANY_REQUESTS,
            "too many connections from your address that have not signed in; retry later",
        )
            .into_response();
    };
    let client = Client {
        address,
        unsigned: Some(unsigned),
    };
    let Ok(permit) = state.connection_slots.clone().try_acquire_owned() else {
        tracing::warn!("connection cap reached; refusing a WebSocket");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "connection limit reached; retry later",
        )
            .into_response();
    };
    let tracker = state.sessions.token();
    let conn_id = NEXT_CONNECTION.fetch_add(1, Ordering::Relaxed);
    ws.max_message_size(TRANSPORT_MAX_BYTES)
        .max_frame_size(TRANSPORT_MAX_BYTES)
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(WRITE_BUFFER_BYTES)
        .max_write_buffer_size(MAX_WRITE_BUFFER_BYTES)
        .on_upgrade(move |socket| {
            let admission = Admission::new(permit, tracker);
            tokio::spawn(task::run(socket, state, conn_id, client, admission));
            std::future::ready(())
        })
}
