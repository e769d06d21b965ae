//! Changes to a message of the open chat: a reaction, an edit, a delete.

use super::Device;
use crate::state::Change;
use crate::state::worker::text;
use courier_shared::ids::MessageId;
use leptos::prelude::*;

/// Applies `change` to message `id` of the open chat.
pub async fn apply(device: &mut Device, id: MessageId, change: Change) -> Result<(), String> {
    let Some(chat) = device.ui.open.get_untracked() else {
        return Ok(());
    };
    let core = &mut device.core;
    match change {
        Change::React(emoji) => core.react(chat, id, &emoji).await,
        Change::Edit(body) => core.edit(chat, id, &body).await,
        Change::DeleteForEveryone => core.delete_for_everyone(chat, id).await,
        Change::DeleteForMe => core.delete_for_me(chat, id).await,
    }
    .map_err(text)
}
