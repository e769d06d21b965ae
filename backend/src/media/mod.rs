//! [`MediaStore`]: where encrypted media objects live, and the short-lived
//! signed URLs through which clients upload and download them.
//!
//! Either an S3-compatible bucket (MinIO in deployment) or, by default, a local
//! directory under the data directory; both sit behind `object_store`, so the
//! rest of the server never knows which. With a bucket, URLs are presigned
//! by [`presign`] (SigV4): an upload URL binds the exact
//! `Content-Length`, the checksum, and the [`UPLOAD_HEADERS`] (stored as
//! `application/octet-stream`, `attachment`, created once: `If-None-Match:
//! *`); a download URL asks for the same type and disposition again. The
//! bucket is served from its own origin (`deploy/nginx.conf`), which adds
//! [`INERT_HEADERS`]. With the local directory, the server itself serves
//! `/media/<id>` under its own HMAC-signed, expiring URLs ([`local_url`]),
//! writing uploads through [`local_put`] and answering with the same
//! headers.

pub mod local_put;
pub mod local_url;
pub mod presign;
pub mod sweeper;

use crate::config::Settings;
use courier_shared::crypto::media::{MediaHash, UPLOAD_HEADERS};
use courier_shared::ids::MediaId;
use courier_shared::text_encoding;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use secrecy::ExposeSecret;
use std::sync::Arc;

/// Why the media store could not be set up or reached.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The local media directory could not be created.
    #[error("cannot create the media directory {path}: {source}")]
    CreateDir {
        /// The directory.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The S3 settings are incomplete.
    #[error("S3 media storage needs {0}")]
    MissingSetting(&'static str),
    /// The object store rejected a request or could not be reached.
    #[error("object store: {0}")]
    Store(#[from] object_store::Error),
    /// The database record of a media object could not be updated.
    #[error("media bookkeeping: {0}")]
    Bookkeeping(String),
}

/// Which kind of storage holds media.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaBackend {
    /// A directory on this machine.
    Local,
    /// An S3-compatible bucket.
    S3,
}

/// The limits media is kept within.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaLimits {
    /// Largest object, in bytes.
    pub max_bytes: u64,
    /// Bytes one user may keep stored at once.
    pub quota_bytes: u64,
    /// How long an object is kept after its upload (ms).
    pub ttl_ms: i64,
    /// How long a signed URL stays valid.
    pub url_ttl: std::time::Duration,
}

/// The object store holding media.
#[derive(Debug, Clone)]
pub struct MediaStore {
    /// The limits in force.
    pub limits: MediaLimits,
    store: Arc<dyn ObjectStore>,
    backend: MediaBackend,
    /// Signs the bucket's URLs (S3 only).
    signer: Option<presign::Presigner>,
    /// The key that signs local URLs (set once the database is open).
    url_key: Option<local_url::UrlKey>,
    /// The directory of the local store (local only).
    local_dir: Option<std::path::PathBuf>,
}

/// The headers of every media response: the bytes are to be saved, never
/// sniffed, rendered or run, even if a browser is sent to the URL.
pub const INERT_HEADERS: [(&str, &str); 4] = [
    ("content-type", "application/octet-stream"),
    ("content-disposition", "attachment"),
    ("x-content-type-options", "nosniff"),
    ("content-security-policy", "sandbox"),
];

/// The header an upload to a bucket carries: the ciphertext's SHA-256,
/// base64, bound to the URL's signature.
pub static CHECKSUM_HEADER: axum::http::HeaderName =
    axum::http::HeaderName::from_static("x-amz-checksum-sha256");

const DEFAULT_LIMITS: MediaLimits = MediaLimits {
    max_bytes: 100 * 1024 * 1024,
    quota_bytes: 2 * 1024 * 1024 * 1024,
    ttl_ms: 30 * 24 * 3600 * 1000,
    url_ttl: std::time::Duration::from_secs(15 * 60),
};

/// A signed URL and when it stops working.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedUrl {
    /// Absolute for a bucket; a path on this server for the local store.
    pub url: String,
    /// Unix ms.
    pub expires_at: u64,
}

/// The object path of media `id`.
pub fn object_path(id: &MediaId) -> Path {
    Path::from(format!("media/{}", text_encoding::hex(id.as_bytes())))
}

impl MediaStore {
    /// Builds the store the settings describe.
    pub fn from_settings(settings: &Settings) -> Result<Self, MediaError> {
        let mut store = match &settings.s3_bucket {
            Some(bucket) => Self::s3(settings, bucket),
            None => Self::local(settings.media_dir()),
        }?;
        store.limits = MediaLimits {
            max_bytes: settings.media_max_bytes,
            quota_bytes: settings.media_quota_bytes,
            ttl_ms: settings.media_ttl_ms(),
            url_ttl: settings.media_url_ttl(),
        };
        Ok(store)
    }

    fn local(dir: std::path::PathBuf) -> Result<Self, MediaError> {
        std::fs::create_dir_all(&dir).map_err(|source| MediaError::CreateDir {
            path: dir.clone(),
            source,
        })?;
        let store = LocalFileSystem::new_with_prefix(&dir)?;
        Ok(Self {
            limits: DEFAULT_LIMITS,
            store: Arc::new(store),
            backend: MediaBackend::Local,
            signer: None,
            url_key: None,
            local_dir: Some(dir),
        })
    }

    fn s3(settings: &Settings, bucket: &str) -> Result<Self, MediaError> {
        let endpoint = settings
            .s3_endpoint
            .as_deref()
            .ok_or(MediaError::MissingSetting("--s3-endpoint"))?;
        let access_key = settings
            .s3_access_key
            .as_deref()
            .ok_or(MediaError::MissingSetting("--s3-access-key"))?;
        let secret_key = settings
            .s3_secret_key
            .as_ref()
            .ok_or(MediaError::MissingSetting("--s3-secret-key"))?;
        let bucket_at = |endpoint: &str| {
            AmazonS3Builder::new()
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"))
                .with_virtual_hosted_style_request(false)
                .with_region(&settings.s3_region)
                .with_bucket_name(bucket)
                .with_access_key_id(access_key)
                .with_secret_access_key(secret_key.expose_secret())
                .build()
        };
        let store = Arc::new(bucket_at(endpoint)?);
        // Signed URLs name the host browsers reach, which SigV4 signs too.
        let signer = presign::Presigner::new(
            settings.s3_public_endpoint.as_deref().unwrap_or(endpoint),
            Some(bucket),
            &settings.s3_region,
            access_key,
            secret_key.clone(),
        );
        Ok(Self {
            limits: DEFAULT_LIMITS,
            store,
            backend: MediaBackend::S3,
            signer: Some(signer),
            url_key: None,
            local_dir: None,
        })
    }

    /// Sets the key that signs local media URLs (shared by every node).
    pub fn with_url_key(mut self, key: local_url::UrlKey) -> Self {
        self.url_key = Some(key);
        self
    }

    /// The key that signs local media URLs, if set.
    pub fn url_key(&self) -> Option<&local_url::UrlKey> {
        self.url_key.as_ref()
    }

    /// A URL to `PUT` exactly `size` bytes hashing to `hash` as media `id`,
    /// valid for `ttl`. A bucket checks the hash (`x-amz-checksum-sha256`,
    /// bound to the signature); the local store checks size and hash.
    pub async fn upload_url(
        &self,
        id: &MediaId,
        size: u64,
        hash: &MediaHash,
        now_ms: u64,
        ttl: std::time::Duration,
    ) -> Result<SignedUrl, MediaError> {
        self.signed(local_url::Op::Put, id, size, Some(hash), now_ms, ttl)
            .await
    }

    /// A URL to `GET` media `id`, valid for `ttl`.
    pub async fn download_url(
        &self,
        id: &MediaId,
        now_ms: u64,
        ttl: std::time::Duration,
    ) -> Result<SignedUrl, MediaError> {
        self.signed(local_url::Op::Get, id, 0, None, now_ms, ttl)
            .await
    }

    async fn signed(
        &self,
        op: local_url::Op,
        id: &MediaId,
        size: u64,
        hash: Option<&MediaHash>,
        now_ms: u64,
        ttl: std::time::Duration,
    ) -> Result<SignedUrl, MediaError> {
        let expires_at = now_ms.saturating_add(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX));
        if let Some(signer) = &self.signer {
            let key = object_path(id).to_string();
            let (now, ttl) = (now_ms / 1_000, ttl.as_secs());
            let url = match op {
                local_url::Op::Get => {
                    let query = [
                        ("response-content-type", INERT_HEADERS[0].1),
                        ("response-content-disposition", INERT_HEADERS[1].1),
                    ];
                    signer.url("GET", &key, &query, &[], now, ttl)
                }
                local_url::Op::Put => {
                    let sum = text_encoding::base64(hash.map_or(&[][..], |h| h.as_bytes()));
                    let length = size.to_string();
                    let mut headers = vec![
                        (CHECKSUM_HEADER.as_str(), sum.as_str()),
                        ("content-length", length.as_str()),
                    ];
                    headers.extend(UPLOAD_HEADERS);
                    signer.url("PUT", &key, &[], &headers, now, ttl)
                }
            };
            return Ok(SignedUrl { url, expires_at });
        }
        let key = self
            .url_key
            .as_ref()
            .ok_or(MediaError::MissingSetting("a media URL key"))?;
        Ok(SignedUrl {
            url: key.url(op, id, size, hash, expires_at),
            expires_at,
        })
    }

    /// Whether the stored object `id` is exactly `size` bytes hashing to
    /// `hash` (read back in full: not every S3-compatible store verifies
    /// the signed checksum); `Ok(Err(reason))` if not.
    pub async fn check(
        &self,
        id: &MediaId,
        size: u64,
        hash: &MediaHash,
    ) -> Result<Result<(), String>, MediaError> {
        let object = match self.store.get(&object_path(id)).await {
            Ok(object) => object,
            Err(object_store::Error::NotFound { .. }) => {
                return Ok(Err("nothing was uploaded to the slot".into()));
            }
            Err(err) => return Err(err.into()),
        };
        if object.meta.size != size {
            return Ok(Err(format!(
                "the upload is {} bytes, not the {size} declared",
                object.meta.size
            )));
        }
        let mut digest = <sha2::Sha256 as sha2::Digest>::new();
        let mut stream = object.into_stream();
        while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
            sha2::Digest::update(&mut digest, &chunk?);
        }
        let found = sha2::Digest::finalize(digest);
        if found.as_slice() == hash.as_bytes() {
            Ok(Ok(()))
        } else {
            Ok(Err("the upload is not the declared bytes".into()))
        }
    }

    /// Deletes media `id` (nothing if it is not there), and in the local
    /// store an upload of it left unfinished.
    pub async fn delete(&self, id: &MediaId) -> Result<(), MediaError> {
        if let Some(dir) = &self.local_dir {
            local_put::forget(dir, id).await;
        }
        match self.store.delete(&object_path(id)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(err.into()),
        }
    }

    /// The origin browsers fetch a bucket's media from (`None`: this one).
    pub fn public_origin(&self) -> Option<&str> {
        self.signer.as_ref().map(presign::Presigner::origin)
    }

    /// The directory of the local store (where its routes write uploads).
    pub fn local_dir(&self) -> Option<&std::path::Path> {
        self.local_dir.as_deref()
    }

    /// The object store itself (the local media routes read and write it).
    pub fn objects(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// Which kind of storage this is.
    pub fn backend(&self) -> MediaBackend {
        self.backend
    }

    /// Succeeds when the store answers: a missing probe object still proves that
    /// the store is reachable and accepts our credentials.
    pub async fn ping(&self) -> Result<(), MediaError> {
        match self
            .store
            .head(&Path::from(".courier-readiness-probe"))
            .await
        {
            Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(err.into()),
        }
    }
}

#[cfg(test)]
mod tests;
