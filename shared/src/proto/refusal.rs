//! [`Refusal`]: why one request was refused — a stable code and a message for
//! people. The server answers a refused request with it (as a `Rejected`
//! frame naming the request); a client's typed request returns it.

use super::{ErrorCode, ServerFrame};
use crate::ids::RequestId;

/// A refused request: nothing changed, the connection stays open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Refusal {
    /// Why, as a stable number.
    pub code: ErrorCode,
    /// Why, for people.
    pub message: String,
}

impl Refusal {
    /// A refusal with `code` and `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// `InvalidRequest`: well-formed, but not allowed.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, message)
    }

    /// `NotFound`: "no such `what`".
    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("no such {what}"))
    }

    /// `Forbidden`: not allowed for this user.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    /// The client's own verdict when a request got no answer (the
    /// connection dropped with it, or the server stayed silent): transient,
    /// like a server failure, so it may be sent again.
    pub fn unanswered() -> Self {
        Self::new(
            ErrorCode::Internal,
            "the server did not answer; it is tried again once online",
        )
    }

    /// The client's verdict when the server answered a request with a frame
    /// of the wrong type (a server bug).
    pub fn unexpected(frame: &ServerFrame) -> Self {
        Self::new(
            ErrorCode::Malformed,
            format!("the server answered with an unexpected {}", frame.name()),
        )
    }

    /// Whether the same request may succeed if sent again later.
    pub fn is_transient(&self) -> bool {
        self.code.is_transient()
    }

    /// The `Rejected` frame that tells the client.
    pub fn frame(&self, request: RequestId) -> ServerFrame {
        ServerFrame::rejected(request, self.code, &self.message)
    }
}
