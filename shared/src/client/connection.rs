//! The connection state machine: handshake, heartbeats and reconnects, no I/O.
//!
//! The owner of the socket feeds it events — the socket opened, a message
//! arrived, the socket closed, time passed — and carries out the [`Action`]s it
//! returns. Times are milliseconds on any monotonic clock the owner chooses.

use super::Backoff;
use crate::proto::{
    self, ClientFrame, ErrorCode, MAX_AGENT_BYTES, PROTOCOL_VERSION, ServerFrame, Text,
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

/// Something the socket owner must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send this frame.
    Send(ClientFrame),
    /// Close the socket: the server is unresponsive or broke the protocol.
    Close,
    /// Open a new socket after this many milliseconds.
    ReconnectAfter(u32),
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
}

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
        }
    }

    /// The current state.
    pub fn state(&self) -> ConnectionState {
        self.state
    }

    /// The last error the server reported, if any.
    pub fn last_error(&self) -> Option<&(ErrorCode, String)> {
        self.last_error.as_ref()
    }

    /// The socket opened: start the handshake.
    pub fn on_open(&mut self, now_ms: f64) -> Vec<Action> {
        self.last_heard_ms = now_ms;
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
        match frame {
            ServerFrame::Welcome { heartbeat_secs, .. } => {
                self.state = ConnectionState::Online;
                self.backoff.reset();
                self.last_error = None;
                self.heartbeat_ms = f64::from(heartbeat_secs.max(1)) * 1_000.0;
                self.last_ping_ms = now_ms;
                Vec::new()
            }
            ServerFrame::Ping { nonce } => vec![Action::Send(ClientFrame::Pong { nonce })],
            ServerFrame::Pong { .. } => Vec::new(),
            ServerFrame::Error { code, message } => {
                self.last_error = Some((code, message.as_str().to_owned()));
                Vec::new()
            }
        }
    }

    /// The socket closed or failed to open. `random` is a sample from `[0, 1)`.
    pub fn on_close(&mut self, random: f64) -> Vec<Action> {
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
mod tests {
    use super::{Action, Connection, ConnectionState};
    use crate::proto::{self, ClientFrame, ErrorCode, PROTOCOL_VERSION, ServerFrame};

    fn welcome() -> Vec<u8> {
        proto::encode(&ServerFrame::Welcome {
            version: PROTOCOL_VERSION,
            max_frame: 65_536,
            heartbeat_secs: 10,
        })
        .expect("encodes")
    }

    #[test]
    fn handshake_brings_the_connection_online() {
        let mut conn = Connection::new("test");
        assert_eq!(conn.state(), ConnectionState::Connecting);
        let actions = conn.on_open(0.0);
        assert!(matches!(
            actions.as_slice(),
            [Action::Send(ClientFrame::Hello {
                version: PROTOCOL_VERSION,
                ..
            })]
        ));
        assert!(conn.on_message(&welcome(), 5.0).is_empty());
        assert_eq!(conn.state(), ConnectionState::Online);
    }

    #[test]
    fn drops_back_off_and_a_welcome_resets_the_delay() {
        let mut conn = Connection::new("test");
        assert_eq!(conn.on_close(0.0), vec![Action::ReconnectAfter(250)]);
        assert_eq!(conn.on_close(0.0), vec![Action::ReconnectAfter(500)]);
        assert_eq!(conn.state(), ConnectionState::Reconnecting { attempt: 2 });
        conn.on_open(0.0);
        conn.on_message(&welcome(), 1.0);
        assert_eq!(conn.on_close(0.0), vec![Action::ReconnectAfter(250)]);
    }

    #[test]
    fn heartbeats_ping_and_a_silent_server_is_dropped() {
        let mut conn = Connection::new("test");
        conn.on_open(0.0);
        conn.on_message(&welcome(), 0.0);
        assert!(conn.on_tick(9_999.0).is_empty());
        assert_eq!(
            conn.on_tick(10_000.0),
            vec![Action::Send(ClientFrame::Ping { nonce: 1 })]
        );
        assert_eq!(conn.on_tick(20_001.0), vec![Action::Close]);
    }

    #[test]
    fn server_pings_are_answered_and_errors_remembered() {
        let mut conn = Connection::new("test");
        let ping = proto::encode(&ServerFrame::Ping { nonce: 9 }).expect("encodes");
        assert_eq!(
            conn.on_message(&ping, 0.0),
            vec![Action::Send(ClientFrame::Pong { nonce: 9 })]
        );
        let error = proto::encode(&ServerFrame::error(ErrorCode::Internal, "oops")).expect("ok");
        conn.on_message(&error, 0.0);
        assert_eq!(
            conn.last_error(),
            Some(&(ErrorCode::Internal, "oops".to_owned()))
        );
        assert_eq!(conn.on_message(&[0xff], 0.0), vec![Action::Close]);
    }
}
