//! Disappearing messages: anyone in a chat sets its timer for everyone (a
//! [`Content::Timer`] change, sent like a reaction; the newest setting wins
//! in whatever order settings arrive, and each is a line in the chat). A
//! message written while the timer is on disappears that long after it was
//! written, on every device of every member, each by its own clock: its
//! text and media reference are forgotten, as for a delete.

use super::{Effect, Messenger, MessengerError, Result, Store, changes};
use crate::client::api::Server;
use crate::client::chat::{ChatId, Message, Timer};
use crate::crypto::content::{Content, TIMER_CHOICES};
use crate::ids::{MessageId, UserId};
use crate::time::Env;

/// How a timer of `seconds` reads: "24 hours", "7 days", "90 days", "Off".
pub fn timer_label(seconds: u32) -> String {
    match seconds {
        0 => "Off".into(),
        s if s % 86_400 != 0 => format!("{} hours", s / 3600),
        86_400 => "24 hours".into(),
        s => format!("{} days", s / 86_400),
    }
}

impl<S: Server, St: Store, E: Env> Messenger<S, St, E> {
    /// Sets the disappearing-message timer of `chat` to `seconds` (one of
    /// [`TIMER_CHOICES`], 0: off) for everyone in it.
    pub async fn set_timer(&mut self, chat: ChatId, seconds: u32) -> Result<()> {
        if !TIMER_CHOICES.contains(&seconds) {
            return Err(MessengerError::invalid(
                "Messages can disappear after 24 hours, 7 days or 90 days.",
            ));
        }
        if self.index.get(chat).is_none() {
            return Err(MessengerError::invalid("There is no such chat."));
        }
        self.change(chat, Content::Timer { seconds }).await
    }

    /// Timer setting `id` of `author` for `chat` (made here or arrived):
    /// applied unless a newer one is, with a line in the chat.
    pub(super) async fn on_timer(
        &mut self,
        chat: ChatId,
        author: UserId,
        id: MessageId,
        seconds: u32,
    ) -> Result<()> {
        if !TIMER_CHOICES.contains(&seconds) {
            return Ok(());
        }
        let Some(entry) = self.index.find(chat) else {
            return Ok(());
        };
        if entry.timer.set_by.is_some_and(|newest| newest >= id) {
            return Ok(());
        }
        let before = entry.timer.seconds;
        entry.timer = Timer {
            seconds,
            set_by: Some(id),
            before,
        };
        self.restamp(chat, id).await?;
        let who = self.who(chat, author);
        let label = timer_label(seconds);
        let line = match (before, seconds) {
            (_, 0) => format!("{who} turned off disappearing messages."),
            (0, _) => format!(
                "{who} turned on disappearing messages: new messages disappear {label} after they are sent."
            ),
            _ => format!("{who} set disappearing messages to {label}."),
        };
        let mut message = Message::line(id, chat, chat.group().map(|_| author), line);
        message.content = Some(Content::Timer { seconds });
        self.arrived(message).await
    }

    /// "You", or `author`'s name.
    pub(super) fn who(&self, chat: ChatId, author: UserId) -> String {
        if self.my_user() == Some(author) {
            return "You".into();
        }
        // Their display name, if they set one, else their username.
        let shown = self.profile(author).filter(|p| !p.name.is_empty());
        let name = match chat {
            _ if shown.is_some() => shown.map(|p| p.name.as_str()),
            ChatId::User(_) => self.index.get(chat).map(|c| c.name.as_str()),
            ChatId::Group(_) => self.index.name(author),
        };
        name.unwrap_or("Someone").to_owned()
    }

    /// Sets when `message` (new, not yet stored) disappears under its
    /// chat's timer, and remembers it for the sweep.
    pub(super) fn stamp(&mut self, message: &mut Message) {
        if message.system {
            return;
        }
        let timer = self.index.get(message.chat).map(|c| c.timer);
        message.expires_at = timer.and_then(|t| t.expiry(&message.id));
        if let Some(at) = message.expires_at {
            self.index.expiring.push((at, message.id, message.chat));
        }
    }

    /// The stored messages of `chat` written after timer setting `after`
    /// follow it (they arrived before the setting did).
    async fn restamp(&mut self, chat: ChatId, after: MessageId) -> Result<()> {
        let later: Vec<MessageId> = self
            .index
            .recent
            .iter()
            .filter(|(id, c)| *c == chat && *id > after)
            .map(|(id, _)| *id)
            .collect();
        let timer = self.index.get(chat).map(|c| c.timer).unwrap_or_default();
        for id in later {
            let Some(mut message) = self.load(chat, &id).await? else {
                continue;
            };
            let expires_at = timer.expiry(&id);
            if message.system || message.hidden || message.expires_at == expires_at {
                continue;
            }
            message.expires_at = expires_at;
            if let Some(at) = expires_at {
                self.index.expiring.push((at, id, chat));
            }
            self.store_message(&message).await?;
        }
        Ok(())
    }

    /// Deletes every message whose time is up (its text and media reference
    /// forgotten, as for a delete for me), on this device.
    pub async fn expire(&mut self) -> Result<()> {
        let now = self.env.now_ms();
        if !self.index.expiring.iter().any(|(at, ..)| *at <= now) {
            return Ok(());
        }
        let (due, later) = std::mem::take(&mut self.index.expiring)
            .into_iter()
            .partition(|(at, ..)| *at <= now);
        self.index.expiring = later;
        for (_, id, chat) in due {
            let Some(mut message) = self.load(chat, &id).await? else {
                continue;
            };
            // The timer may have changed since: the message says when.
            if message.hidden || message.expires_at.is_none_or(|at| at > now) {
                continue;
            }
            changes::forget(&mut message);
            message.hidden = true;
            self.store_message(&message).await?;
            if let Some(entry) = self.index.find(chat)
                && entry.unread_ids.contains(&id)
            {
                entry.unread_ids.retain(|m| *m != id);
                entry.unread = entry.unread.saturating_sub(1);
            }
            self.refresh_preview(chat, &id).await?;
        }
        self.show(Effect::Chats);
        self.save_index().await
    }

    /// When the next message disappears (Unix ms), if one does.
    pub fn next_expiry(&self) -> Option<u64> {
        self.index.expiring.iter().map(|(at, ..)| *at).min()
    }
}
