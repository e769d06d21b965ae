//! Chat history on the device: one sealed record per message under
//! `m/<chat>/<message id>` (ids are time-ordered UUIDv7s, so keys sort by
//! time within a conversation), and the sealed chat index under `chats`.

use super::vault::Vault;
use courier_shared::client::chat::{ChatId, Index, Message};
use courier_shared::ids::MessageId;
use wasm_bindgen::JsValue;

const INDEX: &str = "chats";

fn prefix(chat: ChatId) -> String {
    format!("m/{}/", chat.tag())
}

fn key(chat: ChatId, id: &MessageId) -> String {
    format!(
        "{}{}",
        prefix(chat),
        courier_shared::text_encoding::hex(id.as_bytes())
    )
}

fn encode<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, JsValue> {
    courier_shared::proto::encode(value).map_err(|e| JsValue::from_str(&e.to_string()))
}

fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, JsValue> {
    courier_shared::proto::decode(bytes).map_err(|e| JsValue::from_str(&e.to_string()))
}

/// Saves (or replaces) one message.
pub async fn save_message(vault: &Vault, message: &Message) -> Result<(), JsValue> {
    vault
        .put(&key(message.chat, &message.id), &encode(message)?)
        .await
}

/// One message, if stored.
pub async fn message(
    vault: &Vault,
    chat: ChatId,
    id: &MessageId,
) -> Result<Option<Message>, JsValue> {
    match vault.get(&key(chat, id)).await? {
        Some(bytes) => decode(&bytes).map(Some),
        None => Ok(None),
    }
}

/// Up to `limit` messages of `chat` older than `before` (or the newest),
/// oldest first.
pub async fn page(
    vault: &Vault,
    chat: ChatId,
    before: Option<&MessageId>,
    limit: usize,
) -> Result<Vec<Message>, JsValue> {
    let lower = prefix(chat);
    let upper = match before {
        Some(id) => key(chat, id),
        None => format!("{lower}~"),
    };
    let keys = vault.db().keys(&lower, &upper).await?;
    let start = keys.len().saturating_sub(limit);
    let (Some(first), Some(last)) = (keys.get(start), keys.last()) else {
        return Ok(Vec::new());
    };
    let mut messages = Vec::new();
    let names = &keys[start..];
    for (name, sealed) in names.iter().zip(vault.db().values(first, last).await?) {
        messages.push(decode(&vault.unseal(name, sealed).await?)?);
    }
    Ok(messages)
}

/// The chat index, or an empty one.
pub async fn index(vault: &Vault) -> Result<Index, JsValue> {
    match vault.get(INDEX).await? {
        Some(bytes) => decode(&bytes),
        None => Ok(Index::default()),
    }
}

/// Saves the chat index.
pub async fn save_index(vault: &Vault, index: &Index) -> Result<(), JsValue> {
    vault.put(INDEX, &encode(index)?).await
}
