//! The full emoji set for reactions, by group and by name: a lazily
//! loaded feature (`emoji`, see [`crate::lazy`]) that the reaction picker
//! opens with its "More" button, so that the few common reactions cost the
//! first load nothing more than they did.

use leptos::prelude::*;

crate::lazy! { emoji, preload_emoji:
    /// Every emoji (Unicode's set, skin tones left to the default), one
    /// group at a time or found by name; `pick` gets the one chosen.
    pub fn full_set(pick: Callback<String>) -> AnyView {
        view! { <FullSet pick /> }.into_any()
    }
}

/// What the progress line calls this feature.
pub const FEATURE: crate::lazy::Feature = crate::lazy::Feature {
    id: "emoji",
    label: "emoji",
};

/// Every emoji with the default skin tone, in Unicode's order: a line each
/// of group number, emoji and name, tab-separated (written by `build.rs`
/// from the `emojis` crate).
const SET: &str = include_str!(concat!(env!("OUT_DIR"), "/emoji.txt"));

/// One emoji of [`SET`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Emoji {
    group: usize,
    emoji: &'static str,
    name: &'static str,
}

/// The emoji of [`SET`], in order.
fn all() -> impl Iterator<Item = Emoji> {
    SET.lines().filter_map(|line| {
        let mut fields = line.split('\t');
        Some(Emoji {
            group: fields.next()?.parse().ok()?,
            emoji: fields.next()?,
            name: fields.next()?,
        })
    })
}

/// Unicode's emoji groups, in [`SET`]'s numbering, with an emoji to show
/// each by and its name.
const GROUPS: [(&str, &str); 9] = [
    ("😀", "Smileys and emotion"),
    ("👋", "People and body"),
    ("🐻", "Animals and nature"),
    ("🍔", "Food and drink"),
    ("🚗", "Travel and places"),
    ("⚽", "Activities"),
    ("💡", "Objects"),
    ("❤️", "Symbols"),
    ("🏳️", "Flags"),
];

/// The emoji whose name holds every word of `query` (case folded); at most
/// `limit` of them, in Unicode's order.
fn find(query: &str, limit: usize) -> Vec<Emoji> {
    let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    all()
        .filter(|e| {
            let name = e.name.to_lowercase();
            words.iter().all(|w| name.contains(w.as_str()))
        })
        .take(limit)
        .collect()
}

/// Most results a search shows.
const MAX_FOUND: usize = 120;

#[component]
fn FullSet(pick: Callback<String>) -> impl IntoView {
    let group = RwSignal::new(0_usize);
    let query = RwSignal::new(String::new());
    let shown = move || {
        let query = query.get();
        if query.trim().is_empty() {
            let group = group.get();
            all().filter(|e| e.group == group).collect()
        } else {
            find(&query, MAX_FOUND)
        }
    };
    let tabs = GROUPS.iter().enumerate().map(|(g, &(icon, label))| {
        view! {
            <button type="button" role="tab" title=label aria-label=label
                aria-selected=move || (group.get() == g && query.get().trim().is_empty()).to_string()
                on:click=move |_| { query.set(String::new()); group.set(g); }>{icon}</button>
        }
    });
    view! {
        <div class="emoji-set" data-emoji-set>
            <label for="emoji-search" class="visually-hidden">"Find an emoji by name"</label>
            <input id="emoji-search" type="search" placeholder="Find an emoji"
                autocomplete="off" bind:value=query />
            <div class="emoji-groups" role="tablist" aria-label="Emoji groups">
                {tabs.collect_view()}
            </div>
            <div class="emoji-grid" role="tabpanel">
                {move || {
                    let found = shown();
                    if found.is_empty() {
                        return view! { <p class="empty">"No emoji has that name."</p> }.into_any();
                    }
                    found
                        .into_iter()
                        .map(|e| {
                            let emoji = e.emoji;
                            view! {
                                <button type="button" class="emoji" data-emoji=emoji
                                    title=e.name aria-label=e.name
                                    on:click=move |_| pick.run(emoji.to_owned())>{emoji}</button>
                            }
                        })
                        .collect_view()
                        .into_any()
                }}
            </div>
        </div>
    }
}
