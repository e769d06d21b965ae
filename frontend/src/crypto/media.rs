//! Media sealed and opened by the browser's WebCrypto: AES-256-GCM and
//! SHA-256 run in the browser's native code, in the format of
//! `courier_shared::crypto::media` (`nonce ‖ ciphertext ‖ tag`, its
//! purpose as associated data), so any Courier client opens what this one
//! seals. The page's WebAssembly would do the same work JIT-compiled and
//! several times slower on a large video.

use super::vault::random_bytes;
use courier_shared::client::messenger::Download;
use courier_shared::crypto::aead::NONCE_BYTES;
use courier_shared::crypto::media::{self as sealing, MediaHash, MediaKey, SealedMedia};
use js_sys::{Array, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AesGcmParams, CryptoKey, SubtleCrypto};

fn subtle() -> Result<SubtleCrypto, JsValue> {
    Ok(web_sys::window().ok_or("no window")?.crypto()?.subtle())
}

/// `raw` as a non-extractable AES-GCM key for `usage`.
async fn key(subtle: &SubtleCrypto, raw: &[u8], usage: &str) -> Result<CryptoKey, JsValue> {
    let usages = Array::of1(&usage.into());
    let imported =
        subtle.import_key_with_str("raw", &Uint8Array::from(raw), "AES-GCM", false, &usages)?;
    JsFuture::from(imported).await?.dyn_into()
}

fn params(nonce: &[u8]) -> AesGcmParams {
    let params = AesGcmParams::new("AES-GCM", &Uint8Array::from(nonce));
    params.set_additional_data(&Uint8Array::from(sealing::PURPOSE));
    params
}

/// The bytes of an `ArrayBuffer` that WebCrypto gave.
fn bytes_of(buffer: JsValue) -> Vec<u8> {
    Uint8Array::new(&buffer).to_vec()
}

/// The SHA-256 of `bytes`.
async fn sha256(subtle: &SubtleCrypto, bytes: &[u8]) -> Result<MediaHash, JsValue> {
    let digest =
        bytes_of(JsFuture::from(subtle.digest_with_str_and_u8_array("SHA-256", bytes)?).await?);
    let digest: [u8; 32] = digest.try_into().map_err(|_| "SHA-256 gave no 32 bytes")?;
    Ok(MediaHash::from(digest))
}

/// Seals `plain` under a fresh random key and nonce.
pub async fn seal(plain: &[u8]) -> Result<SealedMedia, JsValue> {
    let subtle = subtle()?;
    let raw = random_bytes::<32>()?;
    let nonce = random_bytes::<NONCE_BYTES>()?;
    let key = key(&subtle, &raw, "encrypt").await?;
    let sealed = subtle.encrypt_with_object_and_u8_array(&params(&nonce), &key, plain)?;
    let mut ciphertext = nonce.to_vec();
    ciphertext.extend_from_slice(&bytes_of(JsFuture::from(sealed).await?));
    Ok(SealedMedia {
        hash: sha256(&subtle, &ciphertext).await?,
        key: MediaKey::from(raw),
        ciphertext,
    })
}

/// Checks the downloaded `ciphertext` against `download`'s hash, then
/// decrypts it; the error says which of the two failed.
pub async fn open(download: &Download, ciphertext: &[u8]) -> Result<Vec<u8>, String> {
    let js = crate::state::js_text;
    let subtle = subtle().map_err(js)?;
    let actual = sha256(&subtle, ciphertext).await.map_err(js)?;
    sealing::check_hash(&actual, &download.hash).map_err(|e| e.to_string())?;
    let (nonce, sealed) = ciphertext
        .split_at_checked(NONCE_BYTES)
        .ok_or_else(|| sealing::wrong_key().to_string())?;
    let key = key(&subtle, download.key.as_bytes(), "decrypt")
        .await
        .map_err(js)?;
    let opened = subtle
        .decrypt_with_object_and_u8_array(&params(nonce), &key, sealed)
        .map_err(js)?;
    let plain = JsFuture::from(opened)
        .await
        .map_err(|_| sealing::wrong_key().to_string())?;
    Ok(bytes_of(plain))
}
