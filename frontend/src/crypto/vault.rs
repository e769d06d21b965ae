//! [`Vault`]: the device's state, sealed with AES-256-GCM under a WebCrypto
//! key that is generated non-extractable — script on the page can use it but
//! never read its bytes, so a copy of the IndexedDB files alone reveals
//! nothing. Each save uses a fresh random IV. Chat history is sealed the
//! same way, one record per message.

use super::idb::Db;
use js_sys::{Array, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AesGcmParams, AesKeyGenParams, CryptoKey, SubtleCrypto};

const KEY: &str = "key";
const STATE: &str = "device";
const IV_BYTES: usize = 12;
const PURPOSE: &[u8] = b"courier/v1/device-state";

/// Sealed storage for the device's private state.
pub struct Vault {
    db: Db,
    key: CryptoKey,
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

fn params(iv: &[u8]) -> AesGcmParams {
    let params = AesGcmParams::new("AES-GCM", &Uint8Array::from(iv));
    params.set_additional_data(&Uint8Array::from(PURPOSE));
    params
}

impl Vault {
    /// Opens the vault, making its key on first use. Fails outside a secure
    /// context (https or localhost), where browsers offer no WebCrypto.
    pub async fn open() -> Result<Self, JsValue> {
        let subtle = crypto()?.subtle();
        if subtle.is_undefined() {
            return Err("Courier needs https (or localhost) for its encryption".into());
        }
        let db = Db::open().await?;
        let stored = db.get(KEY).await?;
        let key = if let Ok(key) = stored.dyn_into::<CryptoKey>() {
            key
        } else {
            let usages = Array::of2(&"encrypt".into(), &"decrypt".into());
            let algorithm = AesKeyGenParams::new("AES-GCM", 256);
            let made = subtle.generate_key_with_object(&algorithm, false, &usages)?;
            let key: CryptoKey = JsFuture::from(made).await?.dyn_into()?;
            db.put(KEY, &key).await?;
            key
        };
        Ok(Self { db, key, subtle })
    }

    /// The saved state, if any.
    pub async fn load(&self) -> Result<Option<Vec<u8>>, JsValue> {
        self.get(STATE).await
    }

    /// Opens the sealed record under `key`, if there is one.
    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, JsValue> {
        let stored = self.db.get(key).await?;
        if stored.is_undefined() {
            return Ok(None);
        }
        self.unseal(stored).await.map(Some)
    }

    /// Opens one sealed value as read from the database.
    pub async fn unseal(&self, stored: JsValue) -> Result<Vec<u8>, JsValue> {
        let sealed: Uint8Array = stored.dyn_into()?;
        let sealed = sealed.to_vec();
        let (iv, ciphertext) = sealed
            .split_at_checked(IV_BYTES)
            .ok_or("a saved record is damaged")?;
        let opened =
            self.subtle
                .decrypt_with_object_and_u8_array(&params(iv), &self.key, ciphertext)?;
        let plain = JsFuture::from(opened).await.map_err(|_| {
            JsValue::from_str("a saved record does not open with this browser's key")
        })?;
        Ok(Uint8Array::new(&plain).to_vec())
    }

    /// The database, for range reads of sealed records.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Seals and saves `state`, replacing the previous one.
    pub async fn save(&self, state: &[u8]) -> Result<(), JsValue> {
        self.put(STATE, state).await
    }

    /// Seals `bytes` and stores them under `key`.
    pub async fn put(&self, key: &str, bytes: &[u8]) -> Result<(), JsValue> {
        let iv = random_bytes::<IV_BYTES>()?;
        let sealed =
            self.subtle
                .encrypt_with_object_and_u8_array(&params(&iv), &self.key, bytes)?;
        let ciphertext = Uint8Array::new(&JsFuture::from(sealed).await?).to_vec();
        let stored = Uint8Array::from([iv.as_slice(), &ciphertext].concat().as_slice());
        self.db.put(key, &stored).await
    }
}
