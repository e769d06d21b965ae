//! The worker's chat half: start and open conversations, send through the
//! outbox (kept in the sealed index until the server accepts), store what
//! arrives, and move the check marks as receipts come in.

use super::chat::{Mark, Message};
use super::notify;
use super::worker::{Device, js_text, message_id, now_ms, text};
use crate::crypto::history;
use courier_shared::client::Event;
use courier_shared::crypto::content::{Content, Plaintext};
use courier_shared::crypto::flow;
use courier_shared::ids::{MessageId, UserId};
use courier_shared::proto::{ClientFrame, ErrorCode, ReceiptKind, Text};
use leptos::prelude::*;

/// Messages loaded per page of history.
const PAGE: usize = 50;
/// How long a typing indicator shows without news, in milliseconds.
const TYPING_MS: f64 = 6_000.0;

impl Device {
    /// Loads the chat index and shows the chat list.
    pub(super) async fn load_chats(&mut self) -> Result<(), String> {
        self.index = history::index(&self.vault).await.map_err(js_text)?;
        self.show_chats();
        let peers: Vec<UserId> = self.index.chats.iter().map(|c| c.peer).collect();
        if !peers.is_empty() {
            self.socket.send(ClientFrame::Subscribe { users: peers });
        }
        Ok(())
    }

    fn show_chats(&self) {
        self.ui.chats.set(self.index.chats.clone());
        notify::set_title(self.index.chats.iter().map(|c| c.unread).sum());
    }

    async fn save_index(&mut self) -> Result<(), String> {
        history::save_index(&self.vault, &self.index)
            .await
            .map_err(js_text)?;
        self.show_chats();
        Ok(())
    }

    /// Starts (or opens) a chat with the user named `name`.
    pub(super) async fn start_chat(&mut self, name: &str) -> Result<(), String> {
        notify::ask_permission();
        let (user, username) = self.lookup(name).await?;
        if self.my_user() == Some(user) {
            return Err("That is you. Pick someone else to chat with.".into());
        }
        self.befriend(user).await?;
        self.index.chat(user, username.as_str());
        self.save_index().await?;
        self.open_chat(Some(user)).await
    }

    /// Lets `peer` see this user's presence and typing, and follows theirs.
    async fn befriend(&mut self, peer: UserId) -> Result<(), String> {
        let pick =
            move |e: &Event| matches!(e, Event::ContactUpdated { user, .. } if *user == peer);
        self.requests
            .ask(&self.socket, ClientFrame::AddContact { user: peer }, pick)
            .await
            .map_err(text)?;
        self.socket
            .send(ClientFrame::Subscribe { users: vec![peer] });
        Ok(())
    }

    /// Opens the conversation with `peer` (or none) and marks it read.
    pub(super) async fn open_chat(&mut self, peer: Option<UserId>) -> Result<(), String> {
        self.ui.open.set(peer);
        let Some(peer) = peer else {
            self.ui.messages.set(Vec::new());
            return Ok(());
        };
        let messages = history::page(&self.vault, peer, None, PAGE)
            .await
            .map_err(js_text)?;
        self.ui.has_older.set(messages.len() == PAGE);
        self.ui.messages.set(messages);
        self.mark_read(peer).await
    }

    /// Loads the page of history before the oldest message shown.
    pub(super) async fn older(&mut self) -> Result<(), String> {
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

    /// Tells `peer` that every shown message of theirs is read, if the user
    /// is looking at the conversation (page visible, chats panel, chat open).
    async fn mark_read(&mut self, peer: UserId) -> Result<(), String> {
        let looking = notify::visible()
            && self.ui.panel.get_untracked() == super::Panel::Chats
            && self.ui.open.get_untracked() == Some(peer);
        if !looking {
            return Ok(());
        }
        let unseen: Vec<Message> = self.ui.messages.with_untracked(|m| {
            m.iter()
                .filter(|m| !m.outgoing && !m.seen)
                .cloned()
                .collect()
        });
        for mut message in unseen.iter().cloned() {
            message.seen = true;
            self.store(&message).await?;
        }
        let ids: Vec<MessageId> = unseen.iter().map(|m| m.id).collect();
        for chunk in ids.chunks(512) {
            self.socket.send(ClientFrame::Receipt {
                to: peer,
                kind: ReceiptKind::Read,
                ids: chunk.to_vec(),
            });
        }
        if let Some(chat) = self.index.chats.iter_mut().find(|c| c.peer == peer)
            && chat.unread > 0
        {
            chat.unread = 0;
            self.save_index().await?;
        }
        Ok(())
    }

    /// Saves `message` and shows the change if its conversation is open.
    async fn store(&mut self, message: &Message) -> Result<(), String> {
        history::save_message(&self.vault, message)
            .await
            .map_err(js_text)?;
        if self.ui.open.get_untracked() == Some(message.peer) {
            self.ui.messages.update(
                |shown| match shown.iter_mut().find(|m| m.id == message.id) {
                    Some(old) => *old = message.clone(),
                    None => {
                        shown.push(message.clone());
                        shown.sort_by_key(|m| m.id);
                    }
                },
            );
        }
        Ok(())
    }

    /// Writes `text` to the open conversation: saved at once, sent when
    /// possible.
    pub(super) async fn send(
        &mut self,
        text_: &str,
        reply_to: Option<MessageId>,
    ) -> Result<(), String> {
        notify::ask_permission();
        let body = text_.trim();
        let Some(peer) = self.ui.open.get_untracked() else {
            return Ok(());
        };
        if body.is_empty() {
            return Ok(());
        }
        let id = message_id()?;
        let quoted = self.quote(peer, reply_to).await?;
        let message = Message {
            id,
            peer,
            outgoing: true,
            text: Some(body.to_owned()),
            problem: None,
            reply_to: quoted,
            mark: Mark::Pending,
            seen: true,
        };
        self.store(&message).await?;
        self.index.remember(id, peer);
        self.index.pending.push((id, peer));
        let chat = self.index.chat(peer, "");
        chat.preview = body.to_owned();
        chat.time = id.unix_ms();
        self.save_index().await?;
        self.socket.send(ClientFrame::Typing {
            to: peer,
            typing: false,
        });
        self.transmit(id, peer).await
    }

    /// The message `reply_to` of the conversation with `peer`, with its text,
    /// for a reply to quote (if it is in local history).
    async fn quote(
        &self,
        peer: UserId,
        reply_to: Option<MessageId>,
    ) -> Result<Option<(MessageId, String)>, String> {
        let Some(quoted) = reply_to else {
            return Ok(None);
        };
        let message = history::message(&self.vault, peer, &quoted)
            .await
            .map_err(js_text)?;
        Ok(message.map(|m| (quoted, m.text.unwrap_or_default())))
    }

    /// Sends every message of the outbox not yet handed to this connection.
    pub(super) async fn flush(&mut self) -> Result<(), String> {
        let pending: Vec<(MessageId, UserId)> = self.index.pending.clone();
        for (id, peer) in pending {
            if !self.in_flight.contains(&id) {
                self.transmit(id, peer).await?;
            }
        }
        Ok(())
    }

    /// Encrypts message `id` for every device it must reach and sends it.
    async fn transmit(&mut self, id: MessageId, peer: UserId) -> Result<(), String> {
        if !self.connected() {
            return Ok(());
        }
        let Some(mut message) = history::message(&self.vault, peer, &id)
            .await
            .map_err(js_text)?
        else {
            return Ok(());
        };
        let content = Content::Text {
            text: Text::truncating(message.text.as_deref().unwrap_or_default()),
            reply_to: message.reply_to.as_ref().map(|r| r.0),
        };
        let plain = Plaintext(id, peer, content);
        let (crypto, mut directory) = self.keys()?;
        match flow::encrypt_for(crypto, &mut directory, &plain, now_ms()).await {
            Ok(to) => {
                self.save().await?;
                self.in_flight.insert(id);
                self.socket.send(ClientFrame::Send { id, to });
                Ok(())
            }
            Err(err) => {
                message.problem = Some(err.to_string());
                self.store(&message).await
            }
        }
    }

    /// The server accepted or refused one of our messages.
    pub(super) async fn on_outcome(
        &mut self,
        id: MessageId,
        refused: Option<(ErrorCode, String)>,
    ) -> Result<(), String> {
        let Some(peer) = self
            .index
            .pending
            .iter()
            .find(|(m, _)| *m == id)
            .map(|(_, p)| *p)
        else {
            return Ok(());
        };
        self.in_flight.remove(&id);
        match refused {
            Some((ErrorCode::StaleDevices, _)) => {
                let (crypto, mut directory) = self.keys()?;
                let change = flow::refresh_recipients(crypto, &mut directory, peer).await;
                if change.is_ok_and(|c| c != courier_shared::crypto::device::KeyChange::None) {
                    self.ui.notice.set(Some(
                        "A contact's devices changed; messages now go to the new set.".into(),
                    ));
                }
                self.save().await?;
                self.transmit(id, peer).await
            }
            Some((ErrorCode::RateLimited | ErrorCode::Internal, _)) => Ok(()),
            outcome => {
                self.index.pending.retain(|(m, _)| *m != id);
                self.save_index().await?;
                if let Some(mut message) = history::message(&self.vault, peer, &id)
                    .await
                    .map_err(js_text)?
                {
                    match outcome {
                        None => message.mark = message.mark.max(Mark::Sent),
                        Some((_, reason)) => {
                            message.mark = Mark::Failed;
                            message.problem = Some(reason);
                        }
                    }
                    self.store(&message).await?;
                }
                Ok(())
            }
        }
    }

    /// Stores a decrypted message: from a contact, or a copy of one this
    /// user sent from another device. A group sender key is kept for when
    /// group messages arrive.
    pub(super) async fn on_text(
        &mut self,
        id: MessageId,
        (from, from_device): (UserId, courier_shared::ids::DeviceId),
        plain: Plaintext,
    ) -> Result<(), String> {
        if let Content::GroupKey { group, key, .. } = &plain.2 {
            let crypto = self
                .crypto
                .as_mut()
                .ok_or("no account on this device yet")?;
            crypto
                .groups()
                .receive_key(*group, from_device, key.as_bytes())
                .map_err(text)?;
            return self.save().await;
        }
        let me = self.my_user();
        let outgoing = me == Some(from);
        let peer = if outgoing { plain.1 } else { from };
        let Content::Text {
            text: body,
            reply_to,
        } = plain.2
        else {
            return Ok(());
        };
        if history::message(&self.vault, peer, &id)
            .await
            .map_err(js_text)?
            .is_some()
        {
            return Ok(());
        }
        let quoted = self.quote(peer, reply_to).await?;
        let message = Message {
            id,
            peer,
            outgoing,
            text: Some(body.as_str().to_owned()),
            problem: None,
            reply_to: quoted,
            mark: Mark::Sent,
            seen: outgoing,
        };
        self.arrived(message).await
    }

    /// Records a message that could not be decrypted: shown, never dropped.
    pub(super) async fn on_undecryptable(
        &mut self,
        id: MessageId,
        from: UserId,
        reason: String,
    ) -> Result<(), String> {
        let message = Message {
            id,
            peer: from,
            outgoing: false,
            text: None,
            problem: Some(reason),
            reply_to: None,
            mark: Mark::Sent,
            seen: false,
        };
        self.arrived(message).await
    }

    async fn arrived(&mut self, message: Message) -> Result<(), String> {
        let peer = message.peer;
        let known = self.index.chats.iter().any(|c| c.peer == peer);
        let name = if known {
            String::new()
        } else {
            self.name_of(peer)
                .await
                .unwrap_or_else(|_| format!("user {}", peer.0))
        };
        self.store(&message).await?;
        self.index.remember(message.id, peer);
        let preview = message
            .text
            .clone()
            .unwrap_or_else(|| "Message could not be decrypted".into());
        let chat = self.index.chat(peer, &name);
        chat.preview = preview.clone();
        chat.time = message.sent_at();
        if !message.outgoing {
            chat.unread += 1;
            let name = chat.name.clone();
            self.socket.send(ClientFrame::Receipt {
                to: peer,
                kind: ReceiptKind::Delivered,
                ids: vec![message.id],
            });
            notify::message(&name, &preview);
        }
        self.save_index().await?;
        if !known {
            self.befriend(peer).await?;
        }
        self.mark_read(peer).await
    }

    async fn name_of(&mut self, user: UserId) -> Result<String, String> {
        let pick = move |e: &Event| matches!(e, Event::UserInfo { user: u, .. } if *u == user);
        match self
            .requests
            .ask(&self.socket, ClientFrame::LookupUserId { user }, pick)
            .await
            .map_err(text)?
        {
            Event::UserInfo { username, .. } => Ok(username.as_str().to_owned()),
            _ => Err("no such user".into()),
        }
    }

    /// Receipts: check marks for our messages, or read state from this
    /// user's other devices.
    pub(super) async fn on_receipt(
        &mut self,
        from: UserId,
        kind: ReceiptKind,
        ids: Vec<MessageId>,
    ) -> Result<(), String> {
        let me = self.my_user();
        let mut read_elsewhere = Vec::new();
        for id in ids {
            let Some(peer) = self.index.peer_of(&id) else {
                continue;
            };
            let Some(mut message) = history::message(&self.vault, peer, &id)
                .await
                .map_err(js_text)?
            else {
                continue;
            };
            if Some(from) == me {
                if kind == ReceiptKind::Read && !message.outgoing && !message.seen {
                    message.seen = true;
                    self.store(&message).await?;
                    read_elsewhere.push(peer);
                }
            } else if message.outgoing {
                let mark = if kind == ReceiptKind::Read {
                    Mark::Read
                } else {
                    Mark::Delivered
                };
                if mark > message.mark {
                    message.mark = mark;
                    self.store(&message).await?;
                }
            }
        }
        if !read_elsewhere.is_empty() {
            for chat in self
                .index
                .chats
                .iter_mut()
                .filter(|c| read_elsewhere.contains(&c.peer))
            {
                let read = read_elsewhere.iter().filter(|p| **p == chat.peer).count();
                chat.unread = chat
                    .unread
                    .saturating_sub(u32::try_from(read).unwrap_or(u32::MAX));
            }
            self.save_index().await?;
        }
        Ok(())
    }

    /// A contact's typing indicator; it clears itself after a while.
    pub(super) fn on_typing(&self, from: UserId, typing: bool) {
        let until = js_sys::Date::now() + TYPING_MS;
        let typists = self.ui.typing;
        typists.update(|t| {
            if typing {
                t.insert(from, until);
            } else {
                t.remove(&from);
            }
        });
        if typing {
            leptos::task::spawn_local(async move {
                sleep(TYPING_MS as i32 + 50).await;
                typists.update(|t| {
                    if t.get(&from).is_some_and(|u| *u <= js_sys::Date::now()) {
                        t.remove(&from);
                    }
                });
            });
        }
    }

    /// This user is typing (or stopped) in the open conversation.
    pub(super) fn typing(&self, typing: bool) {
        if let Some(peer) = self.ui.open.get_untracked() {
            self.socket.send(ClientFrame::Typing { to: peer, typing });
        }
    }

    /// The page was shown or hidden.
    pub(super) async fn visible(&mut self, visible: bool) -> Result<(), String> {
        match self.ui.open.get_untracked() {
            Some(peer) if visible => self.mark_read(peer).await,
            _ => Ok(()),
        }
    }
}

/// Resolves after `ms` milliseconds.
async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}
