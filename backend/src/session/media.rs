//! Media requests of a signed-in device: upload slots (within the size
//! limit and the user's quota), completing an upload (the object must be
//! exactly the declared size, else it is deleted), and download URLs.
//!
//! The server never sees a media object's key: it stores and hands out
//! ciphertext only. Media ids are 16 random bytes, so they cannot be
//! guessed; a URL is needed to read or write any object.

use super::commands::{Me, internal};
use crate::clock::{now_ms, now_unix_ms};
use crate::media::MediaError;
use crate::state::AppState;
use crate::store::StoreError;
use courier_shared::crypto::media::MediaHash;
use courier_shared::ids::MediaId;
use courier_shared::proto::{ErrorCode, ServerFrame, Text};

fn refused(code: ErrorCode, reason: &str) -> ServerFrame {
    ServerFrame::rejected(None, code, reason)
}

fn failed(err: &dyn std::fmt::Display) -> ServerFrame {
    let (code, message) = internal(err);
    refused(code, &message)
}

/// Opens an upload slot for `size` bytes hashing to `hash`.
pub async fn request_upload(state: &AppState, me: Me, size: u64, hash: MediaHash) -> ServerFrame {
    let limits = state.media.limits;
    if size == 0 || size > limits.max_bytes {
        return refused(
            ErrorCode::InvalidRequest,
            &format!("a media object is 1 to {} bytes", limits.max_bytes),
        );
    }
    let mut random = [0u8; 16];
    if let Err(err) = getrandom::fill(&mut random) {
        return failed(&err);
    }
    let id = MediaId::from(random);
    let slot = match state
        .media
        .upload_url(&id, size, &hash, now_unix_ms(), limits.url_ttl)
        .await
    {
        Ok(slot) => slot,
        Err(err) => return failed(&err),
    };
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
        .await;
    match opened {
        Ok(()) => ServerFrame::UploadSlot {
            media: id,
            url: Text::truncating(&slot.url),
            expires_at: slot.expires_at,
        },
        Err(StoreError::Quota) => refused(
            ErrorCode::QuotaExceeded,
            "your media storage is full; media is deleted 30 days after upload",
        ),
        Err(err) => failed(&err),
    }
}

/// Checks an upload (the stored object must be exactly the declared bytes)
/// and keeps it for the media TTL.
pub async fn complete_upload(state: &AppState, me: Me, id: MediaId) -> ServerFrame {
    let record = match state.store.media(&id, now_ms()).await {
        Ok(Some(record)) if record.owner == me.0 => record,
        Ok(_) => return refused(ErrorCode::NotFound, "no such upload"),
        Err(err) => return failed(&err),
    };
    if record.complete {
        return ServerFrame::MediaReady { media: id };
    }
    match state.media.check(&id, record.size, &record.hash).await {
        Ok(Ok(())) => {}
        Ok(Err(reason)) => {
            if let Err(err) = discard(state, &id).await {
                return failed(&err);
            }
            return refused(
                ErrorCode::InvalidRequest,
                &format!("{reason}; it was deleted"),
            );
        }
        Err(err) => return failed(&err),
    }
    let keep_until = now_ms().saturating_add(state.media.limits.ttl_ms);
    match state.store.complete_upload(&id, keep_until).await {
        Ok(()) => ServerFrame::MediaReady { media: id },
        Err(err) => failed(&err),
    }
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
pub async fn request_download(state: &AppState, id: MediaId) -> ServerFrame {
    match state.store.media(&id, now_ms()).await {
        Ok(Some(record)) if record.complete => {}
        Ok(_) => return refused(ErrorCode::NotFound, "no such media (or it expired)"),
        Err(err) => return failed(&err),
    }
    let limits = state.media.limits;
    match state
        .media
        .download_url(&id, now_unix_ms(), limits.url_ttl)
        .await
    {
        Ok(url) => ServerFrame::DownloadUrl {
            media: id,
            url: Text::truncating(&url.url),
            expires_at: url.expires_at,
        },
        Err(err) => failed(&err),
    }
}
