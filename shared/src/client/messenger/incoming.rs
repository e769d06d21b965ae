//! What arrives: messages are decrypted, stored (once: a redelivery of a
//! message already stored changes nothing), shown and only then
//! acknowledged, so a message is never lost between its arrival and its
//! write; receipts move the check marks of this user's messages.

use super::{Effect, Messenger, Result, Store};
use crate::client::api::Server;
use crate::client::chat::{ChatId, Mark, Message, mentions};
use crate::crypto::content::Content;
use crate::crypto::envelope::Envelope;
use crate::crypto::group_flow::{self, Incoming};
use crate::ids::{DeviceId, MessageId, UserId};
use crate::proto::{ClientFrame, ReceiptKind};
use crate::time::Env;

impl<S: Server, St: Store, E: Env> Messenger<S, St, E> {
    /// Message `id` from `from` arrived: decrypted and stored (or stored as
    /// undecryptable), then acknowledged. Had anything failed, no ack: the
    /// server delivers it again on the next connection.
    pub(super) async fn on_message(
        &mut self,
        id: MessageId,
        from: (UserId, DeviceId),
        payload: &[u8],
    ) -> Result<()> {
        self.receive(id, from, payload).await?;
        // A peer used one of this device's one-time keys: refill the
        // server's stock now rather than at the next sign-in.
        if let Some(account) = &mut self.account
            && account.crypto.take_one_time_key_used()
        {
            self.top_up_prekeys().await?;
        }
        self.server.notify(ClientFrame::Ack { ids: vec![id] }).await;
        Ok(())
    }

    async fn receive(
        &mut self,
        id: MessageId,
        from: (UserId, DeviceId),
        payload: &[u8],
    ) -> Result<()> {
        if self.account.is_none() {
            return Ok(());
        }
        let own = self.my_user() == Some(from.0);
        let envelope = Envelope::from_payload(payload);
        if let Ok(Envelope::Link { body }) = &envelope {
            return if own {
                self.on_link(from.1, body.as_bytes()).await
            } else {
                Ok(())
            };
        }
        let chat = match envelope {
            Ok(Envelope::Group { group, .. }) => ChatId::Group(group),
            _ => ChatId::User(from.0),
        };
        if self.index.chat_of(&id).is_some() || self.load(chat, &id).await?.is_some() {
            // Stored already (a redelivery): nothing to decrypt again.
            return Ok(());
        }
        let now = self.env.now_ms();
        let (crypto, mut directory) = self.crypto_parts()?;
        let result = group_flow::receive(crypto, &mut directory, from, id, payload, now).await;
        self.save_account().await?;
        match result {
            Ok(Incoming::Group(plain)) => self.on_group_message(id, from.0, plain).await,
            Ok(Incoming::Direct(plain)) if matches!(plain.content, Content::Call { .. }) => {
                let peer = if own { plain.to } else { from.0 };
                self.show(Effect::Call {
                    from_device: from.1,
                    own,
                    peer,
                    content: plain.content,
                });
                Ok(())
            }
            Ok(Incoming::Direct(plain)) => {
                let outgoing = own;
                let peer = ChatId::User(if outgoing { plain.to } else { from.0 });
                self.on_direct(id, from.0, outgoing, peer, plain.content)
                    .await
            }
            // A group's message that does not decrypt is shown only when
            // a member sent it: a stranger cannot add lines (or a chat).
            Err(_) if chat.group().is_some() && !self.is_member(chat, from.0).await => Ok(()),
            Err(err) => {
                let group_sender = chat.group().map(|_| from.0);
                let mut message = Message::incoming(id, chat, group_sender, None);
                message.problem = Some(err.to_string());
                self.arrived(message).await
            }
        }
    }

    /// A pairwise message: a text or media of a contact (or a copy of one
    /// this user sent from another device), a group's sender key, or a
    /// removal notice.
    async fn on_direct(
        &mut self,
        id: MessageId,
        from: UserId,
        outgoing: bool,
        peer: ChatId,
        content: Content,
    ) -> Result<()> {
        match content {
            Content::GroupKey { group, name, .. } => {
                self.on_group_key(group, from, name.as_str()).await
            }
            Content::Removed { group } if !outgoing => self.on_removed(id, group).await,
            settings @ Content::ChatSettings { .. } if outgoing => {
                self.on_settings(id, settings).await
            }
            hidden @ Content::Hidden { .. } if outgoing => self.on_hidden(hidden).await,
            Content::Contact { user, contact } if outgoing => self.on_contact(user, contact).await,
            change @ (Content::Reaction { .. }
            | Content::Edit { .. }
            | Content::Delete { .. }
            | Content::Timer { .. }
            | Content::Description { .. }
            | Content::ProfileKey { .. }) => {
                let author = if outgoing {
                    self.my_user()
                } else {
                    peer.user()
                };
                match author {
                    Some(author) => self.apply_change(peer, author, id, change).await,
                    None => Ok(()),
                }
            }
            Content::Text { text, reply_to } => {
                let quoted = self.quote(peer, reply_to).await?;
                let mut message = Message::incoming(id, peer, None, Some(text.as_str().to_owned()));
                message.outgoing = outgoing;
                message.seen = outgoing;
                message.reply_to = quoted;
                self.arrived(message).await
            }
            content @ Content::Media { .. } => {
                let mut message = Message::incoming(id, peer, None, None);
                message.outgoing = outgoing;
                message.seen = outgoing;
                self.media_arrived(message, content).await
            }
            _ => Ok(()),
        }
    }

    /// Stores an arriving message (unless already there), updates its chat
    /// and tells the sender it was delivered.
    pub(super) async fn arrived(&mut self, mut message: Message) -> Result<()> {
        let chat = message.chat;
        if self.load(chat, &message.id).await?.is_some() {
            return Ok(());
        }
        self.stamp(&mut message);
        let known = self.index.get(chat).is_some();
        let name = match chat {
            _ if known => String::new(),
            ChatId::User(user) => self
                .name_of(user)
                .await
                .unwrap_or_else(|_| format!("user {}", user.0)),
            ChatId::Group(_) => "Group".into(),
        };
        self.store_message(&message).await?;
        self.index.remember(message.id, chat);
        let preview = message
            .text
            .clone()
            .unwrap_or_else(|| "Message could not be decrypted".into());
        let entry = self.index.chat(chat, &name);
        entry.preview = preview.clone();
        entry.time = message.sent_at();
        let fresh = !message.outgoing && !message.system;
        if fresh {
            entry.unread += 1;
            entry.unread_ids.push(message.id);
            let title = entry.name.clone();
            let muted = entry.settings.muted(self.env.now_ms());
            // A mention of this user in a group notifies even when muted.
            let mentioned =
                chat.group().is_some() && self.username().is_some_and(|me| mentions(&preview, me));
            if let Some(to) = message.sender() {
                self.receipt(to, ReceiptKind::Delivered, &[message.id]);
            }
            if !muted || mentioned {
                self.show(Effect::Notify {
                    title,
                    body: preview,
                });
            }
        }
        self.save_index().await?;
        if let (false, ChatId::User(user)) = (known, chat) {
            self.befriend(user).await?;
        }
        self.mark_read(chat).await?;
        if fresh {
            self.flush().await?;
        }
        Ok(())
    }

    /// A receipt arrived: check marks for this user's messages, or read
    /// state from this user's other devices. Acknowledged once applied.
    pub(super) async fn on_receipt(
        &mut self,
        receipt: MessageId,
        from: UserId,
        kind: ReceiptKind,
        ids: Vec<MessageId>,
    ) -> Result<()> {
        let me = self.my_user();
        let now = self.env.now_ms();
        let mut changed_index = false;
        for id in ids {
            let Some(chat) = self.index.chat_of(&id) else {
                continue;
            };
            let Some(mut message) = self.load(chat, &id).await? else {
                continue;
            };
            if Some(from) == me {
                if kind == ReceiptKind::Read && !message.outgoing && !message.seen {
                    message.seen = true;
                    self.store_message(&message).await?;
                    if let Some(entry) = self.index.find(chat) {
                        entry.unread = entry.unread.saturating_sub(1);
                        entry.unread_ids.retain(|m| *m != id);
                        changed_index = true;
                    }
                }
            } else if message.outgoing {
                let mark = match &mut message.marks {
                    Some(marks) => {
                        marks.record(from, kind, now);
                        match marks.state() {
                            Some(ReceiptKind::Read) => Mark::Read,
                            Some(ReceiptKind::Delivered) => Mark::Delivered,
                            None => Mark::Sent,
                        }
                    }
                    None if kind == ReceiptKind::Read => Mark::Read,
                    None => Mark::Delivered,
                };
                if message.mark != Mark::Failed {
                    message.mark = message.mark.max(mark);
                }
                self.store_message(&message).await?;
            }
        }
        if changed_index {
            self.save_index().await?;
        }
        self.server
            .notify(ClientFrame::Ack { ids: vec![receipt] })
            .await;
        Ok(())
    }
}
