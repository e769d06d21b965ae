//! One upload into the local media store, streamed to disk: the body goes
//! into a claim file (`uploads/<id>.part`, created exclusively, so that a
//! second PUT to a slot while one is running is refused instead of being
//! buffered), is hashed on the way, and is moved into place (`media/<id>`,
//! the object store's own path) only if it is exactly the signed size and
//! hash. An object once in place is never replaced, so nothing can be put
//! after the server checked it.

use courier_shared::crypto::media::MediaHash;
use courier_shared::ids::MediaId;
use courier_shared::text_encoding;
use futures_util::StreamExt;
use sha2::Digest;
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

/// Why an upload was not stored.
#[derive(Debug, thiserror::Error)]
pub enum PutError {
    /// Another upload to the slot is running.
    #[error("another upload to this slot is running")]
    Busy,
    /// The slot's object is already stored.
    #[error("the upload slot is already filled")]
    Filled,
    /// The body is longer or shorter than the signed size.
    #[error("not the length the slot was opened for")]
    Length,
    /// The body is not the signed bytes.
    #[error("not the bytes the slot was opened for")]
    Bytes,
    /// The body could not be read (the client went away).
    #[error("the upload broke off: {0}")]
    Body(axum::Error),
    /// The disk failed.
    #[error("the media directory failed: {0}")]
    Io(#[from] std::io::Error),
}

fn paths(dir: &Path, id: &MediaId) -> (PathBuf, PathBuf) {
    let name = text_encoding::hex(id.as_bytes());
    (
        dir.join("uploads").join(format!("{name}.part")),
        dir.join("media").join(name),
    )
}

/// Removes the claim file while the upload has not been moved into place.
struct Claim(Option<PathBuf>);

impl Drop for Claim {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Stores `body` as media `id` under `dir` if it is exactly `size` bytes
/// hashing to `hash`, and nothing else is or was being stored there.
pub async fn write(
    dir: &Path,
    id: &MediaId,
    size: u64,
    hash: &MediaHash,
    body: axum::body::Body,
) -> Result<(), PutError> {
    let (part, object) = paths(dir, id);
    for parent in [part.parent(), object.parent()].into_iter().flatten() {
        tokio::fs::create_dir_all(parent).await?;
    }
    let mut file = match tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&part)
        .await
    {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(PutError::Busy);
        }
        Err(err) => return Err(err.into()),
    };
    let mut claim = Claim(Some(part.clone()));
    if tokio::fs::try_exists(&object).await? {
        return Err(PutError::Filled);
    }
    let mut digest = sha2::Sha256::new();
    let mut written = 0u64;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(PutError::Body)?;
        written = written.saturating_add(chunk.len() as u64);
        if written > size {
            return Err(PutError::Length);
        }
        digest.update(&chunk);
        file.write_all(&chunk).await?;
    }
    if written != size {
        return Err(PutError::Length);
    }
    if digest.finalize().as_slice() != hash.as_bytes() {
        return Err(PutError::Bytes);
    }
    file.sync_all().await?;
    drop(file);
    tokio::fs::rename(&part, &object).await?;
    claim.0 = None;
    Ok(())
}

/// Removes an unfinished upload of `id` (left by a node that stopped).
pub async fn forget(dir: &Path, id: &MediaId) {
    let _ = tokio::fs::remove_file(paths(dir, id).0).await;
}
