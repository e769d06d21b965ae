//! The per-connection protocol state machine, with no I/O.
//!
//! It decodes each incoming message, enforces the order of the handshake
//! (`Hello`, then `Register` or `Authenticate`, then everything else) and says
//! what to do: reply, ask the task to sign the device in, hand a request to
//! the command layer, or fail the connection with an error code.

use courier_shared::crypto::identity;
use courier_shared::ids::{
    Challenge, DeviceId, LinkId, PublicKey, RequestId, Signature, UserId, Username,
};
use courier_shared::proto::{
    self, ClientFrame, ErrorCode, MAX_FRAME_BYTES, MIN_PROTOCOL_VERSION, PROTOCOL_VERSION,
    ServerFrame, auth,
};

/// A sign-in the task must complete against the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignIn {
    /// Create a user (the signature over the challenge already verified).
    Register {
        /// The request to answer.
        request: RequestId,
        /// The requested name.
        username: Username,
        /// The first device's key.
        key: PublicKey,
    },
    /// Sign in an existing device: the task looks up its key and calls
    /// [`Session::verify`].
    Authenticate {
        /// The request to answer.
        request: RequestId,
        /// The device.
        device: DeviceId,
        /// Its signature over the challenge.
        signature: Signature,
    },
    /// Join an account through a link (the signature over the challenge and
    /// link already verified).
    Link {
        /// The request to answer.
        request: RequestId,
        /// The link.
        link: LinkId,
        /// The new device's key.
        key: PublicKey,
    },
}

impl SignIn {
    /// The request the sign-in answers.
    pub fn request(&self) -> RequestId {
        match self {
            Self::Register { request, .. }
            | Self::Authenticate { request, .. }
            | Self::Link { request, .. } => *request,
        }
    }
}

/// What the socket loop must do after one incoming message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Send this frame and carry on.
    Reply(ServerFrame),
    /// Nothing to send.
    Continue,
    /// Complete this sign-in.
    SignIn(SignIn),
    /// Carry out this request of a signed-in device.
    Request(ClientFrame),
    /// Send an error frame with this code and message, then close.
    Fail(ErrorCode, String),
}

/// Where the handshake stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for the client's `Hello`.
    AwaitingHello,
    /// Waiting for `Register` or `Authenticate`.
    AwaitingSignIn,
    /// Signed in as this device.
    Ready(UserId, DeviceId),
}

/// One connection's protocol state.
#[derive(Debug)]
pub struct Session {
    phase: Phase,
    heartbeat_secs: u16,
    challenge: Challenge,
    agent: String,
}

impl Session {
    /// A session that will send `challenge` and advertise `heartbeat_secs`.
    pub fn new(heartbeat_secs: u16, challenge: Challenge) -> Self {
        Self {
            phase: Phase::AwaitingHello,
            heartbeat_secs,
            challenge,
            agent: String::new(),
        }
    }

    /// Where the handshake stands.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The client's self-description from its `Hello`.
    pub fn agent(&self) -> &str {
        &self.agent
    }

    /// Whether `signature` is `key`'s signature over this connection's
    /// sign-in challenge.
    pub fn verify(&self, key: &PublicKey, signature: &Signature) -> bool {
        identity::verify(key, &auth::authenticate_message(&self.challenge), signature)
    }

    /// The task signed the device in.
    pub fn signed_in(&mut self, user: UserId, device: DeviceId) {
        self.phase = Phase::Ready(user, device);
    }

    /// A binary message arrived.
    pub fn on_binary(&mut self, bytes: &[u8]) -> Step {
        let frame = match proto::decode::<ClientFrame>(bytes) {
            Ok(frame) => frame,
            Err(err) => return Step::Fail(err.code(), err.to_string()),
        };
        match (self.phase, frame) {
            (_, ClientFrame::Ping { nonce }) if self.phase != Phase::AwaitingHello => {
                Step::Reply(ServerFrame::Pong { nonce })
            }
            (_, ClientFrame::Pong { .. }) if self.phase != Phase::AwaitingHello => Step::Continue,
            (Phase::AwaitingHello, ClientFrame::Hello { version, agent }) => {
                if !(MIN_PROTOCOL_VERSION..=PROTOCOL_VERSION).contains(&version) {
                    return Step::Fail(
                        ErrorCode::UnsupportedVersion,
                        format!(
                            "protocol version {version} is not supported: this server speaks \
                             {MIN_PROTOCOL_VERSION} to {PROTOCOL_VERSION}; reload the page (or \
                             update the app) to get the current Courier"
                        ),
                    );
                }
                self.phase = Phase::AwaitingSignIn;
                self.agent = agent.as_str().to_owned();
                Step::Reply(ServerFrame::Welcome {
                    version,
                    max_frame: MAX_FRAME_BYTES as u32,
                    heartbeat_secs: self.heartbeat_secs,
                    challenge: self.challenge,
                })
            }
            (Phase::AwaitingHello, _) => Step::Fail(
                ErrorCode::HandshakeRequired,
                "the first frame must be Hello".to_owned(),
            ),
            (_, ClientFrame::Hello { .. }) => Step::Fail(
                ErrorCode::HandshakeRequired,
                "the handshake is already complete".to_owned(),
            ),
            (
                Phase::AwaitingSignIn,
                ClientFrame::Register {
                    request,
                    username,
                    key,
                    signature,
                },
            ) => {
                let message = auth::register_message(&self.challenge, &username);
                if identity::verify(&key, &message, &signature) {
                    Step::SignIn(SignIn::Register {
                        request,
                        username,
                        key,
                    })
                } else {
                    Step::Fail(
                        ErrorCode::AuthFailed,
                        "the signature does not match the key".to_owned(),
                    )
                }
            }
            (
                Phase::AwaitingSignIn,
                ClientFrame::Authenticate {
                    request,
                    device,
                    signature,
                },
            ) => Step::SignIn(SignIn::Authenticate {
                request,
                device,
                signature,
            }),
            (
                Phase::AwaitingSignIn,
                ClientFrame::Link {
                    request,
                    link,
                    key,
                    signature,
                },
            ) => {
                let message = auth::link_message(&self.challenge, &link);
                if identity::verify(&key, &message, &signature) {
                    Step::SignIn(SignIn::Link { request, link, key })
                } else {
                    Step::Fail(
                        ErrorCode::AuthFailed,
                        "the signature does not match the key".to_owned(),
                    )
                }
            }
            (Phase::AwaitingSignIn, _) => Step::Fail(
                ErrorCode::AuthRequired,
                "sign in with Register, Authenticate or Link first".to_owned(),
            ),
            (Phase::Ready(..), request) => Step::Request(request),
        }
    }

    /// A text message arrived; Courier speaks binary only.
    pub fn on_text(&mut self) -> Step {
        Step::Fail(
            ErrorCode::TextNotSupported,
            "Courier frames are binary CBOR; text messages are not accepted".to_owned(),
        )
    }
}

#[cfg(test)]
mod tests;
