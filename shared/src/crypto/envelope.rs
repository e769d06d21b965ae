//! [`Envelope`]: what a message payload holds, as the recipient device reads
//! it before decrypting. The server sees only opaque bytes.

use super::CryptoError;
use crate::ids::Blob;
use crate::proto::{MAX_PAYLOAD_BYTES, tuple::wire_enum};

/// Bytes inside an envelope.
pub type Sealed = Blob<MAX_PAYLOAD_BYTES>;

wire_enum! {
    /// The outer layer of every payload.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum Envelope {
        /// An Olm message for this device.
        Olm = 0 {
            /// Olm's message type: 0 pre-key (opens a session), 1 normal.
            kind: u8,
            /// The Olm ciphertext.
            body: Sealed,
        },
        /// A device-link message, sealed under the link code's key
        /// (see [`super::link`]).
        Link = 1 {
            /// The sealed box.
            body: Sealed,
        },
        /// A group message: one Megolm ciphertext for every member device
        /// (see [`super::group`]).
        Group = 2 {
            /// The group.
            group: crate::ids::GroupId,
            /// The Megolm message (signed by the sender's session key).
            body: Sealed,
        },
    }
}

impl Envelope {
    /// The envelope's bytes, as a payload.
    pub fn to_payload(&self) -> Result<crate::proto::Payload, CryptoError> {
        crate::proto::encode(self)
            .ok()
            .and_then(crate::proto::Payload::new)
            .ok_or(CryptoError::Limit("the message is too large"))
    }

    /// The envelope in `payload`.
    pub fn from_payload(payload: &[u8]) -> Result<Self, CryptoError> {
        crate::proto::decode(payload).map_err(|_| CryptoError::Malformed("message envelope"))
    }
}
