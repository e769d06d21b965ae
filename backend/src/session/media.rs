//! Media requests of a signed-in device: upload slots (within the size
//! limit and the user's quota), completing an upload (the object must be
//! exactly the declared size, else it is deleted), and download URLs.
//!
//! The server never sees a media object's key: it stores and hands out
//! ciphertext only. Media ids are 16 random bytes, so they cannot be
//! guessed; a URL is needed to read or write any object.

use super::commands::Me;
use crate::clock::{now_ms, now_unix_ms};
use crate::media::MediaError;
use crate::refusal::{Refusal, internal};
use crate::state::AppState;
use courier_shared::crypto::media::MediaHash;
use courier_shared::ids::{MediaId, RequestId};
use courier_shared::proto::{ErrorCode, ServerFrame, Text};

/// Opens an upload slot for `size` bytes hashing to `hash`.
pub async fn request_upload(
    state: &AppState,
    me: Me,
    request: RequestId,
    size: u64,
    hash: MediaHash,
) -> Result<ServerFrame, Refusal> {
    let limits = state.media.limits;
    if size == 0 || size > limits.max_bytes {
        return Err(Refusal::invalid(format!(
            "a media object is 1 to {} bytes",
            limits.max_bytes
        )));
    }
    let mut random = [0u8; 16];
    getrandom::fill(&mut random).map_err(|err| internal(&err))?;
    let id = MediaId::from(random);
    let slot = state
        .media
        .upload_url(&id, size, &hash, now_unix_ms(), limits.url_ttl)
        .await?;
    let expires_at = i64::try_from(slot.expires_at).unwrap_or(i64::MAX);
    let opened = state
        .store
        .open_upload(
            me.0,
            &id,
            size,
            &hash,
            limits.quota_bytes,
            now_ms(),
            expires_at,
        )
        .await?;
    if !opened {
        return Err(Refusal::new(
            ErrorCode::QuotaExceeded,
            "your media storage is full; media is deleted 30 days after upload",
        ));
    }
    Ok(ServerFrame::UploadSlot {
        request,
        media: id,
        url: Text::truncating(&slot.url),
        expires_at: slot.expires_at,
    })
}

/// Checks an upload (the stored object must be exactly the declared bytes)
/// and keeps it for the media TTL.
pub async fn complete_upload(
    state: &AppState,
    me: Me,
    request: RequestId,
    id: MediaId,
) -> Result<ServerFrame, Refusal> {
    let record = match state.store.media(&id, now_ms()).await? {
        Some(record) if record.owner == me.0 => record,
        _ => return Err(Refusal::not_found("upload")),
    };
    let ready = ServerFrame::MediaReady { request, media: id };
    if record.complete {
        return Ok(ready);
    }
    if let Err(reason) = state.media.check(&id, record.size, &record.hash).await? {
        discard(state, &id).await?;
        return Err(Refusal::invalid(format!("{reason}; it was deleted")));
    }
    let keep_until = now_ms().saturating_add(state.media.limits.ttl_ms);
    state.store.complete_upload(&id, keep_until).await?;
    Ok(ready)
}

async fn discard(state: &AppState, id: &MediaId) -> Result<(), MediaError> {
    state.media.delete(id).await?;
    state
        .store
        .delete_media(id)
        .await
        .map_err(|err| MediaError::Bookkeeping(err.to_string()))
}

/// A download URL for a complete media object.
pub async fn request_download(
    state: &AppState,
    request: RequestId,
    id: MediaId,
) -> Result<ServerFrame, Refusal> {
    match state.store.media(&id, now_ms()).await? {
        Some(record) if record.complete => {}
        _ => return Err(Refusal::not_found("media (or it expired)")),
    }
    let limits = state.media.limits;
    let url = state
        .media
        .download_url(&id, now_unix_ms(), limits.url_ttl)
        .await?;
    Ok(ServerFrame::DownloadUrl {
        request,
        media: id,
        url: Text::truncating(&url.url),
        expires_at: url.expires_at,
    })
}
