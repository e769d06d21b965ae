//! Devices' signed one-time and fallback pre-keys.
//!
//! A claim hands out each one-time key at most once, also under concurrent
//! claims: Postgres deletes the oldest row it can lock (`FOR UPDATE SKIP
//! LOCKED`), SQLite runs one writer at a time. When a device has no one-time
//! key left, or the claimer may take no more of them, claims return its
//! fallback key (reusable by design).

use super::{Store, StoreError, to_db as db, with_pool};
use courier_shared::crypto::keys::{ONE_TIME_KEY_LOW, SignedKey};
use courier_shared::ids::{CurveKey, DeviceId, Signature};

/// Most one-time keys the server keeps for one device.
pub const MAX_STORED_ONE_TIME_KEYS: i64 = 200;

fn signed_key(key: &[u8], signature: &[u8]) -> Option<SignedKey> {
    Some(SignedKey {
        key: CurveKey::from_slice(key)?,
        signature: Signature::from_slice(signature)?,
    })
}

/// What a claim handed out.
#[derive(Debug, Default)]
pub struct Claimed {
    /// One key of each device that had any.
    pub keys: Vec<(DeviceId, SignedKey)>,
    /// Devices the claim left with fewer than [`ONE_TIME_KEY_LOW`] one-time
    /// keys, and how many they have.
    pub low: Vec<(DeviceId, u32)>,
}

impl Store {
    /// Stores new pre-keys of `device`; returns how many one-time keys it now
    /// has, or `None` (storing nothing) if they would be more than
    /// [`MAX_STORED_ONE_TIME_KEYS`]. Keys already stored are ignored.
    pub async fn publish_prekeys(
        &self,
        device: DeviceId,
        one_time: &[SignedKey],
        fallback: Option<&SignedKey>,
    ) -> Result<Option<u32>, StoreError> {
        let insert = "INSERT INTO one_time_keys (device_id, key, signature) VALUES ($1, $2, $3) \
                      ON CONFLICT (device_id, key) DO NOTHING";
        let upsert = "INSERT INTO fallback_keys (device_id, key, signature) VALUES ($1, $2, $3) \
                      ON CONFLICT (device_id) DO UPDATE SET key = $2, signature = $3";
        let count = "SELECT COUNT(*) FROM one_time_keys WHERE device_id = $1";
        let stored: i64 = with_pool!(self, pool => {
            let mut tx = super::begin_write(pool).await?;
            let before: i64 = sqlx::query_scalar(count).bind(db(device.0)).fetch_one(&mut *tx).await?;
            let room = MAX_STORED_ONE_TIME_KEYS - before;
            if i64::try_from(one_time.len()).unwrap_or(i64::MAX) > room {
                return Ok(None);
            }
            for key in one_time {
                sqlx::query(insert)
                    .bind(db(device.0))
                    .bind(key.key.as_bytes().as_slice())
                    .bind(key.signature.as_bytes().as_slice())
                    .execute(&mut *tx)
                    .await?;
            }
            if let Some(key) = fallback {
                sqlx::query(upsert)
                    .bind(db(device.0))
                    .bind(key.key.as_bytes().as_slice())
                    .bind(key.signature.as_bytes().as_slice())
                    .execute(&mut *tx)
                    .await?;
            }
            let after: i64 = sqlx::query_scalar(count).bind(db(device.0)).fetch_one(&mut *tx).await?;
            tx.commit().await?;
            after
        });
        Ok(Some(u32::try_from(stored).unwrap_or(u32::MAX)))
    }

    /// How many unclaimed one-time keys `device` has.
    pub async fn one_time_key_count(&self, device: DeviceId) -> Result<u32, StoreError> {
        let count = "SELECT COUNT(*) FROM one_time_keys WHERE device_id = $1";
        let stored: i64 = with_pool!(self, pool => {
            sqlx::query_scalar(count).bind(db(device.0)).fetch_one(pool).await?
        });
        Ok(u32::try_from(stored).unwrap_or(u32::MAX))
    }

    /// Claims one pre-key of each device: a one-time key, deleted as it is
    /// handed out, where the claim may take one (`true`) and one is left, or
    /// else the fallback key. Devices with neither are left out.
    pub async fn claim_prekeys(&self, devices: &[(DeviceId, bool)]) -> Result<Claimed, StoreError> {
        let mut claimed = Claimed::default();
        for &(device, one_time) in devices {
            let mut key = None;
            if one_time {
                key = self.claim_one_time_key(device).await?;
                if key.is_some() {
                    let left = self.one_time_key_count(device).await?;
                    if left < ONE_TIME_KEY_LOW {
                        claimed.low.push((device, left));
                    }
                }
            }
            if key.is_none() {
                key = self.fallback_key(device).await?;
            }
            if let Some(key) = key {
                claimed.keys.push((device, key));
            }
        }
        Ok(claimed)
    }

    async fn claim_one_time_key(&self, device: DeviceId) -> Result<Option<SignedKey>, StoreError> {
        let row: Option<(Vec<u8>, Vec<u8>)> = match self {
            Store::Sqlite(pool) => {
                let claim = "DELETE FROM one_time_keys WHERE id = \
                             (SELECT id FROM one_time_keys WHERE device_id = $1 ORDER BY id LIMIT 1) \
                             RETURNING key, signature";
                sqlx::query_as(claim)
                    .bind(db(device.0))
                    .fetch_optional(pool)
                    .await?
            }
            Store::Postgres(pool) => {
                let claim = "DELETE FROM one_time_keys WHERE id = \
                             (SELECT id FROM one_time_keys WHERE device_id = $1 ORDER BY id LIMIT 1 \
                              FOR UPDATE SKIP LOCKED) RETURNING key, signature";
                sqlx::query_as(claim)
                    .bind(db(device.0))
                    .fetch_optional(pool)
                    .await?
            }
        };
        Ok(row.and_then(|(key, signature)| signed_key(&key, &signature)))
    }

    async fn fallback_key(&self, device: DeviceId) -> Result<Option<SignedKey>, StoreError> {
        let select = "SELECT key, signature FROM fallback_keys WHERE device_id = $1";
        let row: Option<(Vec<u8>, Vec<u8>)> = with_pool!(self, pool => {
            sqlx::query_as(select).bind(db(device.0)).fetch_optional(pool).await?
        });
        Ok(row.and_then(|(key, signature)| signed_key(&key, &signature)))
    }
}
