//! The socket loop: one task owns one device's WebSocket.
//!
//! It `select!`s over the client's next message, the handshake or idle
//! deadline, and the server's shutdown signal. The loop is generic over any
//! `Stream + Sink` of WebSocket messages, so tests can drive it with channels.

use super::close;
use super::machine::{Phase, Session, Step};
use axum::extract::ws::{CloseFrame, Message};
use courier_shared::proto::{self, ErrorCode, ServerFrame};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use std::fmt::Display;
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// The timing rules of one session.
#[derive(Debug, Clone, Copy)]
pub struct SessionConfig {
    /// How long a new connection has to send its `Hello`.
    pub handshake_timeout: Duration,
    /// How long an established connection may stay silent.
    pub idle_timeout: Duration,
    /// The heartbeat period advertised to the client, in seconds.
    pub heartbeat_secs: u16,
}

/// How long to wait for the client's answer to our close frame.
const CLOSE_LINGER: Duration = Duration::from_secs(2);

/// Runs one session until the client leaves, breaks the protocol, falls
/// silent, or the server shuts down.
pub async fn run<S, E>(socket: S, config: SessionConfig, shutdown: CancellationToken, conn_id: u64)
where
    S: Stream<Item = Result<Message, E>> + Sink<Message> + Unpin,
    E: Display,
{
    let span = tracing::info_span!("session", conn = conn_id);
    drive(socket, config, shutdown).instrument(span).await;
}

async fn drive<S, E>(mut socket: S, config: SessionConfig, shutdown: CancellationToken)
where
    S: Stream<Item = Result<Message, E>> + Sink<Message> + Unpin,
    E: Display,
{
    let mut session = Session::new(config.heartbeat_secs);
    let mut deadline = Instant::now() + config.handshake_timeout;
    loop {
        let incoming = tokio::select! {
            biased;
            () = shutdown.cancelled() => {
                tracing::debug!("server shutting down; asking the client to reconnect");
                close_socket(&mut socket, close::SERVICE_RESTART, "server restarting").await;
                return;
            }
            () = tokio::time::sleep_until(deadline) => {
                let (code, reason) = match session.phase() {
                    Phase::AwaitingHello => (ErrorCode::HandshakeTimeout, "no Hello before the handshake deadline"),
                    Phase::Ready => (ErrorCode::IdleTimeout, "no frame within the idle timeout"),
                };
                fail(&mut socket, code, reason).await;
                return;
            }
            incoming = socket.next() => incoming,
        };
        let step = match incoming {
            None | Some(Ok(Message::Close(_))) => {
                tracing::debug!(agent = session.agent(), "client closed the connection");
                return;
            }
            Some(Err(err)) => {
                tracing::debug!(%err, "socket read failed");
                close_socket(
                    &mut socket,
                    close::for_error(ErrorCode::FrameTooLarge),
                    "read failed",
                )
                .await;
                return;
            }
            Some(Ok(Message::Binary(bytes))) => session.on_binary(&bytes),
            Some(Ok(Message::Text(_))) => session.on_text(),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => Step::Continue,
        };
        match step {
            Step::Continue => {}
            Step::Reply(frame) => {
                if send(&mut socket, &frame).await.is_err() {
                    return;
                }
            }
            Step::Fail(code, reason) => {
                tracing::info!(?code, %reason, "closing connection after a protocol error");
                fail(&mut socket, code, &reason).await;
                return;
            }
        }
        if session.phase() == Phase::Ready {
            deadline = Instant::now() + config.idle_timeout;
        }
    }
}

/// Sends one frame. Fails if the frame cannot be encoded or the socket is gone.
async fn send<S: Sink<Message> + Unpin>(socket: &mut S, frame: &ServerFrame) -> Result<(), ()> {
    let bytes = proto::encode(frame).map_err(|err| {
        tracing::error!(%err, "cannot encode a server frame");
    })?;
    socket
        .send(Message::Binary(bytes.into()))
        .await
        .map_err(|_| tracing::debug!("client went away while we were sending"))
}

/// Sends an error frame with `code`, then closes the connection.
async fn fail<S, E>(socket: &mut S, code: ErrorCode, reason: &str)
where
    S: Stream<Item = Result<Message, E>> + Sink<Message> + Unpin,
{
    let _ = send(socket, &ServerFrame::error(code, reason)).await;
    close_socket(socket, close::for_error(code), reason).await;
}

/// Sends a close frame and waits briefly for the client's answer.
async fn close_socket<S, E>(socket: &mut S, code: u16, reason: &str)
where
    S: Stream<Item = Result<Message, E>> + Sink<Message> + Unpin,
{
    let reason = truncate(reason, 120);
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    if socket.send(Message::Close(Some(frame))).await.is_err() {
        return;
    }
    let _ = tokio::time::timeout(CLOSE_LINGER, async {
        while let Some(Ok(message)) = socket.next().await {
            if matches!(message, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}

/// Cuts `text` to at most `max` bytes at a character boundary (close reasons
/// are limited to 123 bytes by RFC 6455).
fn truncate(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}
