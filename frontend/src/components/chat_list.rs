//! The chat list: each conversation with the other person's (or the
//! group's) name, presence, the last message, its time and the unread count;
//! forms to start a chat by username and to create a group.

use super::{group_info, organise, time};
use crate::lazy::lazy_view;
use crate::state::chat::{Chat, ChatId};
use crate::state::{Account, Job, Ui};
use leptos::prelude::*;

/// The list of conversations.
#[component]
pub fn ChatList(account: Account) -> impl IntoView {
    let ui = account.ui;
    let name = RwSignal::new(String::new());
    let starter = account.clone();
    let start = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        crate::state::ask_notification_permission();
        starter.run(Job::StartChat(name.get_untracked()));
        name.set(String::new());
    };
    // Lazily loaded (#15): the group form comes from the groups module,
    // the first time "New group" is opened.
    let creating = RwSignal::new(false);
    // Showing the archived chats instead of the others.
    let archive = RwSignal::new(false);
    let creator = account.clone();
    let opener = account.clone();
    // Lazily loaded: the search module, the first time search is opened.
    let searching = RwSignal::new(false);
    let searcher = account.clone();
    // Lazily loaded: the profile editor, the first time it is opened.
    let editing = RwSignal::new(false);
    let profiler = account.clone();
    let me_avatar = move || {
        let photo = ui.me.get().and_then(|me| ui.chat_photo(ChatId::User(me)));
        photo.map(|url| view! { <img class="avatar-photo small" src=url alt="" /> })
    };
    view! {
        <aside class="chat-list" aria-label="Chats">
            <form class="new-chat" on:submit=start>
                <label for="new-chat-name" class="visually-hidden">"Start a chat with (username)"</label>
                <input id="new-chat-name" placeholder="Start a chat: username" required bind:value=name />
                <button id="new-chat" type="submit" aria-label="Start chat">"+"</button>
            </form>
            <button id="search-open" class="search-open" aria-label="Search messages"
                aria-pressed=move || searching.get().to_string()
                on:click=move |_| searching.update(|s| *s = !*s)>"🔍 Search"</button>
            {move || searching.get().then(|| {
                let account = searcher.clone();
                let close = Callback::new(move |()| searching.set(false));
                crate::search::lazy_panel(account, None, close)
            })}
            <button id="profile-open" class="profile-open" aria-label="Your profile"
                aria-pressed=move || editing.get().to_string()
                on:click=move |_| editing.update(|e| *e = !*e)>{me_avatar}" Profile"</button>
            {move || editing.get().then(|| {
                let account = profiler.clone();
                let close = Callback::new(move |()| editing.set(false));
                crate::profile::lazy_panel(account, close)
            })}
            <details class="new-group" on:toggle=move |_| creating.set(true)>
                <summary id="new-group-open">"New group"</summary>
                {move || creating.get().then(|| {
                    let account = creator.clone();
                    lazy_view(group_info::FEATURE, move || group_info::new_group_form(account.clone()))
                })}
            </details>
            <ul>
                <For each=move || shown(ui.chats.get(), archive.get())
                    key=|c| (c.chat, c.name.clone(), c.preview.clone(), c.unread, c.time, c.settings) let:chat>
                    {
                        let opener = opener.clone();
                        let id = chat.chat;
                        let online = move || {
                            id.user().is_some_and(|u| ui.presence.with(|p| p.get(&u).is_some_and(|(o, _)| *o)))
                        };
                        let selected = move || ui.open.get() == Some(id);
                        let settings = chat.settings;
                        let unread = chat.unread > 0 || settings.marked_unread;
                        let menu = organise::menu(id, settings, opener.clone());
                        view! {
                            <li data-pinned=settings.pinned.to_string() data-archived=settings.archived.to_string()>
                                <button class="chat" data-chat=id.tag() data-unread=chat.unread
                                    data-marked-unread=settings.marked_unread.then_some("true")
                                    data-group=id.group().is_some().then_some("true")
                                    aria-current=move || selected().then_some("true")
                                    on:click=move |_| {
                                        crate::state::ask_notification_permission();
                                        opener.run(Job::Open(Some(id)));
                                    }>
                                    {avatar(ui, &chat, online)}
                                    <span class="chat-text">
                                        <span class="chat-name">{
                                            let chat = chat.clone();
                                            move || ui.chat_name(&chat)
                                        }</span>
                                        <span class="chat-preview">{chat.preview.clone()}</span>
                                    </span>
                                    <span class="chat-meta">
                                        <span class="chat-time">{(chat.time > 0).then(|| time::when(chat.time))}</span>
                                        <span class="chat-icons">{organise::icons(settings)}</span>
                                        {unread.then(|| view! {
                                            <span class="unread" aria-label=format!("{} unread", chat.unread)>
                                                {(chat.unread > 0).then_some(chat.unread)}
                                            </span>
                                        })}
                                    </span>
                                </button>
                                {menu}
                            </li>
                        }
                    }
                </For>
            </ul>
            {move || {
                let archived = ui.chats.with(|c| c.iter().filter(|c| c.settings.archived).count());
                (archived > 0 || archive.get()).then(|| view! {
                    <button id="archived" class="archived-toggle" aria-pressed=move || archive.get().to_string()
                        on:click=move |_| archive.update(|a| *a = !*a)>
                        {if archive.get() { "Back to chats".to_owned() } else { format!("Archived ({archived})") }}
                    </button>
                })
            }}
            <Show when=move || ui.chats.with(Vec::is_empty)>
                <p class="empty">"No chats yet. Start one with a username above."</p>
            </Show>
        </aside>
    }
}

/// A chat's avatar: the person's photo if they set one, else initials;
/// `online` marks it.
pub fn avatar<F>(ui: Ui, chat: &Chat, online: F) -> impl IntoView + use<F>
where
    F: Fn() -> bool + Send + Sync + 'static,
{
    let chat = chat.clone();
    view! {
        <span class="avatar" aria-hidden="true" data-online=move || online().to_string()>
            {move || match ui.chat_photo(chat.chat) {
                Some(photo) => view! { <img class="avatar-photo" src=photo alt="" /> }.into_any(),
                None => initials(&ui.chat_name(&chat)).into_any(),
            }}
        </span>
    }
}

/// The chats to list: the archived ones or the others, pinned ones first.
fn shown(mut chats: Vec<Chat>, archived: bool) -> Vec<Chat> {
    chats.retain(|c| c.settings.archived == archived);
    chats.sort_by_key(|c| !c.settings.pinned);
    chats
}

/// Up to two initials: of the first two words ("Hiking club" → "Hc", shown
/// as "HC": the stylesheet capitalises them, which keeps Unicode's case
/// tables out of the client), or the first letter of a single word.
pub fn initials(name: &str) -> String {
    let letters: String = name
        .split_whitespace()
        .take(2)
        .filter_map(|word| word.chars().next())
        .collect();
    if letters.is_empty() {
        "?".into()
    } else {
        letters
    }
}
