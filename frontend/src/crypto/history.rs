//! Chat history on the device: one sealed record per message under
//! `m/<chat>/<message id>` (ids are time-ordered UUIDv7s, so keys sort by
//! time within a conversation), the sealed chat index under `chats`, and
//! each chat's list of media messages under `g/<chat>`. Each message
//! saved leaves an empty note `c/<chat>/<message id>` in the same
//! transaction, which the search index (`crate::search`) takes in and
//! deletes; the index itself is sealed under `x/index`.

use super::vault::Vault;
use courier_shared::client::chat::{ChatId, Gallery, Index, Message};
use courier_shared::ids::MessageId;
use wasm_bindgen::JsValue;

const INDEX: &str = "chats";

fn prefix(chat: ChatId) -> String {
    format!("{MESSAGES}{}/", chat.tag())
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

/// Saves (or replaces) one message, noting it as changed for the search
/// index (`c/…`, see [`changed`]).
pub async fn save_message(vault: &Vault, message: &Message) -> Result<(), JsValue> {
    let name = key(message.chat, &message.id);
    let note = format!("{CHANGED}{}", &name[MESSAGES.len()..]);
    vault.put_noting(&name, &encode(message)?, &note).await
}

/// Where every message record's name starts.
const MESSAGES: &str = "m/";
/// Where the notes of changed messages start: `c/<chat>/<id>` for the
/// message under `m/<chat>/<id>`.
const CHANGED: &str = "c/";

/// Up to `limit` messages changed since their notes were last
/// [`forget_changes`]d, with the notes' names; a note whose message is
/// gone gives no message.
pub async fn changed(vault: &Vault, limit: u32) -> Result<(Vec<Message>, Vec<String>), JsValue> {
    let notes = vault
        .db()
        .first_keys(CHANGED, &format!("{CHANGED}~"), limit)
        .await?;
    let mut messages = Vec::new();
    for note in &notes {
        if let Some(message) = read(vault, &format!("{MESSAGES}{}", &note[CHANGED.len()..])).await?
        {
            messages.push(message);
        }
    }
    Ok((messages, notes))
}

/// Deletes the change notes `notes`.
pub async fn forget_changes(vault: &Vault, notes: &[String]) -> Result<(), JsValue> {
    let notes: Vec<&str> = notes.iter().map(String::as_str).collect();
    vault.db().commit(&[], &notes).await
}

/// How many messages are stored, in every chat.
pub async fn count(vault: &Vault) -> Result<usize, JsValue> {
    Ok(vault
        .db()
        .keys(MESSAGES, &format!("{MESSAGES}~"))
        .await?
        .len())
}

/// Up to `limit` messages of any chat, in key order, from the record named
/// `from` on (`None`: the first); and where the next batch starts, if any
/// remain.
pub async fn batch(
    vault: &Vault,
    from: Option<&str>,
    limit: u32,
) -> Result<(Vec<Message>, Option<String>), JsValue> {
    let names = vault
        .db()
        .first_keys(from.unwrap_or(MESSAGES), &format!("{MESSAGES}~"), limit)
        .await?;
    // A name one past the last: nothing sorts between them.
    let next = (names.len() == limit as usize)
        .then(|| names.last().map(|last| format!("{last}\u{0}")))
        .flatten();
    Ok((unseal_all(vault, &names).await?, next))
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
    let keys = vault.db().last_keys(&lower, &upper, limit).await?;
    unseal_all(vault, &keys).await
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

fn photo_key(chat: ChatId) -> String {
    format!("p/{}", chat.tag())
}

/// The photo of `chat` (a person's profile photo or a group's), if saved.
pub async fn photo(vault: &Vault, chat: ChatId) -> Result<Option<Vec<u8>>, JsValue> {
    vault.get(&photo_key(chat)).await
}

/// Saves the photo of `chat` (empty: none).
pub async fn save_photo(vault: &Vault, chat: ChatId, photo: &[u8]) -> Result<(), JsValue> {
    vault.put(&photo_key(chat), photo).await
}

/// The media messages of `chat`, if saved.
pub async fn gallery(vault: &Vault, chat: ChatId) -> Result<Option<Gallery>, JsValue> {
    read(vault, &gallery_key(chat)).await
}

/// Saves the media messages of `chat`.
pub async fn save_gallery(vault: &Vault, chat: ChatId, gallery: &Gallery) -> Result<(), JsValue> {
    vault.put(&gallery_key(chat), &encode(gallery)?).await
}
