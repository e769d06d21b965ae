//! The steps of a group send and of receiving anything, over a
//! [`KeyServer`]: find every member device, hand this device's sender key to
//! those that lack it over the pairwise sessions, encrypt the message once.
//!
//! Key shares travel in ordinary `Send`s, so they pass the server's device
//! check: a batch always covers every approved device of each user in it
//! (re-sending a key a device already holds is harmless), and batches stay
//! well inside the frame limit however large the group.

use super::CryptoError;
use super::content::{Content, GroupName, Plaintext};
use super::device::DeviceCrypto;
use super::device_list::ListedDevice;
use super::flow::{self, KeyServer};
use super::group::GroupPlaintext;
use crate::ids::{DeviceId, GroupId, MessageId, UserId};
use crate::proto::Payload;

/// Payload bytes per batch of key shares, leaving room for the frame's
/// other fields within [`crate::proto::MAX_FRAME_BYTES`].
const BATCH_BYTES: usize = 48 * 1024;

/// One `Send` of sender-key shares.
#[derive(Debug, Clone)]
pub struct ShareBatch {
    /// The message id the shares are encrypted under.
    pub id: MessageId,
    /// One pairwise-encrypted share per device.
    pub to: Vec<(DeviceId, Payload)>,
}

impl ShareBatch {
    /// The devices the batch reaches.
    pub fn devices(&self) -> Vec<DeviceId> {
        self.to.iter().map(|(device, _)| *device).collect()
    }
}

/// What a group send needs before the message itself.
#[derive(Debug, Clone)]
pub struct GroupSendPlan {
    /// Every member device but this one: the message goes to exactly these,
    /// and its `SendGroup` carries their digest.
    pub devices: Vec<DeviceId>,
    /// Sender-key shares to send (and see accepted) first; after each,
    /// call [`super::group::SenderKeys::shared`] with its devices.
    pub shares: Vec<ShareBatch>,
}

/// Every approved device of `members` but this one, with its user,
/// fetching the device lists not known yet.
pub async fn member_devices(
    crypto: &mut DeviceCrypto,
    server: &mut impl KeyServer,
    members: &[UserId],
) -> Result<Vec<(UserId, ListedDevice)>, CryptoError> {
    let (_, my_device) = crypto.require_me()?;
    let mut devices = Vec::new();
    for user in members {
        flow::ensure_list(crypto, server, *user).await?;
        let contact = crypto.user(*user).ok_or(CryptoError::NoDevices(*user))?;
        devices.extend(
            contact
                .list
                .devices()
                .iter()
                .filter(|d| d.device != my_device)
                .map(|d| (*user, *d)),
        );
    }
    Ok(devices)
}

/// Plans sending to `group` with `members` (this user included): starts a
/// new sender key if the old one must rotate, and encrypts it for every
/// member device that lacks it, in batches with ids from `new_id`.
pub async fn prepare_group_send(
    crypto: &mut DeviceCrypto,
    server: &mut impl KeyServer,
    group: GroupId,
    name: &GroupName,
    members: &[UserId],
    now_ms: u64,
    mut new_id: impl FnMut() -> MessageId,
) -> Result<GroupSendPlan, CryptoError> {
    let owned = member_devices(crypto, server, members).await?;
    let devices: Vec<DeviceId> = owned.iter().map(|(_, device)| device.device).collect();
    let shares = crypto.groups().shares(group, name, &devices, now_ms);
    let Some((_, content)) = shares.first().cloned() else {
        return Ok(GroupSendPlan {
            devices,
            shares: Vec::new(),
        });
    };
    // Whole users, as the device check wants.
    let mut users: Vec<UserId> = Vec::new();
    for (user, device) in &owned {
        if shares.iter().any(|(d, _)| *d == device.device) && !users.contains(user) {
            users.push(*user);
        }
    }
    let targets: Vec<(UserId, ListedDevice)> = owned
        .into_iter()
        .filter(|(user, _)| users.contains(user))
        .collect();
    let listed: Vec<ListedDevice> = targets.iter().map(|(_, device)| *device).collect();
    flow::open_sessions(crypto, server, &listed, now_ms).await?;
    let mut batches: Vec<ShareBatch> = Vec::new();
    let mut size = BATCH_BYTES;
    for user in users {
        let mut encrypted = Vec::new();
        let id = match batches.last() {
            Some(batch) if size < BATCH_BYTES => batch.id,
            _ => new_id(),
        };
        for (_, device) in targets.iter().filter(|(u, _)| *u == user) {
            let plain = Plaintext {
                id,
                to: user,
                content: content.clone(),
            };
            let bytes = plain.encode()?;
            encrypted.push((device.device, crypto.encrypt(device.device, &bytes)?));
        }
        let bytes: usize = encrypted.iter().map(|(_, p)| p.as_bytes().len() + 16).sum();
        match batches.last_mut() {
            Some(batch) if batch.id == id => {
                batch.to.extend(encrypted);
                size += bytes;
            }
            _ => {
                batches.push(ShareBatch { id, to: encrypted });
                size = bytes;
            }
        }
    }
    Ok(GroupSendPlan {
        devices,
        shares: batches,
    })
}

/// Encrypts group message `id` once for the whole group (after the plan's
/// shares went out).
pub fn encrypt_group(
    crypto: &mut DeviceCrypto,
    group: GroupId,
    id: MessageId,
    content: Content,
) -> Result<Payload, CryptoError> {
    crypto
        .groups()
        .encrypt(group, &GroupPlaintext { id, group, content })
}

/// A received message, decrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// A pairwise message (a sender key it carried is already taken in).
    Direct(Plaintext),
    /// A group message.
    Group(GroupPlaintext),
}

/// Decrypts message `id` from `from`, pairwise or group, and takes in any
/// sender key it carries.
pub async fn receive(
    crypto: &mut DeviceCrypto,
    server: &mut impl KeyServer,
    from: (UserId, DeviceId),
    id: MessageId,
    payload: &[u8],
    now_ms: u64,
) -> Result<Incoming, CryptoError> {
    if let Ok(super::envelope::Envelope::Group { .. }) =
        super::envelope::Envelope::from_payload(payload)
    {
        return crypto
            .groups()
            .decrypt(from, id, payload)
            .map(Incoming::Group);
    }
    let plain = flow::decrypt_from(crypto, server, from, id, payload, now_ms).await?;
    if let Content::GroupKey { group, key, .. } = &plain.content {
        crypto
            .groups()
            .receive_key(*group, from.1, key.as_bytes())?;
    }
    Ok(Incoming::Direct(plain))
}
