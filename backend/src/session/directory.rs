//! Key-directory requests of a signed-in device: publishing and claiming
//! pre-keys, publishing and fetching signed device lists, opening links.
//!
//! The server checks every signature it can (pre-keys under the device's
//! key, device lists under the account key) so that junk never reaches
//! other devices, which verify everything again themselves.

use super::commands::Me;
use crate::bus::Event;
use crate::clock::now_ms;
use crate::refusal::Refusal;
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::directory::{LinkOpened, ListStored, MAX_OPEN_LINKS};
use crate::store::prekeys::MAX_STORED_ONE_TIME_KEYS;
use courier_shared::crypto::device_list::SignedDeviceList;
use courier_shared::crypto::keys::{MAX_ONE_TIME_KEYS, SignedKey};
use courier_shared::crypto::link::LINK_TTL_MS;
use courier_shared::ids::{DeviceId, LinkId, RequestId, UserId};
use courier_shared::proto::ServerFrame;

/// Most devices one claim may name.
pub const MAX_CLAIMS: usize = 256;

/// Stores `me`'s new pre-keys once each signature verifies; answers with
/// the one-time key count.
pub async fn publish_keys(
    state: &AppState,
    me: Me,
    request: RequestId,
    one_time: Vec<SignedKey>,
    fallback: Option<SignedKey>,
) -> Result<ServerFrame, Refusal> {
    if one_time.len() > MAX_ONE_TIME_KEYS {
        return Err(Refusal::invalid(format!(
            "publish at most {MAX_ONE_TIME_KEYS} keys at a time"
        )));
    }
    let record = state
        .store
        .device(me.1)
        .await?
        .ok_or(StoreError::NotFound("device"))?;
    if one_time
        .iter()
        .chain(&fallback)
        .any(|k| k.verify(&record.key).is_err())
    {
        return Err(Refusal::invalid(
            "a pre-key's signature does not verify under this device's key",
        ));
    }
    let stored = state
        .store
        .publish_prekeys(me.1, &one_time, fallback.as_ref())
        .await?;
    let one_time = stored.ok_or_else(|| {
        Refusal::invalid(format!(
            "the server keeps at most {MAX_STORED_ONE_TIME_KEYS} one-time keys per device"
        ))
    })?;
    Ok(ServerFrame::KeyCount { request, one_time })
}

/// Claims one pre-key of each named device: a one-time key while `me` is
/// within its claim budget for that device, else the fallback key. Devices
/// left low on one-time keys are told (`KeyCount`), wherever they are
/// connected.
pub async fn claim_keys(
    state: &AppState,
    me: Me,
    request: RequestId,
    mut devices: Vec<DeviceId>,
) -> Result<ServerFrame, Refusal> {
    if devices.len() > MAX_CLAIMS {
        return Err(Refusal::invalid(format!(
            "claim keys of at most {MAX_CLAIMS} devices at a time"
        )));
    }
    devices.sort_unstable();
    devices.dedup();
    let now = std::time::Instant::now();
    let wanted: Vec<(DeviceId, bool)> = devices
        .into_iter()
        .map(|device| {
            let budget = state.limits.claims.try_take((me.1, device), 1, now);
            (device, budget)
        })
        .collect();
    let claimed = state.store.claim_prekeys(&wanted).await?;
    for (device, one_time) in claimed.low {
        state.bus.publish(Event::KeysLow { device, one_time });
    }
    Ok(ServerFrame::ClaimedKeys {
        request,
        keys: claimed.keys,
    })
}

/// Stores `me`'s user's new device list if it verifies under its own
/// account key, names this device and is newer; evicts removed devices.
pub async fn publish_list(
    state: &AppState,
    me: Me,
    request: RequestId,
    signed: SignedDeviceList,
) -> Result<ServerFrame, Refusal> {
    let list = signed
        .open()
        .map_err(|err| Refusal::invalid(format!("the device list is refused: {err}")))?;
    if list.user() != me.0 {
        return Err(Refusal::invalid("the device list is for another user"));
    }
    if list.device(me.1).is_none() {
        return Err(Refusal::invalid(
            "the device list must hold the device that publishes it",
        ));
    }
    let removed = match state
        .store
        .publish_device_list(me.0, &list, &signed)
        .await?
    {
        ListStored::Stored(removed) => removed,
        ListStored::OtherAccountKey => {
            return Err(Refusal::invalid(
                "the list is signed by another account key than this user's",
            ));
        }
        ListStored::NotNewer(stored) => {
            return Err(Refusal::invalid(format!(
                "device list version {} is not newer than the stored version {stored}",
                list.version()
            )));
        }
        ListStored::UnknownDevice(device) => {
            return Err(Refusal::invalid(format!(
                "device {} is not a registered device of this user with that key",
                device.0
            )));
        }
    };
    for device in removed {
        tracing::info!(user = me.0.0, device = device.0, "device removed");
        state.registry.evict(device);
        state.bus.publish(crate::bus::Event::Removed(device));
    }
    fetch_list(state, request, me.0).await
}

/// `user`'s device list and registered devices.
pub async fn fetch_list(
    state: &AppState,
    request: RequestId,
    user: UserId,
) -> Result<ServerFrame, Refusal> {
    let (list, registered) = state.store.device_list(user).await?;
    if registered.is_empty() {
        return Err(Refusal::not_found("user"));
    }
    Ok(ServerFrame::DeviceList {
        request,
        user,
        list,
        registered,
    })
}

/// Opens `link` for a new device of `me`'s user.
pub async fn create_link(
    state: &AppState,
    me: Me,
    request: RequestId,
    link: LinkId,
) -> Result<ServerFrame, Refusal> {
    let now = now_ms();
    let ttl = i64::try_from(LINK_TTL_MS).unwrap_or(i64::MAX);
    let expires_at = now.saturating_add(ttl);
    match state
        .store
        .create_link(me.0, &link, now, expires_at)
        .await?
    {
        LinkOpened::Opened => Ok(ServerFrame::LinkCreated {
            request,
            link,
            expires_at: u64::try_from(expires_at).unwrap_or_default(),
        }),
        LinkOpened::TooMany => Err(Refusal::invalid(format!(
            "at most {MAX_OPEN_LINKS} links may be open at once"
        ))),
        LinkOpened::InUse => Err(Refusal::invalid("that link is already in use")),
    }
}
