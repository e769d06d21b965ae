//! Searching this device's history, a lazily loaded module: the panel
//! (across chats from the chat list, or inside the open chat) and the
//! index behind it ([`courier_shared::client::search`]), kept sealed in
//! the vault under `x/index`.
//!
//! The index is built the first time someone searches, 400 messages a
//! job so that messages keep arriving meanwhile, with its progress shown;
//! after that each search first takes in the messages saved since (their
//! change notes, see `crypto::history`). Every hit is read back and
//! checked before it is shown, so an edited, deleted or disappeared
//! message is never a stale result. Choosing a result opens its chat and
//! shows the message in context.

use crate::components::time;
use crate::crypto::history;
use crate::crypto::vault::Vault;
use crate::lazy::{Feature, Work};
use crate::state::{Account, Job, VaultJob, js_text};
use courier_shared::client::chat::{ChatId, Message};
use courier_shared::client::search::{self, SearchIndex};
use leptos::prelude::*;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsValue;

/// For the progress line while the module loads.
pub const FEATURE: Feature = Feature {
    id: "search",
    label: "search",
};

/// Where the sealed index is kept.
const RECORD: &str = "x/index";
/// Messages read into the index per job while it is first built.
const BUILD_BATCH: u32 = 400;
/// Change notes taken in per job.
const CHANGES_BATCH: u32 = 1_000;
/// Results shown.
const SHOWN: usize = 50;

/// The index as this page holds it (none until first read from the
/// vault).
enum State {
    /// Being built: where the next batch starts, and how far it got.
    Building {
        index: SearchIndex,
        next: Option<String>,
        done: usize,
        total: usize,
    },
    /// Ready (the vault's copy may lack the latest changes until saved).
    Ready(SearchIndex),
}

thread_local! {
    static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
}

/// One result: the message and its excerpt.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Hit {
    message: Message,
    pieces: Vec<(String, bool)>,
}

/// What the panel shows; written by the search jobs.
#[derive(Clone, Copy)]
struct Output {
    /// The words typed (the latest query wins).
    query: RwSignal<String>,
    hits: RwSignal<Vec<Hit>>,
    /// "Indexing…", "No messages found", … (empty while none to say).
    status: RwSignal<String>,
}

crate::lazy! { search, preload_search:
    /// The search panel: across all chats (`chat` none) or inside `chat`;
    /// `close` takes it down.
    pub fn search_panel(account: Account, chat: Option<ChatId>, close: Callback<()>) -> AnyView {
        view! { <SearchPanel account chat close /> }.into_any()
    }
}

/// The search panel (see [`search_panel`]), its module loaded first if
/// need be: one loader for both places it opens from.
pub fn lazy_panel(account: Account, chat: Option<ChatId>, close: Callback<()>) -> AnyView {
    crate::lazy::lazy_view(FEATURE, move || search_panel(account.clone(), chat, close)).into_any()
}

#[component]
fn SearchPanel(account: Account, chat: Option<ChatId>, close: Callback<()>) -> impl IntoView {
    let ui = account.ui;
    let out = Output {
        query: RwSignal::new(String::new()),
        hits: RwSignal::new(Vec::new()),
        status: RwSignal::new(String::new()),
    };
    let runner = account.clone();
    let on_input = move |ev: leptos::ev::Event| {
        out.query.set(event_target_value(&ev));
        find(&runner, out, chat);
    };
    let opener = account.clone();
    let show = move |message: &Message| {
        let (target, id) = (message.chat, message.id);
        let opener = opener.clone();
        move |_: leptos::ev::MouseEvent| {
            opener.run(Job::Open(Some(target)));
            opener.run(Job::Reveal(id));
            close.run(());
        }
    };
    let name_of = move |id: ChatId| {
        ui.chats
            .with_untracked(|chats| chats.iter().find(|c| c.chat == id).map(|c| c.name.clone()))
            .unwrap_or_default()
    };
    let title = if chat.is_some() {
        "Search in this chat"
    } else {
        "Search messages"
    };
    view! {
        <aside id="search" class="search" aria-label=title data-in-chat=chat.is_some().to_string()>
            <header>
                <input id="search-input" type="search" aria-label=title placeholder=title
                    autofocus on:input=on_input
                    on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Escape" { close.run(()) } />
                <button aria-label="Close search" on:click=move |_| close.run(())>"×"</button>
            </header>
            <p class="search-status" role="status" data-search-status>{move || out.status.get()}</p>
            <ol class="search-results" aria-label="Results">
                {move || out.hits.get().into_iter().map(|hit| {
                    let at = hit.message.sent_at();
                    let when = format!("{} {}", time::day(at), time::clock(at));
                    view! {
                        <li>
                            <button class="search-result" data-search-result
                                data-message=courier_shared::text_encoding::hex(hit.message.id.as_bytes())
                                on:click=show(&hit.message)>
                                <span class="search-chat">{name_of(hit.message.chat)}</span>
                                <time>{when}</time>
                                <span class="search-text">
                                    {hit.pieces.into_iter().map(|(piece, marked)| if marked {
                                        view! { <mark>{piece}</mark> }.into_any()
                                    } else {
                                        piece.into_any()
                                    }).collect_view()}
                                </span>
                            </button>
                        </li>
                    }
                }).collect_view()}
            </ol>
        </aside>
    }
}

/// Asks the worker to search for `out`'s query (it runs between two jobs,
/// with the vault to itself).
fn find(account: &Account, out: Output, chat: Option<ChatId>) {
    let again = account.clone();
    account.run(Job::Vault(VaultJob(Box::new(
        move |vault: Rc<Vault>| -> Work<()> {
            Box::pin(async move {
                match step(&vault, out, chat).await {
                    Ok(true) => {}
                    // More of the index to build first: the next batch.
                    Ok(false) => find(&again, out, chat),
                    Err(err) => out.status.set(format!("Search failed: {}", js_text(err))),
                }
            })
        },
    ))));
}

/// One step of a search: builds a batch of the index, or takes in the
/// changes and answers the query. `Ok(false)`: not done yet.
async fn step(vault: &Vault, out: Output, chat: Option<ChatId>) -> Result<bool, JsValue> {
    // Taken out while this step runs: a step that fails leaves it to be
    // read from the vault again.
    let state = match STATE.with(|s| s.borrow_mut().take()) {
        Some(state) => state,
        None => match vault.get(RECORD).await? {
            Some(bytes) => State::Ready(SearchIndex::from_bytes(&bytes).map_err(JsValue::from)?),
            None => State::Building {
                index: SearchIndex::default(),
                next: None,
                done: 0,
                total: history::count(vault).await?,
            },
        },
    };
    let (index, built) = match state {
        State::Building {
            mut index,
            next,
            done,
            total,
        } => {
            let (messages, next) = history::batch(vault, next.as_deref(), BUILD_BATCH).await?;
            let done = done + messages.len();
            for message in &messages {
                index.add(message);
            }
            if next.is_some() {
                out.status.set(format!(
                    "Indexing your messages on this device: {done} of {total}…"
                ));
                let building = State::Building {
                    index,
                    next,
                    done,
                    total,
                };
                STATE.with(|s| *s.borrow_mut() = Some(building));
                return Ok(false);
            }
            (index, true)
        }
        State::Ready(index) => (index, false),
    };
    let index = take_in_changes(vault, index, built).await?;
    let query = out.query.get_untracked();
    let hits = answer(vault, &index, &query, chat).await;
    STATE.with(|s| *s.borrow_mut() = Some(State::Ready(index)));
    let hits = hits?;
    out.status.set(match hits.len() {
        _ if search::words(&query).is_empty() => String::new(),
        0 => "No messages found.".into(),
        1 => "1 message".into(),
        n if n >= SHOWN => format!("The newest {SHOWN} messages"),
        n => format!("{n} messages"),
    });
    out.hits.set(hits);
    Ok(true)
}

/// Takes the messages saved since into `index` (all their change notes,
/// in batches) and stores it sealed if anything changed (or it was just
/// `built`).
async fn take_in_changes(
    vault: &Vault,
    mut index: SearchIndex,
    built: bool,
) -> Result<SearchIndex, JsValue> {
    let mut changed = built;
    loop {
        let (messages, notes) = history::changed(vault, CHANGES_BATCH).await?;
        if notes.is_empty() {
            break;
        }
        for message in &messages {
            index.add(message);
        }
        // Stored before the notes go: a note is only ever lost once its
        // message is in the stored index.
        vault.put(RECORD, &index.to_bytes()).await?;
        history::forget_changes(vault, &notes).await?;
        changed = false;
        if notes.len() < CHANGES_BATCH as usize {
            break;
        }
    }
    if changed {
        vault.put(RECORD, &index.to_bytes()).await?;
    }
    Ok(index)
}

/// The newest messages that match `query` (in `chat`, if given), each
/// read back and checked.
async fn answer(
    vault: &Vault,
    index: &SearchIndex,
    query: &str,
    chat: Option<ChatId>,
) -> Result<Vec<Hit>, JsValue> {
    let mut hits = Vec::new();
    for (in_chat, id) in index.candidates(query, chat) {
        if hits.len() == SHOWN {
            break;
        }
        let Some(message) = history::message(vault, in_chat, &id).await? else {
            continue;
        };
        if !search::matches(&message, query) {
            continue;
        }
        let pieces = search::excerpt(search::searchable(&message).unwrap_or_default(), query);
        hits.push(Hit { message, pieces });
    }
    Ok(hits)
}
