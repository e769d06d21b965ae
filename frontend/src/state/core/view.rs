//! What the core says changed, shown: the [`Effect`]s of each step become
//! signal updates, notifications and the tab title.

use super::Device;
use crate::state::{Phase, notify};
use courier_shared::client::Effect;
use courier_shared::client::chat::{ChatId, Message};
use courier_shared::client::messenger::carries_media;
use courier_shared::ids::UserId;
use leptos::prelude::*;

/// How long a typing indicator shows without news, in milliseconds.
const TYPING_MS: f64 = 6_000.0;

/// Shows every effect of the last step.
pub fn show(device: &mut Device) {
    for effect in device.core.take_effects() {
        match effect {
            Effect::Chats => show_chats(device),
            Effect::Message(message) => show_message(device, message),
            Effect::Notify { title, body } => notify::message(&title, &body),
            Effect::Notice(notice) => device.ui.notice.set(Some(notice)),
            Effect::Account => show_account(device),
            Effect::Names => device
                .ui
                .names
                .set(device.core.names().iter().cloned().collect()),
            Effect::Profile(chat) => {
                let _ = device
                    .jobs
                    .unbounded_send(crate::state::Job::ShowProfile(chat));
            }
            Effect::Presence {
                user,
                online,
                last_seen,
            } => device.ui.presence.update(|p| {
                p.insert(user, (online, last_seen));
            }),
            Effect::Typing { from, typing } => show_typing(device, from, typing),
            Effect::AutoFetch(message) => {
                let _ = device
                    .jobs
                    .unbounded_send(crate::state::Job::AutoFetch(Box::new(message)));
            }
            Effect::Call {
                from_device,
                own,
                peer,
                content,
            } => {
                let account = device.account();
                leptos::task::spawn_local(async move {
                    let _ = crate::calls::signal(account, from_device, own, peer, content).await;
                });
            }
            Effect::Approved => {
                show_account(device);
                device.ui.phase.set(Phase::Ready);
            }
        }
    }
}

/// Sets `signal` to `value` if that changes it: what the first module
/// already showed is not rendered again (which would also drop what the
/// user was typing).
fn change<T: PartialEq + Send + Sync + 'static>(signal: RwSignal<T>, value: T) {
    signal.maybe_update(|shown| {
        let changed = *shown != value;
        if changed {
            *shown = value;
        }
        changed
    });
}

/// Shows the chat list and the unread count in the tab title.
pub fn show_chats(device: &Device) {
    let chats = device.core.chats().to_vec();
    notify::set_title(chats.iter().map(|c| c.unread).sum());
    change(device.ui.chats, chats);
    change(
        device.ui.names,
        device.core.names().iter().cloned().collect(),
    );
}

/// Shows what the core knows of `chat`'s person (their profile) or group,
/// with its photo.
pub async fn show_profile(device: &mut Device, chat: ChatId) -> Result<(), String> {
    if let Some(known) = chat
        .user()
        .and_then(|user| device.core.profile(user))
        .cloned()
    {
        let shown = crate::state::ProfileView {
            name: known.name,
            about: known.about,
        };
        device.ui.profiles.update(|p| {
            p.insert(known.user, shown);
        });
    }
    let photo = device.core.photo(chat).await.map_err(|e| e.to_string())?;
    device.ui.photos.update(|p| match photo {
        Some(jpeg) => {
            p.insert(chat, crate::media::jpeg_data_url(&jpeg));
        }
        None => {
            p.remove(&chat);
        }
    });
    Ok(())
}

/// Shows the account: name, user, devices.
pub fn show_account(device: &Device) {
    change(device.ui.devices, device.core.devices());
    change(
        device.ui.username,
        device.core.username().unwrap_or_default().to_owned(),
    );
    change(device.ui.me, device.core.me().map(|(user, _)| user));
}

/// Shows `message` if its conversation is open (in its shared-media panel
/// too, if that is up).
fn show_message(device: &Device, message: Message) {
    if device.ui.open.get_untracked() != Some(message.chat) {
        return;
    }
    device.ui.gallery.maybe_update(|gallery| {
        let Some(gallery) = gallery else {
            return false;
        };
        let listed = gallery.messages.len();
        gallery.messages.retain(|m| m.id != message.id);
        if !carries_media(&message) {
            return gallery.messages.len() != listed;
        }
        let at = gallery.messages.partition_point(|m| m.id > message.id);
        gallery.messages.insert(at, message.clone());
        true
    });
    // A message older than the loaded page (one marked read as the chat
    // opens, say) stays in the history until the page reaches it.
    let unloaded = device.ui.has_older.get_untracked();
    device.ui.messages.update(|shown| {
        let before_page = unloaded && shown.first().is_some_and(|first| message.id < first.id);
        match shown.iter_mut().find(|m| m.id == message.id) {
            Some(old) => *old = message,
            None if before_page => {}
            None => {
                shown.push(message);
                shown.sort_unstable_by_key(|m| m.id);
            }
        }
    });
}

/// A contact's typing indicator; it clears itself after a while.
fn show_typing(device: &Device, from: UserId, typing: bool) {
    let until = js_sys::Date::now() + TYPING_MS;
    let typists = device.ui.typing;
    typists.update(|t| {
        if typing {
            t.insert(from, until);
        } else {
            t.remove(&from);
        }
    });
    if typing {
        leptos::task::spawn_local(async move {
            crate::state::worker::sleep(TYPING_MS as i32 + 50).await;
            typists.update(|t| {
                if t.get(&from).is_some_and(|u| *u <= js_sys::Date::now()) {
                    t.remove(&from);
                }
            });
        });
    }
}
