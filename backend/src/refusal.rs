//! How the server's failures become a [`Refusal`] for the client: what the
//! store reports as a fact becomes the matching code; a database failure is
//! logged with its cause and refused as `Internal` with a generic message.

use crate::media::MediaError;
use crate::store::StoreError;
use courier_shared::proto::ErrorCode;
pub use courier_shared::proto::Refusal;

/// A request refusal with the server's own failure logged, never shown.
pub fn internal(err: &dyn std::fmt::Display) -> Refusal {
    tracing::error!(%err, "request failed");
    Refusal::new(ErrorCode::Internal, "the server failed; retry later")
}

impl From<StoreError> for Refusal {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(what) => Refusal::not_found(what),
            StoreError::UsernameTaken => {
                Refusal::new(ErrorCode::UsernameTaken, "the username is taken")
            }
            StoreError::KeyInUse => Refusal::new(
                ErrorCode::KeyInUse,
                "this device key is already registered; authenticate instead",
            ),
            other => internal(&other),
        }
    }
}

impl From<MediaError> for Refusal {
    fn from(err: MediaError) -> Self {
        internal(&err)
    }
}
