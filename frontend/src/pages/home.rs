//! The signed-in page: the chat list beside the open conversation (one or
//! the other at phone width), or the devices panel.

use super::devices;
use crate::components::chat_list::ChatList;
use crate::components::conversation::Conversation;
use crate::lazy::lazy_view;
use crate::state::{Account, Job, Panel};
use leptos::prelude::*;

/// The invite link code in this page's address (`…/#join=CODE`), if any,
/// taken out of the address bar and the history at once, for the user to
/// accept.
fn take_invite(ui: crate::state::Ui) {
    use courier_shared::client::messenger::{JOIN_FRAGMENT, read_invite};
    let Some(window) = web_sys::window() else {
        return;
    };
    let hash = window.location().hash().unwrap_or_default();
    let Some(code) = hash.strip_prefix(JOIN_FRAGMENT) else {
        return;
    };
    if let Ok(path) = window.location().pathname()
        && let Ok(history) = window.history()
    {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&path));
    }
    match read_invite(code) {
        Some((_, name)) => ui.joining.set(Some((code.to_owned(), name))),
        None => ui
            .notice
            .set(Some("This invite link is not complete.".into())),
    }
}

/// The signed-in page.
#[component]
pub fn Home(account: Account) -> impl IntoView {
    let ui = account.ui;
    let panel = move || ui.panel.get();
    let reopen = account.clone();
    let show_chats = move |_| {
        ui.panel.set(Panel::Chats);
        // Back on the open conversation: what is shown there is now read.
        reopen.run(Job::Open(ui.open.get_untracked()));
    };
    // An invite link opened here (or pasted into the address bar while
    // the page is open) asks whether to join.
    take_invite(ui);
    let _listener = window_event_listener(leptos::ev::hashchange, move |_| take_invite(ui));
    let joiner = account.clone();
    let join = move |_| {
        if let Some((code, _)) = ui.joining.get_untracked() {
            joiner.run(Job::JoinGroup(code));
        }
    };
    view! {
        {move || ui.joining.get().map(|(_, name)| view! {
            <div id="join-banner" class="join-banner" role="dialog" aria-label="Join a group">
                <p>{format!("Join the group \u{201c}{name}\u{201d}? Its members will see you joined.")}</p>
                <button id="join-accept" on:click=join.clone()>"Join"</button>
                <button id="join-dismiss" on:click=move |_| ui.joining.set(None)>"Not now"</button>
            </div>
        })}
        <nav class="tabs" aria-label="Sections">
            <button id="chats-tab" aria-pressed=move || (panel() == Panel::Chats).to_string()
                on:click=show_chats>"Chats"</button>
            <button id="devices-tab" aria-pressed=move || (panel() == Panel::Devices).to_string()
                on:click=move |_| ui.panel.set(Panel::Devices)>"Devices"</button>
        </nav>
        {move || {
            let account = account.clone();
            match panel() {
                // Lazily loaded (#15): the devices module.
                Panel::Devices => {
                    let lock = account.clone();
                    view! {
                        {lazy_view(devices::FEATURE, move || devices::panel(account.clone()))}
                        {lazy_view(crate::applock::FEATURE, move || crate::applock::settings(lock.clone()))}
                    }.into_any()
                }
                Panel::Chats => {
                    let list = account.clone();
                    view! {
                        <div class="chats" data-open=move || ui.open.get().is_some().to_string()>
                            <ChatList account=list />
                            <Conversation account />
                        </div>
                    }.into_any()
                }
            }
        }}
    }
}
