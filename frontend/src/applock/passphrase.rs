//! The passphrase lock: Argon2id (RustCrypto's `argon2`) turns the
//! passphrase and a random salt into the secret the KEK is derived from
//! ([`super::record::kek`]). The parameters are stored with the lock, so a
//! later build can raise them for new locks and still open old ones.

use super::record::{Method, js_text, kek};
use crate::crypto::vault::random_bytes;
use argon2::{Algorithm, Argon2, Params, Version};
use web_sys::CryptoKey;

/// Memory per hash, in KiB: 19 MiB, OWASP's recommended minimum for
/// Argon2id with two passes and one lane.
pub const MEMORY_KIB: u32 = 19 * 1024;
/// Passes over the memory.
pub const PASSES: u32 = 2;
/// Lanes (the browser's page runs on one thread).
pub const LANES: u32 = 1;
/// The shortest passphrase accepted.
pub const MIN_CHARS: usize = 8;

/// Argon2id of `passphrase` with `salt` and these parameters.
fn hash(
    passphrase: &str,
    salt: &[u8],
    memory_kib: u32,
    passes: u32,
    lanes: u32,
) -> Result<[u8; 32], String> {
    let params = Params::new(memory_kib, passes, lanes, Some(32)).map_err(|e| e.to_string())?;
    let mut out = [0u8; 32];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.as_bytes(), salt, &mut out)
        .map_err(|e| e.to_string())?;
    Ok(out)
}

/// The KEK and the method to store, for a new passphrase lock.
pub async fn create(passphrase: &str) -> Result<(CryptoKey, Method), String> {
    if passphrase.chars().count() < MIN_CHARS {
        return Err(format!(
            "Choose a passphrase of at least {MIN_CHARS} characters."
        ));
    }
    let salt = random_bytes::<16>().map_err(|e| js_text(&e))?;
    let key = derive(passphrase, &salt, MEMORY_KIB, PASSES, LANES).await?;
    let method = Method::Passphrase {
        salt: salt.to_vec(),
        memory_kib: MEMORY_KIB,
        passes: PASSES,
        lanes: LANES,
    };
    Ok((key, method))
}

/// The KEK from `passphrase` under the stored parameters.
pub async fn derive(
    passphrase: &str,
    salt: &[u8],
    memory_kib: u32,
    passes: u32,
    lanes: u32,
) -> Result<CryptoKey, String> {
    // Argon2 holds the page's thread for a while: let it paint "Unlocking…"
    // first.
    super::next_frame().await;
    let mut secret = hash(passphrase, salt, memory_kib, passes, lanes)?;
    let key = kek(&secret).await.map_err(|e| js_text(&e));
    secret.fill(0);
    std::hint::black_box(&secret);
    key
}
