//! Sealing small byte strings under a 256-bit key with AES-256-GCM
//! (`aes-gcm`): the link exchange between two devices of a user, and device
//! state at rest where no WebCrypto key is at hand (native tests).
//!
//! A sealed box is `nonce (12 bytes) ‖ ciphertext ‖ tag`. The nonce is
//! random, passed in by the caller; the associated data names the purpose,
//! so a box made for one purpose never opens as another.

use super::CryptoError;
use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{Aead, KeyInit, Payload};

type Nonce = aes_gcm::aead::Nonce<Aes256Gcm>;
type Key = aes_gcm::aead::Key<Aes256Gcm>;

/// Bytes of the random nonce at the front of a sealed box.
pub const NONCE_BYTES: usize = 12;

/// Seals `plaintext` under `key` for `purpose` with the random `nonce`.
pub fn seal(key: &[u8; 32], nonce: [u8; NONCE_BYTES], purpose: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let cipher = Aes256Gcm::new(&Key::from(*key));
    let payload = Payload {
        msg: plaintext,
        aad: purpose,
    };
    let mut sealed = nonce.to_vec();
    // Encryption only fails for inputs beyond 64 GiB, which never reach here.
    if let Ok(ciphertext) = cipher.encrypt(&Nonce::from(nonce), payload) {
        sealed.extend_from_slice(&ciphertext);
    }
    sealed
}

/// Opens a box made by [`seal`] with the same key and purpose. `what` names
/// the box in the error.
pub fn open(
    key: &[u8; 32],
    purpose: &[u8],
    sealed: &[u8],
    what: &'static str,
) -> Result<Vec<u8>, CryptoError> {
    let (nonce, ciphertext) = sealed
        .split_at_checked(NONCE_BYTES)
        .ok_or(CryptoError::Sealed(what))?;
    let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| CryptoError::Sealed(what))?;
    let cipher = Aes256Gcm::new(&Key::from(*key));
    let payload = Payload {
        msg: ciphertext,
        aad: purpose,
    };
    cipher
        .decrypt(&Nonce::from(nonce), payload)
        .map_err(|_| CryptoError::Sealed(what))
}

#[cfg(test)]
mod tests {
    use super::{open, seal};

    #[test]
    fn a_box_opens_only_with_its_key_and_purpose_and_untouched() {
        let key = [3u8; 32];
        let sealed = seal(&key, [1; 12], b"state", b"secret state");
        assert_eq!(
            open(&key, b"state", &sealed, "state").unwrap(),
            b"secret state"
        );
        assert!(open(&[4u8; 32], b"state", &sealed, "state").is_err());
        assert!(open(&key, b"link", &sealed, "state").is_err());
        let mut tampered = sealed.clone();
        tampered[20] ^= 1;
        assert!(open(&key, b"state", &tampered, "state").is_err());
        assert!(open(&key, b"state", &sealed[..5], "state").is_err());
        assert!(!sealed.windows(12).any(|w| w == b"secret state"));
    }
}
