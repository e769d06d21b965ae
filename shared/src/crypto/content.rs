//! [`Plaintext`]: what a decrypted message says. Only devices ever see it.

use super::CryptoError;
use crate::ids::{Blob, GroupId, MessageId, UserId};
use crate::proto::{Text, tuple::wire_enum};
use serde::{Deserialize, Serialize};

/// Longest text of one message, in bytes.
pub const MAX_TEXT_BYTES: usize = 16 * 1024;
/// Largest sender key (a Megolm session key is 229 bytes).
pub const MAX_GROUP_KEY_BYTES: usize = 512;

wire_enum! {
    /// The content of a message.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum Content {
        /// A text message.
        Text = 0 {
            /// The text.
            text: Text<MAX_TEXT_BYTES>,
            /// The message this one replies to, if any.
            reply_to: Option<MessageId>,
        },
        /// "I could not decrypt your message `id`; send it again": the
        /// recipient has renewed its session with the sending device.
        Retry = 1 {
            /// The message that failed.
            id: MessageId,
        },
        /// The sender's current sender key for a group (a Megolm session
        /// key), sent over the pairwise Olm session to each member device.
        GroupKey = 2 {
            /// The group.
            group: GroupId,
            /// The Megolm session key, from its current index on.
            key: Blob<MAX_GROUP_KEY_BYTES>,
        },
    }
}

/// A decrypted message: `[id, conversation user, content]`.
///
/// The id is bound inside the encryption, so a ciphertext replayed under
/// another id is caught. `to` names the conversation's other party for the
/// sender's own devices (for the recipient it is the recipient itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plaintext(
    /// The message id the server delivers it under.
    pub MessageId,
    /// The user the message was sent to.
    pub UserId,
    /// What it says.
    pub Content,
);

impl Plaintext {
    /// A text message `id` to `to`.
    pub fn text(id: MessageId, to: UserId, text: &str, reply_to: Option<MessageId>) -> Self {
        Self(
            id,
            to,
            Content::Text {
                text: Text::truncating(text),
                reply_to,
            },
        )
    }

    /// The encoded bytes that get encrypted.
    pub fn encode(&self) -> Result<Vec<u8>, CryptoError> {
        crate::proto::encode(self).map_err(|_| CryptoError::Malformed("message content"))
    }

    /// Decodes decrypted bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, CryptoError> {
        crate::proto::decode(bytes).map_err(|_| CryptoError::Malformed("message content"))
    }
}
