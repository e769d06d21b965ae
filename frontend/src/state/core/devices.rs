//! The devices panel's jobs: a link code for a new device, removing a
//! device, and comparing safety numbers.

use super::Device;
use crate::state::worker::text;
use crate::state::{LinkView, SafetyView};
use courier_shared::ids::DeviceId;
use leptos::prelude::*;

/// This page's origin (`https://host:port`), for the link's URL.
pub fn origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

/// Shows a link code (and its QR code) for a new device.
pub async fn show_link(device: &mut Device) -> Result<(), String> {
    let code = device.core.show_link(&origin()).await.map_err(text)?;
    device.ui.link.set(Some(LinkView {
        code: code.code,
        qr: code.url,
    }));
    Ok(())
}

/// Removes `removed` from the account.
pub async fn remove(device: &mut Device, removed: DeviceId) -> Result<(), String> {
    device.core.remove_device(removed).await.map_err(text)
}

/// Shows the safety number shared with the user named `name`.
pub async fn verify(device: &mut Device, name: &str) -> Result<(), String> {
    let info = device.core.safety(name).await.map_err(text)?;
    device.ui.safety.set(Some(SafetyView {
        username: info.username,
        number: info.number,
        qr: info.qr_text,
        warning: info.warning,
        verified: info.verified,
    }));
    Ok(())
}

/// Marks the user named `name` verified.
pub async fn mark_verified(device: &mut Device, name: &str) -> Result<(), String> {
    device.core.mark_verified(name).await.map_err(text)?;
    device.ui.safety.update(|safety| {
        if let Some(shown) = safety.as_mut().filter(|s| s.username == name) {
            shown.verified = true;
        }
    });
    Ok(())
}
