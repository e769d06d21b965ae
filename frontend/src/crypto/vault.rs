//! [`Vault`]: the device's state, sealed with AES-256-GCM under a WebCrypto
//! key that is generated non-extractable — script on the page can use it but
//! never read its bytes. Each save uses a fresh random IV, and each record
//! is bound to its own name (the additional data is the purpose and the
//! name), so a record moved under another name does not open. Chat history
//! is sealed the same way, one record per message.
//!
//! The key itself is stored beside the records (`key`), unless the app
//! lock (`crate::applock`, a lazily loaded module) is on: then only a copy
//! wrapped under the user's passkey or passphrase is stored (`lock`), and
//! [`Vault::open`] asks the lock for the key. Either way a record that no
//! longer opens is an error, never a silent reset. Sealing everything again
//! under a new key moves the vault to a new place ([`super::place`]) where
//! the browser allows, so that the old key leaves the profile's files.

use super::idb::Db;
use super::place::{self, Place};
use js_sys::{Array, Uint8Array};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AesGcmParams, AesKeyGenParams, CryptoKey, SubtleCrypto};

/// Where the vault key is stored while the app lock is off.
pub const KEY: &str = "key";
/// Where the app lock keeps the wrapped vault key (plain bytes, the lock
/// module's record), while it is on.
pub const LOCK: &str = "lock";
/// Set (to [`FORMAT_NAMED`]) once every record is bound to its name; every
/// write of a whole vault stores it, so it also marks a complete one.
const FORMAT: &str = "format";
/// The record format that binds each record to its name.
const FORMAT_NAMED: f64 = 2.0;
/// The records that are not sealed values; every vault holds one of them.
const MARKS: [&str; 3] = [KEY, LOCK, FORMAT];
const STATE: &str = "device";
const IV_BYTES: usize = 12;
const PURPOSE: &[u8] = b"courier/v1/device-state";

/// Sealed storage for the device's private state.
pub struct Vault {
    db: RefCell<Rc<Db>>,
    key: RefCell<CryptoKey>,
    subtle: SubtleCrypto,
}

fn crypto() -> Result<web_sys::Crypto, JsValue> {
    web_sys::window().ok_or("no window")?.crypto()
}

/// Fills `bytes` from the browser's CSPRNG.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], JsValue> {
    let mut bytes = [0u8; N];
    crypto()?.get_random_values_with_u8_array(&mut bytes)?;
    Ok(bytes)
}

/// The additional data of the record under `name`: the purpose, a zero
/// byte and the name (`None`: the format before names, purpose only).
fn additional_data(name: Option<&str>) -> Vec<u8> {
    let mut data = PURPOSE.to_vec();
    if let Some(name) = name {
        data.push(0);
        data.extend_from_slice(name.as_bytes());
    }
    data
}

fn params(iv: &[u8], name: Option<&str>) -> AesGcmParams {
    let params = AesGcmParams::new("AES-GCM", &Uint8Array::from(iv));
    params.set_additional_data(&Uint8Array::from(additional_data(name).as_slice()));
    params
}

/// Opens the vault's database where it lives now.
pub async fn database() -> Result<Db, JsValue> {
    let place = place::current(&MARKS).await?;
    Db::open_in(&place::factory(place).await?).await
}

/// Whether a stored value is a sealed record (the key, the lock record
/// and the format mark are not).
fn is_record(name: &str, value: &JsValue) -> bool {
    !MARKS.contains(&name) && value.is_instance_of::<Uint8Array>()
}

impl Vault {
    /// Opens the vault, making its key on first use; with the app lock on,
    /// `unlock` gives the key (it shows the lock screen and waits). Records
    /// sealed before they were bound to their names are sealed again, once.
    /// Fails outside a secure context (https or localhost), where browsers
    /// offer no WebCrypto.
    pub async fn open(
        unlock: impl AsyncFnOnce() -> Result<CryptoKey, JsValue>,
    ) -> Result<Self, JsValue> {
        let subtle = crypto()?.subtle();
        if subtle.is_undefined() {
            return Err("Courier needs https (or localhost) for its encryption".into());
        }
        let db = database().await?;
        // Both reads at once: they are on the path to the first paint.
        let (stored, format) = futures_util::future::join(db.get(KEY), db.get(FORMAT)).await;
        let (stored, mut named) = (stored?, format?.as_f64() == Some(FORMAT_NAMED));
        let key = if let Ok(key) = stored.dyn_into::<CryptoKey>() {
            key
        } else if !db.get(LOCK).await?.is_undefined() {
            unlock().await?
        } else {
            let usages = Array::of2(&"encrypt".into(), &"decrypt".into());
            let algorithm = AesKeyGenParams::new("AES-GCM", 256);
            let made = subtle.generate_key_with_object(&algorithm, false, &usages)?;
            let key: CryptoKey = JsFuture::from(made).await?.dyn_into()?;
            db.commit(
                &[(KEY, key.clone().into()), (FORMAT, FORMAT_NAMED.into())],
                &[],
            )
            .await?;
            named = true;
            key
        };
        let vault = Self {
            db: RefCell::new(Rc::new(db)),
            key: RefCell::new(key),
            subtle,
        };
        if !named {
            let key = vault.key();
            vault.reseal_all(key, &[], &[]).await?;
        }
        Ok(vault)
    }

    /// The key records are sealed under now.
    pub fn key(&self) -> CryptoKey {
        self.key.borrow().clone()
    }

    /// The saved state, if any.
    pub async fn load(&self) -> Result<Option<Vec<u8>>, JsValue> {
        self.get(STATE).await
    }

    /// Opens the sealed record under `name`, if there is one.
    pub async fn get(&self, name: &str) -> Result<Option<Vec<u8>>, JsValue> {
        let stored = self.db().get(name).await?;
        if stored.is_undefined() {
            return Ok(None);
        }
        self.unseal(name, stored).await.map(Some)
    }

    /// Opens the sealed value stored under `name`, as read from the
    /// database.
    pub async fn unseal(&self, name: &str, stored: JsValue) -> Result<Vec<u8>, JsValue> {
        self.open_sealed(&self.key(), Some(name), stored).await
    }

    async fn open_sealed(
        &self,
        key: &CryptoKey,
        name: Option<&str>,
        stored: JsValue,
    ) -> Result<Vec<u8>, JsValue> {
        let sealed: Uint8Array = stored.dyn_into()?;
        let sealed = sealed.to_vec();
        let (iv, ciphertext) = sealed
            .split_at_checked(IV_BYTES)
            .ok_or("a saved record is damaged")?;
        let opened =
            self.subtle
                .decrypt_with_object_and_u8_array(&params(iv, name), key, ciphertext)?;
        let plain = JsFuture::from(opened).await.map_err(|_| {
            JsValue::from_str("a saved record does not open with this browser's key")
        })?;
        Ok(Uint8Array::new(&plain).to_vec())
    }

    /// The database, for range reads of sealed records.
    pub fn db(&self) -> Rc<Db> {
        self.db.borrow().clone()
    }

    /// Seals and saves `state`, replacing the previous one.
    pub async fn save(&self, state: &[u8]) -> Result<(), JsValue> {
        self.put(STATE, state).await
    }

    /// Seals `bytes` and stores them under `name`.
    pub async fn put(&self, name: &str, bytes: &[u8]) -> Result<(), JsValue> {
        let sealed = self.seal(&self.key(), name, bytes).await?;
        self.db().put(name, &sealed).await
    }

    /// As [`Vault::put`], and in the same transaction an empty record
    /// `note` (unsealed: its name says no more than `name` does), for
    /// whoever keeps track of changed records.
    pub async fn put_noting(&self, name: &str, bytes: &[u8], note: &str) -> Result<(), JsValue> {
        let sealed = self.seal(&self.key(), name, bytes).await?;
        self.db()
            .commit(&[(name, sealed), (note, JsValue::from_str(""))], &[])
            .await
    }

    async fn seal(&self, key: &CryptoKey, name: &str, bytes: &[u8]) -> Result<JsValue, JsValue> {
        let iv = random_bytes::<IV_BYTES>()?;
        let sealed =
            self.subtle
                .encrypt_with_object_and_u8_array(&params(&iv, Some(name)), key, bytes)?;
        let ciphertext = Uint8Array::new(&JsFuture::from(sealed).await?).to_vec();
        Ok(Uint8Array::from([iv.as_slice(), &ciphertext].concat().as_slice()).into())
    }

    /// Seals every record again under `key`, each bound to its name, and
    /// stores `puts` with them, leaving out `deletes` (the key records:
    /// turning the app lock on); from then on uses `key`. Where the browser
    /// has storage buckets, the whole vault is written into the next one and
    /// the old one deleted with its files; elsewhere it is rewritten in
    /// place. All or nothing: until the one write transaction commits, the
    /// old records and key stay as they were. The caller makes sure nothing
    /// else writes meanwhile (the worker runs one job at a time).
    pub async fn reseal_all(
        &self,
        key: CryptoKey,
        puts: &[(&str, JsValue)],
        deletes: &[&str],
    ) -> Result<(), JsValue> {
        let old = self.key();
        let db = self.db();
        let legacy = db.get(FORMAT).await?.as_f64() != Some(FORMAT_NAMED);
        let (names, values) = db.all().await?;
        let mut written = Vec::new();
        for (name, value) in names.iter().zip(values) {
            if deletes.contains(&name.as_str()) {
                continue;
            }
            if !is_record(name, &value) {
                written.push((name.as_str(), value));
                continue;
            }
            // Before the format mark, records were bound to the purpose only.
            let plain = match self
                .open_sealed(&old, Some(name.as_str()), value.clone())
                .await
            {
                Ok(plain) => plain,
                Err(_) if legacy => self.open_sealed(&old, None, value).await?,
                Err(err) => return Err(err),
            };
            written.push((name.as_str(), self.seal(&key, name, &plain).await?));
        }
        written.push((FORMAT, FORMAT_NAMED.into()));
        written.extend(puts.iter().cloned());
        let from = place::current(&MARKS).await?;
        match place::next(from) {
            Some(to) => {
                drop(db);
                self.move_to(from, to, &written).await?;
            }
            None => db.commit(&written, deletes).await?,
        }
        *self.key.borrow_mut() = key;
        Ok(())
    }

    /// Writes `records` (a whole vault) at `to` in one transaction, uses it
    /// from then on, and deletes the vault at `from`.
    async fn move_to(
        &self,
        from: Place,
        to: Place,
        records: &[(&str, JsValue)],
    ) -> Result<(), JsValue> {
        let target = Db::open_in(&place::factory(to).await?).await?;
        target.replace(records).await?;
        // The old connection closes once the last reader lets go of it
        // (the delete waits for that).
        *self.db.borrow_mut() = Rc::new(target);
        place::moved(from, to).await;
        Ok(())
    }
}
