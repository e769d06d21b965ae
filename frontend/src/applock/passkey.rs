//! The passkey lock: WebAuthn with the PRF extension. Turning it on makes a
//! passkey for this site (`navigator.credentials.create`) and asks it for
//! its PRF output for a random salt (`get`, unless `create` already gave
//! it); unlocking asks the same passkey, by id, for the same salt. The
//! output never leaves WebCrypto's HKDF ([`super::record::kek`]). No server
//! takes part: the assertion is not verified by anyone, only its PRF output
//! is used, which only the authenticator can compute.

use super::record::{Method, bytes, kek, object};
use crate::crypto::vault::random_bytes;
use js_sys::{Array, ArrayBuffer, Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::CryptoKey;

/// Why a passkey ceremony failed, for the user.
fn explain(err: &JsValue) -> String {
    let name = Reflect::get(err, &"name".into())
        .ok()
        .and_then(|n| n.as_string())
        .unwrap_or_default();
    match name.as_str() {
        "NotAllowedError" => {
            "The passkey was not used (cancelled, timed out, or not on this device). Try again."
                .into()
        }
        "SecurityError" => "Passkeys need https (or localhost) under a domain name.".into(),
        "InvalidStateError" => "This device already has a passkey for Courier.".into(),
        _ => super::record::js_text(err),
    }
}

/// `navigator.credentials[method]({ publicKey })`.
async fn ceremony(method: &str, public_key: JsValue) -> Result<JsValue, String> {
    let navigator = web_sys::window().ok_or("no window")?.navigator();
    let credentials = Reflect::get(&navigator, &"credentials".into()).map_err(|e| explain(&e))?;
    let call = Reflect::get(&credentials, &method.into())
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
        .ok_or("This browser has no passkeys: use a passphrase.")?;
    let options = object(&[("publicKey", public_key)]);
    let promise: Promise = call
        .call1(&credentials, &options)
        .and_then(JsCast::dyn_into)
        .map_err(|e| explain(&e))?;
    JsFuture::from(promise).await.map_err(|e| explain(&e))
}

/// The credential's PRF output for the first salt, if it gave one.
fn prf_output(credential: &JsValue) -> Option<Vec<u8>> {
    let results: Function = Reflect::get(credential, &"getClientExtensionResults".into())
        .ok()?
        .dyn_into()
        .ok()?;
    let results = results.call0(credential).ok()?;
    let first = ["prf", "results", "first"]
        .iter()
        .try_fold(results, |at, name| {
            Reflect::get(&at, &(*name).into())
                .ok()
                .filter(|v| !v.is_undefined())
        })?;
    let first: ArrayBuffer = first.dyn_into().ok()?;
    Some(Uint8Array::new(&first).to_vec())
}

fn prf_extension(salt: &[u8]) -> JsValue {
    object(&[(
        "prf",
        object(&[("eval", object(&[("first", bytes(salt))]))]),
    )])
}

/// Asks the passkey `credential` for its PRF output for `salt`: the KEK.
async fn assert(credential: &[u8], salt: &[u8]) -> Result<CryptoKey, String> {
    let challenge = random_bytes::<32>().map_err(|e| super::record::js_text(&e))?;
    let allowed = Array::of1(&object(&[
        ("type", "public-key".into()),
        ("id", bytes(credential)),
    ]));
    let public_key = object(&[
        ("challenge", bytes(&challenge)),
        ("allowCredentials", allowed.into()),
        ("userVerification", "required".into()),
        ("timeout", 120_000.into()),
        ("extensions", prf_extension(salt)),
    ]);
    let assertion = ceremony("get", public_key).await?;
    let secret = prf_output(&assertion)
        .ok_or("This passkey gave no key (no PRF support): use a passphrase.")?;
    kek(&secret).await.map_err(|e| super::record::js_text(&e))
}

/// Makes a passkey for `username` on this device and derives the KEK from
/// it; the method to store.
pub async fn create(username: &str) -> Result<(CryptoKey, Method), String> {
    let text = |e: JsValue| super::record::js_text(&e);
    let salt = random_bytes::<32>().map_err(text)?;
    let (challenge, user) = (
        random_bytes::<32>().map_err(text)?,
        random_bytes::<16>().map_err(text)?,
    );
    let name = if username.is_empty() {
        "Courier"
    } else {
        username
    };
    let algorithms = Array::of2(
        &object(&[("type", "public-key".into()), ("alg", (-7).into())]),
        &object(&[("type", "public-key".into()), ("alg", (-257).into())]),
    );
    let public_key = object(&[
        ("rp", object(&[("name", "Courier".into())])),
        (
            "user",
            object(&[
                ("id", bytes(&user)),
                ("name", name.into()),
                ("displayName", name.into()),
            ]),
        ),
        ("challenge", bytes(&challenge)),
        ("pubKeyCredParams", algorithms.into()),
        (
            "authenticatorSelection",
            object(&[
                ("userVerification", "required".into()),
                ("residentKey", "preferred".into()),
            ]),
        ),
        ("timeout", 120_000.into()),
        ("extensions", prf_extension(&salt)),
    ]);
    let made = ceremony("create", public_key).await?;
    let raw_id: ArrayBuffer = Reflect::get(&made, &"rawId".into())
        .ok()
        .and_then(|id| id.dyn_into().ok())
        .ok_or("the browser made no passkey")?;
    let credential = Uint8Array::new(&raw_id).to_vec();
    let enabled = Reflect::get(&made, &"getClientExtensionResults".into())
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
        .and_then(|f| f.call0(&made).ok())
        .and_then(|r| Reflect::get(&r, &"prf".into()).ok())
        .and_then(|p| Reflect::get(&p, &"enabled".into()).ok())
        .and_then(|e| e.as_bool());
    if enabled == Some(false) {
        return Err("This passkey cannot lock keys (no PRF support): use a passphrase.".into());
    }
    let kek = match prf_output(&made) {
        Some(secret) => kek(&secret).await.map_err(text)?,
        None => assert(&credential, &salt).await?,
    };
    Ok((
        kek,
        Method::Passkey {
            credential,
            salt: salt.to_vec(),
        },
    ))
}

/// Asks the passkey the lock was made with for the KEK.
pub async fn unlock(credential: &[u8], salt: &[u8]) -> Result<CryptoKey, String> {
    assert(credential, salt).await
}
