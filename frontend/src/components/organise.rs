//! A chat's menu in the list (pin, mute, archive, mark unread) and the
//! icons that show how it is kept.

use crate::state::chat::{ChatId, ChatSettings, MUTED_ALWAYS};
use crate::state::{Account, Job};
use leptos::prelude::*;

/// How long each mute choice lasts (ms; `None`: for good).
const MUTES: [(&str, &str, Option<u64>); 3] = [
    ("8h", "8 hours", Some(8 * 60 * 60 * 1000)),
    ("week", "1 week", Some(7 * 24 * 60 * 60 * 1000)),
    ("always", "Always", None),
];

/// 📌 for a pinned chat, 🔕 for a muted one.
pub fn icons(settings: ChatSettings) -> impl IntoView {
    let muted = settings.muted(js_sys::Date::now() as u64);
    view! {
        {settings.pinned.then(|| view! { <span data-pinned-icon aria-label="Pinned">"📌"</span> })}
        {muted.then(|| view! { <span data-muted-icon aria-label="Muted">"🔕"</span> })}
    }
}

/// The ⋯ menu of chat `chat`.
pub fn menu(chat: ChatId, settings: ChatSettings, account: Account) -> impl IntoView {
    let set = move |change: ChatSettings| account.run(Job::Organise(chat, change));
    let muted = settings.muted(js_sys::Date::now() as u64);
    let mutes = MUTES.map(|(key, label, length)| {
        let until = length.map_or(MUTED_ALWAYS, |ms| js_sys::Date::now() as u64 + ms);
        let set = set.clone();
        view! {
            <button data-organise=format!("mute-{key}")
                on:click=move |_| set(ChatSettings { muted_until: until, ..settings })>
                {format!("Mute for {label}").replace("for Always", "always")}
            </button>
        }
    });
    let (pin, archive, unread) = (set.clone(), set.clone(), set.clone());
    view! {
        <details class="chat-menu">
            <summary aria-label="Chat options">"⋯"</summary>
            <div class="menu">
                <button data-organise="pin"
                    on:click=move |_| pin(ChatSettings { pinned: !settings.pinned, ..settings })>
                    {if settings.pinned { "Unpin" } else { "Pin" }}
                </button>
                {if muted {
                    let unmute = set.clone();
                    view! {
                        <button data-organise="unmute"
                            on:click=move |_| unmute(ChatSettings { muted_until: 0, ..settings })>"Unmute"</button>
                    }.into_any()
                } else {
                    mutes.into_iter().collect_view().into_any()
                }}
                <button data-organise="archive"
                    on:click=move |_| archive(ChatSettings { archived: !settings.archived, ..settings })>
                    {if settings.archived { "Unarchive" } else { "Archive" }}
                </button>
                <button data-organise="unread"
                    on:click=move |_| unread(ChatSettings { marked_unread: true, ..settings })>
                    "Mark as unread"
                </button>
            </div>
        </details>
    }
}
