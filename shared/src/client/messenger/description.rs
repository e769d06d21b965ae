//! A group's description and photo: any member sets them for everyone (a
//! [`Content::Description`] or [`Content::GroupPhoto`] change, sent like a
//! reaction; the newest setting wins in whatever order settings arrive),
//! each setting a line in the chat. Like the group's name, the server never
//! sees them.

use super::{Effect, Messenger, MessengerError, Result, Store};
use crate::client::api::Server;
use crate::client::chat::{ChatId, Description, Message};
use crate::crypto::content::{Content, MAX_DESCRIPTION_BYTES};
use crate::ids::{Blob, MessageId, UserId};
use crate::proto::Text;
use crate::time::Env;

/// The longest description a member can write, in characters (WhatsApp's).
pub const MAX_DESCRIPTION_CHARS: usize = 512;

impl<S: Server, St: Store, E: Env> Messenger<S, St, E> {
    /// Sets the description of group `chat` to `text` (empty: none) for
    /// every member.
    pub(super) async fn describe_group(&mut self, chat: ChatId, text: &str) -> Result<()> {
        let text = text.trim();
        if text.chars().count() > MAX_DESCRIPTION_CHARS || text.len() > MAX_DESCRIPTION_BYTES {
            return Err(MessengerError::invalid(format!(
                "A group description is at most {MAX_DESCRIPTION_CHARS} characters."
            )));
        }
        if chat.group().is_none() || self.index.get(chat).is_none() {
            return Err(MessengerError::invalid("There is no such group."));
        }
        let text = Text::truncating(text);
        self.change(chat, Content::Description { text }).await
    }

    /// Description setting `id` of `author` for group `chat` (made here or
    /// arrived): applied unless a newer one is, with a line in the chat.
    pub(super) async fn on_description(
        &mut self,
        chat: ChatId,
        author: UserId,
        id: MessageId,
        text: &str,
    ) -> Result<()> {
        if chat.group().is_none() {
            return Ok(());
        }
        let Some(entry) = self.index.find(chat) else {
            return Ok(());
        };
        if entry.description.set_by.is_some_and(|newest| newest >= id) {
            return Ok(());
        }
        entry.description = Description {
            text: text.to_owned(),
            set_by: Some(id),
        };
        let removed = text.is_empty();
        self.setting_line(chat, author, id, "description", removed)
            .await
    }

    /// Sets the photo of group `chat` (a JPEG; empty: none) for every
    /// member.
    pub(super) async fn set_group_photo(&mut self, chat: ChatId, photo: Vec<u8>) -> Result<()> {
        if chat.group().is_none() || self.index.get(chat).is_none() {
            return Err(MessengerError::invalid("There is no such group."));
        }
        let photo = Blob::new(photo)
            .ok_or_else(|| MessengerError::invalid("The photo is too large for a group."))?;
        self.change(chat, Content::GroupPhoto { photo }).await
    }

    /// Photo setting `id` of `author` for group `chat`: kept unless a newer
    /// one is, with a line in the chat.
    pub(super) async fn on_group_photo(
        &mut self,
        chat: ChatId,
        author: UserId,
        id: MessageId,
        photo: &[u8],
    ) -> Result<()> {
        let Some(entry) = self.index.find(chat).filter(|_| chat.group().is_some()) else {
            return Ok(());
        };
        if entry.photo.0.is_some_and(|newest| newest >= id) {
            return Ok(());
        }
        entry.photo = (Some(id), !photo.is_empty());
        self.store
            .save_photo(chat, photo)
            .await
            .map_err(MessengerError::Store)?;
        self.show(Effect::Profile(chat));
        let removed = photo.is_empty();
        self.setting_line(chat, author, id, "photo", removed).await
    }

    /// The line in group `chat` for setting `id` of `author`: they changed
    /// (or removed) the group's `what`.
    async fn setting_line(
        &mut self,
        chat: ChatId,
        author: UserId,
        id: MessageId,
        what: &str,
        removed: bool,
    ) -> Result<()> {
        let who = self.who(chat, author);
        let verb = if removed { "removed" } else { "changed" };
        let line = format!("{who} {verb} the group {what}.");
        self.arrived(Message::line(id, chat, Some(author), line))
            .await
    }
}
