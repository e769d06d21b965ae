//! The device worker: owns the device's crypto state and carries out jobs
//! one at a time — onboarding, linking, removal, verification and every
//! incoming message — saving the sealed state after each change.

use super::chat::{ChatId, Index};
use super::key_changes;
use super::{Job, LinkView, Phase, SafetyView, Ui, saved};
use crate::crypto::lock;
use crate::crypto::vault::{Vault, random_bytes};
use crate::net::requests::{Link, Requests};
use crate::net::socket::SocketHandle;
use courier_shared::client::api::Directory;
use courier_shared::client::{Api, ConnectionState, Event};
use courier_shared::crypto::device::KeyChangeNotice;
use courier_shared::crypto::envelope::{Envelope, Sealed};
use courier_shared::crypto::link::{LinkHello, LinkSecret};
use courier_shared::crypto::{DeviceCrypto, flow, group_flow, safety};
use courier_shared::ids::{DeviceId, MessageId, RequestId, UserId, Username};
use courier_shared::proto::{ClientFrame, ServerFrame};
use futures_channel::mpsc::{UnboundedReceiver, UnboundedSender};
use futures_util::StreamExt;
use leptos::prelude::*;
use std::collections::HashMap;
use wasm_bindgen::JsValue;

/// A browser error as text.
pub(super) fn js_text(err: JsValue) -> String {
    err.as_string()
        .or_else(|| {
            js_sys::JSON::stringify(&err)
                .ok()
                .and_then(|s| s.as_string())
        })
        .unwrap_or_else(|| "the browser refused".into())
}

/// Any error as text.
pub(super) fn text(err: impl std::fmt::Display) -> String {
    err.to_string()
}

/// The wall clock (Unix ms).
pub(super) fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// A fresh message id.
/// This page's origin (`https://host:port`).
fn origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

pub(super) fn message_id() -> Result<MessageId, String> {
    Ok(MessageId::v7(
        now_ms(),
        random_bytes::<10>().map_err(js_text)?,
    ))
}

/// Runs the worker for the life of the page.
pub async fn run(
    socket: SocketHandle,
    requests: Requests,
    ui: Ui,
    (post, mut jobs): (UnboundedSender<Job>, UnboundedReceiver<Job>),
) {
    let mut device = match Device::open(socket, requests, ui, post).await {
        Ok(device) => device,
        Err(err) => {
            ui.phase.set(Phase::Failed(err));
            return;
        }
    };
    while let Some(job) = jobs.next().await {
        let outcome = device.handle(job).await;
        // Whatever the job found about contacts' keys is shown, even if the
        // job failed later.
        if let Err(err) = outcome.and(device.show_key_changes().await) {
            ui.notice.set(Some(err));
        }
    }
}

/// The device as the worker holds it.
pub(super) struct Device {
    pub(super) socket: SocketHandle,
    pub(super) requests: Requests,
    pub(super) ui: Ui,
    pub(super) vault: Vault,
    pub(super) crypto: Option<DeviceCrypto>,
    pub(super) username: String,
    pub(super) showing: Option<LinkSecret>,
    pub(super) joining: Option<LinkSecret>,
    /// The chats, recent message ids and the outbox.
    pub(super) index: Index,
    /// Outbox messages handed to the current connection, by the request
    /// they went as.
    pub(super) in_flight: HashMap<RequestId, MessageId>,
    /// Signed in on the current connection.
    pub(super) online: bool,
    /// Where work finished elsewhere (a media transfer) comes back as a job.
    pub(super) jobs: UnboundedSender<Job>,
    /// Media uploads under way, by message.
    pub(super) uploads: std::collections::HashMap<MessageId, crate::net::transfer::Transfer>,
}

impl Device {
    async fn open(
        socket: SocketHandle,
        requests: Requests,
        ui: Ui,
        jobs: UnboundedSender<Job>,
    ) -> Result<Self, String> {
        let vault = Vault::open().await.map_err(js_text)?;
        lock::hold(|| ui.phase.set(Phase::OtherTab))
            .await
            .map_err(js_text)?;
        let mut this = Self {
            socket,
            requests,
            ui,
            vault,
            crypto: None,
            username: String::new(),
            showing: None,
            joining: None,
            index: Index::default(),
            in_flight: HashMap::new(),
            online: false,
            jobs,
            uploads: std::collections::HashMap::new(),
        };
        match this.vault.load().await.map_err(js_text)? {
            None => ui.phase.set(Phase::Welcome),
            Some(bytes) => {
                let (username, crypto) = saved::decode(&bytes).map_err(text)?;
                let (_, device) = crypto.me().ok_or("the saved device never signed in")?;
                this.socket.sign_in(device, crypto.signing_key());
                let approved = crypto.is_approved();
                this.username = username;
                this.crypto = Some(crypto);
                this.show_devices();
                this.load_chats().await?;
                ui.phase.set(if approved {
                    Phase::Ready
                } else {
                    Phase::Welcome
                });
            }
        }
        Ok(this)
    }

    /// This device's user, once signed in.
    pub(super) fn my_user(&self) -> Option<UserId> {
        self.crypto
            .as_ref()
            .and_then(DeviceCrypto::me)
            .map(|(me, _)| me)
    }

    /// The id of the user named `name` (trimmed and validated), and the name.
    pub(super) async fn lookup(&mut self, name: &str) -> Result<(UserId, Username), String> {
        let username = Username::parse(name.trim()).map_err(text)?;
        let info = self.server().lookup_user(username).await.map_err(text)?;
        Ok((info.user, info.username))
    }

    /// The server, with typed requests.
    pub(super) fn server(&self) -> Link {
        Link {
            socket: self.socket.clone(),
            requests: self.requests.clone(),
        }
    }

    /// The crypto state with the key directory it talks to, borrowed
    /// together for the crypto core's flows.
    pub(super) fn keys(&mut self) -> Result<(&mut DeviceCrypto, Directory<Link>), String> {
        let server = self.server();
        let crypto = self
            .crypto
            .as_mut()
            .ok_or("no account on this device yet")?;
        Ok((crypto, Directory(server)))
    }

    pub(super) fn crypto(&mut self) -> Result<&mut DeviceCrypto, String> {
        self.crypto
            .as_mut()
            .ok_or_else(|| "no account on this device yet".into())
    }

    /// Seals and saves the device's state.
    pub(super) async fn save(&mut self) -> Result<(), String> {
        let Some(crypto) = &self.crypto else {
            return Ok(());
        };
        let bytes = saved::encode(&self.username, crypto);
        self.vault.save(&bytes).await.map_err(js_text)
    }

    fn show_devices(&self) {
        let Some(crypto) = &self.crypto else { return };
        let Some((user, me)) = crypto.me() else {
            return;
        };
        let devices = crypto
            .user(user)
            .map(|c| c.list.devices().iter().map(|d| (d.0, d.0 == me)).collect())
            .unwrap_or_default();
        self.ui.devices.set(devices);
        self.ui.username.set(self.username.clone());
        self.ui.me.set(Some(user));
    }

    async fn handle(&mut self, job: Job) -> Result<(), String> {
        match job {
            Job::Register(name) => self.register(&name).await,
            Job::Join(code) => self.join(&code).await,
            Job::ShowLink => self.show_link().await,
            Job::Remove(device) => self.remove(device).await,
            Job::Verify(name) => self.verify(&name).await,
            Job::MarkVerified(name) => self.mark_verified(&name).await,
            Job::SetContact(user, contact) => self.set_contact(user, contact).await,
            Job::StartChat(name) => self.start_chat(&name).await,
            Job::Open(chat) => self.open_chat(chat).await,
            Job::CreateGroup(name, members) => self.create_group(&name, &members).await,
            Job::Group(action) => self.group_action(action).await,
            Job::Attach(file) => self.attach(file).await,
            Job::Voice(note) => self.send_voice(note).await,
            Job::Uploaded(id, chat, outcome) => self.uploaded(id, chat, outcome).await,
            Job::CancelUpload(id) => {
                if let Some(transfer) = self.uploads.get(&id) {
                    transfer.cancel();
                }
                Ok(())
            }
            Job::Fetch(id) => self.fetch(id).await,
            Job::Forward(id, to) => self.forward(id, to).await,
            Job::Older => self.older().await,
            Job::Send(body, reply_to) => self.send(&body, reply_to).await,
            Job::Typing(typing) => {
                self.typing(typing);
                Ok(())
            }
            Job::Visible(visible) => self.visible(visible).await,
            Job::Flush => self.flush().await,
            Job::Event(event) => self.on_event(event).await,
        }
    }

    /// Waits for the sign-in that the last identity change started.
    async fn signed_in(&mut self) -> Result<(UserId, DeviceId), String> {
        match self.requests.next_sign_in().await {
            Some(Event::SignedIn { user, device }) => Ok((user, device)),
            Some(Event::SignInRefused(refusal) | Event::Failed(refusal)) => Err(refusal.message),
            _ => Err("the server did not answer".into()),
        }
    }

    async fn register(&mut self, name: &str) -> Result<(), String> {
        let username = Username::parse(name.trim()).map_err(text)?;
        let crypto = DeviceCrypto::new(random_bytes::<32>().map_err(js_text)?);
        self.socket.register(username.clone(), crypto.signing_key());
        let (user, device) = self.signed_in().await?;
        self.online = true;
        let mut crypto = crypto;
        crypto.set_me(user, device);
        self.crypto = Some(crypto);
        self.username = username.as_str().to_owned();
        self.save().await?;
        self.top_up_prekeys().await?;
        let account_seed = random_bytes::<32>().map_err(js_text)?;
        let list = self.crypto()?.found_account(account_seed).map_err(text)?;
        self.publish_list(list).await?;
        self.ui.phase.set(Phase::Ready);
        Ok(())
    }

    async fn join(&mut self, code: &str) -> Result<(), String> {
        let secret = LinkSecret::parse(code).map_err(text)?;
        let crypto = DeviceCrypto::new(random_bytes::<32>().map_err(js_text)?);
        self.socket.link(secret.id(), crypto.signing_key());
        let (user, device) = self.signed_in().await?;
        self.online = true;
        let mut crypto = crypto;
        crypto.set_me(user, device);
        let hello = LinkHello(device, crypto.signing_public(), crypto.identity_key());
        self.crypto = Some(crypto);
        self.save().await?;
        self.top_up_prekeys().await?;
        let own = self.fetch_list(user).await?;
        let sealed = secret
            .seal_hello(&hello, random_bytes::<12>().map_err(js_text)?)
            .map_err(text)?;
        self.send_sealed(own, sealed)?;
        self.joining = Some(secret);
        self.ui.phase.set(Phase::Joining);
        Ok(())
    }

    async fn fetch_list(&mut self, user: UserId) -> Result<Vec<DeviceId>, String> {
        let list = self
            .server()
            .fetch_device_list(user)
            .await
            .map_err(text)?
            .list
            .ok_or("the account has no devices")?;
        Ok(list
            .open()
            .map_err(text)?
            .devices()
            .iter()
            .map(|d| d.0)
            .collect())
    }

    fn send_sealed(&mut self, to: Vec<DeviceId>, sealed: Vec<u8>) -> Result<(), String> {
        let body = Sealed::new(sealed).ok_or("too large")?;
        let payload = Envelope::Link { body }.to_payload().map_err(text)?;
        self.socket.request(ClientFrame::SendFanout {
            request: RequestId::NONE,
            id: message_id()?,
            to,
            payload,
        });
        Ok(())
    }

    async fn top_up_prekeys(&mut self) -> Result<(), String> {
        let count = self
            .server()
            .publish_keys(Vec::new(), None)
            .await
            .map_err(text)?;
        let (one_time, fallback) = self.crypto()?.prekeys_to_publish(count);
        if one_time.is_empty() && fallback.is_none() {
            return Ok(());
        }
        self.server()
            .publish_keys(one_time, fallback)
            .await
            .map_err(text)?;
        self.save().await
    }

    async fn publish_list(
        &mut self,
        list: courier_shared::crypto::device_list::SignedDeviceList,
    ) -> Result<(), String> {
        let (user, _) = self.crypto()?.require_me().map_err(text)?;
        self.server()
            .publish_device_list(list.clone())
            .await
            .map_err(text)?;
        self.crypto()?.accept_list(user, &list).map_err(text)?;
        self.save().await?;
        self.show_devices();
        Ok(())
    }

    async fn show_link(&mut self) -> Result<(), String> {
        let secret = LinkSecret::from_random(random_bytes::<16>().map_err(js_text)?);
        self.server().create_link(secret.id()).await.map_err(text)?;
        self.ui.link.set(Some(LinkView {
            code: secret.code(),
            qr: safety::qr_svg(&secret.link_url(&origin())).unwrap_or_default(),
        }));
        self.showing = Some(secret);
        Ok(())
    }

    async fn remove(&mut self, device: DeviceId) -> Result<(), String> {
        let list = self.crypto()?.remove_device(device).map_err(text)?;
        self.publish_list(list).await?;
        self.ui
            .notice
            .set(Some(format!("Device {} was removed.", device.0)));
        Ok(())
    }

    async fn verify(&mut self, name: &str) -> Result<(), String> {
        let (user, username) = self.lookup(name).await?;
        let (crypto, mut directory) = self.keys()?;
        let was_verified = crypto.is_verified(user);
        let change = flow::refresh(crypto, &mut directory, user)
            .await
            .map_err(text)?;
        let notice = KeyChangeNotice {
            user,
            change,
            was_verified,
        };
        let warning = key_changes::warning(username.as_str(), &notice);
        let verified = crypto.is_verified(user);
        let number = crypto.safety_number(user).ok_or("no safety number yet")?;
        let qr = crypto
            .safety_qr_text(user)
            .and_then(|t| safety::qr_svg(&t))
            .unwrap_or_default();
        self.ui.safety.set(Some(SafetyView {
            username: username.as_str().to_owned(),
            number,
            qr,
            warning,
            verified,
        }));
        self.save().await
    }

    async fn on_event(&mut self, event: Event) -> Result<(), String> {
        match event {
            Event::SignedIn { .. } if self.crypto.is_some() => {
                self.online = true;
                self.in_flight.clear();
                self.subscribe_presence();
                self.top_up_prekeys().await?;
                self.flush().await
            }
            Event::Message {
                id,
                from,
                from_device,
                payload,
                ..
            } => {
                self.on_message(id, (from, from_device), payload.as_bytes())
                    .await?;
                // A peer used one of this device's one-time keys: refill the
                // server's stock now rather than at the next sign-in.
                if self.crypto()?.take_one_time_key_used() {
                    self.top_up_prekeys().await?;
                }
                // Stored (or known already): the server may drop it now. Had
                // anything failed, no ack: it comes again on the next
                // connection.
                self.socket.notify(ClientFrame::Ack { ids: vec![id] });
                Ok(())
            }
            Event::Answer { request, answer } => match self.in_flight.remove(&request) {
                Some(id) => {
                    let refused = answer.err().map(|r| (r.code, r.message));
                    self.on_outcome(id, refused).await
                }
                None => {
                    if let Ok(ServerFrame::PresenceList { users, .. }) = answer {
                        self.ui.presence.update(|p| {
                            for (user, online, last_seen) in users {
                                p.insert(user, (online, last_seen));
                            }
                        });
                    }
                    Ok(())
                }
            },
            Event::Receipt {
                id,
                from,
                kind,
                ids,
                ..
            } => {
                self.on_receipt(from, kind, ids).await?;
                self.socket.notify(ClientFrame::Ack { ids: vec![id] });
                Ok(())
            }
            Event::Presence {
                user,
                online,
                last_seen,
            } => {
                self.ui.presence.update(|p| {
                    p.insert(user, (online, last_seen));
                });
                Ok(())
            }
            Event::Typing { from, typing } => {
                self.on_typing(from, typing);
                Ok(())
            }
            Event::Failed(refusal) => {
                if refusal.code == courier_shared::proto::ErrorCode::UnsupportedVersion {
                    crate::pwa::reload_into_new_build();
                }
                self.ui.notice.set(Some(refusal.message));
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Whether the connection is up and signed in.
    pub(super) fn connected(&self) -> bool {
        self.online && self.ui.status.get_untracked().state == ConnectionState::Online
    }

    async fn on_message(
        &mut self,
        id: MessageId,
        from: (UserId, DeviceId),
        payload: &[u8],
    ) -> Result<(), String> {
        let own = self.my_user() == Some(from.0);
        match Envelope::from_payload(payload) {
            Ok(Envelope::Link { body }) if own => self.on_link(from.1, body.as_bytes()).await,
            Ok(Envelope::Link { .. }) => Ok(()),
            envelope => {
                let chat = match envelope {
                    Ok(Envelope::Group { group, .. }) => ChatId::Group(group),
                    _ => ChatId::User(from.0),
                };
                let (crypto, mut directory) = self.keys()?;
                let result =
                    group_flow::receive(crypto, &mut directory, from, id, payload, now_ms()).await;
                self.save().await?;
                match result {
                    Ok(incoming) => self.on_incoming(id, from, incoming).await,
                    Err(err) => {
                        self.on_undecryptable(id, from.0, chat, err.to_string())
                            .await
                    }
                }
            }
        }
    }

    /// A sealed link message from another device of this account: a hello
    /// for the code on screen, or the welcome this device waits for.
    async fn on_link(&mut self, from_device: DeviceId, sealed: &[u8]) -> Result<(), String> {
        if let Some(secret) = self.showing.clone()
            && let Ok(hello) = secret.open_hello(sealed)
        {
            if hello.0 != from_device {
                return Err("a link hello came from another device than it names".into());
            }
            return self.approve(&secret, &hello).await;
        }
        if let Some(secret) = self.joining.clone()
            && let Ok(welcome) = secret.open_welcome(sealed)
        {
            self.crypto()?.accept_welcome(&welcome).map_err(text)?;
            self.username = welcome.2.as_str().to_owned();
            self.joining = None;
            self.save().await?;
            self.show_devices();
            self.ui.phase.set(Phase::Ready);
        }
        Ok(())
    }

    async fn approve(&mut self, secret: &LinkSecret, hello: &LinkHello) -> Result<(), String> {
        let (user, _) = self.crypto()?.require_me().map_err(text)?;
        let registered = self
            .server()
            .fetch_device_list(user)
            .await
            .map_err(text)?
            .registered;
        let key = registered
            .iter()
            .find(|(d, _)| *d == hello.0)
            .ok_or("the new device is not registered")?
            .1;
        let username = Username::parse(&self.username).map_err(text)?;
        let (list, welcome) = self
            .crypto()?
            .approve_link(hello, &key, &username)
            .map_err(text)?;
        self.publish_list(list).await?;
        let others: Vec<DeviceId> = self
            .crypto()?
            .recipients(user)
            .map_err(text)?
            .iter()
            .map(|d| d.0)
            .collect();
        let sealed = secret
            .seal_welcome(&welcome, random_bytes::<12>().map_err(js_text)?)
            .map_err(text)?;
        self.send_sealed(others, sealed)?;
        self.showing = None;
        self.ui.link.set(None);
        self.ui.notice.set(Some(format!(
            "Device {} is now linked to your account.",
            hello.0.0
        )));
        Ok(())
    }
}
