//! Frames the server sends to a device.

use super::tuple::wire_enum;
use super::{ErrorCode, MAX_ERROR_MESSAGE_BYTES, Payload, ReceiptKind, Text, Url};
use crate::crypto::device_list::SignedDeviceList;
use crate::crypto::keys::SignedKey;
use crate::ids::{
    Challenge, DeviceId, GroupId, LinkId, MediaId, MessageId, PublicKey, RequestId, UserId,
    Username,
};

wire_enum! {
    /// A frame from the server to a client device.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum ServerFrame {
        /// Completes the handshake and states the limits in force.
        Welcome = 0 {
            /// The protocol version both sides now speak.
            version: u16,
            /// The largest frame the server accepts, in bytes.
            max_frame: u32,
            /// How often, in seconds, the client should ping; the server closes a
            /// connection that stays silent for three of these periods.
            heartbeat_secs: u16,
            /// Random bytes the device signs to prove its identity.
            challenge: Challenge,
        },
        /// Asks the client for a [`super::ClientFrame::Pong`] with the same nonce.
        Ping = 1 {
            /// Echoed back by the pong.
            nonce: u64,
        },
        /// Answers a [`super::ClientFrame::Ping`].
        Pong = 2 {
            /// The nonce of the ping being answered.
            nonce: u64,
        },
        /// Reports why the connection is being closed; a close follows.
        Error = 3 {
            /// What went wrong, as a stable number.
            code: ErrorCode,
            /// What went wrong, for people.
            message: Text<MAX_ERROR_MESSAGE_BYTES>,
        },
        /// The device is signed in (after `Register` or `Authenticate`).
        Authenticated = 4 request {
            /// The device's user.
            user: UserId,
            /// The device.
            device: DeviceId,
        },
        /// A user and their devices (answers `LookupUser`).
        UserInfo = 6 request {
            /// The user.
            user: UserId,
            /// Their name.
            username: Username,
            /// Their devices and identity keys.
            devices: Vec<(DeviceId, PublicKey)>,
        },
        /// The contact list changed (answers `AddContact` and `RemoveContact`).
        ContactUpdated = 7 request {
            /// The contact.
            user: UserId,
            /// Whether they are now a contact.
            added: bool,
        },
        /// The message (or receipt) is durably queued for every recipient
        /// device: the single check mark. Answers `Send`, `SendFanout`,
        /// `SendGroup` and `Receipt`; the request id names the message.
        Accepted = 8 request {},
        /// A request was refused; nothing changed and the connection stays
        /// open. The request id names the request.
        Rejected = 9 request {
            /// Why, as a stable number.
            code: ErrorCode,
            /// Why, for people.
            message: Text<MAX_ERROR_MESSAGE_BYTES>,
        },
        /// A message for this device; acknowledge it with `Ack`. When it was
        /// written is in its id (a UUIDv7), so it costs no bytes here.
        Deliver = 10 {
            /// The message's id.
            id: MessageId,
            /// The sender.
            from: UserId,
            /// The sender's device.
            from_device: DeviceId,
            /// The payload the sender addressed to this device.
            payload: Payload,
        },
        /// Messages this user sent were delivered or read; acknowledge it with
        /// `Ack` of `id`.
        Receipt = 11 {
            /// This receipt's own id.
            id: MessageId,
            /// Who received or read the messages.
            from: UserId,
            /// Their device.
            from_device: DeviceId,
            /// Delivered or read.
            kind: ReceiptKind,
            /// The messages.
            ids: Vec<MessageId>,
        },
        /// A user's presence.
        Presence = 12 {
            /// The user.
            user: UserId,
            /// Whether any of their devices is connected.
            online: bool,
            /// When they were last connected, in Unix milliseconds (0: never).
            last_seen: u64,
        },
        /// A contact started or stopped typing to this user.
        Typing = 13 {
            /// The contact.
            from: UserId,
            /// Whether typing is under way.
            typing: bool,
        },
        /// How many unclaimed one-time keys the server holds for this device
        /// (answers `PublishKeys`; pushed with request 0 when the stock runs
        /// low).
        KeyCount = 14 request {
            /// The count.
            one_time: u32,
        },
        /// One pre-key per device that has any (answers `ClaimKeys`).
        ClaimedKeys = 15 request {
            /// Each device with its claimed key.
            keys: Vec<(DeviceId, SignedKey)>,
        },
        /// A user's device list (answers `FetchDeviceList` and
        /// `PublishDeviceList`).
        DeviceList = 16 request {
            /// The user.
            user: UserId,
            /// The list signed by their account key, if they published one.
            list: Option<SignedDeviceList>,
            /// Every device registered to the user, approved or not, with its
            /// signing key: an approving device checks a link request with it.
            registered: Vec<(DeviceId, PublicKey)>,
        },
        /// A link is open (answers `CreateLink`).
        LinkCreated = 17 request {
            /// The link.
            link: LinkId,
            /// When it expires (Unix ms).
            expires_at: u64,
        },
        /// A group's members (answers the group requests).
        Group = 18 request {
            /// The group.
            group: GroupId,
            /// Grows with every membership change.
            version: u64,
            /// Each member, and whether they are an admin.
            members: Vec<(UserId, bool)>,
        },
        /// Where to upload a media object (answers `RequestUpload`): `PUT`
        /// exactly the declared bytes to `url` before `expires_at`, then send
        /// `CompleteUpload`.
        UploadSlot = 19 request {
            /// The new media object's id.
            media: MediaId,
            /// The signed upload URL.
            url: Url,
            /// When the URL stops working (Unix ms).
            expires_at: u64,
        },
        /// The upload is checked and kept (answers `CompleteUpload`).
        MediaReady = 20 request {
            /// The media.
            media: MediaId,
        },
        /// Where to download a media object (answers `RequestDownload`).
        DownloadUrl = 21 request {
            /// The media.
            media: MediaId,
            /// The signed download URL (`GET`).
            url: Url,
            /// When the URL stops working (Unix ms).
            expires_at: u64,
        },
        /// The current presence of the users a `Subscribe` named who have
        /// this user as a contact (answers `Subscribe`); later changes come
        /// as `Presence` frames.
        PresenceList = 22 request {
            /// Each user: online now, last seen (Unix ms, 0: never).
            users: Vec<(UserId, bool, u64)>,
        },
        /// The TURN servers for calls and this device's credentials for
        /// them (answers `RequestTurn`); no URLs when the server has none.
        TurnServers = 23 request {
            /// `turn:` and `turns:` URLs (at most 8).
            urls: Vec<Url>,
            /// The TURN REST API user name: `expiry:device`.
            username: Text<MAX_TURN_USERNAME_BYTES>,
            /// Its credential: base64 of HMAC-SHA1 under the shared secret.
            credential: Text<MAX_TURN_USERNAME_BYTES>,
            /// When the credential stops working (Unix ms).
            expires_at: u64,
        },
        /// A user's sealed profile (answers `FetchProfile`).
        Profile = 24 request {
            /// Whose.
            user: UserId,
            /// The profile as its owner sealed it.
            sealed: crate::ids::Blob<{ crate::crypto::profile::MAX_SEALED_PROFILE_BYTES }>,
        },
    }
}

/// Longest TURN user name or credential, in bytes.
pub const MAX_TURN_USERNAME_BYTES: usize = 128;

impl ServerFrame {
    /// An error frame, its message cut to the protocol's limit if need be.
    pub fn error(code: ErrorCode, message: &str) -> Self {
        Self::Error {
            code,
            message: Text::truncating(message),
        }
    }

    /// The refusal of request `request`; the connection stays open.
    pub fn rejected(request: RequestId, code: ErrorCode, message: &str) -> Self {
        Self::Rejected {
            request,
            code,
            message: Text::truncating(message),
        }
    }

    /// The request this frame answers, or `None` for a pushed frame.
    pub fn answers(&self) -> Option<RequestId> {
        self.request().filter(|id| *id != RequestId::NONE)
    }
}
