//! The chat list: each conversation with the other person's name, presence,
//! the last message, its time and the unread count; and a form to start a
//! chat by username.

use super::time;
use crate::state::{Account, Job};
use leptos::prelude::*;

/// The list of conversations.
#[component]
pub fn ChatList(account: Account) -> impl IntoView {
    let ui = account.ui;
    let name = RwSignal::new(String::new());
    let starter = account.clone();
    let start = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        starter.run(Job::StartChat(name.get_untracked()));
        name.set(String::new());
    };
    let opener = account.clone();
    view! {
        <aside class="chat-list" aria-label="Chats">
            <form class="new-chat" on:submit=start>
                <label for="new-chat-name" class="visually-hidden">"Start a chat with (username)"</label>
                <input id="new-chat-name" placeholder="Start a chat: username" required bind:value=name />
                <button id="new-chat" type="submit" aria-label="Start chat">"+"</button>
            </form>
            <ul>
                <For each=move || ui.chats.get() key=|c| (c.peer, c.preview.clone(), c.unread, c.time) let:chat>
                    {
                        let opener = opener.clone();
                        let peer = chat.peer;
                        let online = move || ui.presence.with(|p| p.get(&peer).is_some_and(|(o, _)| *o));
                        let selected = move || ui.open.get() == Some(peer);
                        view! {
                            <li>
                                <button class="chat" data-chat=peer.0 data-unread=chat.unread
                                    aria-current=move || selected().then_some("true")
                                    on:click=move |_| opener.run(Job::Open(Some(peer)))>
                                    <span class="avatar" aria-hidden="true"
                                        data-online=move || online().to_string()>
                                        {chat.name.chars().next().unwrap_or('?').to_uppercase().to_string()}
                                    </span>
                                    <span class="chat-text">
                                        <span class="chat-name">{chat.name.clone()}</span>
                                        <span class="chat-preview">{chat.preview.clone()}</span>
                                    </span>
                                    <span class="chat-meta">
                                        <span class="chat-time">{(chat.time > 0).then(|| time::clock(chat.time))}</span>
                                        {(chat.unread > 0).then(|| view! {
                                            <span class="unread" aria-label=format!("{} unread", chat.unread)>{chat.unread}</span>
                                        })}
                                    </span>
                                </button>
                            </li>
                        }
                    }
                </For>
            </ul>
            <Show when=move || ui.chats.with(Vec::is_empty)>
                <p class="empty">"No chats yet. Start one with a username above."</p>
            </Show>
        </aside>
    }
}
