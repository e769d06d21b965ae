//! Numeric error codes carried by [`super::ServerFrame::Error`] and
//! [`super::ServerFrame::Rejected`], from one table: each code's number on the
//! wire, its label (logs and metrics) and the WebSocket close code that
//! follows it when it ends a connection.
//!
//! Codes are stable across protocol versions: a code, once published, keeps its
//! meaning forever. Unknown codes decode as [`ErrorCode::Other`] so that an old
//! client can still show a newer server's message.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Defines [`ErrorCode`] and its mappings from one row per code:
/// `Name = number, "label", close code;`.
macro_rules! error_codes {
    ($( $(#[$doc:meta])* $name:ident = $number:literal, $label:literal, $close:literal; )*) => {
        /// Why the server rejected a frame or a connection.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $( $(#[$doc])* $name, )*
            /// A code this build does not know.
            Other(u16),
        }

        impl ErrorCode {
            /// The code's number on the wire.
            pub fn as_u16(self) -> u16 {
                match self {
                    $( Self::$name => $number, )*
                    Self::Other(code) => code,
                }
            }

            /// The code for a number read off the wire.
            pub fn from_u16(code: u16) -> Self {
                match code {
                    $( $number => Self::$name, )*
                    other => Self::Other(other),
                }
            }

            /// A short stable name, for logs and metrics.
            pub fn label(self) -> &'static str {
                match self {
                    $( Self::$name => $label, )*
                    Self::Other(_) => "other",
                }
            }

            /// The WebSocket close code sent after an `Error` frame with this
            /// code (refusal codes close only if they end a connection).
            pub fn close_code(self) -> u16 {
                match self {
                    $( Self::$name => $close, )*
                    Self::Other(_) => 1002,
                }
            }
        }
    };
}

error_codes! {
    /// The bytes were not a well-formed frame of the negotiated version.
    Malformed = 1, "malformed", 1002;
    /// The frame's type number is not one this server knows.
    UnknownFrame = 2, "unknown_frame", 1002;
    /// The frame is larger than [`super::MAX_FRAME_BYTES`].
    FrameTooLarge = 3, "frame_too_large", 1009;
    /// The client's protocol version is not supported.
    UnsupportedVersion = 4, "unsupported_version", 1002;
    /// A frame other than `Hello` arrived before the handshake finished, or a
    /// second `Hello` arrived after it.
    HandshakeRequired = 5, "handshake_required", 1002;
    /// The client did not complete the handshake in time.
    HandshakeTimeout = 6, "handshake_timeout", 1008;
    /// A WebSocket text message arrived; Courier speaks binary frames only.
    TextNotSupported = 7, "text_not_supported", 1003;
    /// The client went silent for longer than the idle timeout.
    IdleTimeout = 8, "idle_timeout", 1008;
    /// A frame that needs a signed-in device arrived before sign-in.
    AuthRequired = 9, "auth_required", 1008;
    /// The device is unknown or its signature did not verify.
    AuthFailed = 10, "auth_failed", 1008;
    /// The username belongs to someone else.
    UsernameTaken = 11, "username_taken", 1002;
    /// The user or device named does not exist.
    NotFound = 12, "not_found", 1002;
    /// The device sent more than its rate limit allows; retry later.
    RateLimited = 13, "rate_limited", 1008;
    /// The request is well-formed but not allowed (too many items, say).
    InvalidRequest = 14, "invalid_request", 1002;
    /// The identity key is already registered to a device.
    KeyInUse = 15, "key_in_use", 1002;
    /// A message's recipient devices do not match the users' current
    /// device lists: refresh them, encrypt again and retry.
    StaleDevices = 16, "stale_devices", 1002;
    /// The device's user may not do this (change a group without being
    /// its admin, say, or send to a group it is not in).
    Forbidden = 17, "forbidden", 1002;
    /// A storage quota is used up (the user's media, a device's queue).
    QuotaExceeded = 18, "quota_exceeded", 1002;
    /// The server failed; the client may retry later.
    Internal = 100, "internal", 1011;
}

impl ErrorCode {
    /// Whether a refusal with this code says nothing about the request
    /// itself, so the same request may succeed if sent again later.
    pub fn is_transient(self) -> bool {
        matches!(self, Self::RateLimited | Self::Internal)
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

    #[test]
    fn labels_are_unique() {
        let mut labels: Vec<&str> = (0..=200u16)
            .map(ErrorCode::from_u16)
            .filter(|c| !matches!(c, ErrorCode::Other(_)))
            .map(ErrorCode::label)
            .collect();
        let all = labels.len();
        labels.sort_unstable();
        labels.dedup();
        assert_eq!(labels.len(), all);
    }
}
