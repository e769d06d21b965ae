//! The signed-in page: the chat list beside the open conversation (one or
//! the other at phone width), or the devices panel.

use super::devices;
use crate::components::chat_list::ChatList;
use crate::components::conversation::Conversation;
use crate::lazy::lazy_view;
use crate::state::{Account, Job, Panel};
use leptos::prelude::*;

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
    view! {
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
