//! Signing up on this browser: a new account, or joining one through a
//! link code shown on one of its devices. The connection signs the device
//! in; the core founds the account or sends the sealed hello.

use super::Device;
use super::view;
use crate::state::Phase;
use crate::state::worker::text;
use courier_shared::client::Event;
use courier_shared::crypto::link::LinkSecret;
use courier_shared::ids::{DeviceId, UserId, Username};
use leptos::prelude::*;

/// Waits for the sign-in that the last identity change started, across
/// connections: one that ends first (a timeout, a server restart) is
/// followed by another that signs in again, unless the server refused.
async fn signed_in(device: &Device) -> Result<(UserId, DeviceId), String> {
    loop {
        match device.requests.next_sign_in().await {
            Some(Event::SignedIn { user, device }) => return Ok((user, device)),
            Some(Event::Failed(_)) if device.socket.retries_sign_in() => {}
            Some(Event::SignInRefused(refusal) | Event::Failed(refusal)) => {
                return Err(refusal.message);
            }
            _ => return Err("the server did not answer".into()),
        }
    }
}

/// Creates an account named `name` with this browser as its first device.
pub async fn register(device: &mut Device, name: &str) -> Result<(), String> {
    let username = Username::parse(name.trim()).map_err(text)?;
    let crypto = device.core.new_device();
    device
        .socket
        .register(username.clone(), crypto.signing_key());
    let me = signed_in(device).await?;
    device
        .core
        .create_account(&username, crypto, me)
        .await
        .map_err(text)?;
    view::show_account(device);
    device.ui.phase.set(Phase::Ready);
    Ok(())
}

/// Joins the account whose device shows `code`; ready once that device
/// approves this one.
pub async fn join(device: &mut Device, code: &str) -> Result<(), String> {
    let secret = LinkSecret::parse(code).map_err(text)?;
    let crypto = device.core.new_device();
    device.socket.link(secret.id(), crypto.signing_key());
    let me = signed_in(device).await?;
    device.core.join(secret, crypto, me).await.map_err(text)?;
    device.ui.phase.set(Phase::Joining);
    Ok(())
}
