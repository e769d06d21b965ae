//! [`Plaintext`]: what a decrypted message says. Only devices ever see it.

use super::CryptoError;
use crate::ids::{Blob, DeviceId, GroupId, MessageId, UserId};
use crate::proto::{Text, tuple::wire_enum, tuple::wire_struct};
use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

/// Longest text of one message, in bytes.
pub const MAX_TEXT_BYTES: usize = 16 * 1024;
/// Largest sender key (a Megolm session key is 229 bytes).
pub const MAX_GROUP_KEY_BYTES: usize = 512;
/// Longest group name, in bytes.
pub const MAX_GROUP_NAME_BYTES: usize = 100;

/// Longest reaction, in bytes (an emoji with its modifiers and joiners).
pub const MAX_EMOJI_BYTES: usize = 64;
/// How long after writing a text its sender may edit it (15 minutes).
pub const EDIT_WINDOW_MS: u64 = 15 * 60 * 1000;
/// How long after writing a message its sender may delete it for
/// everyone (a day).
pub const DELETE_WINDOW_MS: u64 = 24 * 60 * 60 * 1000;

/// The disappearing-message timers a chat can have, in seconds: off, 24
/// hours, 7 days, 90 days (WhatsApp's choices).
pub const TIMER_CHOICES: [u32; 4] = [0, 24 * 3600, 7 * 24 * 3600, 90 * 24 * 3600];

/// The longest group description, in bytes (WhatsApp allows 512
/// characters).
pub const MAX_DESCRIPTION_BYTES: usize = 2048;

/// A group's name: only its members' devices ever see it.
pub type GroupName = Text<MAX_GROUP_NAME_BYTES>;

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
            /// The group's name as the sender knows it, so that a new
            /// member can show the group before any event reaches it.
            name: GroupName,
        },
        /// A change to a group, told by the member who made it: to the
        /// group (sender-key encrypted) and to anyone it removed (pairwise).
        GroupEvent = 3 {
            /// What happened.
            kind: GroupEventKind,
            /// The members it concerns.
            users: Vec<crate::ids::UserId>,
            /// The group's name from now on.
            name: GroupName,
        },
        /// A photo, voice note or file: where it is, how to open it, and
        /// what to show before it is downloaded.
        Media = 4 {
            /// The object in the store.
            media: crate::ids::MediaId,
            /// Its own AES-256-GCM key.
            key: super::media::MediaKey,
            /// The SHA-256 of its ciphertext.
            hash: super::media::MediaHash,
            /// The ciphertext's size in bytes.
            size: u64,
            /// Its type, such as `image/jpeg` or `audio/webm`.
            mime: Text<{ super::media::MAX_MIME_BYTES }>,
            /// The file's name.
            name: Text<{ super::media::MAX_FILE_NAME_BYTES }>,
            /// Width and height in pixels (images; 0 otherwise).
            width: u32,
            /// Height in pixels.
            height: u32,
            /// Length in milliseconds (voice notes; 0 otherwise).
            duration_ms: u32,
            /// A tiny blurred preview (images), shown before the download.
            thumbnail: Blob<{ super::media::MAX_THUMBNAIL_BYTES }>,
            /// Loudness levels 0–255 (voice notes), drawn as a waveform.
            waveform: Blob<{ super::media::MAX_WAVEFORM }>,
            /// Text sent with it.
            caption: Text<MAX_TEXT_BYTES>,
        },
        /// "You were removed from this group", told pairwise by the admin
        /// who removed the recipient. A hint only: the recipient's client
        /// asks the server, whose membership is what counts.
        Removed = 5 {
            /// The group.
            group: GroupId,
        },
        /// The sender's reaction to message `target` of the same chat: one
        /// emoji per person, replacing their last; empty takes it back.
        Reaction = 6 {
            /// The message reacted to.
            target: MessageId,
            /// The emoji, or nothing.
            emoji: Text<MAX_EMOJI_BYTES>,
        },
        /// A new text for the sender's own text message `target`, within
        /// [`EDIT_WINDOW_MS`] of writing it; the newest edit wins.
        Edit = 7 {
            /// The message edited.
            target: MessageId,
            /// Its text from now on.
            text: Text<MAX_TEXT_BYTES>,
        },
        /// The sender takes back its message `target` for everyone, within
        /// [`DELETE_WINDOW_MS`] of writing it.
        Delete = 8 {
            /// The message deleted.
            target: MessageId,
        },
        /// How the sender keeps one of their chats (pinned, muted, archived,
        /// marked unread), told to their own other devices only.
        ChatSettings = 9 {
            /// The chat, if one to one.
            user: Option<UserId>,
            /// The chat, if a group.
            group: Option<GroupId>,
            /// Pinned to the top.
            pinned: bool,
            /// Muted until then (Unix ms; `u64::MAX`: for good).
            muted_until: u64,
            /// Archived.
            archived: bool,
            /// Marked unread.
            marked_unread: bool,
        },
        /// The sender deleted message `target` of one of their chats for
        /// themselves, told to their own other devices only.
        Hidden = 10 {
            /// The chat, if one to one.
            user: Option<UserId>,
            /// The chat, if a group.
            group: Option<GroupId>,
            /// The message deleted.
            target: MessageId,
        },
        /// A call's signal (`crate::client::call`): sent like a message to
        /// the peer's devices and the sender's other devices, never shown
        /// as one.
        Call = 11 {
            /// The call: the id of its offer (a UUIDv7, so when it began).
            call: MessageId,
            /// What the signal says.
            kind: CallKind,
            /// The one device it is meant for, once the call has one (the
            /// offering device, or the answering one); `None`: every device.
            device: Option<DeviceId>,
            /// With video (an offer's or an answer's camera).
            video: bool,
            /// The session description (offer, answer) or ICE candidate.
            body: Text<MAX_SDP_BYTES>,
        },
        /// The chat's disappearing-message timer from now on, set by the
        /// sender for everyone in the chat: each device deletes the chat's
        /// messages written after this once they are `seconds` old (0:
        /// off; one of [`TIMER_CHOICES`]). The newest setting wins.
        Timer = 12 {
            /// How long a message stays, in seconds.
            seconds: u32,
        },
        /// The group's description from now on (empty: none), set by the
        /// sender, a member. The newest setting wins.
        Description = 13 {
            /// What it says.
            text: Text<MAX_DESCRIPTION_BYTES>,
        },
        /// The key of the sender's profile from now on
        /// ([`super::profile`]): sent to each chat of theirs after every
        /// change of their profile (and to a chat that never had it); the
        /// newest wins.
        ProfileKey = 14 {
            /// The key (32 bytes) the sender's profile is now sealed under.
            key: Blob<32>,
        },
        /// The sender made `user` a contact or stopped (who sees their
        /// presence, typing and profile), told to their own other devices
        /// only.
        Contact = 15 {
            /// The other person.
            user: UserId,
            /// A contact from now on.
            contact: bool,
        },
        /// The group's photo from now on (a JPEG; empty: none), set by the
        /// sender, a member. The newest setting wins.
        GroupPhoto = 16 {
            /// The photo.
            photo: Blob<{ super::profile::MAX_PHOTO_BYTES }>,
        },
    }
}

/// Longest session description or ICE candidate in a call signal, in bytes.
pub const MAX_SDP_BYTES: usize = 32 * 1024;

/// What a [`Content::Call`] signal says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallKind {
    /// A call with its SDP offer (or, during the call, a new one: the
    /// camera switched, an ICE restart).
    Offer,
    /// The SDP answer: the callee's device takes the call (or answers a
    /// new offer during it).
    Answer,
    /// One ICE candidate.
    Ice,
    /// A callee's device is ringing.
    Ringing,
    /// The callee declined (on one device: every device stops).
    Decline,
    /// The callee is in another call.
    Busy,
    /// The call ended (or was called off before an answer).
    HangUp,
}

impl CallKind {
    const ALL: [Self; 7] = [
        Self::Offer,
        Self::Answer,
        Self::Ice,
        Self::Ringing,
        Self::Decline,
        Self::Busy,
        Self::HangUp,
    ];

    /// The kind's number on the wire (1 to 7, in the order above).
    pub fn as_u8(self) -> u8 {
        Self::ALL.iter().position(|k| *k == self).unwrap_or(0) as u8 + 1
    }
}

impl Serialize for CallKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(self.as_u8())
    }
}

impl<'de> Deserialize<'de> for CallKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = u8::deserialize(deserializer)?;
        Self::ALL
            .get(usize::from(value).wrapping_sub(1))
            .copied()
            .ok_or_else(|| {
                de::Error::invalid_value(de::Unexpected::Unsigned(value.into()), &"1 to 7")
            })
    }
}

/// What a [`Content::GroupEvent`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupEventKind {
    /// The sender created the group with `users`.
    Created,
    /// The sender added `users`.
    Added,
    /// The sender removed `users`.
    Removed,
    /// The sender left.
    Left,
    /// The sender made `users` admins.
    MadeAdmin,
    /// The sender took admin rights from `users`.
    DismissedAdmin,
    /// The sender renamed the group.
    Renamed,
    /// The sender joined through the group's invite link.
    Joined,
}

impl GroupEventKind {
    const ALL: [Self; 8] = [
        Self::Created,
        Self::Added,
        Self::Removed,
        Self::Left,
        Self::MadeAdmin,
        Self::DismissedAdmin,
        Self::Renamed,
        Self::Joined,
    ];

    /// The kind's number on the wire.
    pub fn as_u8(self) -> u8 {
        match self {
            Self::Created => 1,
            Self::Added => 2,
            Self::Removed => 3,
            Self::Left => 4,
            Self::MadeAdmin => 5,
            Self::DismissedAdmin => 6,
            Self::Renamed => 7,
            Self::Joined => 8,
        }
    }

    /// The kind for a number, if it names one.
    pub fn from_u8(value: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_u8() == value)
    }
}

impl Serialize for GroupEventKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(self.as_u8())
    }
}

impl<'de> Deserialize<'de> for GroupEventKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = u8::deserialize(deserializer)?;
        Self::from_u8(value).ok_or_else(|| {
            de::Error::invalid_value(de::Unexpected::Unsigned(value.into()), &"1 to 8")
        })
    }
}

wire_struct! {
    /// A decrypted message: `[id, conversation user, content]`.
    ///
    /// The id is bound inside the encryption, so a ciphertext replayed under
    /// another id is caught. `to` names the conversation's other party for the
    /// sender's own devices (for the recipient it is the recipient itself).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Plaintext {
        /// The message id the server delivers it under.
        pub id: MessageId,
        /// The user the message was sent to.
        pub to: UserId,
        /// What it says.
        pub content: Content,
    }
}

impl Plaintext {
    /// A text message `id` to `to`.
    pub fn text(id: MessageId, to: UserId, text: &str, reply_to: Option<MessageId>) -> Self {
        Self {
            id,
            to,
            content: Content::Text {
                text: Text::truncating(text),
                reply_to,
            },
        }
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
