//! [`Store`]: the server's database, SQLite (embedded default) or Postgres.
//!
//! The URL's scheme picks the backend; both run their own embedded migrations at
//! start-up and answer the same methods, and the test suite runs every store
//! test against both. The enum keeps dispatch static and explicit: there are
//! exactly two backends, and each method's two arms sit side by side.

mod postgres;
mod sqlite;

use secrecy::{ExposeSecret, SecretString};

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// Why a database operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL names no backend Courier supports.
    #[error("unsupported database URL scheme (expected sqlite:// or postgres://)")]
    UnsupportedUrl,
    /// The database could not be opened or reached.
    #[error("cannot connect to the database: {0}")]
    Connect(#[source] sqlx::Error),
    /// A migration failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A query failed.
    #[error("database query failed: {0}")]
    Query(#[from] sqlx::Error),
}

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file.
    Sqlite,
    /// A Postgres server.
    Postgres,
}

/// A connection pool to the server's database.
#[derive(Debug, Clone)]
pub enum Store {
    /// The embedded default.
    Sqlite(SqliteStore),
    /// The production database.
    Postgres(PostgresStore),
}

impl Store {
    /// Opens the database named by `url` and brings its schema up to date.
    pub async fn open(url: &SecretString, max_connections: u32) -> Result<Self, StoreError> {
        let url = url.expose_secret();
        let store = if url.starts_with("sqlite:") {
            Self::Sqlite(SqliteStore::open(url, max_connections).await?)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Self::Postgres(PostgresStore::open(url, max_connections).await?)
        } else {
            return Err(StoreError::UnsupportedUrl);
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        match self {
            Self::Sqlite(_) => Backend::Sqlite,
            Self::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies every embedded migration not yet applied.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Self::Sqlite(store) => store.migrate().await,
            Self::Postgres(store) => store.migrate().await,
        }
    }

    /// Succeeds when the database answers a query.
    pub async fn ping(&self) -> Result<(), StoreError> {
        match self {
            Self::Sqlite(store) => store.ping().await,
            Self::Postgres(store) => store.ping().await,
        }
    }

    /// This deployment's id, created on first start and shared by every node.
    pub async fn deployment_id(&self) -> Result<String, StoreError> {
        let candidate = uuid::Uuid::new_v4().to_string();
        match self {
            Self::Sqlite(store) => store.deployment_id(&candidate).await,
            Self::Postgres(store) => store.deployment_id(&candidate).await,
        }
    }

    /// Closes every pooled connection.
    pub async fn close(&self) {
        match self {
            Self::Sqlite(store) => store.close().await,
            Self::Postgres(store) => store.close().await,
        }
    }
}
