//! [`End`]: why a session ended, and the WebSocket close code that says so.
//!
//! Protocol errors take their close code from the error code table
//! ([`ErrorCode::close_code`]); the other ends have codes of their own.

use courier_shared::proto::ErrorCode;

/// The server is restarting or shutting down: reconnect at once (RFC 6455 1012).
pub const SERVICE_RESTART: u16 = 1012;
/// A normal close.
pub const NORMAL: u16 = 1000;
/// The same device signed in on a newer connection.
pub const REPLACED: u16 = 4000;
/// Reading failed: a transport message over the size limit, or a broken stream.
pub const READ_FAILED: u16 = 1009;

/// Why a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// The client closed the socket or went away.
    ClientLeft,
    /// Reading from the socket failed (an oversized transport message, say).
    ReadFailed,
    /// The client stopped reading: a send timed out.
    SendFailed,
    /// The client broke the protocol, timed out or failed to sign in; it is
    /// told with an error frame first.
    Protocol(ErrorCode, String),
    /// The same device signed in on a newer connection.
    Replaced,
    /// The server is shutting down.
    Shutdown,
}

impl End {
    /// A protocol error with `code`.
    pub fn protocol(code: ErrorCode, reason: &str) -> Self {
        Self::Protocol(code, reason.to_owned())
    }

    /// The close code to send, or `None` when the client is gone.
    pub fn close_code(&self) -> Option<u16> {
        match self {
            Self::ClientLeft | Self::SendFailed => None,
            Self::ReadFailed => Some(READ_FAILED),
            Self::Protocol(code, _) => Some(code.close_code()),
            Self::Replaced => Some(REPLACED),
            Self::Shutdown => Some(SERVICE_RESTART),
        }
    }

    /// The close frame's reason.
    pub fn reason(&self) -> String {
        match self {
            Self::ClientLeft => "bye".into(),
            Self::ReadFailed => "read failed".into(),
            Self::SendFailed => "the client does not read".into(),
            Self::Protocol(_, reason) => reason.clone(),
            Self::Replaced => "signed in on a newer connection".into(),
            Self::Shutdown => "server restarting".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::End;
    use courier_shared::proto::ErrorCode;

    #[test]
    fn each_end_has_its_close_code() {
        assert_eq!(End::Shutdown.close_code(), Some(1012));
        assert_eq!(End::Replaced.close_code(), Some(4000));
        assert_eq!(
            End::protocol(ErrorCode::FrameTooLarge, "big").close_code(),
            Some(1009)
        );
        assert_eq!(
            End::protocol(ErrorCode::IdleTimeout, "quiet").close_code(),
            Some(1008)
        );
        assert_eq!(End::ClientLeft.close_code(), None);
    }
}
