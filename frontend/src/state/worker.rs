//! The device worker: owns the messenger core ([`Core`]) and carries out
//! jobs one at a time — so no two steps ever touch the ratchets at once —
//! then shows what the core says changed ([`super::view`]).
//!
//! Each feature's jobs live in their own module (`account`, `devices`,
//! `groups`, `media`) as functions of [`Device`], so that a feature can be
//! loaded on first use.

use super::env::BrowserEnv;
use super::store::IdbStore;
use super::{Job, Phase, Ui, account, changes, devices, groups, media, view};
use crate::crypto::history;
use crate::crypto::lock;
use crate::crypto::vault::Vault;
use crate::net::requests::{Link, Requests};
use crate::net::socket::SocketHandle;
use crate::net::transfer::Transfer;
use courier_shared::client::Messenger;
use courier_shared::client::chat::{ChatId, Index};
use courier_shared::client::messenger::SavedAccount;
use courier_shared::ids::MessageId;
use futures_channel::mpsc::{UnboundedReceiver, UnboundedSender};
use futures_util::StreamExt;
use leptos::prelude::*;
use std::collections::HashMap;
use std::rc::Rc;
use wasm_bindgen::JsValue;

/// The messenger core as this page runs it.
pub type Core = Messenger<Link, IdbStore, BrowserEnv>;

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

/// Runs the worker for the life of the page.
pub async fn run(
    socket: SocketHandle,
    requests: Requests,
    ui: Ui,
    (post, mut jobs): (UnboundedSender<Job>, UnboundedReceiver<Job>),
) {
    let mut device = match Device::start(socket, requests, ui, post).await {
        Ok(device) => device,
        Err(err) => {
            ui.phase.set(Phase::Failed(err));
            return;
        }
    };
    while let Some(job) = jobs.next().await {
        let outcome = device.handle(job).await;
        // What the step changed is shown even if it failed later.
        view::show(&mut device);
        if let Err(err) = outcome {
            ui.notice.set(Some(err));
        }
        device.schedule_retry();
    }
}

/// The device as the worker holds it.
pub struct Device {
    /// The messenger core.
    pub core: Core,
    /// The connection.
    pub socket: SocketHandle,
    /// Where answers to awaited requests arrive.
    pub requests: Requests,
    /// What the pages show.
    pub ui: Ui,
    /// The sealed records (history pages are read straight from it).
    pub vault: Rc<Vault>,
    /// Where work finished elsewhere (a media transfer, a timer) comes back.
    pub jobs: UnboundedSender<Job>,
    /// Media uploads under way, by message.
    pub uploads: HashMap<MessageId, Transfer>,
    /// When the outbox's next retry is due, if a timer is set for it.
    retry_at: Option<u64>,
}

impl Device {
    async fn start(
        socket: SocketHandle,
        requests: Requests,
        ui: Ui,
        jobs: UnboundedSender<Job>,
    ) -> Result<Self, String> {
        let vault = Rc::new(Vault::open().await.map_err(js_text)?);
        lock::hold(|| ui.phase.set(Phase::OtherTab))
            .await
            .map_err(js_text)?;
        let server = Link {
            socket: socket.clone(),
            requests: requests.clone(),
        };
        let store = IdbStore(vault.clone());
        let core = match vault.load().await.map_err(js_text)? {
            None => Messenger::new(server, store, BrowserEnv),
            Some(bytes) => {
                let saved = SavedAccount::decode(&bytes).map_err(text)?;
                let (_, me) = saved
                    .crypto
                    .me()
                    .ok_or("the saved device never signed in")?;
                socket.sign_in(me, saved.crypto.signing_key());
                let index: Index = history::index(&vault).await.map_err(js_text)?;
                Messenger::restore(server, store, BrowserEnv, saved, index)
            }
        };
        let ready = core.is_approved();
        let known = core.me().is_some();
        let this = Self {
            core,
            socket,
            requests,
            ui,
            vault,
            jobs,
            uploads: HashMap::new(),
            retry_at: None,
        };
        view::show_account(&this);
        view::show_chats(&this);
        ui.phase.set(if known && ready {
            Phase::Ready
        } else {
            Phase::Welcome
        });
        Ok(this)
    }

    async fn handle(&mut self, job: Job) -> Result<(), String> {
        match job {
            Job::Register(name) => account::register(self, &name).await,
            Job::Join(code) => account::join(self, &code).await,
            Job::ShowLink => devices::show_link(self).await,
            Job::Remove(device) => devices::remove(self, device).await,
            Job::Verify(name) => devices::verify(self, &name).await,
            Job::MarkVerified(name) => devices::mark_verified(self, &name).await,
            Job::CreateGroup(name, members) => groups::create(self, &name, &members).await,
            Job::Group(action) => groups::change(self, action).await,
            Job::Attach(file) => media::attach(self, file).await,
            Job::Voice(note) => media::voice(self, note).await,
            Job::Uploaded(id, chat, outcome) => media::uploaded(self, id, chat, outcome).await,
            Job::CancelUpload(id) => {
                media::cancel(self, id);
                Ok(())
            }
            Job::Fetch(id) => media::fetch(self, id).await,
            Job::AutoFetch(message) => media::auto_fetch(self, *message).await,
            Job::Forward(id, to) => media::forward(self, id, to).await,
            Job::SetContact(user, contact) => {
                self.core.set_contact(user, contact).await.map_err(text)
            }
            Job::StartChat(name) => {
                let chat = self.core.start_chat(&name).await.map_err(text)?;
                self.open(Some(chat)).await
            }
            Job::Open(chat) => self.open(chat).await,
            Job::Older => self.older().await,
            Job::Send(body, reply_to) => {
                let Some(chat) = self.ui.open.get_untracked() else {
                    return Ok(());
                };
                self.core
                    .send_text(chat, &body, reply_to)
                    .await
                    .map(|_| ())
                    .map_err(text)
            }
            Job::Change(id, change) => changes::apply(self, id, change).await,
            Job::Typing(typing) => {
                self.core.typing(typing).await;
                Ok(())
            }
            Job::Visible => self.looking().await,
            Job::Flush => {
                self.retry_at = None;
                self.core.on_tick().await.map_err(text)
            }
            Job::Event(event) => {
                if let courier_shared::client::Event::Failed(refusal) = &event
                    && refusal.code == courier_shared::proto::ErrorCode::UnsupportedVersion
                {
                    // This page runs a build the server no longer speaks.
                    crate::pwa::reload_into_new_build();
                }
                self.core.on_event(event).await.map_err(text)
            }
        }
    }

    /// Opens conversation `chat` (or none): its newest page of history, and
    /// its messages read if the user is looking.
    async fn open(&mut self, chat: Option<ChatId>) -> Result<(), String> {
        self.ui.open.set(chat);
        let Some(peer) = chat else {
            self.ui.messages.set(Vec::new());
            return self.core.open(None).await.map_err(text);
        };
        let messages = history::page(&self.vault, peer, None, PAGE)
            .await
            .map_err(js_text)?;
        self.ui.has_older.set(messages.len() == PAGE);
        self.ui.messages.set(messages);
        self.looking().await?;
        self.core.open(chat).await.map_err(text)
    }

    /// Tells the core whether the user is looking at the open chat (page
    /// visible, chats panel).
    async fn looking(&mut self) -> Result<(), String> {
        let looking =
            super::notify::visible() && self.ui.panel.get_untracked() == super::Panel::Chats;
        self.core.set_looking(looking).await.map_err(text)
    }

    /// Loads the page of history before the oldest message shown.
    async fn older(&mut self) -> Result<(), String> {
        let Some(peer) = self.ui.open.get_untracked() else {
            return Ok(());
        };
        let Some(first) = self.ui.messages.with_untracked(|m| m.first().map(|m| m.id)) else {
            return Ok(());
        };
        let older = history::page(&self.vault, peer, Some(&first), PAGE)
            .await
            .map_err(js_text)?;
        self.ui.has_older.set(older.len() == PAGE);
        self.ui.messages.update(|shown| {
            let mut all = older;
            all.append(shown);
            *shown = all;
        });
        Ok(())
    }

    /// Sets a timer for the outbox's next retry, if one is due and none is
    /// set for it.
    fn schedule_retry(&mut self) {
        let Some(at) = self.core.next_retry() else {
            return;
        };
        if self.retry_at.is_some_and(|set| set <= at) {
            return;
        }
        self.retry_at = Some(at);
        let wait = at.saturating_sub(js_sys::Date::now() as u64);
        let jobs = self.jobs.clone();
        leptos::task::spawn_local(async move {
            sleep(i32::try_from(wait).unwrap_or(i32::MAX)).await;
            let _ = jobs.unbounded_send(Job::Flush);
        });
    }
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
