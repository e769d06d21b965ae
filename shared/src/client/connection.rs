//! The connection state machine: handshake, sign-in, heartbeats, the outbox,
//! de-duplication, acknowledgements and reconnects — with no I/O.
//!
//! The owner of the socket feeds it events — the socket opened, a message
//! arrived, the socket closed, time passed — and carries out the [`Action`]s it
//! returns, including [`Action::Emit`]ted [`Event`]s for the application.
//! Times are milliseconds on any monotonic clock the owner chooses.

use super::{Backoff, Outbox, SeenIds};
use crate::crypto::device_list::SignedDeviceList;
use crate::crypto::identity::DeviceKey;
use crate::crypto::keys::SignedKey;
use crate::ids::{DeviceId, GroupId, LinkId, MediaId, MessageId, PublicKey, UserId, Username};
use crate::proto::{
    self, ClientFrame, ErrorCode, MAX_AGENT_BYTES, PROTOCOL_VERSION, Payload, ReceiptKind,
    ServerFrame, Text, auth,
};

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

/// Something that happened, for the application to show or store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// This device is signed in.
    SignedIn {
        /// Its user.
        user: UserId,
        /// The device.
        device: DeviceId,
    },
    /// A new message (never a repeat of one already emitted).
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
    /// The server durably queued a message of ours: one check mark.
    Accepted(MessageId),
    /// The server refused a request.
    Rejected {
        /// The message concerned, for sends.
        id: Option<MessageId>,
        /// Why.
        code: ErrorCode,
        /// Why, for people.
        message: String,
    },
    /// The server reported a fatal error and is closing the connection
    /// (a wrong link code, say).
    Failed {
        /// Why.
        code: ErrorCode,
        /// Why, for people.
        message: String,
    },
    /// Our messages were delivered or read.
    Receipt {
        /// By whom.
        from: UserId,
        /// On which device.
        from_device: DeviceId,
        /// Delivered or read.
        kind: ReceiptKind,
        /// The messages.
        ids: Vec<MessageId>,
    },
    /// A contact's presence.
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
    /// A user looked up.
    UserInfo {
        /// The user.
        user: UserId,
        /// Their name.
        username: Username,
        /// Their devices.
        devices: Vec<(DeviceId, PublicKey)>,
    },
    /// A device was added to our user.
    DeviceAdded(DeviceId),
    /// How many one-time keys the server holds for this device.
    KeyCount(u32),
    /// Claimed pre-keys, one per device that had any.
    ClaimedKeys(Vec<(DeviceId, SignedKey)>),
    /// A user's device list.
    DeviceList {
        /// The user.
        user: UserId,
        /// Signed by their account key, if published.
        list: Option<SignedDeviceList>,
        /// Every registered device with its signing key.
        registered: Vec<(DeviceId, PublicKey)>,
    },
    /// Where to upload a media object (answers `RequestUpload`).
    UploadSlot {
        /// The new object's id.
        media: MediaId,
        /// The signed upload URL.
        url: String,
        /// When it stops working (Unix ms).
        expires_at: u64,
    },
    /// An upload was checked and kept.
    MediaReady(MediaId),
    /// Where to download a media object (answers `RequestDownload`).
    DownloadUrl {
        /// The object.
        media: MediaId,
        /// The signed download URL.
        url: String,
        /// When it stops working (Unix ms).
        expires_at: u64,
    },
    /// A group's members (answers the group requests).
    Group {
        /// The group.
        group: GroupId,
        /// Grows with every membership change.
        version: u64,
        /// Each member, and whether they are an admin.
        members: Vec<(UserId, bool)>,
    },
    /// A link for a new device is open.
    LinkCreated {
        /// The link.
        link: LinkId,
        /// When it expires (Unix ms).
        expires_at: u64,
    },
    /// The contact list changed.
    ContactUpdated {
        /// The contact.
        user: UserId,
        /// Whether they are now a contact.
        added: bool,
    },
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
    last_error: Option<(ErrorCode, String)>,
    identity: Identity,
    challenge: Option<crate::ids::Challenge>,
    signed_in: Option<(UserId, DeviceId)>,
    outbox: Outbox,
    deferred: Vec<ClientFrame>,
    seen: SeenIds,
    retry_at_ms: Option<f64>,
    app_acks: bool,
}

/// How long to wait before re-sending after a rate limit or server failure.
const RETRY_DELAY_MS: f64 = 1_000.0;

impl Connection {
    /// A connection for the client software described by `agent`.
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
            signed_in: None,
            outbox: Outbox::default(),
            deferred: Vec::new(),
            seen: SeenIds::default(),
            retry_at_ms: None,
            app_acks: false,
        }
    }

    /// Leaves acknowledging messages to the app: it sends `Ack` once it has
    /// stored a message, so a message is never lost between its arrival and
    /// the app's write (the server delivers it again until acked). Every
    /// delivery is then emitted, redeliveries included; the app drops the
    /// ones it already has. Receipts are still acknowledged on arrival.
    pub fn acked_by_app(mut self) -> Self {
        self.app_acks = true;
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

    /// The last error the server reported, if any.
    pub fn last_error(&self) -> Option<&(ErrorCode, String)> {
        self.last_error.as_ref()
    }

    /// Sends not yet accepted.
    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// Replaces the outbox (restored from the device's storage).
    pub fn set_outbox(&mut self, outbox: Outbox) {
        self.outbox = outbox;
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

    /// Sends a message through the outbox: now if signed in, and again after
    /// every reconnect until the server accepts it.
    pub fn send(&mut self, frame: ClientFrame) -> Vec<Action> {
        match self.outbox.push(frame.clone()) {
            Some(_) if self.signed_in.is_some() => vec![Action::Send(frame)],
            Some(_) => Vec::new(),
            None => self.request(frame),
        }
    }

    /// Sends any other request: now if signed in, else after sign-in (typing
    /// indicators are dropped instead, being stale by then).
    pub fn request(&mut self, frame: ClientFrame) -> Vec<Action> {
        if self.signed_in.is_some() {
            vec![Action::Send(frame)]
        } else {
            if !matches!(frame, ClientFrame::Typing { .. }) {
                self.deferred.push(frame);
            }
            Vec::new()
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
                self.last_error = Some((err.code(), err.to_string()));
                return vec![Action::Close];
            }
        };
        self.on_frame(frame, now_ms)
    }

    fn on_frame(&mut self, frame: ServerFrame, now_ms: f64) -> Vec<Action> {
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
            ServerFrame::Authenticated { user, device } => self.on_signed_in(user, device),
            ServerFrame::Ping { nonce } => vec![Action::Send(ClientFrame::Pong { nonce })],
            ServerFrame::Pong { .. } => Vec::new(),
            ServerFrame::Error { code, message } => {
                if code == ErrorCode::AuthFailed && matches!(self.identity, Identity::Link(..)) {
                    // A wrong or expired link code: retrying cannot help.
                    self.identity = Identity::None;
                }
                self.last_error = Some((code, message.as_str().to_owned()));
                vec![Action::Emit(Event::Failed {
                    code,
                    message: message.as_str().to_owned(),
                })]
            }
            ServerFrame::Accepted { id } => {
                self.outbox.remove(&id);
                vec![Action::Emit(Event::Accepted(id))]
            }
            ServerFrame::Rejected { id, code, message } => {
                if code == ErrorCode::UsernameTaken || code == ErrorCode::KeyInUse {
                    self.identity = Identity::None;
                }
                if let Some(id) = &id {
                    if matches!(code, ErrorCode::RateLimited | ErrorCode::Internal) {
                        // Not this message's fault: try again shortly.
                        self.retry_at_ms = Some(now_ms + RETRY_DELAY_MS);
                    } else {
                        self.outbox.remove(id);
                    }
                }
                vec![Action::Emit(Event::Rejected {
                    id,
                    code,
                    message: message.as_str().to_owned(),
                })]
            }
            ServerFrame::Deliver {
                id,
                from,
                from_device,
                payload,
            } => {
                if self.app_acks {
                    return vec![Action::Emit(Event::Message {
                        id,
                        from,
                        from_device,
                        sent_at: id.unix_ms(),
                        payload,
                    })];
                }
                let mut actions = vec![Action::Send(ClientFrame::Ack { ids: vec![id] })];
                if self.seen.insert(id) {
                    actions.push(Action::Emit(Event::Message {
                        id,
                        from,
                        from_device,
                        sent_at: id.unix_ms(),
                        payload,
                    }));
                }
                actions
            }
            ServerFrame::Receipt {
                id,
                from,
                from_device,
                kind,
                ids,
            } => {
                let mut actions = vec![Action::Send(ClientFrame::Ack { ids: vec![id] })];
                if self.seen.insert(id) {
                    actions.push(Action::Emit(Event::Receipt {
                        from,
                        from_device,
                        kind,
                        ids,
                    }));
                }
                actions
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
            ServerFrame::UserInfo {
                user,
                username,
                devices,
            } => vec![Action::Emit(Event::UserInfo {
                user,
                username,
                devices,
            })],
            ServerFrame::DeviceAdded { device } => vec![Action::Emit(Event::DeviceAdded(device))],
            ServerFrame::ContactUpdated { user, added } => {
                vec![Action::Emit(Event::ContactUpdated { user, added })]
            }
            ServerFrame::KeyCount { one_time } => vec![Action::Emit(Event::KeyCount(one_time))],
            ServerFrame::ClaimedKeys { keys } => vec![Action::Emit(Event::ClaimedKeys(keys))],
            ServerFrame::DeviceList {
                user,
                list,
                registered,
            } => vec![Action::Emit(Event::DeviceList {
                user,
                list,
                registered,
            })],
            ServerFrame::LinkCreated { link, expires_at } => {
                vec![Action::Emit(Event::LinkCreated { link, expires_at })]
            }
            ServerFrame::UploadSlot {
                media,
                url,
                expires_at,
            } => vec![Action::Emit(Event::UploadSlot {
                media,
                url: url.as_str().to_owned(),
                expires_at,
            })],
            ServerFrame::MediaReady { media } => vec![Action::Emit(Event::MediaReady(media))],
            ServerFrame::DownloadUrl {
                media,
                url,
                expires_at,
            } => vec![Action::Emit(Event::DownloadUrl {
                media,
                url: url.as_str().to_owned(),
                expires_at,
            })],
            ServerFrame::Group {
                group,
                version,
                members,
            } => vec![Action::Emit(Event::Group {
                group,
                version,
                members,
            })],
        }
    }

    fn sign_in_if_ready(&mut self) -> Vec<Action> {
        let Some(challenge) = self.challenge else {
            return Vec::new();
        };
        if self.signed_in.is_some() {
            return Vec::new();
        }
        let frame = match &self.identity {
            Identity::None => return Vec::new(),
            Identity::Register(username, key) => ClientFrame::Register {
                username: username.clone(),
                key: key.public_key(),
                signature: key.sign(&auth::register_message(&challenge, username)),
            },
            Identity::Device(device, key) => ClientFrame::Authenticate {
                device: *device,
                signature: key.sign(&auth::authenticate_message(&challenge)),
            },
            Identity::Link(link, key) => ClientFrame::Link {
                link: *link,
                key: key.public_key(),
                signature: key.sign(&auth::link_message(&challenge, link)),
            },
        };
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
        actions.extend(self.outbox.frames().cloned().map(Action::Send));
        actions.extend(self.deferred.drain(..).map(Action::Send));
        actions
    }

    /// The socket closed or failed to open. `random` is a sample from `[0, 1)`.
    pub fn on_close(&mut self, random: f64) -> Vec<Action> {
        self.signed_in = None;
        self.challenge = None;
        let delay = self.backoff.next_delay_ms(random);
        self.state = ConnectionState::Reconnecting {
            attempt: self.backoff.attempt(),
        };
        vec![Action::ReconnectAfter(delay)]
    }

    /// Time passed: ping when a heartbeat is due, and give up on a server that
    /// has been silent for two heartbeats.
    pub fn on_tick(&mut self, now_ms: f64) -> Vec<Action> {
        if self.state != ConnectionState::Online {
            return Vec::new();
        }
        if now_ms - self.last_heard_ms > 2.0 * self.heartbeat_ms {
            return vec![Action::Close];
        }
        if let Some(retry_at) = self.retry_at_ms
            && now_ms >= retry_at
            && self.signed_in.is_some()
        {
            self.retry_at_ms = None;
            return self.outbox.frames().cloned().map(Action::Send).collect();
        }
        if now_ms - self.last_ping_ms >= self.heartbeat_ms {
            self.last_ping_ms = now_ms;
            let nonce = self.next_nonce;
            self.next_nonce += 1;
            return vec![Action::Send(ClientFrame::Ping { nonce })];
        }
        Vec::new()
    }
}

#[cfg(test)]
mod tests;
