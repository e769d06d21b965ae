//! The server as the client core sees it: [`Server`] sends requests and
//! hands back their answers; [`Api`] gives every request a typed answer.
//!
//! A driver (the browser's socket, the native test client) implements
//! [`Server`] over a [`super::Connection`], whose request ids pair each
//! answer with its request. Each [`Api`] method sends one request and returns
//! that request's answer or its [`Refusal`] — never "the next frame that
//! looks right". A frame of the wrong type under the right id is a server
//! bug, reported as [`Refusal::unexpected`].

use crate::crypto::CryptoError;
use crate::crypto::device_list::SignedDeviceList;
use crate::crypto::flow::KeyServer;
use crate::crypto::keys::SignedKey;
use crate::crypto::media::MediaHash;
use crate::ids::{DeviceId, GroupId, LinkId, MediaId, PublicKey, RequestId, UserId, Username};
use crate::proto::{ClientFrame, Refusal, ServerFrame};

/// Requests out, answers in: what the client core needs from a connection.
#[allow(async_fn_in_trait)] // drivers are single-threaded; no Send bound wanted
pub trait Server {
    /// Sends `frame` under a fresh request id (whatever id it carries is
    /// replaced) and waits for the frame that answers it, or its refusal.
    async fn call(&mut self, frame: ClientFrame) -> Result<ServerFrame, Refusal>;
    /// Sends `frame` under a fresh request id without waiting; the answer
    /// comes back later as a [`super::Event::Answer`] with the id returned.
    async fn post(&mut self, frame: ClientFrame) -> RequestId;
    /// Sends a frame that is never answered (`Ack`, `Typing`).
    async fn notify(&mut self, frame: ClientFrame);
}

/// A user and their devices, as the server knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    /// The user.
    pub user: UserId,
    /// Their name.
    pub username: Username,
    /// Their registered devices and signing keys.
    pub devices: Vec<(DeviceId, PublicKey)>,
}

/// A user's device list as the server holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceListAnswer {
    /// The user.
    pub user: UserId,
    /// Signed by their account key, if they published one.
    pub list: Option<SignedDeviceList>,
    /// Every registered device, approved or not, with its signing key.
    pub registered: Vec<(DeviceId, PublicKey)>,
}

/// A group's membership after a group request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupAnswer {
    /// The group.
    pub group: GroupId,
    /// Grows with every membership change.
    pub version: u64,
    /// Each member and whether they are an admin (empty: the group is gone).
    pub members: Vec<(UserId, bool)>,
}

/// A signed URL to upload to or download from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedUrl {
    /// The media object.
    pub media: MediaId,
    /// The URL.
    pub url: String,
    /// When it stops working (Unix ms).
    pub expires_at: u64,
}

/// TURN servers' URLs, a user name and its credential.
pub type TurnCredentials = (Vec<String>, String, String);

/// Typed requests over any [`Server`].
#[allow(async_fn_in_trait)]
pub trait Api: Server {
    /// The user named `username`.
    async fn lookup_user(&mut self, username: Username) -> Result<UserInfo, Refusal> {
        let frame = ClientFrame::LookupUser {
            request: RequestId::NONE,
            username,
        };
        user_info(self.call(frame).await?)
    }

    /// The user with id `user`.
    async fn lookup_user_id(&mut self, user: UserId) -> Result<UserInfo, Refusal> {
        let frame = ClientFrame::LookupUserId {
            request: RequestId::NONE,
            user,
        };
        user_info(self.call(frame).await?)
    }

    /// Makes `user` a contact of this user (they see its presence and
    /// typing), or not.
    async fn set_contact(&mut self, user: UserId, contact: bool) -> Result<(), Refusal> {
        let request = RequestId::NONE;
        let frame = if contact {
            ClientFrame::AddContact { request, user }
        } else {
            ClientFrame::RemoveContact { request, user }
        };
        match self.call(frame).await? {
            ServerFrame::ContactUpdated { .. } => Ok(()),
            other => Err(Refusal::unexpected(&other)),
        }
    }

    /// Follows the presence of `users`; the current presence of those who
    /// have this user as a contact: (user, online, last seen).
    async fn subscribe(&mut self, users: Vec<UserId>) -> Result<Vec<(UserId, bool, u64)>, Refusal> {
        let frame = ClientFrame::Subscribe {
            request: RequestId::NONE,
            users,
        };
        match self.call(frame).await? {
            ServerFrame::PresenceList { users, .. } => Ok(users),
            other => Err(Refusal::unexpected(&other)),
        }
    }

    /// Publishes pre-keys; how many one-time keys the server now holds.
    async fn publish_keys(
        &mut self,
        one_time: Vec<SignedKey>,
        fallback: Option<SignedKey>,
    ) -> Result<u32, Refusal> {
        let frame = ClientFrame::PublishKeys {
            request: RequestId::NONE,
            one_time,
            fallback,
        };
        match self.call(frame).await? {
            ServerFrame::KeyCount { one_time, .. } => Ok(one_time),
            other => Err(Refusal::unexpected(&other)),
        }
    }

    /// Claims one pre-key of each of `devices` (those without any are left out).
    async fn claim_keys(
        &mut self,
        devices: Vec<DeviceId>,
    ) -> Result<Vec<(DeviceId, SignedKey)>, Refusal> {
        let frame = ClientFrame::ClaimKeys {
            request: RequestId::NONE,
            devices,
        };
        match self.call(frame).await? {
            ServerFrame::ClaimedKeys { keys, .. } => Ok(keys),
            other => Err(Refusal::unexpected(&other)),
        }
    }

    /// Publishes this user's signed device list; the list as stored.
    async fn publish_device_list(
        &mut self,
        list: SignedDeviceList,
    ) -> Result<DeviceListAnswer, Refusal> {
        let frame = ClientFrame::PublishDeviceList {
            request: RequestId::NONE,
            list,
        };
        device_list(self.call(frame).await?)
    }

    /// `user`'s device list and registered devices.
    async fn fetch_device_list(&mut self, user: UserId) -> Result<DeviceListAnswer, Refusal> {
        let frame = ClientFrame::FetchDeviceList {
            request: RequestId::NONE,
            user,
        };
        device_list(self.call(frame).await?)
    }

    /// Opens `link` for a new device; when it expires (Unix ms).
    async fn create_link(&mut self, link: LinkId) -> Result<u64, Refusal> {
        let frame = ClientFrame::CreateLink {
            request: RequestId::NONE,
            link,
        };
        match self.call(frame).await? {
            ServerFrame::LinkCreated { expires_at, .. } => Ok(expires_at),
            other => Err(Refusal::unexpected(&other)),
        }
    }

    /// Creates a group of this user (its admin) and `members`.
    async fn create_group(&mut self, members: Vec<UserId>) -> Result<GroupAnswer, Refusal> {
        let frame = ClientFrame::CreateGroup {
            request: RequestId::NONE,
            members,
        };
        group(self.call(frame).await?)
    }

    /// Sends a group request (`AddMembers`, `RemoveMember`, `SetAdmin`,
    /// `FetchGroup`); the membership after it.
    async fn group_request(&mut self, frame: ClientFrame) -> Result<GroupAnswer, Refusal> {
        group(self.call(frame).await?)
    }

    /// `group`'s membership, for its members.
    async fn fetch_group(&mut self, group: GroupId) -> Result<GroupAnswer, Refusal> {
        let frame = ClientFrame::FetchGroup {
            request: RequestId::NONE,
            group,
        };
        self.group_request(frame).await
    }

    /// An upload slot for `size` bytes of ciphertext hashing to `hash`.
    async fn request_upload(&mut self, size: u64, hash: MediaHash) -> Result<SignedUrl, Refusal> {
        let frame = ClientFrame::RequestUpload {
            request: RequestId::NONE,
            size,
            hash,
        };
        match self.call(frame).await? {
            ServerFrame::UploadSlot {
                media,
                url,
                expires_at,
                ..
            } => Ok(signed_url(media, url.as_str(), expires_at)),
            other => Err(Refusal::unexpected(&other)),
        }
    }

    /// Tells the server the upload to `media` is done; `Ok` once checked.
    async fn complete_upload(&mut self, media: MediaId) -> Result<(), Refusal> {
        let frame = ClientFrame::CompleteUpload {
            request: RequestId::NONE,
            media,
        };
        match self.call(frame).await? {
            ServerFrame::MediaReady { .. } => Ok(()),
            other => Err(Refusal::unexpected(&other)),
        }
    }

    /// A short-lived URL to download `media`.
    async fn request_download(&mut self, media: MediaId) -> Result<SignedUrl, Refusal> {
        let frame = ClientFrame::RequestDownload {
            request: RequestId::NONE,
            media,
        };
        match self.call(frame).await? {
            ServerFrame::DownloadUrl {
                media,
                url,
                expires_at,
                ..
            } => Ok(signed_url(media, url.as_str(), expires_at)),
            other => Err(Refusal::unexpected(&other)),
        }
    }

    /// The TURN servers for calls, with this device's credentials:
    /// `(urls, username, credential)` (no servers: none configured).
    async fn request_turn(&mut self) -> Result<TurnCredentials, Refusal> {
        let frame = ClientFrame::RequestTurn {
            request: RequestId::NONE,
        };
        match self.call(frame).await? {
            ServerFrame::TurnServers {
                urls,
                username,
                credential,
                ..
            } => Ok((
                urls.iter().map(|u| u.as_str().to_owned()).collect(),
                username.as_str().to_owned(),
                credential.as_str().to_owned(),
            )),
            other => Err(Refusal::unexpected(&other)),
        }
    }

    /// Replaces this user's sealed profile.
    async fn set_profile(&mut self, sealed: Vec<u8>) -> Result<(), Refusal> {
        let sealed = crate::ids::Blob::new(sealed)
            .ok_or_else(|| Refusal::invalid("the profile is too large"))?;
        let frame = ClientFrame::SetProfile {
            request: RequestId::NONE,
            sealed,
        };
        self.deliver(frame).await
    }

    /// `user`'s sealed profile, if they have one.
    async fn fetch_profile(&mut self, user: UserId) -> Result<Option<Vec<u8>>, Refusal> {
        let frame = ClientFrame::FetchProfile {
            request: RequestId::NONE,
            user,
        };
        match self.call(frame).await {
            Ok(ServerFrame::Profile { sealed, .. }) => Ok(Some(sealed.into_bytes())),
            Ok(other) => Err(Refusal::unexpected(&other)),
            Err(refusal) if refusal.code == crate::proto::ErrorCode::NotFound => Ok(None),
            Err(refusal) => Err(refusal),
        }
    }

    /// Sends a message (`Send`, `SendFanout`, `SendGroup`) or a `Receipt`
    /// and waits until the server accepted it.
    async fn deliver(&mut self, frame: ClientFrame) -> Result<(), Refusal> {
        match self.call(frame).await? {
            ServerFrame::Accepted { .. } => Ok(()),
            other => Err(Refusal::unexpected(&other)),
        }
    }
}

impl<S: Server + ?Sized> Api for S {}

fn user_info(frame: ServerFrame) -> Result<UserInfo, Refusal> {
    match frame {
        ServerFrame::UserInfo {
            user,
            username,
            devices,
            ..
        } => Ok(UserInfo {
            user,
            username,
            devices,
        }),
        other => Err(Refusal::unexpected(&other)),
    }
}

fn device_list(frame: ServerFrame) -> Result<DeviceListAnswer, Refusal> {
    match frame {
        ServerFrame::DeviceList {
            user,
            list,
            registered,
            ..
        } => Ok(DeviceListAnswer {
            user,
            list,
            registered,
        }),
        other => Err(Refusal::unexpected(&other)),
    }
}

fn group(frame: ServerFrame) -> Result<GroupAnswer, Refusal> {
    match frame {
        ServerFrame::Group {
            group,
            version,
            members,
            ..
        } => Ok(GroupAnswer {
            group,
            version,
            members,
        }),
        other => Err(Refusal::unexpected(&other)),
    }
}

fn signed_url(media: MediaId, url: &str, expires_at: u64) -> SignedUrl {
    SignedUrl {
        media,
        url: url.to_owned(),
        expires_at,
    }
}

/// A server borrowed mutably is a server.
impl<S: Server + ?Sized> Server for &mut S {
    async fn call(&mut self, frame: ClientFrame) -> Result<ServerFrame, Refusal> {
        (**self).call(frame).await
    }

    async fn post(&mut self, frame: ClientFrame) -> RequestId {
        (**self).post(frame).await
    }

    async fn notify(&mut self, frame: ClientFrame) {
        (**self).notify(frame).await;
    }
}

/// The key directory of the crypto core, over any [`Server`] (owned, or
/// borrowed as `&mut`).
pub struct Directory<S>(pub S);

impl<S: Server> KeyServer for Directory<S> {
    async fn fetch_list(&mut self, user: UserId) -> Result<Option<SignedDeviceList>, CryptoError> {
        Ok(self.0.fetch_device_list(user).await?.list)
    }

    async fn claim(
        &mut self,
        devices: Vec<DeviceId>,
    ) -> Result<Vec<(DeviceId, SignedKey)>, CryptoError> {
        Ok(self.0.claim_keys(devices).await?)
    }
}
