//! [`IdbStore`]: the messenger core's [`Store`] in this browser — every
//! record sealed by the [`Vault`] in IndexedDB (see `crypto::history`).

use crate::crypto::history;
use crate::crypto::vault::Vault;
use courier_shared::client::Store;
use courier_shared::client::chat::{ChatId, Gallery, Index, Message};
use courier_shared::ids::MessageId;
use std::rc::Rc;

/// The device's sealed records.
#[derive(Clone)]
pub struct IdbStore(pub Rc<Vault>);

fn text(err: wasm_bindgen::JsValue) -> String {
    crate::state::worker::js_text(err)
}

impl Store for IdbStore {
    async fn message(&mut self, chat: ChatId, id: &MessageId) -> Result<Option<Message>, String> {
        history::message(&self.0, chat, id).await.map_err(text)
    }

    async fn save_message(&mut self, message: &Message) -> Result<(), String> {
        history::save_message(&self.0, message).await.map_err(text)
    }

    async fn save_index(&mut self, index: &Index) -> Result<(), String> {
        history::save_index(&self.0, index).await.map_err(text)
    }

    async fn save_account(&mut self, account: &[u8]) -> Result<(), String> {
        self.0.save(account).await.map_err(text)
    }

    async fn page(
        &mut self,
        chat: ChatId,
        before: Option<&MessageId>,
        limit: usize,
    ) -> Result<Vec<Message>, String> {
        history::page(&self.0, chat, before, limit)
            .await
            .map_err(text)
    }

    async fn gallery(&mut self, chat: ChatId) -> Result<Option<Gallery>, String> {
        history::gallery(&self.0, chat).await.map_err(text)
    }

    async fn save_gallery(&mut self, chat: ChatId, gallery: &Gallery) -> Result<(), String> {
        history::save_gallery(&self.0, chat, gallery)
            .await
            .map_err(text)
    }

    async fn photo(&mut self, chat: ChatId) -> Result<Option<Vec<u8>>, String> {
        history::photo(&self.0, chat).await.map_err(text)
    }

    async fn save_photo(&mut self, chat: ChatId, photo: &[u8]) -> Result<(), String> {
        history::save_photo(&self.0, chat, photo)
            .await
            .map_err(text)
    }
}
