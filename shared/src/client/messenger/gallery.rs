//! A chat's shared media: its photos, videos, voice notes and files, newest
//! first, as WhatsApp's "Media, links and docs". Every media message stored
//! is noted in the chat's [`Gallery`] record; history stored before
//! galleries were kept is looked through once per chat, the first time the
//! list is asked for. Deleted and disappeared messages drop out of it.

use super::{Messenger, MessengerError, Result, Store};
use crate::client::api::Server;
use crate::client::chat::{ChatId, Gallery, Message};
use crate::crypto::content::Content;
use crate::ids::MessageId;
use crate::time::Env;

/// Messages read at a time when looking through old history.
const SCAN_PAGE: usize = 500;

/// Whether `message` shows media (a photo, video, voice note or file) that
/// was not deleted.
pub fn carries_media(message: &Message) -> bool {
    matches!(message.content, Some(Content::Media { .. })) && !message.hidden && !message.deleted
}

/// The newest media messages of a chat.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SharedMedia {
    /// Newest first.
    pub messages: Vec<Message>,
    /// Older ones remain.
    pub more: bool,
}

impl<S: Server, St: Store, E: Env> Messenger<S, St, E> {
    /// Up to `limit` of the newest media messages of `chat`.
    pub async fn shared_media(&mut self, chat: ChatId, limit: usize) -> Result<SharedMedia> {
        let mut gallery = self.gallery(chat).await?;
        if !gallery.scanned {
            self.scan(chat, &mut gallery).await?;
        }
        let mut shown = SharedMedia::default();
        let mut gone = Vec::new();
        for id in gallery.ids.iter().rev() {
            if shown.messages.len() == limit {
                shown.more = true;
                break;
            }
            match self.load(chat, id).await? {
                Some(message) if carries_media(&message) => shown.messages.push(message),
                _ => gone.push(*id),
            }
        }
        if !gone.is_empty() {
            gallery.ids.retain(|id| !gone.contains(id));
            self.save_gallery(chat, &gallery).await?;
        }
        Ok(shown)
    }

    /// Notes media message `id` of `chat` (stored just now).
    pub(super) async fn note_media(&mut self, chat: ChatId, id: MessageId) -> Result<()> {
        let mut gallery = self.gallery(chat).await?;
        let Err(at) = gallery.ids.binary_search(&id) else {
            return Ok(());
        };
        gallery.ids.insert(at, id);
        self.save_gallery(chat, &gallery).await
    }

    /// Looks through the whole stored history of `chat` for media messages
    /// and saves `gallery` with them.
    async fn scan(&mut self, chat: ChatId, gallery: &mut Gallery) -> Result<()> {
        let mut before = None;
        loop {
            let page = self
                .store
                .page(chat, before.as_ref(), SCAN_PAGE)
                .await
                .map_err(MessengerError::Store)?;
            gallery
                .ids
                .extend(page.iter().filter(|m| carries_media(m)).map(|m| m.id));
            if page.len() < SCAN_PAGE {
                break;
            }
            before = page.first().map(|m| m.id);
        }
        gallery.ids.sort_unstable();
        gallery.ids.dedup();
        gallery.scanned = true;
        self.save_gallery(chat, gallery).await
    }

    /// The gallery of `chat` (an empty, unscanned one if none is saved).
    async fn gallery(&mut self, chat: ChatId) -> Result<Gallery> {
        let saved = self
            .store
            .gallery(chat)
            .await
            .map_err(MessengerError::Store)?;
        Ok(saved.unwrap_or_default())
    }

    async fn save_gallery(&mut self, chat: ChatId, gallery: &Gallery) -> Result<()> {
        self.store
            .save_gallery(chat, gallery)
            .await
            .map_err(MessengerError::Store)
    }
}
