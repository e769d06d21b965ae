//! [`Store`]: the server's database, SQLite (embedded default) or Postgres.
//!
//! The URL's scheme picks the backend. Each backend opens its own typed pool
//! with its own settings and runs its own embedded migrations; the queries are
//! written once, in SQL both understand, and [`with_pool!`] runs each against
//! whichever pool is in use — so the two backends cannot drift apart, and the
//! test suite runs every store test against both.
//!
//! - [`accounts`]: users, devices and contacts.
//! - [`prekeys`]: devices' signed one-time and fallback keys, claimed atomically.
//! - [`directory`]: signed device lists, links for new devices, and the
//!   device check every message passes.
//! - [`groups`]: group membership, for routing group messages.
//! - [`invites`]: groups' invite links.
//! - [`media`]: media objects' owners, sizes and expiry; the quota.
//! - [`profiles`]: users' sealed profiles.
//! - [`queue`]: the per-device queues of undelivered entries, written in
//!   batches; [`queue_read`]: reading them, and the expiry sweep.
//! - [`routing`]: what routing a batch of sends needs to know, in one read.
//! - [`nodes`]: the nodes of a deployment and the devices connected to them.

pub mod accounts;
pub mod directory;
pub mod groups;
pub mod invites;
pub mod media;
pub mod nodes;
mod postgres;
pub mod prekeys;
pub mod profiles;
pub mod queue;
mod queue_postgres;
pub mod queue_read;
mod queue_sqlite;
pub mod routing;
mod sqlite;

use secrecy::{ExposeSecret, SecretString};
use sqlx::{Pool, QueryBuilder};

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
    /// The username is taken.
    #[error("the username is taken")]
    UsernameTaken,
    /// The identity key already belongs to a device.
    #[error("the identity key is already registered")]
    KeyInUse,
    /// A named user or device does not exist.
    #[error("no such {0}")]
    NotFound(&'static str),
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
    Sqlite(sqlx::SqlitePool),
    /// The production database.
    Postgres(sqlx::PgPool),
}

/// Runs `$body` with `$pool` bound to the store's typed pool, whichever it is.
macro_rules! with_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            $crate::store::Store::Sqlite($pool) => $body,
            $crate::store::Store::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_pool;

/// How each database begins a transaction that will write, and how such a
/// transaction keeps others from acting on what it read.
pub(crate) trait WriteTransaction: sqlx::Database {
    /// The statement that begins it.
    const BEGIN: &'static str;
    /// What a `SELECT` ends with to lock the rows it reads until commit.
    const FOR_UPDATE: &'static str;
}

impl WriteTransaction for sqlx::Sqlite {
    /// Takes the write lock at once: a deferred transaction that reads first
    /// fails with `SQLITE_BUSY` (no waiting) if another writer got in between.
    const BEGIN: &'static str = "BEGIN IMMEDIATE";
    /// Nothing: the transaction holds the database's one write lock already.
    const FOR_UPDATE: &'static str = "";
}

impl WriteTransaction for sqlx::Postgres {
    const BEGIN: &'static str = "BEGIN";
    /// Postgres runs transactions at READ COMMITTED: without a row lock, two
    /// transactions that each read a count and then write would both pass
    /// a check that only one of them may pass. (`NO KEY UPDATE`: a foreign
    /// key check on the row, such as adding its user to a group, still
    /// goes ahead.)
    const FOR_UPDATE: &'static str = " FOR NO KEY UPDATE";
}

/// Begins a transaction that will write, in the way `pool`'s database needs.
pub(crate) async fn begin_write<DB: WriteTransaction>(
    pool: &Pool<DB>,
) -> Result<sqlx::Transaction<'static, DB>, sqlx::Error> {
    pool.begin_with(DB::BEGIN).await
}

/// `select` locking the rows it reads until the write transaction commits,
/// so that a check made on them (a quota, a count, a version, a member's
/// role) still holds when the transaction writes. Lock the same row first
/// in every transaction that checks the same rule.
pub(crate) fn for_update<DB: WriteTransaction>(_pool: &Pool<DB>, select: &str) -> String {
    format!("{select}{}", DB::FOR_UPDATE)
}

/// A query builder for `pool`'s database, so that generic code can build
/// multi-row statements with the right placeholders.
pub(crate) fn builder<'a, DB: sqlx::Database>(_pool: &Pool<DB>, sql: &str) -> QueryBuilder<'a, DB> {
    QueryBuilder::new(sql)
}

/// Counts one SQL statement of the message path (the `db_statements` metric).
pub(crate) fn statement() {
    crate::metrics::metrics().db_statements.inc();
}

/// Counts one committed transaction of the message path (`db_commits`).
pub(crate) fn committed() {
    crate::metrics::metrics().db_commits.inc();
}

/// A database id as the wire's unsigned number.
pub(crate) fn from_db(value: i64) -> u64 {
    u64::try_from(value).unwrap_or_default()
}

/// A wire number as a database id (ids never exceed `i64::MAX`).
pub(crate) fn to_db(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl Store {
    /// Opens the database named by `url` and brings its schema up to date.
    pub async fn open(url: &SecretString, max_connections: u32) -> Result<Self, StoreError> {
        let url = url.expose_secret();
        let store = if url.starts_with("sqlite:") {
            Self::Sqlite(sqlite::open(url, max_connections).await?)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Self::Postgres(postgres::open(url, max_connections).await?)
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
            Self::Sqlite(pool) => sqlite::MIGRATOR.run(pool).await?,
            Self::Postgres(pool) => postgres::MIGRATOR.run(pool).await?,
        }
        Ok(())
    }

    /// Succeeds when the database answers a query.
    pub async fn ping(&self) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// This deployment's id, created on first start and shared by every node.
    pub async fn deployment_id(&self) -> Result<String, StoreError> {
        let candidate = uuid::Uuid::new_v4().to_string();
        let insert =
            "INSERT INTO instance (id, deployment_id) VALUES (1, $1) ON CONFLICT (id) DO NOTHING";
        let select = "SELECT deployment_id FROM instance WHERE id = 1";
        let id: String = with_pool!(self, pool => {
            sqlx::query(insert).bind(&candidate).execute(pool).await?;
            sqlx::query_scalar(select).fetch_one(pool).await?
        });
        Ok(id)
    }

    /// Closes every pooled connection.
    pub async fn close(&self) {
        with_pool!(self, pool => pool.close().await);
    }
}
