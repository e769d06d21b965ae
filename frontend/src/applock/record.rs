//! The app lock's record (`lock` in the vault's store, plain CBOR: it holds
//! nothing secret) and the key wrapping: the vault key is stored only as
//! AES-256-GCM-wrapped under a key-encryption key (KEK) derived, with
//! HKDF-SHA-256, from a secret only the user can give — a passkey's PRF
//! output or an Argon2id hash of a passphrase. Every key here is a
//! WebCrypto key; the vault key's bytes exist outside WebCrypto never, and
//! inside it as extractable only between its making and its wrapping.

use crate::crypto::vault::{KEY, LOCK, Vault, random_bytes};
use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::CryptoKey;

/// The wrap's additional data and the KEK's HKDF info.
const PURPOSE: &[u8] = b"courier/v1/app-lock";
const IV_BYTES: usize = 12;

/// How the vault key is locked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Method {
    /// A passkey with the PRF extension: the KEK comes from its PRF output
    /// for `salt`.
    Passkey {
        /// The credential's id (`rawId`), asked for by id on unlock.
        credential: Vec<u8>,
        /// The PRF input.
        salt: Vec<u8>,
    },
    /// A passphrase through Argon2id with these parameters.
    Passphrase {
        /// Argon2's salt.
        salt: Vec<u8>,
        /// Memory in KiB.
        memory_kib: u32,
        /// Passes.
        passes: u32,
        /// Lanes.
        lanes: u32,
    },
}

/// What `lock` holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockRecord {
    /// How to make the KEK.
    pub method: Method,
    /// The wrap's IV.
    pub iv: Vec<u8>,
    /// The vault key, wrapped (raw, AES-GCM) under the KEK.
    pub wrapped: Vec<u8>,
}

/// A browser error as text.
pub fn js_text(err: &JsValue) -> String {
    err.as_string()
        .or_else(|| {
            Reflect::get(err, &"message".into())
                .ok()
                .and_then(|m| m.as_string())
        })
        .unwrap_or_else(|| "the browser refused".into())
}

/// A plain object with these properties.
pub fn object(entries: &[(&str, JsValue)]) -> JsValue {
    let object = Object::new();
    for (name, value) in entries {
        let _ = Reflect::set(&object, &(*name).into(), value);
    }
    object.into()
}

/// A `Uint8Array` copy of `data`.
pub fn bytes(data: &[u8]) -> JsValue {
    Uint8Array::from(data).into()
}

/// Calls `crypto.subtle[method](...args)` and awaits it.
async fn subtle(method: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let subtle = web_sys::window().ok_or("no window")?.crypto()?.subtle();
    let call: Function = Reflect::get(&subtle, &method.into())?.dyn_into()?;
    let promise: Promise = call
        .apply(&subtle, &args.iter().collect::<Array>())?
        .dyn_into()?;
    JsFuture::from(promise).await
}

fn usages(names: &[&str]) -> JsValue {
    names
        .iter()
        .map(|n| JsValue::from_str(n))
        .collect::<Array>()
        .into()
}

/// The KEK from `secret` (a PRF output or an Argon2id hash):
/// HKDF-SHA-256, non-extractable, for wrapping only.
pub async fn kek(secret: &[u8]) -> Result<CryptoKey, JsValue> {
    let raw = Uint8Array::from(secret);
    let base = subtle(
        "importKey",
        &[
            "raw".into(),
            raw.clone().into(),
            "HKDF".into(),
            false.into(),
            usages(&["deriveKey"]),
        ],
    )
    .await?;
    raw.fill(0, 0, raw.length());
    let hkdf = object(&[
        ("name", "HKDF".into()),
        ("hash", "SHA-256".into()),
        ("salt", bytes(&[])),
        ("info", bytes(PURPOSE)),
    ]);
    let aes = object(&[("name", "AES-GCM".into()), ("length", 256.into())]);
    let args = [
        hkdf,
        base,
        aes,
        false.into(),
        usages(&["wrapKey", "unwrapKey"]),
    ];
    subtle("deriveKey", &args).await?.dyn_into()
}

fn wrap_params(iv: &[u8]) -> JsValue {
    object(&[
        ("name", "AES-GCM".into()),
        ("iv", bytes(iv)),
        ("additionalData", bytes(PURPOSE)),
    ])
}

/// The vault key `record` wraps, if `kek` is the right one (the wrap is
/// authenticated: a wrong passphrase or passkey fails here, changing
/// nothing). Non-extractable.
pub async fn unwrap(record: &LockRecord, kek: &CryptoKey) -> Result<CryptoKey, JsValue> {
    let args = [
        "raw".into(),
        bytes(&record.wrapped),
        JsValue::from(kek.clone()),
        wrap_params(&record.iv),
        "AES-GCM".into(),
        false.into(),
        usages(&["encrypt", "decrypt"]),
    ];
    subtle("unwrapKey", &args).await?.dyn_into()
}

/// The lock record in the store, if the lock is on.
pub async fn stored(vault_db: &crate::crypto::idb::Db) -> Result<Option<LockRecord>, JsValue> {
    let value = vault_db.get(LOCK).await?;
    if value.is_undefined() {
        return Ok(None);
    }
    let raw: Uint8Array = value.dyn_into()?;
    courier_shared::proto::decode(&raw.to_vec())
        .map(Some)
        .map_err(|e| JsValue::from_str(&e.to_string()))
}

/// Turns the lock on: a new vault key, wrapped under `kek`; every record is
/// sealed again under it and the old key deleted, in one transaction. The
/// page goes on with the new key (non-extractable).
pub async fn turn_on(vault: &Vault, kek: &CryptoKey, method: Method) -> Result<(), JsValue> {
    let aes = object(&[("name", "AES-GCM".into()), ("length", 256.into())]);
    let args = [aes, true.into(), usages(&["encrypt", "decrypt"])];
    let fresh = subtle("generateKey", &args).await?;
    let iv = random_bytes::<IV_BYTES>()?;
    let args = [
        "raw".into(),
        fresh,
        JsValue::from(kek.clone()),
        wrap_params(&iv),
    ];
    let wrapped = Uint8Array::new(&subtle("wrapKey", &args).await?).to_vec();
    let record = LockRecord {
        method,
        iv: iv.to_vec(),
        wrapped,
    };
    // The key the page uses from now on: the same, never extractable.
    let key = unwrap(&record, kek).await?;
    let encoded =
        courier_shared::proto::encode(&record).map_err(|e| JsValue::from_str(&e.to_string()))?;
    vault
        .reseal_all(key, &[(LOCK, bytes(&encoded))], &[KEY])
        .await
}

/// Turns the lock off: the vault key (non-extractable) is stored again as
/// before the lock, and the lock record deleted, in one transaction.
pub async fn turn_off(vault: &Vault) -> Result<(), JsValue> {
    vault
        .db()
        .commit(&[(KEY, vault.key().into())], &[LOCK])
        .await
}
