//! The worker's chat half: start and open conversations, send through the
//! outbox (kept in the sealed index until the server accepts), store what
//! arrives, and move the check marks as receipts come in.

use super::chat::{ChatId, Mark, Message};
use super::notify;
use super::worker::{Device, js_text, message_id, now_ms, text};
use crate::crypto::history;
use courier_shared::client::Api;
use courier_shared::crypto::content::{Content, Plaintext};
use courier_shared::crypto::flow;
use courier_shared::crypto::group_flow::Incoming;
use courier_shared::ids::{MessageId, RequestId, UserId};
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
        self.ui
            .names
            .set(self.index.names.iter().cloned().collect());
        Ok(())
    }

    /// Follows the presence of everyone this user chats with one to one.
    /// The server forgets a connection's subscriptions when it closes, so
    /// this runs after every sign-in.
    pub(super) fn subscribe_presence(&self) {
        let peers: Vec<UserId> = self
            .index
            .chats
            .iter()
            .filter_map(|c| c.chat.user())
            .collect();
        if !peers.is_empty() {
            // The answer (their presence now) comes as an event.
            self.socket.request(ClientFrame::Subscribe {
                request: RequestId::NONE,
                users: peers,
            });
        }
    }

    fn show_chats(&self) {
        self.ui.chats.set(self.index.chats.clone());
        notify::set_title(self.index.chats.iter().map(|c| c.unread).sum());
    }

    pub(super) async fn save_index(&mut self) -> Result<(), String> {
        history::save_index(&self.vault, &self.index)
            .await
            .map_err(js_text)?;
        self.show_chats();
        Ok(())
    }

    /// Starts (or opens) a chat with the user named `name`.
    pub(super) async fn start_chat(&mut self, name: &str) -> Result<(), String> {
        let (user, username) = self.lookup(name).await?;
        if self.my_user() == Some(user) {
            return Err("That is you. Pick someone else to chat with.".into());
        }
        self.befriend(user).await?;
        self.index.chat(ChatId::User(user), username.as_str());
        self.save_index().await?;
        self.open_chat(Some(ChatId::User(user))).await
    }

    /// Lets `peer` see this user's presence and typing, and follows theirs.
    async fn befriend(&mut self, peer: UserId) -> Result<(), String> {
        self.server().set_contact(peer, true).await.map_err(text)?;
        self.socket.request(ClientFrame::Subscribe {
            request: RequestId::NONE,
            users: vec![peer],
        });
        Ok(())
    }

    /// Adds `peer` to this user's contacts or removes them: a contact sees
    /// this user's presence and typing. Recorded once the server confirms.
    pub(super) async fn set_contact(&mut self, peer: UserId, contact: bool) -> Result<(), String> {
        self.server()
            .set_contact(peer, contact)
            .await
            .map_err(text)?;
        if let Some(chat) = self
            .index
            .chats
            .iter_mut()
            .find(|c| c.chat == ChatId::User(peer))
        {
            chat.contact = contact;
        }
        self.save_index().await
    }

    /// Opens conversation `chat` (or none) and marks it read.
    pub(super) async fn open_chat(&mut self, chat: Option<ChatId>) -> Result<(), String> {
        self.ui.open.set(chat);
        let Some(peer) = chat else {
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

    /// Tells the senders of every shown message of `peer` that it is read, if
    /// the user is looking at the conversation (page visible, chats panel,
    /// chat open).
    pub(super) async fn mark_read(&mut self, peer: ChatId) -> Result<(), String> {
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
        let mut senders: Vec<UserId> = unseen.iter().filter_map(sender).collect();
        senders.sort_unstable();
        senders.dedup();
        for to in senders {
            let ids: Vec<MessageId> = unseen
                .iter()
                .filter(|m| sender(m) == Some(to))
                .map(|m| m.id)
                .collect();
            for chunk in ids.chunks(512) {
                self.socket.request(ClientFrame::Receipt {
                    request: RequestId::NONE,
                    to,
                    kind: ReceiptKind::Read,
                    ids: chunk.to_vec(),
                });
            }
        }
        if let Some(chat) = self.index.find(peer)
            && chat.unread > 0
        {
            chat.unread = 0;
            self.save_index().await?;
        }
        Ok(())
    }

    /// Saves `message` and shows the change if its conversation is open.
    pub(super) async fn store(&mut self, message: &Message) -> Result<(), String> {
        history::save_message(&self.vault, message)
            .await
            .map_err(js_text)?;
        if self.ui.open.get_untracked() == Some(message.chat) {
            self.ui.messages.update(
                |shown| match shown.iter_mut().find(|m| m.id == message.id) {
                    Some(old) => *old = message.clone(),
                    None => {
                        shown.push(message.clone());
                        shown.sort_unstable_by_key(|m| m.id);
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
        let body = text_.trim();
        let Some(peer) = self.ui.open.get_untracked() else {
            return Ok(());
        };
        if body.is_empty() {
            return Ok(());
        }
        let quoted = self.quote(peer, reply_to).await?;
        let mut message = self.outgoing(peer, body.to_owned())?;
        message.reply_to = quoted;
        if let ChatId::User(to) = peer {
            self.socket
                .notify(ClientFrame::Typing { to, typing: false });
        }
        self.queue(message).await
    }

    /// The marks to follow for this user's message to `chat`: one per other
    /// member, for groups.
    pub(super) fn group_marks(&self, chat: ChatId) -> Option<courier_shared::client::GroupMarks> {
        chat.group()?;
        let me = self.my_user();
        self.index.get(chat).map(|c| {
            courier_shared::client::GroupMarks::new(
                c.members
                    .iter()
                    .map(|(user, _)| *user)
                    .filter(|user| Some(*user) != me),
            )
        })
    }

    /// A new outgoing message of this user to `chat`, not yet stored.
    pub(super) fn outgoing(&self, chat: ChatId, text: String) -> Result<Message, String> {
        Ok(Message {
            id: message_id()?,
            chat,
            from: None,
            outgoing: true,
            system: false,
            content: None,
            marks: self.group_marks(chat),
            text: Some(text),
            problem: None,
            reply_to: None,
            mark: Mark::Pending,
            seen: true,
        })
    }

    /// Stores `message`, puts it in the outbox and sends it when possible.
    pub(super) async fn queue(&mut self, message: Message) -> Result<(), String> {
        let (id, peer) = (message.id, message.chat);
        self.store(&message).await?;
        self.index.remember(id, peer);
        self.index.pending.push((id, peer));
        let chat = self.index.chat(peer, "");
        chat.preview = message.text.clone().unwrap_or_default();
        chat.time = id.unix_ms();
        self.save_index().await?;
        self.transmit(id, peer).await
    }

    /// The message `reply_to` of the conversation with `peer`, with its text,
    /// for a reply to quote (if it is in local history).
    async fn quote(
        &self,
        peer: ChatId,
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
        let pending: Vec<(MessageId, ChatId)> = self.index.pending.clone();
        for (id, peer) in pending {
            if !self.in_flight.values().any(|m| *m == id) {
                self.transmit(id, peer).await?;
            }
        }
        Ok(())
    }

    /// Encrypts message `id` for every device it must reach and sends it.
    pub(super) async fn transmit(&mut self, id: MessageId, chat: ChatId) -> Result<(), String> {
        if !self.connected() {
            return Ok(());
        }
        let Some(mut message) = history::message(&self.vault, chat, &id)
            .await
            .map_err(js_text)?
        else {
            return Ok(());
        };
        let content = message.content.clone().unwrap_or_else(|| Content::Text {
            text: Text::truncating(message.text.as_deref().unwrap_or_default()),
            reply_to: message.reply_to.as_ref().map(|r| r.0),
        });
        let peer = match chat {
            ChatId::User(peer) => peer,
            ChatId::Group(group) => {
                return match self.transmit_group(id, group, content).await {
                    Ok(()) => Ok(()),
                    Err(problem) => {
                        message.problem = Some(problem);
                        self.store(&message).await
                    }
                };
            }
        };
        let plain = Plaintext(id, peer, content);
        let (crypto, mut directory) = self.keys()?;
        match flow::encrypt_for(crypto, &mut directory, &plain, now_ms()).await {
            Ok(to) => {
                self.save().await?;
                let request = self.socket.request(ClientFrame::Send {
                    request: RequestId::NONE,
                    id,
                    to,
                });
                self.in_flight.insert(request, id);
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
        let Some(chat) = self
            .index
            .pending
            .iter()
            .find(|(m, _)| *m == id)
            .map(|(_, p)| *p)
        else {
            return Ok(());
        };
        match (refused, chat) {
            (Some((ErrorCode::StaleDevices, _)), ChatId::Group(group)) => {
                self.refresh_group(group).await?;
                self.transmit(id, chat).await
            }
            (Some((ErrorCode::StaleDevices, _)), ChatId::User(peer)) => {
                let (crypto, mut directory) = self.keys()?;
                // What changed reaches the chat as a key-change line (see
                // `show_key_changes`); the send is retried either way.
                let _ = flow::refresh_recipients(crypto, &mut directory, peer).await;
                self.save().await?;
                self.transmit(id, chat).await
            }
            (Some((code, _)), _) if code.is_transient() => {
                // Not this message's fault (or the connection dropped with
                // it): the outbox sends it again after a pause.
                let jobs = self.jobs.clone();
                leptos::task::spawn_local(async move {
                    sleep(2_000).await;
                    let _ = jobs.unbounded_send(super::Job::Flush);
                });
                Ok(())
            }
            (outcome, _) => {
                self.index.pending.retain(|(m, _)| *m != id);
                if let (Some((ErrorCode::Forbidden, _)), Some(entry)) =
                    (&outcome, self.index.find(chat))
                {
                    // Removed from the group: the page says so and stops
                    // offering to write.
                    entry.members.clear();
                }
                self.save_index().await?;
                if let Some(mut message) = history::message(&self.vault, chat, &id)
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

    /// Takes in a decrypted message: pairwise (a text from a contact, a
    /// copy of one this user sent from another device, a group's sender
    /// key) or a group message.
    pub(super) async fn on_incoming(
        &mut self,
        id: MessageId,
        from: (UserId, courier_shared::ids::DeviceId),
        incoming: Incoming,
    ) -> Result<(), String> {
        let plain = match incoming {
            Incoming::Group(plain) => return self.on_group_message(id, from.0, plain).await,
            Incoming::Direct(plain) => plain,
        };
        let me = self.my_user();
        let outgoing = me == Some(from.0);
        let peer = ChatId::User(if outgoing { plain.1 } else { from.0 });
        match plain.2 {
            Content::GroupKey { group, name, .. } => self.on_group_key(group, name.as_str()).await,
            Content::Removed { group } if !outgoing => self.on_removed(id, group).await,
            Content::Text {
                text: body,
                reply_to,
            } => {
                let quoted = self.quote(peer, reply_to).await?;
                let mut message = self.incoming(id, peer, None, Some(body.as_str().to_owned()));
                message.outgoing = outgoing;
                message.seen = outgoing;
                message.reply_to = quoted;
                self.arrived(message).await
            }
            content @ Content::Media { .. } => {
                let mut message = self.incoming(id, peer, None, None);
                message.outgoing = outgoing;
                message.seen = outgoing;
                self.media_arrived(&mut message, content);
                self.arrived(message.clone()).await?;
                self.auto_fetch(&message).await
            }
            _ => Ok(()),
        }
    }

    /// A message that arrived in `chat`, from `from` in a group.
    pub(super) fn incoming(
        &self,
        id: MessageId,
        chat: ChatId,
        from: Option<UserId>,
        text: Option<String>,
    ) -> Message {
        Message {
            id,
            chat,
            from,
            outgoing: false,
            system: false,
            content: None,
            marks: None,
            text,
            problem: None,
            reply_to: None,
            mark: Mark::Sent,
            seen: false,
        }
    }

    /// Records a message that could not be decrypted: shown, never dropped.
    pub(super) async fn on_undecryptable(
        &mut self,
        id: MessageId,
        from: UserId,
        chat: ChatId,
        reason: String,
    ) -> Result<(), String> {
        let group_sender = chat.group().map(|_| from);
        let mut message = self.incoming(id, chat, group_sender, None);
        message.problem = Some(reason);
        self.arrived(message).await
    }

    /// Stores an arriving message (unless already there), updates its chat
    /// and tells the sender it was delivered.
    pub(super) async fn arrived(&mut self, message: Message) -> Result<(), String> {
        let peer = message.chat;
        if history::message(&self.vault, peer, &message.id)
            .await
            .map_err(js_text)?
            .is_some()
        {
            return Ok(());
        }
        let known = self.index.get(peer).is_some();
        let name = match peer {
            _ if known => String::new(),
            ChatId::User(user) => self
                .name_of(user)
                .await
                .unwrap_or_else(|_| format!("user {}", user.0)),
            ChatId::Group(_) => "Group".into(),
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
        if !message.outgoing && !message.system {
            chat.unread += 1;
            let name = chat.name.clone();
            if let Some(to) = sender(&message) {
                self.socket.request(ClientFrame::Receipt {
                    request: RequestId::NONE,
                    to,
                    kind: ReceiptKind::Delivered,
                    ids: vec![message.id],
                });
            }
            notify::message(&name, &preview);
        }
        self.save_index().await?;
        if let (false, ChatId::User(user)) = (known, peer) {
            self.befriend(user).await?;
        }
        self.mark_read(peer).await
    }

    /// `user`'s username, from the server.
    pub(super) async fn name_of(&mut self, user: UserId) -> Result<String, String> {
        let info = self.server().lookup_user_id(user).await.map_err(text)?;
        Ok(info.username.as_str().to_owned())
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
            let Some(peer) = self.index.chat_of(&id) else {
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
                let mark = match &mut message.marks {
                    Some(marks) => {
                        marks.record(from, kind, now_ms());
                        match marks.state() {
                            Some(ReceiptKind::Read) => Mark::Read,
                            Some(ReceiptKind::Delivered) => Mark::Delivered,
                            None => Mark::Sent,
                        }
                    }
                    None if kind == ReceiptKind::Read => Mark::Read,
                    None => Mark::Delivered,
                };
                message.mark = message.mark.max(mark);
                self.store(&message).await?;
            }
        }
        if !read_elsewhere.is_empty() {
            for chat in self
                .index
                .chats
                .iter_mut()
                .filter(|c| read_elsewhere.contains(&c.chat))
            {
                let read = read_elsewhere.iter().filter(|p| **p == chat.chat).count();
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
        if let Some(ChatId::User(to)) = self.ui.open.get_untracked() {
            self.socket.notify(ClientFrame::Typing { to, typing });
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

/// Whom a receipt for `message` goes to: its sender.
fn sender(message: &Message) -> Option<UserId> {
    match message.chat {
        ChatId::User(user) => Some(user),
        ChatId::Group(_) => message.from,
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
