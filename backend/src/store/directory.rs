//! The key directory's other half: users' signed device lists and account
//! keys, links that admit a new device to an account, and the device check
//! (Sesame) that every message passes.

use super::{Store, StoreError, from_db as id, to_db as db, with_pool};
use courier_shared::crypto::device_list::{DeviceList, SignedDeviceList};
use courier_shared::ids::{Blob, DeviceId, LinkId, PublicKey, Signature, UserId};
use std::collections::HashSet;

/// Most devices an account may have (Signal allows a phone and five
/// linked devices; a few more here, as every device is a peer).
pub const MAX_DEVICES: usize = 8;

/// Most open links per user.
pub const MAX_OPEN_LINKS: i64 = 5;

/// What publishing a device list did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListStored {
    /// Stored; these devices were left out and are deleted.
    Stored(Vec<DeviceId>),
    /// Refused: signed by another account key than the one pinned.
    OtherAccountKey,
    /// Refused: not newer than the stored list, of this version.
    NotNewer(u64),
    /// Refused: it names a device that is not the user's, or with another key.
    UnknownDevice(DeviceId),
}

/// What opening a link did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkOpened {
    /// Open.
    Opened,
    /// Refused: the user has [`MAX_OPEN_LINKS`] open already.
    TooMany,
    /// Refused: that link id is taken.
    InUse,
}

/// A stored device list row: body and signature.
type ListRow = (Vec<u8>, Vec<u8>);
/// A stored device row: id and signing key.
type DeviceRow = (i64, Vec<u8>);

/// A device as the message check sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoutedDevice {
    /// The device.
    pub id: DeviceId,
    /// Its user.
    pub user: UserId,
    /// Whether it is on its user's device list.
    pub listed: bool,
}

impl From<(i64, i64, bool)> for RoutedDevice {
    fn from((device, user, listed): (i64, i64, bool)) -> Self {
        Self {
            id: DeviceId(id(device)),
            user: UserId(id(user)),
            listed,
        }
    }
}

/// The device check (Signal's "Sesame" rule): a message must go to exactly
/// the listed devices of each user it reaches (the sending device aside), so
/// a sender with an out-of-date device list is told to refresh and re-encrypt
/// instead of silently leaving a new device out or writing to a removed one.
/// `addressed` is sorted; `owners` are all devices of the users who own them.
pub fn check_recipients(
    sender: DeviceId,
    addressed: &[DeviceId],
    owners: &[RoutedDevice],
) -> Result<(), String> {
    let mut users = Vec::new();
    for device in addressed {
        match owners.iter().find(|d| d.id == *device) {
            None => {
                return Err(format!(
                    "device {} does not exist (any more): refresh the device list",
                    device.0
                ));
            }
            Some(d) if !d.listed => {
                return Err(format!(
                    "device {} is not on its user's device list: refresh it",
                    device.0
                ));
            }
            Some(d) => users.push(d.user),
        }
    }
    let missing: Vec<String> = owners
        .iter()
        .filter(|d| d.listed && d.id != sender && users.contains(&d.user))
        .filter(|d| addressed.binary_search(&d.id).is_err())
        .map(|d| d.id.0.to_string())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "devices {} are missing: refresh the device lists",
            missing.join(", ")
        ))
    }
}

impl Store {
    /// `user`'s signed device list, if published, and every registered
    /// device with its signing key.
    pub async fn device_list(
        &self,
        user: UserId,
    ) -> Result<(Option<SignedDeviceList>, Vec<(DeviceId, PublicKey)>), StoreError> {
        let select_list = "SELECT body, signature FROM device_lists WHERE user_id = $1";
        let select_devices = "SELECT id, public_key FROM devices WHERE user_id = $1 ORDER BY id";
        let (list, devices): (Option<ListRow>, Vec<DeviceRow>) = with_pool!(self, pool => {
            let list = sqlx::query_as(select_list).bind(db(user.0)).fetch_optional(pool).await?;
            let devices = sqlx::query_as(select_devices).bind(db(user.0)).fetch_all(pool).await?;
            (list, devices)
        });
        let list = list.and_then(|(body, signature)| {
            Some(SignedDeviceList {
                body: Blob::new(body)?,
                signature: Signature::from_slice(&signature)?,
            })
        });
        let devices = devices
            .into_iter()
            .filter_map(|(device, key)| Some((DeviceId(id(device)), PublicKey::from_slice(&key)?)))
            .collect();
        Ok((list, devices))
    }

    /// Stores `user`'s new device list (already verified against its own
    /// account key): the first list pins the account key; later ones must
    /// carry the same key and a higher version and name only the user's
    /// devices with their registered keys. Every device it leaves out is
    /// deleted with its queue, listed before or not (an unlisted device —
    /// one that joined by a link and was never approved, say — would
    /// otherwise outlive the list that removed its account's trust in it;
    /// [`ListStored::Stored`] names them);
    /// anything else is stored only if the list is refused for none of the
    /// other [`ListStored`] reasons.
    pub async fn publish_device_list(
        &self,
        user: UserId,
        list: &DeviceList,
        signed: &SignedDeviceList,
    ) -> Result<ListStored, StoreError> {
        let select_account = "SELECT account_key FROM users WHERE id = $1";
        let select_version = "SELECT version FROM device_lists WHERE user_id = $1";
        let select_devices = "SELECT id, public_key, listed FROM devices WHERE user_id = $1";
        let upsert = "INSERT INTO device_lists (user_id, version, body, signature) \
                      VALUES ($1, $2, $3, $4) ON CONFLICT (user_id) DO UPDATE \
                      SET version = $2, body = $3, signature = $4";
        let pin = "UPDATE users SET account_key = $2 WHERE id = $1";
        let unlist = "UPDATE devices SET listed = FALSE WHERE user_id = $1";
        let list_one = "UPDATE devices SET listed = TRUE WHERE id = $1";
        let delete = "DELETE FROM devices WHERE id = $1";
        let version = i64::try_from(list.version()).unwrap_or(i64::MAX);
        with_pool!(self, pool => {
            let mut tx = super::begin_write(pool).await?;
            // The user's row stays locked until commit: two lists published
            // at once cannot both pass the version check (a lower version
            // would then overwrite a higher one).
            let select_account = super::for_update(pool, select_account);
            let account: Option<Option<Vec<u8>>> =
                sqlx::query_scalar(&select_account).bind(db(user.0)).fetch_optional(&mut *tx).await?;
            let account = account.ok_or(StoreError::NotFound("user"))?;
            if account.is_some_and(|key| key != list.account().as_bytes()) {
                return Ok(ListStored::OtherAccountKey);
            }
            let known: Option<i64> =
                sqlx::query_scalar(select_version).bind(db(user.0)).fetch_optional(&mut *tx).await?;
            if let Some(known) = known.filter(|known| version <= *known) {
                return Ok(ListStored::NotNewer(id(known)));
            }
            let registered: Vec<(i64, Vec<u8>, bool)> =
                sqlx::query_as(select_devices).bind(db(user.0)).fetch_all(&mut *tx).await?;
            for device in list.devices() {
                let matches = registered.iter().any(|(rid, key, _)| {
                    id(*rid) == device.device.0 && key.as_slice() == device.signing_key.as_bytes()
                });
                if !matches {
                    return Ok(ListStored::UnknownDevice(device.device));
                }
            }
            let listed: HashSet<u64> = list.devices().iter().map(|d| d.device.0).collect();
            let removed: Vec<DeviceId> = registered
                .iter()
                .filter(|(rid, _, _)| !listed.contains(&id(*rid)))
                .map(|(rid, _, _)| DeviceId(id(*rid)))
                .collect();
            for device in &removed {
                sqlx::query(delete).bind(db(device.0)).execute(&mut *tx).await?;
            }
            sqlx::query(unlist).bind(db(user.0)).execute(&mut *tx).await?;
            for device in list.devices() {
                sqlx::query(list_one).bind(db(device.device.0)).execute(&mut *tx).await?;
            }
            sqlx::query(upsert)
                .bind(db(user.0))
                .bind(version)
                .bind(signed.body.as_bytes())
                .bind(signed.signature.as_bytes().as_slice())
                .execute(&mut *tx)
                .await?;
            sqlx::query(pin)
                .bind(db(user.0))
                .bind(list.account().as_bytes().as_slice())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            self.directory_changed().await;
            Ok(ListStored::Stored(removed))
        })
    }

    /// Opens `link` to `user` until `expires_at`.
    pub async fn create_link(
        &self,
        user: UserId,
        link: &LinkId,
        now_ms: i64,
        expires_at: i64,
    ) -> Result<LinkOpened, StoreError> {
        let purge = "DELETE FROM links WHERE user_id = $1 AND expires_at <= $2";
        let count = "SELECT COUNT(*) FROM links WHERE user_id = $1";
        let insert = "INSERT INTO links (link_id, user_id, expires_at) VALUES ($1, $2, $3) \
                      ON CONFLICT (link_id) DO NOTHING";
        with_pool!(self, pool => {
            let mut tx = super::begin_write(pool).await?;
            // Links of one user open one at a time, so the count holds.
            let lock = super::for_update(pool, "SELECT id FROM users WHERE id = $1");
            sqlx::query(&lock).bind(db(user.0)).execute(&mut *tx).await?;
            sqlx::query(purge).bind(db(user.0)).bind(now_ms).execute(&mut *tx).await?;
            let open: i64 = sqlx::query_scalar(count).bind(db(user.0)).fetch_one(&mut *tx).await?;
            if open >= MAX_OPEN_LINKS {
                return Ok(LinkOpened::TooMany);
            }
            let inserted = sqlx::query(insert)
                .bind(link.as_bytes().as_slice())
                .bind(db(user.0))
                .bind(expires_at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if inserted == 0 {
                return Ok(LinkOpened::InUse);
            }
            tx.commit().await?;
        });
        Ok(LinkOpened::Opened)
    }

    /// Consumes `link` if it is open, returning its user; a link admits one
    /// device only.
    pub async fn consume_link(
        &self,
        link: &LinkId,
        now_ms: i64,
    ) -> Result<Option<UserId>, StoreError> {
        let consume = "DELETE FROM links WHERE link_id = $1 AND expires_at > $2 RETURNING user_id";
        let user: Option<i64> = with_pool!(self, pool => {
            sqlx::query_scalar(consume)
                .bind(link.as_bytes().as_slice())
                .bind(now_ms)
                .fetch_optional(pool)
                .await?
        });
        Ok(user.map(|u| UserId(id(u))))
    }
}

#[cfg(test)]
mod tests {
    use super::{RoutedDevice, check_recipients};
    use courier_shared::ids::{DeviceId, UserId};

    fn device(id: u64, user: u64, listed: bool) -> RoutedDevice {
        RoutedDevice {
            id: DeviceId(id),
            user: UserId(user),
            listed,
        }
    }

    #[test]
    fn a_message_must_reach_exactly_the_listed_devices_of_its_users() {
        // User 1 has devices 1 (the sender) and 2; user 2 has 3, 4 and an
        // unapproved 5.
        let owners = [
            device(1, 1, true),
            device(2, 1, true),
            device(3, 2, true),
            device(4, 2, true),
            device(5, 2, false),
        ];
        let ids = |ids: &[u64]| ids.iter().map(|d| DeviceId(*d)).collect::<Vec<_>>();
        assert_eq!(
            check_recipients(DeviceId(1), &ids(&[2, 3, 4]), &owners),
            Ok(())
        );
        assert_eq!(
            check_recipients(DeviceId(1), &ids(&[3, 4]), &owners),
            Ok(()),
            "to others only"
        );
        let missing = check_recipients(DeviceId(1), &ids(&[2, 3]), &owners).unwrap_err();
        assert!(missing.contains("devices 4 are missing"), "{missing}");
        let unlisted = check_recipients(DeviceId(1), &ids(&[3, 4, 5]), &owners).unwrap_err();
        assert!(unlisted.contains("device 5 is not on"), "{unlisted}");
        let gone = check_recipients(DeviceId(1), &ids(&[3, 4, 9]), &owners).unwrap_err();
        assert!(gone.contains("device 9 does not exist"), "{gone}");
    }
}
