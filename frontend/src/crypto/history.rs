//! Chat history on the device: one sealed record per message under
//! `m/<chat>/<message id>` (ids are time-ordered UUIDv7s, so keys sort by
//! time within a conversation), the sealed chat index under `chats`, and
//! each chat's list of media messages under `g/<chat>`.

use super::vault::Vault;
use courier_shared::client::chat::{ChatId, Gallery, Index, Message};
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

/// Record `name`, decoded, if stored.
async fn read<T: serde::de::DeserializeOwned>(
    vault: &Vault,
    name: &str,
) -> Result<Option<T>, JsValue> {
    match vault.get(name).await? {
        Some(bytes) => decode(&bytes).map(Some),
        None => Ok(None),
    }
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
    read(vault, &key(chat, id)).await
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
    unseal_all(vault, &keys[keys.len().saturating_sub(limit)..]).await
}

/// The messages of `chat` from `from` (inclusive) to `before` (exclusive),
/// oldest first.
pub async fn between(
    vault: &Vault,
    chat: ChatId,
    from: &MessageId,
    before: &MessageId,
) -> Result<Vec<Message>, JsValue> {
    let keys = vault
        .db()
        .keys(&key(chat, from), &key(chat, before))
        .await?;
    unseal_all(vault, &keys).await
}

/// The messages stored under `names` (consecutive keys, in order), read in
/// one request.
async fn unseal_all(vault: &Vault, names: &[String]) -> Result<Vec<Message>, JsValue> {
    let (Some(first), Some(last)) = (names.first(), names.last()) else {
        return Ok(Vec::new());
    };
    let mut messages = Vec::new();
    for (name, sealed) in names.iter().zip(vault.db().values(first, last).await?) {
        messages.push(decode(&vault.unseal(name, sealed).await?)?);
    }
    Ok(messages)
}

/// The chat index, or an empty one.
pub async fn index(vault: &Vault) -> Result<Index, JsValue> {
    Ok(read(vault, INDEX).await?.unwrap_or_default())
}

/// Saves the chat index.
pub async fn save_index(vault: &Vault, index: &Index) -> Result<(), JsValue> {
    vault.put(INDEX, &encode(index)?).await
}

fn gallery_key(chat: ChatId) -> String {
    format!("g/{}", chat.tag())
}

/// The media messages of `chat`, if saved.
pub async fn gallery(vault: &Vault, chat: ChatId) -> Result<Option<Gallery>, JsValue> {
    read(vault, &gallery_key(chat)).await
}

/// Saves the media messages of `chat`.
pub async fn save_gallery(vault: &Vault, chat: ChatId, gallery: &Gallery) -> Result<(), JsValue> {
    vault.put(&gallery_key(chat), &encode(gallery)?).await
}
