//! Key-directory requests of a signed-in device: publishing and claiming
//! pre-keys, publishing and fetching signed device lists, opening links.
//!
//! The server checks every signature it can (pre-keys under the device's
//! key, device lists under the account key) so that junk never reaches
//! other devices, which verify everything again themselves.

use super::commands::{Me, internal};
use crate::clock::now_ms;
use crate::state::AppState;
use crate::store::StoreError;
use courier_shared::crypto::device_list::SignedDeviceList;
use courier_shared::crypto::keys::{MAX_ONE_TIME_KEYS, SignedKey};
use courier_shared::crypto::link::LINK_TTL_MS;
use courier_shared::ids::{DeviceId, LinkId, UserId};
use courier_shared::proto::{ErrorCode, ServerFrame};

/// Most devices one claim may name.
pub const MAX_CLAIMS: usize = 256;

fn invalid(reason: &str) -> ServerFrame {
    ServerFrame::rejected(None, ErrorCode::InvalidRequest, reason)
}

fn failed(err: &StoreError) -> ServerFrame {
    match err {
        StoreError::Conflict(reason) => invalid(reason),
        StoreError::NotFound(what) => {
            ServerFrame::rejected(None, ErrorCode::NotFound, &format!("no such {what}"))
        }
        other => {
            let (code, message) = internal(other);
            ServerFrame::rejected(None, code, &message)
        }
    }
}

/// Stores `me`'s new pre-keys once each signature verifies; answers with
/// the one-time key count.
pub async fn publish_keys(
    state: &AppState,
    me: Me,
    one_time: Vec<SignedKey>,
    fallback: Option<SignedKey>,
) -> ServerFrame {
    if one_time.len() > MAX_ONE_TIME_KEYS {
        return invalid(&format!(
            "publish at most {MAX_ONE_TIME_KEYS} keys at a time"
        ));
    }
    let record = match state.store.device(me.1).await {
        Ok(Some(record)) => record,
        Ok(None) => return failed(&StoreError::NotFound("device")),
        Err(err) => return failed(&err),
    };
    if one_time
        .iter()
        .chain(&fallback)
        .any(|k| k.verify(&record.key).is_err())
    {
        return invalid("a pre-key's signature does not verify under this device's key");
    }
    match state
        .store
        .publish_prekeys(me.1, &one_time, fallback.as_ref())
        .await
    {
        Ok(count) => ServerFrame::KeyCount { one_time: count },
        Err(err) => failed(&err),
    }
}

/// Claims one pre-key of each named device.
pub async fn claim_keys(state: &AppState, mut devices: Vec<DeviceId>) -> ServerFrame {
    if devices.len() > MAX_CLAIMS {
        return invalid(&format!(
            "claim keys of at most {MAX_CLAIMS} devices at a time"
        ));
    }
    devices.sort_unstable();
    devices.dedup();
    match state.store.claim_prekeys(&devices).await {
        Ok(keys) => ServerFrame::ClaimedKeys { keys },
        Err(err) => failed(&err),
    }
}

/// Stores `me`'s user's new device list if it verifies under its own
/// account key, names this device and is newer; evicts removed devices.
pub async fn publish_list(state: &AppState, me: Me, signed: SignedDeviceList) -> ServerFrame {
    let list = match signed.open() {
        Ok(list) => list,
        Err(err) => return invalid(&format!("the device list is refused: {err}")),
    };
    if list.user() != me.0 {
        return invalid("the device list is for another user");
    }
    if list.device(me.1).is_none() {
        return invalid("the device list must hold the device that publishes it");
    }
    let removed = match state.store.publish_device_list(me.0, &list, &signed).await {
        Ok(removed) => removed,
        Err(err) => return failed(&err),
    };
    for device in removed {
        tracing::info!(user = me.0.0, device = device.0, "device removed");
        state.registry.evict(device);
        state.bus.publish(crate::bus::Event::Removed(device));
    }
    fetch_list(state, me.0).await
}

/// `user`'s device list and registered devices.
pub async fn fetch_list(state: &AppState, user: UserId) -> ServerFrame {
    match state.store.device_list(user).await {
        Ok((_, registered)) if registered.is_empty() => failed(&StoreError::NotFound("user")),
        Ok((list, registered)) => ServerFrame::DeviceList {
            user,
            list,
            registered,
        },
        Err(err) => failed(&err),
    }
}

/// Opens `link` for a new device of `me`'s user.
pub async fn create_link(state: &AppState, me: Me, link: LinkId) -> ServerFrame {
    let now = now_ms();
    let ttl = i64::try_from(LINK_TTL_MS).unwrap_or(i64::MAX);
    let expires_at = now.saturating_add(ttl);
    match state.store.create_link(me.0, &link, now, expires_at).await {
        Ok(()) => ServerFrame::LinkCreated {
            link,
            expires_at: u64::try_from(expires_at).unwrap_or_default(),
        },
        Err(err) => failed(&err),
    }
}
