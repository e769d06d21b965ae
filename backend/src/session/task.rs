//! The socket loop: one task owns one device's WebSocket.
//!
//! It `select!`s over the server's shutdown, eviction by a newer connection of
//! the same device, the handshake or idle deadline, wake-ups to pull from the
//! device's queue, transient signals (presence, typing) and the client's next
//! message. The loop is generic over any `Stream + Sink` of WebSocket
//! messages, so tests can drive it with channels.

use super::address::{AddressKey, Client};
use super::commands::{self, Me};
use super::delivery::Window;
use super::end::End;
use super::machine::{Phase, Session, SignIn, Step};
use super::rate_limit;
use crate::bus::Event;
use crate::clock::now_ms;
use crate::metrics::metrics;
use crate::refusal::Refusal;
use crate::router::registry::{Arrival, Inbox};
use crate::state::AppState;
use axum::extract::ws::{CloseFrame, Message};
use courier_shared::proto::{self, ClientFrame, ErrorCode, ServerFrame, Text};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use std::fmt::Display;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use tracing::Instrument;

/// The timing rules of one session.
#[derive(Debug, Clone, Copy)]
pub struct SessionConfig {
    /// How long a new connection has to send `Hello` and sign in.
    pub handshake_timeout: Duration,
    /// How long a signed-in connection may stay silent.
    pub idle_timeout: Duration,
    /// The heartbeat period advertised to the client, in seconds.
    pub heartbeat_secs: u16,
}

/// Refused sign-ins (a taken name or key) after which the socket closes.
pub const MAX_REFUSED_SIGN_INS: u32 = 3;
/// How long to wait for the client's answer to our close frame.
const CLOSE_LINGER: Duration = Duration::from_secs(2);

/// Runs one session until the client leaves, breaks the protocol, falls
/// silent, is replaced, or the server shuts down; `admission` (the
/// connection's slot under the cap) is held until then.
///
/// A plain function returning an `async move` block rather than an
/// `async fn`: an `async fn` keeps each argument twice in its future (the
/// argument and the body's binding of it, rust-lang/rust#62958), and this
/// future is what every idle socket keeps in memory.
pub fn run<S, E, A>(
    mut socket: S,
    state: Arc<AppState>,
    conn_id: u64,
    client: Client,
    admission: A,
) -> impl Future<Output = ()>
where
    S: Stream<Item = Result<Message, E>> + Sink<Message> + Unpin,
    E: Display,
{
    // One span around the whole session, kept by the wrapper only (a span
    // kept as a local too would take room in every idle session).
    let span = tracing::info_span!("session", conn = conn_id, user = tracing::field::Empty);
    async move {
        let _admission = admission;
        // Without randomness there is no challenge to sign: no session at all
        // (a fixed challenge would make signatures replayable).
        let Some(challenge) = super::challenge::random() else {
            let end = End::protocol(ErrorCode::Internal, "the server cannot sign anyone in now");
            finish(&mut socket, &end).await;
            return;
        };
        let mut session = Session::new(state.session_config.heartbeat_secs, challenge);
        let end = drive(&mut socket, &state, &mut session, conn_id, client).await;
        finish(&mut socket, &end).await;
        if let Phase::Ready(user, device) = session.phase() {
            Box::pin(sign_out(&state, user, device, conn_id)).await;
        }
    }
    .instrument(span)
}

/// Takes a device that disconnected off the registry and, if it was the
/// user's last device online anywhere, records and announces last-seen.
async fn sign_out(
    state: &AppState,
    user: courier_shared::ids::UserId,
    device: courier_shared::ids::DeviceId,
    conn_id: u64,
) {
    state.presence.forget(device);
    if !state.registry.unregister(device, conn_id) {
        return;
    }
    let now = now_ms();
    match state
        .store
        .device_offline(user, device, state.bus.node(), now)
        .await
    {
        Ok(true) => {
            if let Err(err) = state.store.set_last_seen(user, now).await {
                tracing::warn!(%err, "cannot record last seen");
            }
            let last_seen = u64::try_from(now).unwrap_or_default();
            state.bus.publish(Event::Presence {
                user,
                online: false,
                last_seen,
            });
        }
        Ok(false) => {}
        Err(err) => tracing::warn!(%err, "cannot record the device offline"),
    }
}

async fn drive<S, E>(
    socket: &mut S,
    state: &AppState,
    session: &mut Session,
    conn_id: u64,
    mut client: Client,
) -> End
where
    S: Stream<Item = Result<Message, E>> + Sink<Message> + Unpin,
    E: Display,
{
    let config = state.session_config;
    let mut deadline = Instant::now() + config.handshake_timeout;
    // How other tasks reach this session, once it is signed in.
    let mut reach: Option<Arc<Inbox>> = None;
    let mut window = Window::default();
    // Frames are fed to the socket as they come and flushed together once
    // nothing else is ready: one write for many frames under load.
    let mut unflushed = false;
    let mut refused_sign_ins = 0u32;
    loop {
        let reading = window.reading();
        let incoming = tokio::select! {
            biased;
            () = state.shutdown.cancelled() => return End::Shutdown,
            () = tokio::time::sleep_until(deadline) => {
                return match session.phase() {
                    Phase::Ready(..) => End::protocol(ErrorCode::IdleTimeout, "no frame within the idle timeout"),
                    _ => End::protocol(ErrorCode::HandshakeTimeout, "no sign-in before the handshake deadline"),
                };
            }
            arrival = next_arrival(&reach) => {
                let (Some(inbox), Phase::Ready(user, device)) = (&reach, session.phase()) else {
                    continue;
                };
                if let Arrival::Evicted = arrival {
                    return End::Replaced;
                }
                unflushed = true;
                let me = (user, device);
                if let Err(end) = Box::pin(arrive(socket, state, me, inbox, &mut window, arrival)).await {
                    return end;
                }
                continue;
            }
            io = std::future::poll_fn(|cx| read_or_flush(socket, cx, reading, unflushed)),
                if reading || unflushed => match io {
                Io::Read(incoming) => incoming,
                Io::Flushed(ok) => {
                    unflushed = false;
                    if !ok {
                        return End::ClientLeft;
                    }
                    continue;
                }
            },
        };
        unflushed = true;
        // The message is read in a function of its own and the reply sent
        // from a box, so that neither the message nor the reply takes room
        // in this loop's state, which every idle socket keeps.
        let step = match read_step(session, incoming) {
            Ok(step) => step,
            Err(end) => return end,
        };
        metrics().frame_in(step_label(&step));
        let outcome = match step {
            Step::Continue => Ok(()),
            Step::Reply(frame) => Box::pin(send_owned(socket, frame)).await,
            Step::Fail(code, reason) => return End::Protocol(code, reason),
            Step::SignIn(request) => {
                let signing_in = sign_in(socket, state, session, request, conn_id, client.address);
                match Box::pin(signing_in).await {
                    Ok(Some(inbox)) => {
                        reach = Some(inbox);
                        // Signed in: no longer one of its address's
                        // connections waiting to.
                        client.unsigned = None;
                        Ok(())
                    }
                    // Refused (a taken name, say): the client may try again,
                    // a few times, on this socket.
                    Ok(None) => {
                        refused_sign_ins += 1;
                        if refused_sign_ins >= MAX_REFUSED_SIGN_INS {
                            return End::protocol(
                                ErrorCode::RateLimited,
                                "too many refused sign-ins on one connection",
                            );
                        }
                        Ok(())
                    }
                    Err(end) => Err(end),
                }
            }
            Step::Request(frame) => {
                let (Phase::Ready(user, device), Some(inbox)) = (session.phase(), &reach) else {
                    return End::protocol(ErrorCode::AuthRequired, "sign in first");
                };
                // Boxed, like the other heavy steps, so that the state of an idle
                // session's task stays small: it exists only while they run.
                let me = (user, device);
                Box::pin(request(socket, state, me, inbox, frame, &mut window)).await
            }
        };
        if let Err(end) = outcome {
            return end;
        }
        if let Phase::Ready(..) = session.phase() {
            deadline = Instant::now() + state.session_config.idle_timeout;
        }
    }
}

/// What the session makes of the socket's next message, or how the
/// connection ends (the client left, or the read failed).
fn read_step<E: Display>(
    session: &mut Session,
    incoming: Option<Result<Message, E>>,
) -> Result<Step, End> {
    match incoming {
        None | Some(Ok(Message::Close(_))) => Err(End::ClientLeft),
        Some(Err(err)) => {
            tracing::debug!(%err, "socket read failed");
            Err(End::ReadFailed)
        }
        Some(Ok(Message::Binary(bytes))) => Ok(session.on_binary(&bytes)),
        Some(Ok(Message::Text(_))) => Ok(session.on_text()),
        Some(Ok(Message::Ping(_) | Message::Pong(_))) => Ok(Step::Continue),
    }
}

/// [`send`] of a frame it owns (to be boxed with it).
async fn send_owned<S: Sink<Message> + Unpin>(
    socket: &mut S,
    frame: ServerFrame,
) -> Result<(), End> {
    send(socket, &frame).await
}

/// What the socket had: a message, or the end of a flush.
enum Io<T> {
    /// The next message (`None`: the stream ended).
    Read(Option<T>),
    /// Everything fed so far was written out (or the write failed).
    Flushed(bool),
}

/// Reads the next message if `read`; otherwise, or if none is there yet,
/// flushes what was fed if `flush`: the socket is flushed only when there is
/// nothing to read.
fn read_or_flush<S, T>(
    socket: &mut S,
    cx: &mut std::task::Context<'_>,
    read: bool,
    flush: bool,
) -> std::task::Poll<Io<T>>
where
    S: Stream<Item = T> + Sink<Message> + Unpin,
{
    use std::task::Poll;
    if read && let Poll::Ready(item) = socket.poll_next_unpin(cx) {
        return Poll::Ready(Io::Read(item));
    }
    if flush && let Poll::Ready(result) = socket.poll_flush_unpin(cx) {
        return Poll::Ready(Io::Flushed(result.is_ok()));
    }
    Poll::Pending
}

/// Acts on one arrival in the session's inbox (eviction aside).
async fn arrive<S>(
    socket: &mut S,
    state: &AppState,
    me: Me,
    inbox: &Inbox,
    window: &mut Window,
    arrival: Arrival,
) -> Result<(), End>
where
    S: Sink<Message> + Unpin,
{
    match arrival {
        Arrival::Evicted => Ok(()),
        Arrival::Woken => window.woken(socket, state, me, inbox).await,
        Arrival::Push(pushed) => window.pushed(socket, inbox, &pushed).await,
        Arrival::Answer(frame) => {
            window.answered(&frame);
            send(socket, &frame).await
        }
        Arrival::Acked(ids) => window.gone(socket, state, me, inbox, &ids).await,
        Arrival::Signal(frame) => send(socket, &frame).await,
    }
}

/// Completes a sign-in: the device's inbox once signed in, `None` when
/// refused but the client may try again on this connection (a taken name
/// or key, or a registration over its address's limit).
async fn sign_in<S, E>(
    socket: &mut S,
    state: &AppState,
    session: &mut Session,
    request: SignIn,
    conn_id: u64,
    address: AddressKey,
) -> Result<Option<Arc<Inbox>>, End>
where
    S: Stream<Item = Result<Message, E>> + Sink<Message> + Unpin,
{
    let answer = request.request();
    if let SignIn::Register { .. } = request
        && !state
            .limits
            .registrations
            .try_take(address, 1, std::time::Instant::now())
    {
        tracing::info!(?address, "registration over the per-address limit");
        let refusal = Refusal::new(
            ErrorCode::RateLimited,
            "too many new accounts from your address; try again in an hour",
        );
        send(socket, &refusal.frame(answer)).await?;
        return Ok(None);
    }
    let signature = match &request {
        SignIn::Authenticate { signature, .. } => Some(*signature),
        SignIn::Register { .. } | SignIn::Link { .. } => None,
    };
    let verdict = commands::sign_in(state, request, |key| {
        signature.is_some_and(|signature| session.verify(key, &signature))
    })
    .await;
    let (user, device) = match verdict {
        Ok(me) => me,
        Err(
            refusal @ Refusal {
                code: ErrorCode::UsernameTaken | ErrorCode::KeyInUse,
                ..
            },
        ) => {
            send(socket, &refusal.frame(answer)).await?;
            return Ok(None);
        }
        Err(refusal) => return Err(End::Protocol(refusal.code, refusal.message)),
    };
    session.signed_in(user, device);
    tracing::Span::current().record("user", user.0);
    // Placed here first, then the eviction goes out: a node that hears an
    // older eviction of this device afterwards sees it placed here and
    // leaves this connection alone (`Bus::placed_here`).
    let now = now_ms();
    let came_online = match state
        .store
        .device_online(user, device, state.bus.node(), now)
        .await
    {
        Ok(came_online) => came_online,
        Err(err) => {
            tracing::warn!(%err, "cannot record the device online");
            false
        }
    };
    let handle = state.registry.register(user, device, conn_id);
    state.bus.publish(Event::Evict(device));
    let signed_in = ServerFrame::Authenticated {
        request: answer,
        user,
        device,
    };
    send(socket, &signed_in).await?;
    if came_online {
        state.bus.publish(Event::Presence {
            user,
            online: true,
            last_seen: u64::try_from(now).unwrap_or_default(),
        });
    }
    Ok(Some(handle))
}

/// Carries out one request within the device's rate limit, which it pays
/// [`rate_limit::cost`] for (a request over it is refused `RateLimited`, a
/// frame without an answer — typing, an ack — dropped):
/// message sends, receipts and acknowledgements go to the router without
/// waiting (their answers come back through the inbox), the rest through the
/// commands.
async fn request<S, E>(
    socket: &mut S,
    state: &AppState,
    me: Me,
    inbox: &Arc<Inbox>,
    frame: ClientFrame,
    window: &mut Window,
) -> Result<(), End>
where
    S: Stream<Item = Result<Message, E>> + Sink<Message> + Unpin,
{
    let cost = rate_limit::cost(&frame, |id| window.delivered(id));
    if cost > 0
        && !state
            .limits
            .devices
            .try_take(me.1, cost, std::time::Instant::now())
    {
        return match frame.request() {
            Some(request) => {
                let refusal = Refusal::new(ErrorCode::RateLimited, "rate limit; slow down");
                send(socket, &refusal.frame(request)).await
            }
            None => Ok(()),
        };
    }
    let frame = match window.hand_on(state, me, inbox, frame).await {
        Ok(Some(frame)) => frame,
        Ok(None) => return Ok(()),
        Err(refusal) => return send(socket, &refusal).await,
    };
    // Boxed: the other commands' futures are large (directory, groups,
    // media), and inline they would make every boxed request, one or two per
    // message, as large.
    if let Some(answer) = Box::pin(commands::handle(state, me, frame)).await {
        send(socket, &answer).await?;
    }
    Ok(())
}

async fn next_arrival(reach: &Option<Arc<Inbox>>) -> Arrival {
    match reach {
        Some(inbox) => inbox.next().await,
        None => std::future::pending().await,
    }
}

/// How long one send may wait on a slow reader before the connection is
/// dropped (its queue keeps everything undelivered).
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends one frame: feeds it to the socket, which writes it out with the
/// next flush (the session loop flushes once nothing else is ready). Fails
/// if the socket is gone or the client does not read; a frame that cannot
/// be encoded (a server bug) is logged and skipped.
pub(super) async fn send<S: Sink<Message> + Unpin>(
    socket: &mut S,
    frame: &ServerFrame,
) -> Result<(), End> {
    let bytes = match proto::encode(frame) {
        Ok(bytes) => bytes,
        Err(err) => {
            tracing::error!(%err, frame = frame.name(), "cannot encode a server frame");
            return Ok(());
        }
    };
    count_out(frame);
    match tokio::time::timeout(SEND_TIMEOUT, socket.feed(Message::Binary(bytes.into()))).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(End::ClientLeft),
        Err(_) => Err(End::SendFailed),
    }
}

fn count_out(frame: &ServerFrame) {
    let metrics = metrics();
    metrics.frames_out.inc();
    if let ServerFrame::Error { code, .. } | ServerFrame::Rejected { code, .. } = frame {
        metrics
            .errors
            .get_or_create(&vec![("code", code.label())])
            .inc();
    }
}

/// The frame type a step came from, for the `frames_in` metric.
fn step_label(step: &Step) -> &'static str {
    match step {
        Step::Request(frame) => frame.name(),
        Step::SignIn(SignIn::Register { .. }) => "Register",
        Step::SignIn(SignIn::Authenticate { .. }) => "Authenticate",
        Step::SignIn(SignIn::Link { .. }) => "Link",
        Step::Reply(ServerFrame::Welcome { .. }) => "Hello",
        Step::Reply(_) => "Ping",
        Step::Continue => "Pong",
        Step::Fail(..) => "invalid",
    }
}

/// Ends the connection as `end` says: an error frame first for a protocol
/// error, then a close frame with its code (none if the client is gone).
async fn finish<S, E>(socket: &mut S, end: &End)
where
    S: Stream<Item = Result<Message, E>> + Sink<Message> + Unpin,
{
    match end {
        End::Protocol(code, reason) => {
            tracing::info!(?code, %reason, "closing connection after a protocol error");
            let _ = send(socket, &ServerFrame::error(*code, reason)).await;
        }
        other => tracing::debug!(end = ?other, "session ended"),
    }
    if let Some(code) = end.close_code() {
        close_socket(socket, code, &end.reason()).await;
    }
}

/// Sends a close frame and waits briefly for the client's answer.
async fn close_socket<S, E>(socket: &mut S, code: u16, reason: &str)
where
    S: Stream<Item = Result<Message, E>> + Sink<Message> + Unpin,
{
    let frame = CloseFrame {
        code,
        // RFC 6455 limits close reasons to 123 bytes.
        reason: Text::<120>::truncating(reason).as_str().into(),
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
