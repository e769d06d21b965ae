//! WebSocket close codes Courier uses, and which protocol errors map to which.

use courier_shared::proto::ErrorCode;

/// The server is restarting or shutting down: reconnect at once (RFC 6455 1012).
pub const SERVICE_RESTART: u16 = 1012;
/// A normal close.
pub const NORMAL: u16 = 1000;

/// The close code sent after an error frame with `code`.
pub fn for_error(code: ErrorCode) -> u16 {
    match code {
        ErrorCode::FrameTooLarge => 1009,
        ErrorCode::TextNotSupported => 1003,
        ErrorCode::HandshakeTimeout
        | ErrorCode::IdleTimeout
        | ErrorCode::AuthRequired
        | ErrorCode::AuthFailed
        | ErrorCode::RateLimited => 1008,
        ErrorCode::Internal => 1011,
        ErrorCode::Malformed
        | ErrorCode::UnknownFrame
        | ErrorCode::UnsupportedVersion
        | ErrorCode::HandshakeRequired
        | ErrorCode::UsernameTaken
        | ErrorCode::NotFound
        | ErrorCode::InvalidRequest
        | ErrorCode::KeyInUse
        | ErrorCode::StaleDevices
        | ErrorCode::Forbidden
        | ErrorCode::QuotaExceeded
        | ErrorCode::Other(_) => 1002,
    }
}
