//! Frames the server sends to a device.

use super::tuple::wire_enum;
use super::{ErrorCode, MAX_ERROR_MESSAGE_BYTES, Text};

wire_enum! {
    /// A frame from the server to a client device.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum ServerFrame {
        /// Completes the handshake and states the limits in force.
        Welcome = 0 {
            /// The protocol version both sides now speak.
            version: u16,
            /// The largest frame the server accepts, in bytes.
            max_frame: u32,
            /// How often, in seconds, the client should ping; the server closes a
            /// connection that stays silent for three of these periods.
            heartbeat_secs: u16,
        },
        /// Asks the client for a [`super::ClientFrame::Pong`] with the same nonce.
        Ping = 1 {
            /// Echoed back by the pong.
            nonce: u64,
        },
        /// Answers a [`super::ClientFrame::Ping`].
        Pong = 2 {
            /// The nonce of the ping being answered.
            nonce: u64,
        },
        /// Reports why a frame or the connection was rejected.
        Error = 3 {
            /// What went wrong, as a stable number.
            code: ErrorCode,
            /// What went wrong, for people.
            message: Text<MAX_ERROR_MESSAGE_BYTES>,
        },
    }
}

impl ServerFrame {
    /// An error frame, its message cut to the protocol's limit if need be.
    pub fn error(code: ErrorCode, message: &str) -> Self {
        Self::Error {
            code,
            message: Text::truncating(message),
        }
    }
}
