//! [`MediaStore`]: where encrypted media objects live.
//!
//! Either an S3-compatible bucket (MinIO in deployment) or, by default, a local
//! directory under the data directory; both sit behind `object_store`, so the
//! rest of the server never knows which.

use crate::config::Settings;
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
}

/// Which kind of storage holds media.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaBackend {
    /// A directory on this machine.
    Local,
    /// An S3-compatible bucket.
    S3,
}

/// The object store holding media.
#[derive(Debug, Clone)]
pub struct MediaStore {
    store: Arc<dyn ObjectStore>,
    backend: MediaBackend,
}

impl MediaStore {
    /// Builds the store the settings describe.
    pub fn from_settings(settings: &Settings) -> Result<Self, MediaError> {
        match &settings.s3_bucket {
            Some(bucket) => Self::s3(settings, bucket),
            None => Self::local(settings.media_dir()),
        }
    }

    fn local(dir: std::path::PathBuf) -> Result<Self, MediaError> {
        std::fs::create_dir_all(&dir).map_err(|source| MediaError::CreateDir {
            path: dir.clone(),
            source,
        })?;
        let store = LocalFileSystem::new_with_prefix(&dir)?;
        Ok(Self {
            store: Arc::new(store),
            backend: MediaBackend::Local,
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
        let store = AmazonS3Builder::new()
            .with_endpoint(endpoint)
            .with_allow_http(endpoint.starts_with("http://"))
            .with_virtual_hosted_style_request(false)
            .with_region(&settings.s3_region)
            .with_bucket_name(bucket)
            .with_access_key_id(access_key)
            .with_secret_access_key(secret_key.expose_secret())
            .build()?;
        Ok(Self {
            store: Arc::new(store),
            backend: MediaBackend::S3,
        })
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
