//! Media bookkeeping: each object's owner, size and expiry (the objects
//! themselves live in the [`crate::media::MediaStore`]), the per-user quota,
//! and the secret that signs local media URLs.

use super::{Store, StoreError, from_db, to_db as db, with_pool};
use courier_shared::crypto::media::MediaHash;
use courier_shared::ids::{MediaId, UserId};

/// A media object as the database knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaRecord {
    /// Who uploaded it.
    pub owner: UserId,
    /// Its declared ciphertext size in bytes.
    pub size: u64,
    /// Its declared ciphertext SHA-256.
    pub hash: MediaHash,
    /// Whether the upload was checked and kept.
    pub complete: bool,
    /// When it is deleted (Unix ms).
    pub expires_at: i64,
}

type MediaRow = (i64, i64, Vec<u8>, bool, i64);

impl Store {
    /// Opens an upload slot for `id` of `size` bytes hashing to `hash`,
    /// owned by `owner` until `expires_at`, if the owner's stored and pending
    /// bytes stay within `quota`; returns whether it did (`false`: over the
    /// quota, nothing stored).
    #[allow(clippy::too_many_arguments)] // one row's columns
    pub async fn open_upload(
        &self,
        owner: UserId,
        id: &MediaId,
        size: u64,
        hash: &MediaHash,
        quota: u64,
        now_ms: i64,
        expires_at: i64,
    ) -> Result<bool, StoreError> {
        // Postgres sums BIGINTs as NUMERIC: cast back.
        let used = "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM media \
                    WHERE owner_id = $1 AND expires_at > $2";
        let insert = "INSERT INTO media (id, owner_id, size, hash, complete, created_at, expires_at) \
                      VALUES ($1, $2, $3, $4, FALSE, $5, $6)";
        with_pool!(self, pool => {
            let mut tx = super::begin_write(pool).await?;
            // One owner's uploads open one at a time, so two cannot each
            // fit under the quota and together exceed it.
            let lock = super::for_update(pool, "SELECT id FROM users WHERE id = $1");
            sqlx::query(&lock).bind(db(owner.0)).execute(&mut *tx).await?;
            let used: i64 = sqlx::query_scalar(used)
                .bind(db(owner.0))
                .bind(now_ms)
                .fetch_one(&mut *tx)
                .await?;
            if from_db(used).saturating_add(size) > quota {
                return Ok(false);
            }
            sqlx::query(insert)
                .bind(id.as_bytes().as_slice())
                .bind(db(owner.0))
                .bind(db(size))
                .bind(hash.as_bytes().as_slice())
                .bind(now_ms)
                .bind(expires_at)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        Ok(true)
    }

    /// The media object `id`, unless unknown or expired at `now_ms`.
    pub async fn media(
        &self,
        id: &MediaId,
        now_ms: i64,
    ) -> Result<Option<MediaRecord>, StoreError> {
        let select = "SELECT owner_id, size, hash, complete, expires_at FROM media \
                      WHERE id = $1 AND expires_at > $2";
        let row: Option<MediaRow> = with_pool!(self, pool => {
            sqlx::query_as(select)
                .bind(id.as_bytes().as_slice())
                .bind(now_ms)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.and_then(|(owner, size, hash, complete, expires_at)| {
            Some(MediaRecord {
                owner: UserId(from_db(owner)),
                size: from_db(size),
                hash: MediaHash::from_slice(&hash)?,
                complete,
                expires_at,
            })
        }))
    }

    /// Marks `id` checked and kept until `expires_at`.
    pub async fn complete_upload(&self, id: &MediaId, expires_at: i64) -> Result<(), StoreError> {
        let update = "UPDATE media SET complete = TRUE, expires_at = $2 WHERE id = $1";
        with_pool!(self, pool => {
            sqlx::query(update)
                .bind(id.as_bytes().as_slice())
                .bind(expires_at)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Forgets media object `id`.
    pub async fn delete_media(&self, id: &MediaId) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query("DELETE FROM media WHERE id = $1")
                .bind(id.as_bytes().as_slice())
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Up to `limit` media objects expired at `now_ms` (objects past their
    /// TTL, and upload slots never completed).
    pub async fn expired_media(&self, now_ms: i64, limit: u32) -> Result<Vec<MediaId>, StoreError> {
        let select = "SELECT id FROM media WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2";
        let ids: Vec<Vec<u8>> = with_pool!(self, pool => {
            sqlx::query_scalar(select)
                .bind(now_ms)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?
        });
        Ok(ids
            .iter()
            .filter_map(|id| MediaId::from_slice(id))
            .collect())
    }

    /// The deployment's secret named `name`: `candidate` if none was stored
    /// yet (the first node to ask stores it), else the stored one.
    pub async fn secret(&self, name: &str, candidate: &[u8]) -> Result<Vec<u8>, StoreError> {
        let insert =
            "INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING";
        let select = "SELECT value FROM secrets WHERE name = $1";
        let value: Vec<u8> = with_pool!(self, pool => {
            sqlx::query(insert).bind(name).bind(candidate).execute(pool).await?;
            sqlx::query_scalar(select).bind(name).fetch_one(pool).await?
        });
        Ok(value)
    }
}
