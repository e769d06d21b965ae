//! [`MemoryStore`]: a [`Store`] that keeps everything in memory — for the
//! native test client and the core's own tests (the web client keeps the
//! same records sealed in IndexedDB).

use super::chat::{ChatId, Gallery, Index, Message};
use super::messenger::Store;
use crate::ids::MessageId;
use std::collections::BTreeMap;

/// Records in memory.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    /// Every message, by chat and id.
    pub messages: BTreeMap<(ChatId, MessageId), Message>,
    /// The last saved chat index.
    pub index: Option<Index>,
    /// The last saved account.
    pub account: Option<Vec<u8>>,
    /// Each chat's media messages.
    pub galleries: BTreeMap<ChatId, Gallery>,
    /// Profile and group photos, by chat.
    pub photos: BTreeMap<ChatId, Vec<u8>>,
}

impl MemoryStore {
    /// The messages of `chat`, oldest first.
    pub fn chat(&self, chat: ChatId) -> Vec<&Message> {
        self.messages
            .iter()
            .filter(|((c, _), _)| *c == chat)
            .map(|(_, m)| m)
            .collect()
    }
}

impl Store for MemoryStore {
    async fn message(&mut self, chat: ChatId, id: &MessageId) -> Result<Option<Message>, String> {
        Ok(self.messages.get(&(chat, *id)).cloned())
    }

    async fn save_message(&mut self, message: &Message) -> Result<(), String> {
        self.messages
            .insert((message.chat, message.id), message.clone());
        Ok(())
    }

    async fn save_index(&mut self, index: &Index) -> Result<(), String> {
        self.index = Some(index.clone());
        Ok(())
    }

    async fn save_account(&mut self, account: &[u8]) -> Result<(), String> {
        self.account = Some(account.to_vec());
        Ok(())
    }

    async fn page(
        &mut self,
        chat: ChatId,
        before: Option<&MessageId>,
        limit: usize,
    ) -> Result<Vec<Message>, String> {
        let older: Vec<Message> = self
            .chat(chat)
            .into_iter()
            .filter(|m| before.is_none_or(|b| m.id < *b))
            .cloned()
            .collect();
        Ok(older[older.len().saturating_sub(limit)..].to_vec())
    }

    async fn gallery(&mut self, chat: ChatId) -> Result<Option<Gallery>, String> {
        Ok(self.galleries.get(&chat).cloned())
    }

    async fn save_gallery(&mut self, chat: ChatId, gallery: &Gallery) -> Result<(), String> {
        self.galleries.insert(chat, gallery.clone());
        Ok(())
    }

    async fn photo(&mut self, chat: ChatId) -> Result<Option<Vec<u8>>, String> {
        Ok(self.photos.get(&chat).cloned())
    }

    async fn save_photo(&mut self, chat: ChatId, photo: &[u8]) -> Result<(), String> {
        self.photos.insert(chat, photo.to_vec());
        Ok(())
    }
}
