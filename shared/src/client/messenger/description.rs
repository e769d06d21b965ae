//! A group's description: any member sets it for everyone (a
//! [`Content::Description`] change, sent like a reaction; the newest setting
//! wins in whatever order settings arrive), each setting a line in the
//! chat. Like the group's name, the server never sees it.

use super::{Messenger, MessengerError, Result, Store};
use crate::client::api::Server;
use crate::client::chat::{ChatId, Description, Message};
use crate::crypto::content::{Content, MAX_DESCRIPTION_BYTES};
use crate::ids::{MessageId, UserId};
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
        let who = self.who(chat, author);
        let line = if text.is_empty() {
            format!("{who} removed the group description.")
        } else {
            format!("{who} changed the group description.")
        };
        self.arrived(Message::line(id, chat, Some(author), line))
            .await
    }
}
