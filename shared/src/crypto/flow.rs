//! The steps of sending and receiving, strung together over a [`KeyServer`]:
//! fetch and verify device lists, claim one-time keys, open sessions,
//! encrypt per device, decrypt. The driver (browser or native) implements
//! [`KeyServer`] over its connection; everything else is shared.

use super::CryptoError;
use super::content::Plaintext;
use super::device::{DeviceCrypto, KeyChange};
use super::device_list::{ListedDevice, SignedDeviceList};
use super::keys::SignedKey;
use crate::ids::{DeviceId, MessageId, UserId};
use crate::proto::Payload;

/// Most devices one pre-key claim names.
pub const CLAIM_BATCH: usize = 128;

/// What the crypto needs from the server's key directory.
#[allow(async_fn_in_trait)] // drivers are single-threaded; no Send bound wanted
pub trait KeyServer {
    /// `user`'s current signed device list, if they published one.
    async fn fetch_list(&mut self, user: UserId) -> Result<Option<SignedDeviceList>, CryptoError>;
    /// One one-time key (or the fallback key) per device; devices without
    /// any key are left out.
    async fn claim(
        &mut self,
        devices: Vec<DeviceId>,
    ) -> Result<Vec<(DeviceId, SignedKey)>, CryptoError>;
}

/// Fetches `user`'s device list and takes it in; says what changed.
pub async fn refresh(
    crypto: &mut DeviceCrypto,
    server: &mut impl KeyServer,
    user: UserId,
) -> Result<KeyChange, CryptoError> {
    let signed = server
        .fetch_list(user)
        .await?
        .ok_or(CryptoError::NoDevices(user))?;
    crypto.accept_list(user, &signed)
}

/// Fetches again the device lists a message to `to` depends on — `to`'s and
/// this user's own — as after the server refused a send as stale. Says what
/// changed for `to`.
pub async fn refresh_recipients(
    crypto: &mut DeviceCrypto,
    server: &mut impl KeyServer,
    to: UserId,
) -> Result<KeyChange, CryptoError> {
    let (me, _) = crypto.require_me()?;
    let change = refresh(crypto, server, to).await?;
    if me != to {
        refresh(crypto, server, me).await?;
    }
    Ok(change)
}

/// Encrypts `plaintext` for every approved device of its recipient and every
/// other approved device of this user, opening sessions where needed.
/// Returns one payload per device, ready for one `Send`.
pub async fn encrypt_for(
    crypto: &mut DeviceCrypto,
    server: &mut impl KeyServer,
    plaintext: &Plaintext,
    now_ms: u64,
) -> Result<Vec<(DeviceId, Payload)>, CryptoError> {
    let (me, _) = crypto.require_me()?;
    for user in [plaintext.to, me] {
        ensure_list(crypto, server, user).await?;
    }
    let targets = crypto.recipients(plaintext.to)?;
    open_sessions(crypto, server, &targets, now_ms).await?;
    let bytes = plaintext.encode()?;
    targets
        .iter()
        .map(|d| Ok((d.device, crypto.encrypt(d.device, &bytes)?)))
        .collect()
}

/// Fetches `user`'s device list unless this device already knows it.
pub async fn ensure_list(
    crypto: &mut DeviceCrypto,
    server: &mut impl KeyServer,
    user: UserId,
) -> Result<(), CryptoError> {
    if crypto.user(user).is_none() {
        refresh(crypto, server, user).await?;
    }
    Ok(())
}

/// Opens a pairwise session with each of `targets` that needs one, claiming
/// their pre-keys in batches of at most [`CLAIM_BATCH`] devices.
pub async fn open_sessions(
    crypto: &mut DeviceCrypto,
    server: &mut impl KeyServer,
    targets: &[ListedDevice],
    now_ms: u64,
) -> Result<(), CryptoError> {
    let missing: Vec<DeviceId> = targets
        .iter()
        .filter(|d| crypto.needs_session(d.device, now_ms))
        .map(|d| d.device)
        .collect();
    for chunk in missing.chunks(CLAIM_BATCH) {
        for (device, key) in server.claim(chunk.to_vec()).await? {
            if let Some(listed) = targets.iter().find(|d| d.device == device) {
                crypto.start_session(listed, &key, now_ms)?;
            }
        }
    }
    Ok(())
}

/// Decrypts message `id` from `from`'s `from_device`, fetching the sender's
/// device list first if the device is new to us.
pub async fn decrypt_from(
    crypto: &mut DeviceCrypto,
    server: &mut impl KeyServer,
    from: (UserId, DeviceId),
    id: MessageId,
    payload: &[u8],
    now_ms: u64,
) -> Result<Plaintext, CryptoError> {
    match crypto.decrypt(from.0, from.1, id, payload, now_ms) {
        Err(CryptoError::UnknownDevice { .. }) => {
            refresh(crypto, server, from.0).await?;
            crypto.decrypt(from.0, from.1, id, payload, now_ms)
        }
        other => other,
    }
}
