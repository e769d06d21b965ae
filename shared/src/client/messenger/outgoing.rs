//! What this device sends, through the one outbox ([`Index::outbox`]):
//! messages (encrypted anew for every attempt, under the id they were written
//! with) and receipts. A send goes out at once when online, again after a
//! transient refusal or a lost answer, and after refreshing device lists when
//! the server says they are stale (at most [`STALE_ATTEMPTS`] times); any
//! other refusal marks the message failed with the server's reason.
//!
//! [`Index::outbox`]: crate::client::chat::Index

use super::{Effect, Messenger, MessengerError, Result, Store};
use crate::client::GroupMarks;
use crate::client::api::Server;
use crate::client::chat::{ChatId, Mark, Message, Outgoing};
use crate::client::outbox::Outcome;
use crate::crypto::content::{Content, Plaintext};
use crate::crypto::flow;
use crate::ids::{MessageId, RequestId, UserId};
use crate::proto::{ClientFrame, ErrorCode, ReceiptKind, Refusal, ServerFrame, Text};
use crate::time::Env;

/// Attempts at a send while the server says the recipients' devices changed.
pub const STALE_ATTEMPTS: u32 = 3;
/// Most message ids in one receipt.
const RECEIPT_IDS: usize = 512;

impl<S: Server, St: Store, E: Env> Messenger<S, St, E> {
    /// Writes `text` to `chat`, maybe replying to a message: saved at once,
    /// sent when possible. Returns the message's id.
    pub async fn send_text(
        &mut self,
        chat: ChatId,
        text: &str,
        reply_to: Option<MessageId>,
    ) -> Result<Option<MessageId>> {
        let body = text.trim();
        if body.is_empty() {
            return Ok(None);
        }
        let quoted = self.quote(chat, reply_to).await?;
        let mut message = self.outgoing(chat, body.to_owned());
        message.reply_to = quoted;
        if let ChatId::User(to) = chat {
            self.server
                .notify(ClientFrame::Typing { to, typing: false })
                .await;
        }
        let id = message.id;
        self.queue(message).await?;
        Ok(Some(id))
    }

    /// A new outgoing message of this user to `chat`, not yet stored.
    pub(super) fn outgoing(&mut self, chat: ChatId, text: String) -> Message {
        let mut message = Message::outgoing(self.env.message_id(), chat, text);
        message.marks = self.group_marks(chat);
        message
    }

    /// The marks to follow for this user's message to `chat`: one per other
    /// member, for groups.
    pub(super) fn group_marks(&self, chat: ChatId) -> Option<GroupMarks> {
        chat.group()?;
        let me = self.my_user();
        self.index.get(chat).map(|c| {
            GroupMarks::new(
                c.members
                    .iter()
                    .map(|(user, _)| *user)
                    .filter(|user| Some(*user) != me),
            )
        })
    }

    /// The message `reply_to` of `chat` with its text, for a reply to quote
    /// (if it is in local history).
    pub(super) async fn quote(
        &mut self,
        chat: ChatId,
        reply_to: Option<MessageId>,
    ) -> Result<Option<(MessageId, String)>> {
        let Some(quoted) = reply_to else {
            return Ok(None);
        };
        let message = self.load(chat, &quoted).await?;
        Ok(message.map(|m| (quoted, m.text.unwrap_or_default())))
    }

    /// Stores `message`, puts it in the outbox and sends it when possible.
    pub(super) async fn queue(&mut self, mut message: Message) -> Result<()> {
        let (id, chat) = (message.id, message.chat);
        self.stamp(&mut message);
        self.store_message(&message).await?;
        self.index.remember(id, chat);
        self.index.outbox.push(id, Outgoing::Message(chat));
        let entry = self.index.chat(chat, "");
        entry.preview = message.text.clone().unwrap_or_default();
        entry.time = id.unix_ms();
        // A chat that never had this user's profile key gets it now.
        self.tell_profile(chat);
        self.save_index().await?;
        self.flush().await
    }

    /// Sends everything the outbox says is due.
    pub(super) async fn flush(&mut self) -> Result<()> {
        if !self.online {
            return Ok(());
        }
        let now = self.env.now_ms();
        for (id, outgoing) in self.index.outbox.due(now) {
            let sent = match outgoing {
                Outgoing::Message(chat) => self.transmit(id, chat).await,
                Outgoing::Change { chat, content } => {
                    self.transmit_content(id, chat, *content).await.map(Some)
                }
                Outgoing::Receipt { to, kind, ids } => {
                    let frame = ClientFrame::Receipt {
                        request: RequestId::NONE,
                        to,
                        kind,
                        ids,
                    };
                    Ok(Some(self.server.post(frame).await))
                }
            };
            match sent {
                Ok(Some(request)) => self.index.outbox.sent(&id, request),
                Ok(None) => {}
                Err(err) => {
                    // It could not be prepared (a device list could not be
                    // fetched, say): the message says why, and it is tried
                    // again later.
                    self.index.outbox.postpone(&id, now);
                    if let Some(chat) = self.index.outbox.get(&id).and_then(message_chat) {
                        self.note_problem(chat, &id, err.to_string()).await?;
                    }
                }
            }
        }
        self.save_index().await
    }

    /// Encrypts message `id` for every device it must reach and sends it;
    /// the request it went as (`None` if it is no longer stored).
    async fn transmit(&mut self, id: MessageId, chat: ChatId) -> Result<Option<RequestId>> {
        let Some(message) = self.load(chat, &id).await? else {
            self.index.outbox.remove(&id);
            return Ok(None);
        };
        let content = message.content.clone().unwrap_or_else(|| Content::Text {
            text: Text::truncating(message.text.as_deref().unwrap_or_default()),
            reply_to: message.reply_to.as_ref().map(|r| r.0),
        });
        self.transmit_content(id, chat, content).await.map(Some)
    }

    /// Encrypts `content` as message `id` for every device of `chat` (and
    /// this user's other devices) and sends it; the request it went as.
    async fn transmit_content(
        &mut self,
        id: MessageId,
        chat: ChatId,
        content: Content,
    ) -> Result<RequestId> {
        let peer = match chat {
            ChatId::User(peer) => peer,
            ChatId::Group(group) => return self.transmit_group(id, group, content).await,
        };
        let plain = Plaintext {
            id,
            to: peer,
            content,
        };
        let now = self.env.now_ms();
        let (crypto, mut directory) = self.crypto_parts()?;
        let to = flow::encrypt_for(crypto, &mut directory, &plain, now).await?;
        self.save_account().await?;
        let frame = ClientFrame::Send {
            request: RequestId::NONE,
            id,
            to,
        };
        Ok(self.server.post(frame).await)
    }

    /// Takes in the answer to a request no step waits for: a send of the
    /// outbox, or a presence list.
    pub(super) async fn on_answer(
        &mut self,
        request: RequestId,
        answer: std::result::Result<ServerFrame, Refusal>,
    ) -> Result<()> {
        let now = self.env.now_ms();
        let Some(outcome) = self.index.outbox.on_answer(request, &answer, now) else {
            if let Ok(frame) = &answer {
                self.on_presence_list(frame);
            }
            return Ok(());
        };
        match outcome {
            Outcome::Accepted(id, Outgoing::Message(chat)) => {
                self.save_index().await?;
                self.update(chat, &id, |m| {
                    m.mark = m.mark.max(Mark::Sent);
                    m.problem = None;
                })
                .await
            }
            Outcome::Accepted(_, Outgoing::Receipt { .. } | Outgoing::Change { .. })
            | Outcome::Retrying(..) => self.save_index().await,
            Outcome::Refused(id, refusal) => self.on_refused(id, refusal).await,
        }
    }

    /// A send of the outbox was refused for a reason of its own.
    async fn on_refused(&mut self, id: MessageId, refusal: Refusal) -> Result<()> {
        let (chat, change) = match self.index.outbox.get(&id).cloned() {
            Some(Outgoing::Message(chat)) => (chat, false),
            Some(Outgoing::Change { chat, .. }) => (chat, true),
            _ => {
                // A refused receipt only leaves a mark grey.
                self.index.outbox.remove(&id);
                return self.save_index().await;
            }
        };
        let attempts = self.index.outbox.attempts(&id);
        if refusal.code == ErrorCode::StaleDevices && attempts < STALE_ATTEMPTS {
            self.stale_retries += 1;
            // What changed reaches the chat as a key-change line; the send
            // is tried again either way.
            let refreshed = match chat {
                ChatId::User(peer) => {
                    let (crypto, mut directory) = self.crypto_parts()?;
                    flow::refresh_recipients(crypto, &mut directory, peer)
                        .await
                        .map(|_| ())
                        .map_err(MessengerError::from)
                }
                ChatId::Group(group) => self.refresh_group(group).await,
            };
            self.save_account().await?;
            if refreshed.is_ok() {
                self.index.outbox.retry(&id);
                return self.flush().await;
            }
        }
        self.index.outbox.remove(&id);
        if refusal.code == ErrorCode::Forbidden
            && let Some(entry) = self.index.find(chat)
        {
            // Removed from the group: the page says so and stops offering
            // to write.
            entry.members.clear();
        }
        self.save_index().await?;
        let reason = refusal.message;
        if change {
            self.show(Effect::Notice(format!(
                "Your change was not sent: {reason}"
            )));
            return Ok(());
        }
        self.update(chat, &id, |m| {
            m.mark = Mark::Failed;
            m.problem = Some(reason);
        })
        .await
    }

    /// Changes stored message `id` of `chat` with `change`, and shows it.
    pub(super) async fn update(
        &mut self,
        chat: ChatId,
        id: &MessageId,
        change: impl FnOnce(&mut Message),
    ) -> Result<()> {
        if let Some(mut message) = self.load(chat, id).await? {
            change(&mut message);
            self.store_message(&message).await?;
        }
        Ok(())
    }

    async fn note_problem(&mut self, chat: ChatId, id: &MessageId, problem: String) -> Result<()> {
        self.update(chat, id, |m| m.problem = Some(problem)).await
    }

    /// Queues a receipt of `kind` for `ids`, from their sender `to`.
    pub(super) fn receipt(&mut self, to: UserId, kind: ReceiptKind, ids: &[MessageId]) {
        for chunk in ids.chunks(RECEIPT_IDS) {
            let key = self.env.message_id();
            let receipt = Outgoing::Receipt {
                to,
                kind,
                ids: chunk.to_vec(),
            };
            self.index.outbox.push(key, receipt);
        }
    }

    /// The user opened `chat` (or none): its unread messages are read if
    /// the user is looking.
    pub async fn open(&mut self, chat: Option<ChatId>) -> Result<()> {
        self.open = chat;
        match chat {
            Some(chat) => {
                self.unmark(chat).await?;
                self.mark_read(chat).await
            }
            None => Ok(()),
        }
    }

    /// Whether the user is looking at the open chat (the page is visible
    /// and shows it); looking again reads it.
    pub async fn set_looking(&mut self, looking: bool) -> Result<()> {
        self.looking = looking;
        match self.open {
            Some(chat) if looking => self.mark_read(chat).await,
            _ => Ok(()),
        }
    }

    /// Tells the senders of `chat`'s unread messages that they are read, if
    /// the user is looking at it.
    pub(super) async fn mark_read(&mut self, chat: ChatId) -> Result<()> {
        if !self.looking || self.open != Some(chat) {
            return Ok(());
        }
        let Some(entry) = self.index.find(chat) else {
            return Ok(());
        };
        if entry.unread == 0 && entry.unread_ids.is_empty() {
            return Ok(());
        }
        entry.unread = 0;
        let unread = std::mem::take(&mut entry.unread_ids);
        let mut senders: Vec<(UserId, MessageId)> = Vec::new();
        for id in unread {
            let mut sender = None;
            self.update(chat, &id, |m| {
                m.seen = true;
                sender = m.sender();
            })
            .await?;
            if let Some(sender) = sender {
                senders.push((sender, id));
            }
        }
        senders.sort_unstable();
        let mut start = 0;
        while start < senders.len() {
            let to = senders[start].0;
            let end = start
                + senders[start..]
                    .iter()
                    .take_while(|(u, _)| *u == to)
                    .count();
            let ids: Vec<MessageId> = senders[start..end].iter().map(|(_, id)| *id).collect();
            self.receipt(to, ReceiptKind::Read, &ids);
            start = end;
        }
        self.save_index().await?;
        self.flush().await
    }

    /// A notice for the user.
    pub(super) fn tell(&mut self, text: impl Into<String>) {
        self.show(Effect::Notice(text.into()));
    }
}

fn message_chat(outgoing: &Outgoing) -> Option<ChatId> {
    match outgoing {
        Outgoing::Message(chat) => Some(*chat),
        Outgoing::Receipt { .. } | Outgoing::Change { .. } => None,
    }
}
