//! Users, their devices and their contact lists.

use super::{Store, StoreError, from_db as id, to_db as db, with_pool};
use courier_shared::ids::{DeviceId, PublicKey, UserId, Username};

/// A registered device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRecord {
    /// The device.
    pub id: DeviceId,
    /// Its user.
    pub user: UserId,
    /// Its Ed25519 identity key.
    pub key: PublicKey,
}

/// A user with every device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// The user.
    pub id: UserId,
    /// Their name.
    pub username: Username,
    /// Their devices, oldest first.
    pub devices: Vec<(DeviceId, PublicKey)>,
}

fn device_key(bytes: &[u8]) -> Result<PublicKey, StoreError> {
    PublicKey::from_slice(bytes).ok_or(StoreError::NotFound("valid device key"))
}

impl Store {
    /// Creates a user named `username` whose first device has `key`.
    pub async fn create_user(
        &self,
        username: &Username,
        key: &PublicKey,
        now_ms: i64,
    ) -> Result<(UserId, DeviceId), StoreError> {
        let insert_user = "INSERT INTO users (username, created_at) VALUES ($1, $2) \
                           ON CONFLICT (username) DO NOTHING RETURNING id";
        let insert_device = "INSERT INTO devices (user_id, public_key, created_at) \
                             VALUES ($1, $2, $3) ON CONFLICT (public_key) DO NOTHING RETURNING id";
        with_pool!(self, pool => {
            let mut tx = super::begin_write(pool).await?;
            let user: Option<i64> = sqlx::query_scalar(insert_user)
                .bind(username.as_str())
                .bind(now_ms)
                .fetch_optional(&mut *tx)
                .await?;
            let user = user.ok_or(StoreError::UsernameTaken)?;
            let device: Option<i64> = sqlx::query_scalar(insert_device)
                .bind(user)
                .bind(key.as_bytes().as_slice())
                .bind(now_ms)
                .fetch_optional(&mut *tx)
                .await?;
            let device = device.ok_or(StoreError::KeyInUse)?;
            tx.commit().await?;
            self.directory_changed().await;
            Ok((UserId(id(user)), DeviceId(id(device))))
        })
    }

    /// Adds a device with `key` to `user` unless the user has `max_devices`
    /// already (`None`). An `approved` device (added by a signed-in device)
    /// receives messages at once if the user has no signed device list;
    /// otherwise, and for a device that joined through a link, only once a
    /// published list names it.
    pub async fn add_device(
        &self,
        user: UserId,
        key: &PublicKey,
        approved: bool,
        max_devices: usize,
        now_ms: i64,
    ) -> Result<Option<DeviceId>, StoreError> {
        let count = "SELECT COUNT(*) FROM devices WHERE user_id = $1";
        let insert = "INSERT INTO devices (user_id, public_key, created_at, listed) \
                      VALUES ($1, $2, $3, $4 AND (SELECT COUNT(*) FROM device_lists WHERE user_id = $1) = 0) \
                      ON CONFLICT (public_key) DO NOTHING RETURNING id";
        let device: Option<i64> = with_pool!(self, pool => {
            let mut tx = super::begin_write(pool).await?;
            // Devices of one user join one at a time, so the cap holds.
            let lock = super::for_update(pool, "SELECT id FROM users WHERE id = $1");
            sqlx::query(&lock).bind(db(user.0)).execute(&mut *tx).await?;
            let devices: i64 = sqlx::query_scalar(count).bind(db(user.0)).fetch_one(&mut *tx).await?;
            if usize::try_from(devices).unwrap_or(usize::MAX) >= max_devices {
                return Ok(None);
            }
            let device = sqlx::query_scalar(insert)
                .bind(db(user.0))
                .bind(key.as_bytes().as_slice())
                .bind(now_ms)
                .bind(approved)
                .fetch_optional(&mut *tx)
                .await?;
            tx.commit().await?;
            device
        });
        let device = device
            .map(|d| DeviceId(id(d)))
            .ok_or(StoreError::KeyInUse)?;
        self.directory_changed().await;
        Ok(Some(device))
    }

    /// The device `device`, if it exists.
    pub async fn device(&self, device: DeviceId) -> Result<Option<DeviceRecord>, StoreError> {
        let select = "SELECT user_id, public_key FROM devices WHERE id = $1";
        let row: Option<(i64, Vec<u8>)> = with_pool!(self, pool => {
            sqlx::query_as(select).bind(db(device.0)).fetch_optional(pool).await?
        });
        row.map(|(user, key)| {
            Ok(DeviceRecord {
                id: device,
                user: UserId(id(user)),
                key: device_key(&key)?,
            })
        })
        .transpose()
    }

    /// The user named `username` with their devices, if they exist.
    pub async fn user_by_name(
        &self,
        username: &Username,
    ) -> Result<Option<UserRecord>, StoreError> {
        let select = "SELECT u.id, d.id, d.public_key FROM users u \
                      JOIN devices d ON d.user_id = u.id WHERE u.username = $1 ORDER BY d.id";
        let rows: Vec<(i64, i64, Vec<u8>)> = with_pool!(self, pool => {
            sqlx::query_as(select).bind(username.as_str()).fetch_all(pool).await?
        });
        let Some((user, _, _)) = rows.first() else {
            return Ok(None);
        };
        let devices = rows
            .iter()
            .map(|(_, device, key)| Ok((DeviceId(id(*device)), device_key(key)?)))
            .collect::<Result<_, StoreError>>()?;
        Ok(Some(UserRecord {
            id: UserId(id(*user)),
            username: username.clone(),
            devices,
        }))
    }

    /// The name of `user`, if they exist.
    pub async fn username(&self, user: UserId) -> Result<Option<Username>, StoreError> {
        let select = "SELECT username FROM users WHERE id = $1";
        let name: Option<String> = with_pool!(self, pool => {
            sqlx::query_scalar(select).bind(db(user.0)).fetch_optional(pool).await?
        });
        Ok(name.and_then(|n| Username::parse(&n).ok()))
    }

    /// Every device of `user`, oldest first.
    pub async fn user_devices(&self, user: UserId) -> Result<Vec<DeviceId>, StoreError> {
        let select = "SELECT id FROM devices WHERE user_id = $1 ORDER BY id";
        let ids: Vec<i64> = with_pool!(self, pool => {
            sqlx::query_scalar(select).bind(db(user.0)).fetch_all(pool).await?
        });
        Ok(ids.into_iter().map(|d| DeviceId(id(d))).collect())
    }

    /// Lets `contact` see `owner`'s presence and typing.
    pub async fn add_contact(
        &self,
        owner: UserId,
        contact: UserId,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let exists = "SELECT COUNT(*) FROM users WHERE id = $1";
        let insert = "INSERT INTO contacts (owner_id, contact_id, created_at) VALUES ($1, $2, $3) \
                      ON CONFLICT (owner_id, contact_id) DO NOTHING";
        with_pool!(self, pool => {
            let count: i64 = sqlx::query_scalar(exists).bind(db(contact.0)).fetch_one(pool).await?;
            if count == 0 {
                return Err(StoreError::NotFound("user"));
            }
            sqlx::query(insert)
                .bind(db(owner.0))
                .bind(db(contact.0))
                .bind(now_ms)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Stops `contact` seeing `owner`'s presence and typing.
    pub async fn remove_contact(&self, owner: UserId, contact: UserId) -> Result<(), StoreError> {
        let delete = "DELETE FROM contacts WHERE owner_id = $1 AND contact_id = $2";
        with_pool!(self, pool => {
            sqlx::query(delete).bind(db(owner.0)).bind(db(contact.0)).execute(pool).await?;
        });
        Ok(())
    }

    /// Whether `owner` has `contact` in their contact list.
    pub async fn has_contact(&self, owner: UserId, contact: UserId) -> Result<bool, StoreError> {
        let select = "SELECT COUNT(*) FROM contacts WHERE owner_id = $1 AND contact_id = $2";
        let count: i64 = with_pool!(self, pool => {
            sqlx::query_scalar(select)
                .bind(db(owner.0))
                .bind(db(contact.0))
                .fetch_one(pool)
                .await?
        });
        Ok(count > 0)
    }

    /// Records that `user` was last connected at `now_ms`.
    pub async fn set_last_seen(&self, user: UserId, now_ms: i64) -> Result<(), StoreError> {
        let update = "UPDATE users SET last_seen = $1 WHERE id = $2";
        with_pool!(self, pool => {
            sqlx::query(update).bind(now_ms).bind(db(user.0)).execute(pool).await?;
        });
        Ok(())
    }

    /// When `user` was last connected (Unix ms, 0: never).
    pub async fn last_seen(&self, user: UserId) -> Result<u64, StoreError> {
        let select = "SELECT last_seen FROM users WHERE id = $1";
        let seen: Option<i64> = with_pool!(self, pool => {
            sqlx::query_scalar(select).bind(db(user.0)).fetch_optional(pool).await?
        });
        Ok(seen.map_or(0, id))
    }
}
