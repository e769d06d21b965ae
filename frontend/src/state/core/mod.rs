//! The messenger core as this page runs it, loaded after the first paint
//! (#15: the lazily loaded module `core`): the shared [`Messenger`] with
//! its Olm/Megolm crypto, the socket ([`crate::net`]) and its sign-in, the
//! sealed store ([`store`]) and the browser's clock ([`env`]). The first
//! module's worker ([`super::worker`]) shows the chats from the store and
//! hands its job queue over to [`start`] once this module has arrived; from
//! then on [`Device`] carries out the jobs one at a time — so no two steps
//! ever touch the ratchets at once — and [`view`] shows what each changed.
//!
//! Each feature's jobs live in their own module (`account`, `devices`,
//! `groups`, `media`) as functions of [`Device`].

mod account;
mod changes;
mod devices;
mod env;
mod groups;
mod media;
mod store;
mod view;

use super::worker::{Local, js_text, sleep, text};
use super::{Job, Phase, Ui};
use crate::crypto::profile::{self, Profile};
use crate::crypto::vault::Vault;
use crate::lazy::Work;
use crate::net::requests::{Link, Requests};
use crate::net::socket::{Socket, SocketHandle};
use crate::net::transfer::Transfer;
use courier_shared::client::chat::ChatId;
use courier_shared::client::messenger::SavedAccount;
use courier_shared::client::{Event, Messenger};
use courier_shared::ids::MessageId;
use env::BrowserEnv;
use futures_channel::mpsc::{UnboundedReceiver, UnboundedSender};
use futures_util::StreamExt;
use leptos::prelude::*;
use std::collections::HashMap;
use std::rc::Rc;
use store::IdbStore;

/// The messenger core as this page runs it.
pub type Core = Messenger<Link, IdbStore, BrowserEnv>;

crate::lazy! { core, preload_core:
    /// Takes over from the first module's worker: connects, restores the
    /// saved account into the messenger core, carries out the jobs that
    /// waited for it (`pending`, in order), then every job of `jobs`.
    pub fn start(local: Local, pending: Vec<Job>, jobs: UnboundedReceiver<Job>) -> Work<()> {
        Box::pin(run(local, pending, jobs))
    }
}

/// Runs the core for the life of the page.
async fn run(local: Local, pending: Vec<Job>, mut jobs: UnboundedReceiver<Job>) {
    let ui = local.ui;
    let mut device = match Device::start(local).await {
        Ok(device) => device,
        Err(err) => {
            ui.phase.set(Phase::Failed(err));
            return;
        }
    };
    for job in pending {
        device.step(job).await;
    }
    while let Some(job) = jobs.next().await {
        device.step(job).await;
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
    /// The profile as last saved for the first module.
    profile: Option<Profile>,
}

impl Device {
    /// Connects and restores the saved account (if any) from what the first
    /// module loaded.
    async fn start(local: Local) -> Result<Self, String> {
        let (ui, vault, jobs) = (local.ui, local.vault, local.jobs);
        let requests = Requests::default();
        let answers = requests.clone();
        let events = jobs.clone();
        let on_event: Rc<dyn Fn(Event)> = Rc::new(move |event| {
            if let Some(event) = answers.offer(event) {
                let _ = events.unbounded_send(Job::Event(event));
            }
        });
        let socket = Socket::start(ui.status.write_only(), on_event);
        let server = Link {
            socket: socket.clone(),
            requests: requests.clone(),
        };
        let store = IdbStore(vault.clone());
        let core = match local.saved {
            None => Messenger::new(server, store, BrowserEnv),
            Some(bytes) => {
                let saved = SavedAccount::decode(&bytes).map_err(text)?;
                let (_, me) = saved
                    .crypto
                    .me()
                    .ok_or("the saved device never signed in")?;
                socket.sign_in(me, saved.crypto.signing_key());
                Messenger::restore(server, store, BrowserEnv, saved, local.index)
            }
        };
        let mut this = Self {
            core,
            socket,
            requests,
            ui,
            vault,
            jobs,
            uploads: HashMap::new(),
            retry_at: None,
            profile: local.profile,
        };
        view::show_account(&this);
        view::show_chats(&this);
        let ready = this.core.is_approved() && this.core.me().is_some();
        // Only a change re-renders: what the user typed meanwhile stays.
        let phase = if ready { Phase::Ready } else { Phase::Welcome };
        if ui.phase.get_untracked() != phase {
            ui.phase.set(phase);
        }
        // The conversation the user opened meanwhile is now read.
        let open = ui.open.get_untracked();
        this.looking().await?;
        this.core.open(open).await.map_err(text)?;
        view::show(&mut this);
        let people = this.core.profiles().iter().map(|p| ChatId::User(p.user));
        let groups = this
            .core
            .chats()
            .iter()
            .filter(|c| c.photo.1)
            .map(|c| c.chat);
        for chat in people.chain(groups).collect::<Vec<_>>() {
            let _ = this.jobs.unbounded_send(Job::ShowProfile(chat));
        }
        this.save_profile().await;
        ui.core.set(true);
        Ok(this)
    }

    /// Carries out `job` and shows what it changed.
    async fn step(&mut self, job: Job) {
        let outcome = self.handle(job).await;
        // What the step changed is shown even if it failed later.
        view::show(self);
        if let Err(err) = outcome {
            self.ui.notice.set(Some(err));
        }
        self.schedule_retry();
        self.save_profile().await;
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
            Job::Invite(make) => groups::invite(self, make).await,
            Job::JoinGroup(code) => groups::join(self, &code).await,
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
            Job::Older => super::worker::older(self.ui, &self.vault).await,
            Job::Gallery(limit) => self.gallery(limit).await,
            Job::Reveal(id) => super::worker::reveal(self.ui, &self.vault, id).await,
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
            Job::Organise(chat, settings) => self.core.organise(chat, settings).await.map_err(text),
            Job::SetTimer(chat, seconds) => self.core.set_timer(chat, seconds).await.map_err(text),
            Job::Typing(typing) => {
                self.core.typing(typing).await;
                Ok(())
            }
            Job::Visible => self.looking().await,
            Job::Flush => {
                self.retry_at = None;
                self.core.on_tick().await.map_err(text)
            }
            Job::CallSend(peer, id, content) => {
                self.core.send_call(peer, id, *content).await.map_err(text)
            }
            Job::CallLine(peer, id, line) => {
                self.core.call_line(peer, id, line).await.map_err(text)
            }
            Job::SetProfile(name, about, photo) => {
                self.core
                    .set_profile(&name, &about, photo)
                    .await
                    .map_err(text)?;
                self.ui.notice.set(Some("Profile saved.".into()));
                Ok(())
            }
            Job::ShowProfile(chat) => view::show_profile(self, chat).await,
            Job::IceServers(answer) => {
                let _ = answer.send(self.core.ice_servers().await);
                Ok(())
            }
            Job::Event(event) => {
                if let Event::Failed(refusal) = &event
                    && refusal.code == courier_shared::proto::ErrorCode::UnsupportedVersion
                {
                    // This page runs a build the server no longer speaks.
                    crate::pwa::reload_into_new_build();
                }
                self.core.on_event(event).await.map_err(text)
            }
            Job::Vault(work) => {
                (work.0)(self.vault.clone()).await;
                Ok(())
            }
            Job::Unlock(_) => Ok(()),
        }
    }

    /// The UI's handle, for the lazily loaded features the core calls.
    pub fn account(&self) -> super::Account {
        super::Account {
            jobs: self.jobs.clone(),
            ui: self.ui,
        }
    }

    /// Opens conversation `chat` (or none): its newest page of history, and
    /// its messages read if the user is looking.
    async fn open(&mut self, chat: Option<ChatId>) -> Result<(), String> {
        super::worker::show_open(self.ui, &self.vault, chat).await?;
        if chat.is_some() {
            self.looking().await?;
        }
        self.core.open(chat).await.map_err(text)
    }

    /// Shows the newest `limit` media messages of the open chat.
    async fn gallery(&mut self, limit: usize) -> Result<(), String> {
        let Some(chat) = self.ui.open.get_untracked() else {
            return Ok(());
        };
        let shown = self.core.shared_media(chat, limit).await.map_err(text)?;
        // The user may have opened another chat meanwhile.
        if self.ui.open.get_untracked() == Some(chat) {
            self.ui.gallery.set(Some(shown));
        }
        Ok(())
    }

    /// Tells the core whether the user is looking at the open chat (page
    /// visible, chats panel).
    async fn looking(&mut self) -> Result<(), String> {
        let looking =
            super::notify::visible() && self.ui.panel.get_untracked() == super::Panel::Chats;
        self.core.set_looking(looking).await.map_err(text)
    }

    /// Saves the profile for the next page load's first module, if it
    /// changed.
    async fn save_profile(&mut self) {
        let now = Profile {
            username: self.core.username().unwrap_or_default().to_owned(),
            me: self.core.me().map(|(user, _)| user),
            ready: self.core.is_approved() && self.core.me().is_some(),
        };
        if self.profile.as_ref() == Some(&now) {
            return;
        }
        match profile::save(&self.vault, &now).await {
            Ok(()) => self.profile = Some(now),
            Err(err) => self.ui.notice.set(Some(js_text(err))),
        }
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
