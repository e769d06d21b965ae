//! Frames a device sends to the server.

use super::tuple::wire_enum;
use super::{MAX_AGENT_BYTES, Text};

wire_enum! {
    /// A frame from a client device to the server.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum ClientFrame {
        /// Opens the handshake; must be the first frame of every connection.
        Hello = 0 {
            /// The protocol version the client speaks.
            version: u16,
            /// A short description of the client software, for the server's logs.
            agent: Text<MAX_AGENT_BYTES>,
        },
        /// Asks the server for a [`super::ServerFrame::Pong`] with the same nonce.
        Ping = 1 {
            /// Echoed back by the pong.
            nonce: u64,
        },
        /// Answers a [`super::ServerFrame::Ping`].
        Pong = 2 {
            /// The nonce of the ping being answered.
            nonce: u64,
        },
    }
}
