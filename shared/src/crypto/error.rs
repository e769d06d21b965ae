//! [`CryptoError`]: every way end-to-end encryption can fail, in words a user
//! can be shown.

use crate::ids::{DeviceId, UserId};

/// Why a cryptographic step failed. Nothing is changed by a failed step
/// except where a variant says so.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// A signature did not verify: the data was forged or damaged on the way.
    #[error("bad signature on {0}")]
    BadSignature(&'static str),
    /// Bytes that should have been one of our structures were not.
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// A ciphertext failed authentication or could not be decrypted.
    #[error("cannot decrypt the message from user {} device {}: {reason}", user.0, device.0)]
    Undecryptable {
        /// The sender.
        user: UserId,
        /// The sender's device.
        device: DeviceId,
        /// What went wrong.
        reason: String,
    },
    /// A sealed box (link exchange, state at rest) failed authentication.
    #[error("cannot open the sealed {0}: wrong key or tampered data")]
    Sealed(&'static str),
    /// The device named is not in its user's signed device list.
    #[error("device {} is not an approved device of user {}", device.0, user.0)]
    UnknownDevice {
        /// The user.
        user: UserId,
        /// The device.
        device: DeviceId,
    },
    /// The user has no signed device list yet.
    #[error("user {} has no approved devices", .0.0)]
    NoDevices(UserId),
    /// A device list older than one already seen: a rollback.
    #[error("the device list of user {} went back from version {known} to {got}", user.0)]
    Rollback {
        /// The user.
        user: UserId,
        /// The version already seen.
        known: u64,
        /// The version offered.
        got: u64,
    },
    /// The step needs the account identity key, which this device lacks
    /// until another device of the user approves it.
    #[error("this device has not been approved by the account yet")]
    NotApproved,
    /// The step needs this device to be signed in first.
    #[error("this device is not signed in")]
    NotSignedIn,
    /// A limit was exceeded (devices per user, text length).
    #[error("{0}")]
    Limit(&'static str),
    /// A media object is not what its message says.
    #[error("{0}")]
    Media(&'static str),
    /// The server refused a key request or did not answer it.
    #[error("the key server failed: {0}")]
    Server(#[from] crate::proto::Refusal),
    /// The Olm library refused (a non-contributory key exchange, say).
    #[error("encryption failed: {0}")]
    Olm(String),
}
