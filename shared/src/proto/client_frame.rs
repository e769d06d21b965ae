//! Frames a device sends to the server.

use super::tuple::wire_enum;
use super::{MAX_AGENT_BYTES, Payload, ReceiptKind, Text};
use crate::crypto::device_list::SignedDeviceList;
use crate::crypto::keys::SignedKey;
use crate::ids::{
    DeviceId, DeviceSetDigest, GroupId, LinkId, MediaId, MessageId, PublicKey, Signature, UserId,
    Username,
};

wire_enum! {
    /// A frame from a client device to the server.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum ClientFrame {
        /// Opens the handshake; must be the first frame of every connection.
        Hello = 0 {
            /// The protocol version the client speaks.
            version: u16,
            /// A short description of the client software, for the server's logs.
            agent: Text<MAX_AGENT_BYTES>,
        },
        /// Asks the server for a [`super::ServerFrame::Pong`] with the same nonce.
        Ping = 1 {
            /// Echoed back by the pong.
            nonce: u64,
        },
        /// Answers a [`super::ServerFrame::Ping`].
        Pong = 2 {
            /// The nonce of the ping being answered.
            nonce: u64,
        },
        /// Creates a user with this device as its first device, and signs in;
        /// answered by `Authenticated`, or `Rejected` (`UsernameTaken`,
        /// `KeyInUse`).
        Register = 3 request {
            /// The name others find the user by.
            username: Username,
            /// The device's Ed25519 identity key.
            key: PublicKey,
            /// The key's signature over [`super::auth::register_message`].
            signature: Signature,
        },
        /// Signs an existing device in; answered by `Authenticated`, or an
        /// `Error` (`AuthFailed`) and a close.
        Authenticate = 4 request {
            /// The device.
            device: DeviceId,
            /// The device key's signature over [`super::auth::authenticate_message`].
            signature: Signature,
        },
        /// Asks for a user's id and devices.
        LookupUser = 6 request {
            /// Whom to look up.
            username: Username,
        },
        /// Adds a user to the contact list: they may see this user's presence and
        /// receive its typing indicators.
        AddContact = 7 request {
            /// The contact.
            user: UserId,
        },
        /// Removes a user from the contact list.
        RemoveContact = 8 request {
            /// The former contact.
            user: UserId,
        },
        /// Sends one message: a separate payload for each recipient device;
        /// answered by `Accepted` once durable, or `Rejected`.
        Send = 9 request {
            /// The message's id, chosen by the client; a retry reuses it.
            id: MessageId,
            /// Each recipient device with its own payload.
            to: Vec<(DeviceId, Payload)>,
        },
        /// Sends one message: the same payload fanned out to every listed
        /// device; answered by `Accepted` or `Rejected`.
        SendFanout = 10 request {
            /// The message's id, chosen by the client; a retry reuses it.
            id: MessageId,
            /// The recipient devices.
            to: Vec<DeviceId>,
            /// The one payload they all receive.
            payload: Payload,
        },
        /// Confirms receipt of delivered entries; the server deletes them.
        /// Never answered (an ack the server cannot apply is logged; the
        /// entries are delivered again).
        Ack = 11 {
            /// The ids of the delivered entries.
            ids: Vec<MessageId>,
        },
        /// Tells a user (all their devices, and this user's other devices)
        /// that messages were delivered or read; answered by `Accepted`
        /// once queued, or `Rejected`.
        Receipt = 12 request {
            /// The user who sent the messages.
            to: UserId,
            /// Delivered or read.
            kind: ReceiptKind,
            /// The messages.
            ids: Vec<MessageId>,
        },
        /// Asks for the presence of these users, now (answered by
        /// `PresenceList`) and as it changes (`Presence` frames).
        Subscribe = 13 request {
            /// Whose presence to follow.
            users: Vec<UserId>,
        },
        /// Tells a contact that this user started or stopped typing. Never
        /// answered: a typing indicator that cannot be passed on is dropped.
        Typing = 14 {
            /// The contact.
            to: UserId,
            /// Whether typing is under way.
            typing: bool,
        },
        /// Joins an account as a new device through a link code shown on one
        /// of its devices, and signs in. The device is not approved (listed)
        /// until an existing device publishes a device list holding it.
        Link = 15 request {
            /// The link, derived from the code's secret.
            link: LinkId,
            /// The new device's Ed25519 signing key.
            key: PublicKey,
            /// The key's signature over [`super::auth::link_message`].
            signature: Signature,
        },
        /// Publishes signed pre-keys; answered by `KeyCount`. An empty list
        /// just asks how many one-time keys the server still holds.
        PublishKeys = 16 request {
            /// New one-time keys.
            one_time: Vec<SignedKey>,
            /// A new fallback key, replacing the previous one.
            fallback: Option<SignedKey>,
        },
        /// Claims one one-time key (or else the fallback key) of each device;
        /// answered by `ClaimedKeys`.
        ClaimKeys = 17 request {
            /// The devices.
            devices: Vec<DeviceId>,
        },
        /// Publishes this user's device list, signed by the account key;
        /// answered by `DeviceList`. Listed devices left out are removed.
        PublishDeviceList = 18 request {
            /// The signed list.
            list: SignedDeviceList,
        },
        /// Asks for a user's device list; answered by `DeviceList`.
        FetchDeviceList = 19 request {
            /// The user.
            user: UserId,
        },
        /// Opens a link for a new device of this user; answered by
        /// `LinkCreated`.
        CreateLink = 20 request {
            /// The link, derived from the code's secret.
            link: LinkId,
        },
        /// Asks for a user's name and devices by id; answered by `UserInfo`.
        LookupUserId = 21 request {
            /// The user.
            user: UserId,
        },
        /// Creates a group of this user (its first admin) and `members`;
        /// answered by `Group`. The server learns who is in it, nothing else:
        /// the name travels end-to-end encrypted between the members.
        CreateGroup = 22 request {
            /// The other members.
            members: Vec<UserId>,
        },
        /// Adds users to a group (admins only); answered by `Group`.
        AddMembers = 23 request {
            /// The group.
            group: GroupId,
            /// The new members.
            users: Vec<UserId>,
        },
        /// Removes a member (admins only), or, naming this user, leaves the
        /// group; answered by `Group`.
        RemoveMember = 24 request {
            /// The group.
            group: GroupId,
            /// The member.
            user: UserId,
        },
        /// Makes a member an admin or takes it back (admins only); answered
        /// by `Group`.
        SetAdmin = 25 request {
            /// The group.
            group: GroupId,
            /// The member.
            user: UserId,
            /// Whether they are an admin from now on.
            admin: bool,
        },
        /// Asks for a group's members (members only); answered by `Group`.
        FetchGroup = 26 request {
            /// The group.
            group: GroupId,
        },
        /// Sends one group message: the one payload is queued for every
        /// listed device of every member but this one. `devices` is the
        /// digest of the device set the sender shared its sender key with;
        /// if it is not the current set the send is refused `StaleDevices`.
        SendGroup = 27 request {
            /// The message's id, chosen by the client; a retry reuses it.
            id: MessageId,
            /// The group.
            group: GroupId,
            /// [`super::device_set_digest`] of the recipient devices.
            devices: DeviceSetDigest,
            /// The one payload they all receive.
            payload: Payload,
        },
        /// Asks for somewhere to upload one encrypted media object of exactly
        /// `size` bytes hashing to `hash`; answered by `UploadSlot`, or refused
        /// (`InvalidRequest` over the size limit, `QuotaExceeded`).
        RequestUpload = 28 request {
            /// The ciphertext's size in bytes.
            size: u64,
            /// The ciphertext's SHA-256: the store accepts exactly these bytes.
            hash: crate::crypto::media::MediaHash,
        },
        /// Says the upload to a slot is done; the server checks the object
        /// is the declared size and keeps it for the media TTL. Answered by
        /// `MediaReady`, or refused (the object is then deleted).
        CompleteUpload = 29 request {
            /// The slot's media id.
            media: MediaId,
        },
        /// Asks for a short-lived URL to download a media object; answered by
        /// `DownloadUrl`, or `Rejected(NotFound)`.
        RequestDownload = 30 request {
            /// The media.
            media: MediaId,
        },
        /// Asks for TURN credentials for this device's calls; answered by
        /// `TurnServers`.
        RequestTurn = 31 request {},
        /// Replaces this user's sealed profile
        /// ([`crate::crypto::profile::Profile`]); answered by `Accepted`.
        SetProfile = 32 request {
            /// The profile, sealed under a key the server never sees.
            sealed: crate::ids::Blob<{ crate::crypto::profile::MAX_SEALED_PROFILE_BYTES }>,
        },
        /// Asks for `user`'s sealed profile; answered by `Profile`, or
        /// `Rejected(NotFound)` if they have none.
        FetchProfile = 33 request {
            /// Whose.
            user: UserId,
        },
        /// Sets the group's invite link to `token` (an admin only), or
        /// revokes it (`None`); a new token replaces the one before.
        /// Answered by `Accepted`.
        SetInvite = 34 request {
            /// The group.
            group: GroupId,
            /// The link's random token, or none.
            token: Option<LinkId>,
        },
        /// Joins the group whose invite link has `token`; answered by
        /// `Group`, or `Rejected(NotFound)` (no such link, or revoked).
        JoinGroup = 35 request {
            /// The link's token.
            token: LinkId,
        },
    }
}
