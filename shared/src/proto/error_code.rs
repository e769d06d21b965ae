//! Numeric error codes carried by [`super::ServerFrame::Error`].
//!
//! Codes are stable across protocol versions: a code, once published, keeps its
//! meaning forever. Unknown codes decode as [`ErrorCode::Other`] so that an old
//! client can still show a newer server's message.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why the server rejected a frame or a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The bytes were not a well-formed frame of the negotiated version.
    Malformed,
    /// The frame's type number is not one this server knows.
    UnknownFrame,
    /// The frame is larger than [`super::MAX_FRAME_BYTES`].
    FrameTooLarge,
    /// The client's protocol version is not supported.
    UnsupportedVersion,
    /// A frame other than `Hello` arrived before the handshake finished, or a
    /// second `Hello` arrived after it.
    HandshakeRequired,
    /// The client did not complete the handshake in time.
    HandshakeTimeout,
    /// A WebSocket text message arrived; Courier speaks binary frames only.
    TextNotSupported,
    /// The client went silent for longer than the idle timeout.
    IdleTimeout,
    /// A frame that needs a signed-in device arrived before sign-in.
    AuthRequired,
    /// The device is unknown or its signature did not verify.
    AuthFailed,
    /// The username belongs to someone else.
    UsernameTaken,
    /// The user or device named does not exist.
    NotFound,
    /// The device sent more than its rate limit allows; retry later.
    RateLimited,
    /// The request is well-formed but not allowed (too many items, say).
    InvalidRequest,
    /// The identity key is already registered to a device.
    KeyInUse,
    /// A message's recipient devices do not match the users' current
    /// device lists: refresh them, encrypt again and retry.
    StaleDevices,
    /// The device's user may not do this (change a group without being
    /// its admin, say, or send to a group it is not in).
    Forbidden,
    /// The user's media storage quota is used up.
    QuotaExceeded,
    /// The server failed; the client may retry later.
    Internal,
    /// A code this build does not know.
    Other(u16),
}

impl ErrorCode {
    /// The code's number on the wire.
    pub fn as_u16(self) -> u16 {
        match self {
            Self::Malformed => 1,
            Self::UnknownFrame => 2,
            Self::FrameTooLarge => 3,
            Self::UnsupportedVersion => 4,
            Self::HandshakeRequired => 5,
            Self::HandshakeTimeout => 6,
            Self::TextNotSupported => 7,
            Self::IdleTimeout => 8,
            Self::AuthRequired => 9,
            Self::AuthFailed => 10,
            Self::UsernameTaken => 11,
            Self::NotFound => 12,
            Self::RateLimited => 13,
            Self::InvalidRequest => 14,
            Self::KeyInUse => 15,
            Self::StaleDevices => 16,
            Self::Forbidden => 17,
            Self::QuotaExceeded => 18,
            Self::Internal => 100,
            Self::Other(code) => code,
        }
    }

    /// The code for a number read off the wire.
    pub fn from_u16(code: u16) -> Self {
        match code {
            1 => Self::Malformed,
            2 => Self::UnknownFrame,
            3 => Self::FrameTooLarge,
            4 => Self::UnsupportedVersion,
            5 => Self::HandshakeRequired,
            6 => Self::HandshakeTimeout,
            7 => Self::TextNotSupported,
            8 => Self::IdleTimeout,
            9 => Self::AuthRequired,
            10 => Self::AuthFailed,
            11 => Self::UsernameTaken,
            12 => Self::NotFound,
            13 => Self::RateLimited,
            14 => Self::InvalidRequest,
            15 => Self::KeyInUse,
            16 => Self::StaleDevices,
            17 => Self::Forbidden,
            18 => Self::QuotaExceeded,
            100 => Self::Internal,
            other => Self::Other(other),
        }
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u16(self.as_u16())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        u16::deserialize(deserializer).map(Self::from_u16)
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    #[test]
    fn every_known_code_round_trips_through_its_number() {
        for code in 0..=200u16 {
            assert_eq!(ErrorCode::from_u16(code).as_u16(), code);
        }
    }
}
