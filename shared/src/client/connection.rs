//! The connection state machine: handshake, sign-in, heartbeats, request
//! ids and reconnects — with no I/O.
//!
//! The owner of the socket feeds it events — the socket opened, a message
//! arrived, the socket closed, time passed — and carries out the [`Action`]s it
//! returns, including [`Action::Emit`]ted [`Event`]s for the application.
//! Times are milliseconds on any monotonic clock the owner chooses.
//!
//! Every request goes out with a fresh [`RequestId`] ([`Connection::request`]);
//! the frame the server sends back with that id comes out as
//! [`Event::Answer`], so an answer can only ever reach the request it
//! answers. A request sent on a connection that drops, or left unanswered for
//! [`ANSWER_TIMEOUT_MS`], is answered [`Refusal::unanswered`]; its id stays
//! reserved until the connection closes, so a late answer matches nothing.
//! Resending is the caller's business (see [`super::Outbox`]).

use super::{Backoff, SeenIds};
use crate::crypto::identity::DeviceKey;
use crate::ids::{DeviceId, LinkId, MessageId, RequestId, UserId, Username};
use crate::proto::{
    self, ClientFrame, ErrorCode, MAX_AGENT_BYTES, PROTOCOL_VERSION, Payload, ReceiptKind, Refusal,
    ServerFrame, Text, auth,
};

/// How long a request may wait for its answer before it counts as lost.
pub const ANSWER_TIMEOUT_MS: f64 = 30_000.0;

/// The highest request id; the count goes around after it.
pub const MAX_REQUEST_ID: u32 = 65_535;

/// Where the connection stands, as shown to the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionState {
    /// The first connection attempt is under way.
    Connecting,
    /// The handshake completed; frames flow.
    Online,
    /// The connection dropped; the next attempt starts after a delay.
    Reconnecting {
        /// How many attempts have failed in a row.
        attempt: u32,
    },
}

impl ConnectionState {
    /// The state's label in the user interface.
    pub fn label(self) -> &'static str {
        match self {
            Self::Connecting => "connecting",
            Self::Online => "online",
            Self::Reconnecting { .. } => "reconnecting",
        }
    }
}

/// Something that happened, for the application to act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// This device is signed in.
    SignedIn {
        /// Its user.
        user: UserId,
        /// The device.
        device: DeviceId,
    },
    /// The server refused the sign-in (the username is taken, say); the
    /// connection stays open and signed out.
    SignInRefused(Refusal),
    /// The connection dropped: nothing goes out until the next sign-in
    /// (requests made meanwhile wait for it).
    Disconnected,
    /// The answer to request `request`: the frame the server sent back
    /// with its id, or why there is none (a refusal, or no answer).
    Answer {
        /// The request.
        request: RequestId,
        /// The answer frame, or the refusal.
        answer: Result<ServerFrame, Refusal>,
    },
    /// A message for this device. Acknowledge it (`Ack`) once it is
    /// stored; until then the server delivers it again on every connection.
    Message {
        /// Its id.
        id: MessageId,
        /// The sender.
        from: UserId,
        /// The sender's device.
        from_device: DeviceId,
        /// When the sender wrote it (Unix ms, from the message id).
        sent_at: u64,
        /// The payload for this device.
        payload: Payload,
    },
    /// Our messages were delivered or read. Acknowledge `id` once applied.
    Receipt {
        /// The receipt's own id.
        id: MessageId,
        /// By whom.
        from: UserId,
        /// On which device.
        from_device: DeviceId,
        /// Delivered or read.
        kind: ReceiptKind,
        /// The messages.
        ids: Vec<MessageId>,
    },
    /// A contact's presence changed.
    Presence {
        /// The contact.
        user: UserId,
        /// Whether they are online.
        online: bool,
        /// When they were last online (Unix ms, 0: never).
        last_seen: u64,
    },
    /// A contact is typing, or stopped.
    Typing {
        /// The contact.
        from: UserId,
        /// Whether typing is under way.
        typing: bool,
    },
    /// The server's stock of this device's one-time keys ran low.
    KeysLow(u32),
    /// The server reported a fatal error and is closing the connection
    /// (a wrong link code, an unsupported protocol version, say).
    Failed(Refusal),
}

/// Something the socket owner must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send this frame.
    Send(ClientFrame),
    /// Close the socket: the server is unresponsive or broke the protocol.
    Close,
    /// Open a new socket after this many milliseconds.
    ReconnectAfter(u32),
    /// Tell the application.
    Emit(Event),
}

/// How this device signs in.
#[derive(Debug)]
enum Identity {
    /// Not yet chosen: the connection stays signed out.
    None,
    /// Create a user named so, with this key.
    Register(Username, DeviceKey),
    /// Sign in as this device.
    Device(DeviceId, DeviceKey),
    /// Join the account that opened this link, with this key.
    Link(LinkId, DeviceKey),
}

/// A request sent on this connection, waiting for its answer since
/// `sent_ms`. (Few wait at once, so a list beats a map, in code size too.)
#[derive(Debug, Clone, Copy)]
struct Waiting {
    request: RequestId,
    sent_ms: f64,
}

/// One device's connection to its server.
#[derive(Debug)]
pub struct Connection {
    agent: Text<MAX_AGENT_BYTES>,
    state: ConnectionState,
    backoff: Backoff,
    heartbeat_ms: f64,
    last_heard_ms: f64,
    last_ping_ms: f64,
    next_nonce: u64,
    last_error: Option<Refusal>,
    identity: Identity,
    challenge: Option<crate::ids::Challenge>,
    sign_in_request: Option<RequestId>,
    signed_in: Option<(UserId, DeviceId)>,
    waiting: Vec<Waiting>,
    expired: Vec<RequestId>,
    deferred: Vec<ClientFrame>,
    next_request: u32,
    seen: SeenIds,
    acks_on_arrival: bool,
}

impl Connection {
    /// A connection for the client software described by `agent`. The
    /// application acknowledges what it receives, once stored.
    pub fn new(agent: &str) -> Self {
        Self {
            agent: Text::truncating(agent),
            state: ConnectionState::Connecting,
            backoff: Backoff::default(),
            heartbeat_ms: 25_000.0,
            last_heard_ms: 0.0,
            last_ping_ms: 0.0,
            next_nonce: 1,
            last_error: None,
            identity: Identity::None,
            challenge: None,
            sign_in_request: None,
            signed_in: None,
            waiting: Vec::new(),
            expired: Vec::new(),
            deferred: Vec::new(),
            next_request: 0,
            seen: SeenIds::default(),
            acks_on_arrival: false,
        }
    }

    /// Acknowledges every delivered message and receipt as it arrives and
    /// emits each only once (by id): for raw drivers (the load generator,
    /// protocol tests) that store nothing.
    pub fn acking_on_arrival(mut self) -> Self {
        self.acks_on_arrival = true;
        self
    }

    /// The current state.
    pub fn state(&self) -> ConnectionState {
        self.state
    }

    /// The signed-in user and device, if any.
    pub fn signed_in(&self) -> Option<(UserId, DeviceId)> {
        self.signed_in
    }

    /// The last fatal error the server reported, if any.
    pub fn last_error(&self) -> Option<&Refusal> {
        self.last_error.as_ref()
    }

    /// How many requests wait for their answer.
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }

    /// Whether there is someone to sign in as on the next socket: set by
    /// [`Self::register`], [`Self::sign_in`] or [`Self::link`], and kept
    /// across connections unless the server refused it (a taken name, a
    /// wrong link code).
    pub fn has_identity(&self) -> bool {
        !matches!(self.identity, Identity::None)
    }

    /// Registers `username` with this device's `key` as soon as the handshake
    /// allows; later connections sign in as the new device.
    pub fn register(&mut self, username: Username, key: DeviceKey) -> Vec<Action> {
        self.identity = Identity::Register(username, key);
        self.sign_in_if_ready()
    }

    /// Signs in as `device` with its `key` on this and every later connection.
    pub fn sign_in(&mut self, device: DeviceId, key: DeviceKey) -> Vec<Action> {
        self.identity = Identity::Device(device, key);
        self.sign_in_if_ready()
    }

    /// Joins an account through `link` as a new device with `key` as soon
    /// as the handshake allows; later connections sign in as that device.
    pub fn link(&mut self, link: LinkId, key: DeviceKey) -> Vec<Action> {
        self.identity = Identity::Link(link, key);
        self.sign_in_if_ready()
    }

    /// Sends a request under a fresh id, now if signed in (else after
    /// sign-in). Its answer comes out as [`Event::Answer`] with that id.
    pub fn request(&mut self, mut frame: ClientFrame, now_ms: f64) -> (RequestId, Vec<Action>) {
        let id = self.free_id();
        frame.set_request(id);
        if self.signed_in.is_some() {
            self.waiting.push(Waiting {
                request: id,
                sent_ms: now_ms,
            });
            (id, vec![Action::Send(frame)])
        } else {
            self.deferred.push(frame);
            (id, Vec::new())
        }
    }

    /// Sends a frame that is never answered (`Ack`, `Typing`): now if signed
    /// in, else acks after sign-in and typing not at all (it would be stale).
    pub fn notify(&mut self, frame: ClientFrame) -> Vec<Action> {
        if self.signed_in.is_some() {
            vec![Action::Send(frame)]
        } else {
            if !matches!(frame, ClientFrame::Typing { .. }) {
                self.deferred.push(frame);
            }
            Vec::new()
        }
    }

    /// The next id of this connection's count (1, 2, 3, … up to
    /// [`MAX_REQUEST_ID`], then around again), skipping any still waiting,
    /// deferred or reserved. Ids are not reused at once: the answer to a
    /// request may still wait in the application's queue after its id left
    /// the connection, and must never be taken for a later request's. Early
    /// in a connection they cost one byte on the wire, then two, then three.
    fn free_id(&mut self) -> RequestId {
        loop {
            self.next_request = self.next_request % MAX_REQUEST_ID + 1;
            let id = RequestId(self.next_request);
            let taken = self.waiting.iter().any(|w| w.request == id)
                || self.expired.contains(&id)
                || self.deferred.iter().any(|f| f.request() == Some(id))
                || Some(id) == self.sign_in_request;
            if !taken {
                return id;
            }
        }
    }

    /// The socket opened: start the handshake.
    pub fn on_open(&mut self, now_ms: f64) -> Vec<Action> {
        self.last_heard_ms = now_ms;
        self.signed_in = None;
        self.challenge = None;
        vec![Action::Send(ClientFrame::Hello {
            version: PROTOCOL_VERSION,
            agent: self.agent.clone(),
        })]
    }

    /// A binary message arrived.
    pub fn on_message(&mut self, bytes: &[u8], now_ms: f64) -> Vec<Action> {
        self.last_heard_ms = now_ms;
        let frame = match proto::decode::<ServerFrame>(bytes) {
            Ok(frame) => frame,
            Err(err) => {
                self.last_error = Some(Refusal::new(err.code(), err.to_string()));
                return vec![Action::Close];
            }
        };
        self.on_frame(frame, now_ms)
    }

    fn on_frame(&mut self, frame: ServerFrame, now_ms: f64) -> Vec<Action> {
        if let Some(request) = frame.answers() {
            return self.on_answer(request, frame);
        }
        match frame {
            ServerFrame::Welcome {
                heartbeat_secs,
                challenge,
                ..
            } => {
                self.state = ConnectionState::Online;
                self.backoff.reset();
                self.last_error = None;
                self.heartbeat_ms = f64::from(heartbeat_secs.max(1)) * 1_000.0;
                self.last_ping_ms = now_ms;
                self.challenge = Some(challenge);
                self.sign_in_if_ready()
            }
            ServerFrame::Ping { nonce } => vec![Action::Send(ClientFrame::Pong { nonce })],
            ServerFrame::Error { code, message } => {
                if code == ErrorCode::AuthFailed && matches!(self.identity, Identity::Link(..)) {
                    // A wrong or expired link code: retrying cannot help.
                    self.identity = Identity::None;
                }
                let refusal = Refusal::new(code, message.as_str());
                self.last_error = Some(refusal.clone());
                vec![Action::Emit(Event::Failed(refusal))]
            }
            ServerFrame::Deliver {
                id,
                from,
                from_device,
                payload,
            } => {
                let event = Event::Message {
                    id,
                    from,
                    from_device,
                    sent_at: id.unix_ms(),
                    payload,
                };
                self.pushed(id, event)
            }
            ServerFrame::Receipt {
                id,
                from,
                from_device,
                kind,
                ids,
            } => {
                let event = Event::Receipt {
                    id,
                    from,
                    from_device,
                    kind,
                    ids,
                };
                self.pushed(id, event)
            }
            ServerFrame::Presence {
                user,
                online,
                last_seen,
            } => vec![Action::Emit(Event::Presence {
                user,
                online,
                last_seen,
            })],
            ServerFrame::Typing { from, typing } => {
                vec![Action::Emit(Event::Typing { from, typing })]
            }
            ServerFrame::KeyCount { one_time, .. } => vec![Action::Emit(Event::KeysLow(one_time))],
            // Answers with request 0 answer nothing; a pong needs nothing.
            _ => Vec::new(),
        }
    }

    /// A delivered message or receipt: emitted (and, for raw drivers, acked
    /// and de-duplicated here).
    fn pushed(&mut self, id: MessageId, event: Event) -> Vec<Action> {
        if !self.acks_on_arrival {
            return vec![Action::Emit(event)];
        }
        let mut actions = vec![Action::Send(ClientFrame::Ack { ids: vec![id] })];
        if self.seen.insert(id) {
            actions.push(Action::Emit(event));
        }
        actions
    }

    fn on_answer(&mut self, request: RequestId, frame: ServerFrame) -> Vec<Action> {
        if self.sign_in_request == Some(request) {
            self.sign_in_request = None;
            return match frame {
                ServerFrame::Authenticated { user, device, .. } => self.on_signed_in(user, device),
                ServerFrame::Rejected { code, message, .. } => {
                    if matches!(code, ErrorCode::UsernameTaken | ErrorCode::KeyInUse) {
                        self.identity = Identity::None;
                    }
                    let refusal = Refusal::new(code, message.as_str());
                    vec![Action::Emit(Event::SignInRefused(refusal))]
                }
                other => {
                    let refusal = Refusal::unexpected(&other);
                    vec![Action::Emit(Event::SignInRefused(refusal))]
                }
            };
        }
        let Some(index) = self.waiting.iter().position(|w| w.request == request) else {
            // An answer to a request given up on (or never made).
            return Vec::new();
        };
        self.waiting.swap_remove(index);
        let answer = match frame {
            ServerFrame::Rejected { code, message, .. } => {
                Err(Refusal::new(code, message.as_str()))
            }
            frame => Ok(frame),
        };
        vec![Action::Emit(Event::Answer { request, answer })]
    }

    fn sign_in_if_ready(&mut self) -> Vec<Action> {
        let Some(challenge) = self.challenge else {
            return Vec::new();
        };
        if self.signed_in.is_some() {
            return Vec::new();
        }
        let request = self.free_id();
        let frame = match &self.identity {
            Identity::None => return Vec::new(),
            Identity::Register(username, key) => ClientFrame::Register {
                request,
                username: username.clone(),
                key: key.public_key(),
                signature: key.sign(&auth::register_message(&challenge, username)),
            },
            Identity::Device(device, key) => ClientFrame::Authenticate {
                request,
                device: *device,
                signature: key.sign(&auth::authenticate_message(&challenge)),
            },
            Identity::Link(link, key) => ClientFrame::Link {
                request,
                link: *link,
                key: key.public_key(),
                signature: key.sign(&auth::link_message(&challenge, link)),
            },
        };
        self.sign_in_request = Some(request);
        vec![Action::Send(frame)]
    }

    fn on_signed_in(&mut self, user: UserId, device: DeviceId) -> Vec<Action> {
        self.signed_in = Some((user, device));
        let identity = std::mem::replace(&mut self.identity, Identity::None);
        self.identity = match identity {
            Identity::Register(_, key) | Identity::Device(_, key) | Identity::Link(_, key) => {
                Identity::Device(device, key)
            }
            Identity::None => Identity::None,
        };
        let mut actions = vec![Action::Emit(Event::SignedIn { user, device })];
        let now = self.last_heard_ms;
        for frame in std::mem::take(&mut self.deferred) {
            if let Some(request) = frame.request() {
                self.waiting.push(Waiting {
                    request,
                    sent_ms: now,
                });
            }
            actions.push(Action::Send(frame));
        }
        actions
    }

    /// The socket closed or failed to open. `random` is a sample from `[0, 1)`.
    /// Every request waiting for an answer is answered
    /// [`Refusal::unanswered`].
    pub fn on_close(&mut self, random: f64) -> Vec<Action> {
        self.signed_in = None;
        self.challenge = None;
        self.sign_in_request = None;
        self.expired.clear();
        self.next_request = 0;
        let mut actions = vec![Action::Emit(Event::Disconnected)];
        actions.extend(
            std::mem::take(&mut self.waiting)
                .into_iter()
                .map(|waiting| {
                    Action::Emit(Event::Answer {
                        request: waiting.request,
                        answer: Err(Refusal::unanswered()),
                    })
                }),
        );
        let delay = self.backoff.next_delay_ms(random);
        self.state = ConnectionState::Reconnecting {
            attempt: self.backoff.attempt(),
        };
        actions.push(Action::ReconnectAfter(delay));
        actions
    }

    /// Time passed: give up on requests unanswered for too long, ping when
    /// a heartbeat is due, and close on a server that has been silent for
    /// two heartbeats.
    pub fn on_tick(&mut self, now_ms: f64) -> Vec<Action> {
        if self.state != ConnectionState::Online {
            return Vec::new();
        }
        if now_ms - self.last_heard_ms > 2.0 * self.heartbeat_ms {
            return vec![Action::Close];
        }
        let mut actions = Vec::new();
        let (overdue, waiting): (Vec<Waiting>, Vec<Waiting>) = std::mem::take(&mut self.waiting)
            .into_iter()
            .partition(|w| now_ms - w.sent_ms > ANSWER_TIMEOUT_MS);
        self.waiting = waiting;
        for Waiting { request, .. } in overdue {
            self.expired.push(request);
            actions.push(Action::Emit(Event::Answer {
                request,
                answer: Err(Refusal::unanswered()),
            }));
        }
        if now_ms - self.last_ping_ms >= self.heartbeat_ms {
            self.last_ping_ms = now_ms;
            let nonce = self.next_nonce;
            self.next_nonce += 1;
            actions.push(Action::Send(ClientFrame::Ping { nonce }));
        }
        actions
    }
}

#[cfg(test)]
mod tests;
