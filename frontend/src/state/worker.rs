//! The device worker's first part, in the first module: it opens the vault,
//! takes the one-tab lock, shows the chat list from the sealed chat index
//! and chooses the page (welcome or chats) from the saved [`Profile`] —
//! all local, so the chats show before the messenger core (crypto, socket:
//! [`super::core`], a lazily loaded module) has arrived. Meanwhile it
//! opens conversations and pages through their history from the store;
//! every other job (a send, a sign-up) waits in order until the core takes
//! the queue over, right after its module has loaded. The core's fetch
//! starts after the first paint, off the critical path.

use super::{Job, Phase, Ui, core, notify};
use crate::crypto::history;
use crate::crypto::lock;
use crate::crypto::profile::{self, Profile};
use crate::crypto::vault::Vault;
use courier_shared::client::chat::{ChatId, Index};
use courier_shared::ids::MessageId;
use futures_channel::mpsc::{UnboundedReceiver, UnboundedSender};
use futures_util::StreamExt;
use futures_util::future::{Either, select};
use leptos::prelude::*;
use std::rc::Rc;
use wasm_bindgen::JsValue;

/// Messages loaded per page of history.
pub const PAGE: usize = 50;

/// A browser error as text.
pub fn js_text(err: JsValue) -> String {
    err.as_string()
        .or_else(|| {
            js_sys::JSON::stringify(&err)
                .ok()
                .and_then(|s| s.as_string())
        })
        .unwrap_or_else(|| "the browser refused".into())
}

/// Any error as text.
pub fn text(err: impl std::fmt::Display) -> String {
    err.to_string()
}

/// What the first module loaded, handed to the core.
pub struct Local {
    /// What the pages show.
    pub ui: Ui,
    /// The sealed records.
    pub vault: Rc<Vault>,
    /// The job queue's sending end (the socket and timers post to it).
    pub jobs: UnboundedSender<Job>,
    /// The saved account (name and crypto state), if any.
    pub saved: Option<Vec<u8>>,
    /// The chat index (with the outbox).
    pub index: Index,
    /// The profile as saved, if any.
    pub profile: Option<Profile>,
}

/// Runs the worker for the life of the page: the local part until the
/// core's module has loaded, then the core.
pub async fn run(ui: Ui, (post, mut jobs): (UnboundedSender<Job>, UnboundedReceiver<Job>)) {
    let local = match Local::start(ui, post, &mut jobs).await {
        Ok(local) => local,
        Err(err) => {
            ui.phase.set(Phase::Failed(err));
            return;
        }
    };
    let mut pending = Vec::new();
    let mut loaded = Box::pin(load_core(ui));
    loop {
        match select(jobs.next(), loaded).await {
            Either::Left((Some(job), still)) => {
                loaded = still;
                if let Some(job) = local.handle(job).await {
                    pending.push(job);
                }
            }
            Either::Left((None, _)) => return,
            Either::Right(((), _)) => break,
        }
    }
    match core::start(local, pending, jobs).await {
        Ok(core) => core.await,
        Err(err) => ui.phase.set(Phase::Failed(err.to_string())),
    }
}

/// Resolves once the core's module has loaded; starts fetching it after
/// the first paint.
async fn load_core(ui: Ui) {
    after_first_paint().await;
    if core::preload_core().await.is_err() {
        // The page cannot send without it: say so, and reload into the
        // server's build if a new one replaced this one's modules.
        ui.notice.set(Some(
            "Courier could not load its encryption; reload the page to try again.".into(),
        ));
        crate::lazy::recover();
        std::future::pending::<()>().await;
    }
}

/// Resolves when the page has painted (two animation frames).
async fn after_first_paint() {
    for _ in 0..2 {
        let frame = js_sys::Promise::new(&mut |resolve, _| {
            request_animation_frame(move || {
                let _ = resolve.call0(&JsValue::NULL);
            });
        });
        let _ = wasm_bindgen_futures::JsFuture::from(frame).await;
    }
}

impl Local {
    /// Opens the saved state and shows what the page can show without the
    /// core: the chat list, the account's name and the page for its phase.
    async fn start(
        ui: Ui,
        jobs: UnboundedSender<Job>,
        queue: &mut UnboundedReceiver<Job>,
    ) -> Result<Self, String> {
        lock::hold(|| ui.phase.set(Phase::OtherTab))
            .await
            .map_err(js_text)?;
        // With the app lock on, the lock screen (its own module) posts the
        // key; nothing else can happen before.
        let unlocked = async || {
            ui.phase.set(Phase::Locked);
            while let Some(job) = queue.next().await {
                if let Job::Unlock(key) = job {
                    ui.phase.set(Phase::Starting);
                    return Ok(key);
                }
            }
            Err(JsValue::from_str("the page is closing"))
        };
        let vault = Rc::new(Vault::open(unlocked).await.map_err(js_text)?);
        // The three reads at once: each is a round trip to the browser's
        // database on the path to the first paint (a new browser has none
        // of them, and reads three absent records as fast as one).
        let (saved, index, profile) = futures_util::future::join3(
            vault.load(),
            history::index(&vault),
            profile::load(&vault),
        )
        .await;
        let saved = saved.map_err(js_text)?;
        let (index, profile) = if saved.is_some() {
            (index.map_err(js_text)?, profile.map_err(js_text)?)
        } else {
            (Index::default(), None)
        };
        notify::set_title(index.chats.iter().map(|c| c.unread).sum());
        ui.chats.set(index.chats.clone());
        ui.names.set(index.names.iter().cloned().collect());
        match (&saved, &profile) {
            (None, _) => ui.phase.set(Phase::Welcome),
            (Some(_), Some(known)) => {
                ui.username.set(known.username.clone());
                ui.me.set(known.me);
                ui.phase.set(if known.ready {
                    Phase::Ready
                } else {
                    Phase::Welcome
                });
            }
            // Saved by a build before profiles: the core decides.
            (Some(_), None) => {}
        }
        Ok(Self {
            ui,
            vault,
            jobs,
            saved,
            index,
            profile,
        })
    }

    /// Carries out what needs no core (opening a conversation, older
    /// history); gives back a job that must wait for the core.
    async fn handle(&self, job: Job) -> Option<Job> {
        let done = match job {
            Job::Open(chat) => show_open(self.ui, &self.vault, chat).await,
            Job::Older => older(self.ui, &self.vault).await,
            Job::Vault(work) => {
                (work.0)(self.vault.clone()).await;
                Ok(())
            }
            // The core looks at visibility and typing when it starts.
            Job::Visible | Job::Typing(_) | Job::Unlock(_) => Ok(()),
            job => return Some(job),
        };
        if let Err(err) = done {
            self.ui.notice.set(Some(err));
        }
        None
    }
}

/// Shows conversation `chat` (or none) with its newest page of history.
pub async fn show_open(ui: Ui, vault: &Vault, chat: Option<ChatId>) -> Result<(), String> {
    ui.open.set(chat);
    ui.gallery.set(None);
    let Some(peer) = chat else {
        ui.messages.set(Vec::new());
        return Ok(());
    };
    let messages = history::page(vault, peer, None, PAGE)
        .await
        .map_err(js_text)?;
    ui.has_older.set(messages.len() == PAGE);
    ui.messages.set(messages);
    Ok(())
}

/// Loads the page of history before the oldest message shown.
pub async fn older(ui: Ui, vault: &Vault) -> Result<(), String> {
    let Some(peer) = ui.open.get_untracked() else {
        return Ok(());
    };
    let Some(first) = ui.messages.with_untracked(|m| m.first().map(|m| m.id)) else {
        return Ok(());
    };
    let older = history::page(vault, peer, Some(&first), PAGE)
        .await
        .map_err(js_text)?;
    ui.has_older.set(older.len() == PAGE);
    ui.messages.update(|shown| {
        let mut all = older;
        all.append(shown);
        *shown = all;
    });
    Ok(())
}

/// Loads the open conversation's history back to message `id` (if it is
/// older than what is shown) and asks for it to be brought into view.
pub async fn reveal(ui: Ui, vault: &Vault, id: MessageId) -> Result<(), String> {
    let Some(chat) = ui.open.get_untracked() else {
        return Ok(());
    };
    let first = ui.messages.with_untracked(|m| m.first().map(|m| m.id));
    if let Some(first) = first.filter(|first| id < *first) {
        let (between, before) = futures_util::future::join(
            history::between(vault, chat, &id, &first),
            history::page(vault, chat, Some(&id), 1),
        )
        .await;
        let (mut between, before) = (between.map_err(js_text)?, before.map_err(js_text)?);
        ui.has_older.set(!before.is_empty());
        ui.messages.update(|shown| {
            between.append(shown);
            *shown = between;
        });
    }
    ui.reveal.set(Some(id));
    Ok(())
}

/// Resolves after `ms` milliseconds.
pub async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}
