//! The per-connection protocol state machine, with no I/O.
//!
//! It takes each incoming message and says what to answer: a reply frame,
//! nothing, or an error frame followed by closing the connection. The socket
//! loop in [`super::task`] carries that out.

use courier_shared::proto::{
    self, ClientFrame, ErrorCode, MAX_FRAME_BYTES, MIN_PROTOCOL_VERSION, PROTOCOL_VERSION,
    ServerFrame,
};

/// What the socket loop must do after one incoming message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Send this frame and carry on.
    Reply(ServerFrame),
    /// Nothing to send.
    Continue,
    /// Send an error frame with this code and message, then close.
    Fail(ErrorCode, String),
}

/// Where the handshake stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for the client's `Hello`.
    AwaitingHello,
    /// The handshake is done.
    Ready,
}

/// One connection's protocol state.
#[derive(Debug)]
pub struct Session {
    phase: Phase,
    heartbeat_secs: u16,
    agent: String,
}

impl Session {
    /// A session that will advertise `heartbeat_secs` in its welcome.
    pub fn new(heartbeat_secs: u16) -> Self {
        Self {
            phase: Phase::AwaitingHello,
            heartbeat_secs,
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

    /// A binary message arrived.
    pub fn on_binary(&mut self, bytes: &[u8]) -> Step {
        let frame = match proto::decode::<ClientFrame>(bytes) {
            Ok(frame) => frame,
            Err(err) => return Step::Fail(err.code(), err.to_string()),
        };
        match (self.phase, frame) {
            (Phase::AwaitingHello, ClientFrame::Hello { version, agent }) => {
                if !(MIN_PROTOCOL_VERSION..=PROTOCOL_VERSION).contains(&version) {
                    return Step::Fail(
                        ErrorCode::UnsupportedVersion,
                        format!(
                            "protocol version {version} is not supported; this server speaks \
                             {MIN_PROTOCOL_VERSION} to {PROTOCOL_VERSION}"
                        ),
                    );
                }
                self.phase = Phase::Ready;
                self.agent = agent.as_str().to_owned();
                Step::Reply(ServerFrame::Welcome {
                    version,
                    max_frame: MAX_FRAME_BYTES as u32,
                    heartbeat_secs: self.heartbeat_secs,
                })
            }
            (Phase::AwaitingHello, _) => Step::Fail(
                ErrorCode::HandshakeRequired,
                "the first frame must be Hello".to_owned(),
            ),
            (Phase::Ready, ClientFrame::Hello { .. }) => Step::Fail(
                ErrorCode::HandshakeRequired,
                "the handshake is already complete".to_owned(),
            ),
            (Phase::Ready, ClientFrame::Ping { nonce }) => Step::Reply(ServerFrame::Pong { nonce }),
            (Phase::Ready, ClientFrame::Pong { .. }) => Step::Continue,
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
mod tests {
    use super::{Phase, Session, Step};
    use courier_shared::proto::{self, ClientFrame, ErrorCode, ServerFrame, Text};

    fn bytes(frame: &ClientFrame) -> Vec<u8> {
        proto::encode(frame).expect("encodes")
    }

    fn hello(version: u16) -> Vec<u8> {
        bytes(&ClientFrame::Hello {
            version,
            agent: Text::truncating("unit"),
        })
    }

    #[test]
    fn hello_then_ping_gets_welcome_then_pong() {
        let mut session = Session::new(25);
        assert!(matches!(
            session.on_binary(&hello(1)),
            Step::Reply(ServerFrame::Welcome {
                version: 1,
                heartbeat_secs: 25,
                ..
            })
        ));
        assert_eq!(session.phase(), Phase::Ready);
        assert_eq!(session.agent(), "unit");
        assert_eq!(
            session.on_binary(&bytes(&ClientFrame::Ping { nonce: 4 })),
            Step::Reply(ServerFrame::Pong { nonce: 4 })
        );
    }

    #[test]
    fn anything_before_hello_or_a_second_hello_fails_the_handshake() {
        let mut session = Session::new(25);
        let step = session.on_binary(&bytes(&ClientFrame::Ping { nonce: 1 }));
        assert!(matches!(step, Step::Fail(ErrorCode::HandshakeRequired, _)));
        let mut session = Session::new(25);
        session.on_binary(&hello(1));
        assert!(matches!(
            session.on_binary(&hello(1)),
            Step::Fail(ErrorCode::HandshakeRequired, _)
        ));
    }

    #[test]
    fn unsupported_versions_and_text_are_refused() {
        let mut session = Session::new(25);
        assert!(matches!(
            session.on_binary(&hello(99)),
            Step::Fail(ErrorCode::UnsupportedVersion, _)
        ));
        assert_eq!(session.phase(), Phase::AwaitingHello);
        assert!(matches!(
            session.on_text(),
            Step::Fail(ErrorCode::TextNotSupported, _)
        ));
    }
}
