//! The group jobs: creating a group and changing the open one.

use super::Device;
use crate::state::worker::text;
use courier_shared::client::chat::ChatId;
use courier_shared::client::messenger::{GroupAction, JOIN_FRAGMENT};
use leptos::prelude::*;

/// Creates a group named `name` with the users named in `members` and
/// opens it.
pub async fn create(device: &mut Device, name: &str, members: &str) -> Result<(), String> {
    let chat = device
        .core
        .create_group(name, members)
        .await
        .map_err(text)?;
    let _ = device
        .jobs
        .unbounded_send(crate::state::Job::Open(Some(chat)));
    Ok(())
}

/// Carries out `action` on the open group.
pub async fn change(device: &mut Device, action: GroupAction) -> Result<(), String> {
    let Some(ChatId::Group(group)) = device.ui.open.get_untracked() else {
        return Ok(());
    };
    device.core.change_group(group, action).await.map_err(text)
}

/// Makes a new invite link for the open group (`make`), shown to its
/// admin, or revokes its link.
pub async fn invite(device: &mut Device, make: bool) -> Result<(), String> {
    let Some(chat) = device
        .ui
        .open
        .get_untracked()
        .filter(|c| c.group().is_some())
    else {
        return Ok(());
    };
    if !make {
        device.core.revoke_invite(chat).await.map_err(text)?;
        device.ui.invite.set(None);
        device
            .ui
            .notice
            .set(Some("The invite link no longer works.".into()));
        return Ok(());
    }
    let code = device.core.invite(chat).await.map_err(text)?;
    let url = format!("{}/{JOIN_FRAGMENT}{code}", super::devices::origin());
    device.ui.invite.set(Some((chat, url)));
    Ok(())
}

/// Joins the group of invite link `code` and opens it.
pub async fn join(device: &mut Device, code: &str) -> Result<(), String> {
    device.ui.joining.set(None);
    let chat = device.core.join_group(code).await.map_err(text)?;
    let _ = device
        .jobs
        .unbounded_send(crate::state::Job::Open(Some(chat)));
    Ok(())
}
