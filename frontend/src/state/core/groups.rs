//! The group jobs: creating a group and changing the open one.

use super::Device;
use crate::state::worker::text;
use courier_shared::client::chat::ChatId;
use courier_shared::client::messenger::GroupAction;
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
