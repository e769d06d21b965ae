//! Chat history on the device: one sealed record per message under
//! `m/<peer>/<message id>` (ids are time-ordered UUIDv7s, so keys sort by
//! time within a conversation), and the sealed chat index under `chats`.

use super::vault::Vault;
use crate::state::chat::{Index, Message};
use courier_shared::ids::{MessageId, UserId};
use wasm_bindgen::JsValue;

const INDEX: &str = "chats";

fn prefix(peer: UserId) -> String {
    format!("m/{:016x}/", peer.0)
}

fn key(peer: UserId, id: &MessageId) -> String {
    format!(
        "{}{}",
        prefix(peer),
        data_encoding::HEXLOWER.encode(id.as_bytes())
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
        .put(&key(message.peer, &message.id), &encode(message)?)
        .await
}

/// One message, if stored.
pub async fn message(
    vault: &Vault,
    peer: UserId,
    id: &MessageId,
) -> Result<Option<Message>, JsValue> {
    match vault.get(&key(peer, id)).await? {
        Some(bytes) => decode(&bytes).map(Some),
        None => Ok(None),
    }
}

/// Up to `limit` messages with `peer` older than `before` (or the newest),
/// oldest first.
pub async fn page(
    vault: &Vault,
    peer: UserId,
    before: Option<&MessageId>,
    limit: usize,
) -> Result<Vec<Message>, JsValue> {
    let lower = prefix(peer);
    let upper = match before {
        Some(id) => key(peer, id),
        None => format!("{lower}~"),
    };
    let keys = vault.db().keys(&lower, &upper).await?;
    let start = keys.len().saturating_sub(limit);
    let (Some(first), Some(last)) = (keys.get(start), keys.last()) else {
        return Ok(Vec::new());
    };
    let mut messages = Vec::new();
    for sealed in vault.db().values(first, last).await? {
        messages.push(decode(&vault.unseal(sealed).await?)?);
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
