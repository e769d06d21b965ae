//! Changes to messages already sent (and, through the same path, a chat's
//! disappearing-message timer, `timer.rs`, and a group's description,
//! `description.rs`): reactions (one emoji per person),
//! edits of one's own texts (within [`EDIT_WINDOW_MS`], the newest edit
//! wins whatever order edits arrive in) and deletes for everyone (within
//! [`DELETE_WINDOW_MS`]) or for this user only (on all of their devices).
//!
//! A change travels like a message, end-to-end encrypted to every device of
//! the chat and this user's other devices, through the outbox (so it waits
//! offline and is retried), but it is never stored as a message of its own:
//! each device applies it to the message it names. Only the message's
//! author may edit or delete it, and only members' changes count in groups.

use super::{Effect, Messenger, MessengerError, Result, Store};
use crate::client::api::Server;
use crate::client::chat::{ChatId, DELETED_TEXT, Message, Outgoing, Reaction};
use crate::crypto::content::{Content, DELETE_WINDOW_MS, EDIT_WINDOW_MS, MAX_EMOJI_BYTES};
use crate::ids::{MessageId, UserId};
use crate::proto::Text;
use crate::time::Env;

impl<S: Server, St: Store, E: Env> Messenger<S, St, E> {
    /// Reacts to message `target` of `chat` with `emoji`, replacing this
    /// user's reaction; an empty `emoji` takes it back.
    pub async fn react(&mut self, chat: ChatId, target: MessageId, emoji: &str) -> Result<()> {
        let emoji = emoji.trim();
        if emoji.len() > MAX_EMOJI_BYTES {
            return Err(MessengerError::invalid("That reaction is too long."));
        }
        let emoji = Text::truncating(emoji);
        self.writable(chat, &target).await?;
        self.change(chat, Content::Reaction { target, emoji }).await
    }

    /// Changes the text of this user's message `target` of `chat` to
    /// `text`, if it was written less than 15 minutes ago.
    pub async fn edit(&mut self, chat: ChatId, target: MessageId, text: &str) -> Result<()> {
        let text = text.trim();
        if text.is_empty() {
            return Err(MessengerError::invalid("An edit needs some text."));
        }
        let message = self.writable(chat, &target).await?;
        let editable =
            message.outgoing && !message.system && !message.deleted && message.content.is_none();
        if !editable {
            return Err(MessengerError::invalid(
                "Only your own texts can be edited.",
            ));
        }
        if self.env.now_ms().saturating_sub(target.unix_ms()) > EDIT_WINDOW_MS {
            return Err(MessengerError::invalid(
                "A message can be edited for 15 minutes after it was sent.",
            ));
        }
        let text = Text::truncating(text);
        self.change(chat, Content::Edit { target, text }).await
    }

    /// Deletes this user's message `target` of `chat` for everyone, if it
    /// was written less than a day ago.
    pub async fn delete_for_everyone(&mut self, chat: ChatId, target: MessageId) -> Result<()> {
        let message = self.writable(chat, &target).await?;
        if !message.outgoing || message.system {
            return Err(MessengerError::invalid(
                "Only your own messages can be deleted for everyone.",
            ));
        }
        if self.env.now_ms().saturating_sub(target.unix_ms()) > DELETE_WINDOW_MS {
            return Err(MessengerError::invalid(
                "A message can be deleted for everyone for a day after it was sent.",
            ));
        }
        self.change(chat, Content::Delete { target }).await
    }

    /// Deletes message `target` of `chat` for this user only: here and on
    /// their other devices.
    pub async fn delete_for_me(&mut self, chat: ChatId, target: MessageId) -> Result<()> {
        self.hide(chat, target).await?;
        let content = Content::Hidden {
            user: chat.user(),
            group: chat.group(),
            target,
        };
        let id = self.env.message_id();
        self.tell_my_devices(id, content).await
    }

    /// A message this user deleted for themselves on another device.
    pub(super) async fn on_hidden(&mut self, content: Content) -> Result<()> {
        let Content::Hidden {
            user,
            group,
            target,
        } = content
        else {
            return Ok(());
        };
        match (user, group) {
            (Some(user), None) => self.hide(ChatId::User(user), target).await,
            (None, Some(group)) => self.hide(ChatId::Group(group), target).await,
            _ => Ok(()),
        }
    }

    /// Takes message `target` of `chat` off this device (its text and media
    /// reference forgotten).
    async fn hide(&mut self, chat: ChatId, target: MessageId) -> Result<()> {
        self.update(chat, &target, |m| {
            forget(m);
            m.hidden = true;
        })
        .await?;
        self.refresh_preview(chat, &target).await
    }

    /// The stored message `target` of `chat`, which a change may name.
    async fn writable(&mut self, chat: ChatId, target: &MessageId) -> Result<Message> {
        match self.load(chat, target).await? {
            Some(message) if !message.hidden && !message.deleted => Ok(message),
            _ => Err(MessengerError::invalid("That message is gone.")),
        }
    }

    /// Applies `content` here at once and sends it to everyone concerned.
    pub(super) async fn change(&mut self, chat: ChatId, content: Content) -> Result<()> {
        let id = self.env.message_id();
        let me = self
            .my_user()
            .ok_or_else(|| MessengerError::invalid("Not signed in."))?;
        self.apply_change(chat, me, id, content.clone()).await?;
        let content = Box::new(content);
        self.index
            .outbox
            .push(id, Outgoing::Change { chat, content });
        self.save_index().await?;
        self.flush().await
    }

    /// A change `id` by `author` arrived for `chat` (or was made here):
    /// applied to the message it names, if `author` may make it.
    pub(super) async fn apply_change(
        &mut self,
        chat: ChatId,
        author: UserId,
        id: MessageId,
        content: Content,
    ) -> Result<()> {
        match &content {
            Content::Timer { seconds } => return self.on_timer(chat, author, id, *seconds).await,
            Content::Description { text } => {
                return self.on_description(chat, author, id, text.as_str()).await;
            }
            Content::ProfileKey { key } => {
                return self.on_profile_key(author, id, key.as_bytes()).await;
            }
            Content::GroupPhoto { photo } => {
                return self
                    .on_group_photo(chat, author, id, photo.as_bytes())
                    .await;
            }
            _ => {}
        }
        let target = match &content {
            Content::Reaction { target, .. }
            | Content::Edit { target, .. }
            | Content::Delete { target } => *target,
            _ => return Ok(()),
        };
        let Some(mut message) = self.load(chat, &target).await? else {
            if let Content::Delete { .. } = content {
                // Deleted before it arrived: a tombstone, so that it is
                // never shown when it does.
                let mut tombstone = Message::incoming(target, chat, None, None);
                tombstone.deleted = true;
                tombstone.hidden = true;
                self.store_message(&tombstone).await?;
            }
            return Ok(());
        };
        if message.hidden || message.deleted {
            return Ok(());
        }
        let by_author = self.author(&message) == Some(author);
        let age = id.unix_ms().saturating_sub(target.unix_ms());
        match content {
            Content::Reaction { emoji, .. } => react(&mut message, author, emoji.as_str(), id),
            Content::Edit { text, .. } if by_author && age <= EDIT_WINDOW_MS => {
                if message.edit.is_some_and(|newest| newest >= id) {
                    return Ok(());
                }
                message.text = Some(text.as_str().to_owned());
                message.edit = Some(id);
            }
            Content::Delete { .. } if by_author && age <= DELETE_WINDOW_MS => {
                forget(&mut message);
                message.deleted = true;
                message.text = Some(DELETED_TEXT.to_owned());
            }
            _ => return Ok(()),
        }
        self.store_message(&message).await?;
        self.refresh_preview(chat, &target).await
    }

    /// Who wrote `message`: this user, the other person, or a group member.
    fn author(&self, message: &Message) -> Option<UserId> {
        if message.outgoing {
            return self.my_user();
        }
        match message.chat {
            ChatId::User(user) if !message.system => Some(user),
            ChatId::User(_) => None,
            ChatId::Group(_) => message.from,
        }
    }

    /// Shows the chat list again when the changed message is the chat's
    /// latest (its preview says what it says now).
    pub(super) async fn refresh_preview(&mut self, chat: ChatId, target: &MessageId) -> Result<()> {
        let latest = self.index.recent.iter().rev().find(|(_, c)| *c == chat);
        if latest.map(|(id, _)| id) != Some(target) {
            return Ok(());
        }
        let preview = match self.load(chat, target).await? {
            Some(message) if !message.hidden => message.text.unwrap_or_default(),
            _ => String::new(),
        };
        if let Some(entry) = self.index.find(chat) {
            entry.preview = preview;
        }
        self.show(Effect::Chats);
        self.save_index().await
    }
}

/// `user`'s reaction `emoji` (empty: none) as change `id`, unless a newer
/// one of theirs is there.
/// A reaction taken back stays as an empty one, so that an older reaction
/// arriving late does not come back.
fn react(message: &mut Message, user: UserId, emoji: &str, id: MessageId) {
    let reaction = Reaction {
        user,
        emoji: emoji.to_owned(),
        id,
    };
    match message.reactions.iter_mut().find(|r| r.user == user) {
        Some(old) if old.id >= id => {}
        Some(old) => *old = reaction,
        None => message.reactions.push(reaction),
    }
}

/// Drops what a deleted message said and pointed to (media keys included).
pub(super) fn forget(message: &mut Message) {
    message.text = None;
    message.content = None;
    message.reply_to = None;
    message.reactions.clear();
}
