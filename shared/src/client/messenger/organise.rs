//! How the user keeps their chats: pinned (at most [`MAX_PINNED`]), muted
//! (no notifications until a time, or for good), archived, marked unread.
//! A change applies here at once and goes to this user's other devices
//! (end-to-end encrypted, through the outbox); the newest change wins.

use super::{Effect, Messenger, MessengerError, Result, Store};
use crate::client::api::Server;
use crate::client::chat::{ChatId, ChatSettings, MAX_PINNED, Outgoing};
use crate::crypto::content::Content;
use crate::ids::MessageId;
use crate::time::Env;

impl<S: Server, St: Store, E: Env> Messenger<S, St, E> {
    /// How this user keeps `chat`.
    pub fn settings(&self, chat: ChatId) -> ChatSettings {
        self.index.get(chat).map(|c| c.settings).unwrap_or_default()
    }

    /// Keeps `chat` as `settings` says, on every device of this user.
    pub async fn organise(&mut self, chat: ChatId, settings: ChatSettings) -> Result<()> {
        let pinned = self
            .chats()
            .iter()
            .filter(|c| c.chat != chat && c.settings.pinned)
            .count();
        if settings.pinned && !self.settings(chat).pinned && pinned >= MAX_PINNED {
            return Err(MessengerError::invalid(format!(
                "You can pin up to {MAX_PINNED} chats."
            )));
        }
        let id = self.env.message_id();
        self.apply_settings(chat, id, settings).await?;
        let content = Content::ChatSettings {
            user: chat.user(),
            group: chat.group(),
            pinned: settings.pinned,
            muted_until: settings.muted_until,
            archived: settings.archived,
            marked_unread: settings.marked_unread,
        };
        self.tell_my_devices(id, content).await
    }

    /// Sends `content`, a change `id` made here to how this user keeps
    /// their chats, to this user's other devices (if any), end-to-end
    /// encrypted through the outbox.
    pub(super) async fn tell_my_devices(&mut self, id: MessageId, content: Content) -> Result<()> {
        let me = self
            .my_user()
            .ok_or_else(|| MessengerError::invalid("Not signed in."))?;
        if self.devices().len() < 2 {
            return Ok(());
        }
        let change = Outgoing::Change {
            chat: ChatId::User(me),
            content: Box::new(content),
        };
        self.index.outbox.push(id, change);
        self.save_index().await?;
        self.flush().await
    }

    /// Settings change `id` for `chat`, made on this device or another of
    /// this user's: applied unless a newer one already was.
    pub(super) async fn apply_settings(
        &mut self,
        chat: ChatId,
        id: MessageId,
        settings: ChatSettings,
    ) -> Result<()> {
        let Some(entry) = self.index.find(chat) else {
            return Ok(());
        };
        if entry.settings_change.is_some_and(|newest| newest >= id) {
            return Ok(());
        }
        entry.settings = settings;
        entry.settings_change = Some(id);
        self.show(Effect::Chats);
        self.save_index().await
    }

    /// A chat's settings told by another device of this user.
    pub(super) async fn on_settings(&mut self, id: MessageId, content: Content) -> Result<()> {
        let Content::ChatSettings {
            user,
            group,
            pinned,
            muted_until,
            archived,
            marked_unread,
        } = content
        else {
            return Ok(());
        };
        let chat = match (user, group) {
            (Some(user), None) => ChatId::User(user),
            (None, Some(group)) => ChatId::Group(group),
            _ => return Ok(()),
        };
        let settings = ChatSettings {
            pinned,
            muted_until,
            archived,
            marked_unread,
        };
        self.apply_settings(chat, id, settings).await
    }

    /// Opening a chat the user had marked unread takes the mark off, on
    /// every device.
    pub(super) async fn unmark(&mut self, chat: ChatId) -> Result<()> {
        let settings = self.settings(chat);
        if !settings.marked_unread {
            return Ok(());
        }
        let settings = ChatSettings {
            marked_unread: false,
            ..settings
        };
        self.organise(chat, settings).await
    }
}
