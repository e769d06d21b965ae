//! Media encryption, with no I/O: every photo, voice note or file is sealed
//! with AES-256-GCM under its own fresh random key ([`super::aead`]), and
//! the ciphertext is named by its SHA-256. Key, hash and the rest travel in
//! a [`super::content::Content::Media`] message, inside the end-to-end
//! encryption; the object store only ever holds the ciphertext.
//!
//! A download is checked against the hash before it is decrypted, so a
//! changed or truncated object is reported as such.
//!
//! The web client does the same sealing with the browser's WebCrypto
//! (native AES-GCM and SHA-256, never the page's JIT-compiled code, and
//! fast on a 16 MB video), in this format and with [`PURPOSE`]; the
//! functions here serve native clients and the tests.

use super::{CryptoError, aead};
use crate::ids::FixedBytes;
use sha2::{Digest, Sha256};

/// A media object's own key.
pub type MediaKey = FixedBytes<32>;
/// The SHA-256 of a media object's ciphertext.
pub type MediaHash = FixedBytes<32>;

/// Largest thumbnail carried in a media message (a tiny blurred JPEG).
pub const MAX_THUMBNAIL_BYTES: usize = 4 * 1024;
/// Most waveform levels carried with a voice note.
pub const MAX_WAVEFORM: usize = 64;
/// Longest media type (`image/jpeg`), in bytes.
pub const MAX_MIME_BYTES: usize = 128;
/// Longest file name, in bytes.
pub const MAX_FILE_NAME_BYTES: usize = 256;

/// The headers every media upload sends besides its checksum, with the
/// only values a bucket's upload URL accepts (they are bound into its
/// signature): the object is stored as inert bytes to be saved, never
/// rendered, and it is only ever created, never replaced.
pub const UPLOAD_HEADERS: [(&str, &str); 3] = [
    ("content-type", "application/octet-stream"),
    ("content-disposition", "attachment"),
    ("if-none-match", "*"),
];

/// The associated data every media object is sealed with: a box sealed
/// for another purpose never opens as media.
pub const PURPOSE: &[u8] = b"courier media v1";

/// A sealed media object and what names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedMedia {
    /// The ciphertext to upload.
    pub ciphertext: Vec<u8>,
    /// The key that opens it.
    pub key: MediaKey,
    /// The ciphertext's SHA-256.
    pub hash: MediaHash,
}

/// Seals `plaintext` under `key` (fresh random bytes for every object) with
/// the random `nonce`.
pub fn seal(plaintext: &[u8], key: [u8; 32], nonce: [u8; aead::NONCE_BYTES]) -> SealedMedia {
    let ciphertext = aead::seal(&key, nonce, PURPOSE, plaintext);
    SealedMedia {
        hash: hash(&ciphertext),
        key: MediaKey::from(key),
        ciphertext,
    }
}

/// The SHA-256 of `ciphertext`.
pub fn hash(ciphertext: &[u8]) -> MediaHash {
    let mut digest = [0; 32];
    digest.copy_from_slice(&Sha256::digest(ciphertext));
    MediaHash::from(digest)
}

/// Checks a downloaded `ciphertext` against `expected`, then decrypts it.
pub fn open(
    ciphertext: &[u8],
    key: &MediaKey,
    expected: &MediaHash,
) -> Result<Vec<u8>, CryptoError> {
    check_hash(&hash(ciphertext), expected)?;
    aead::open(&key.0, PURPOSE, ciphertext, "media object")
}

/// Whether a download's SHA-256 `actual` is the `expected` one of its
/// message; the error says the file was changed or damaged.
pub fn check_hash(actual: &MediaHash, expected: &MediaHash) -> Result<(), CryptoError> {
    if actual == expected {
        Ok(())
    } else {
        Err(CryptoError::Media(
            "the downloaded file does not match its hash: it was changed or damaged",
        ))
    }
}

/// The error for a media object that fails authentication (right hash,
/// wrong key): as [`open`] reports it.
pub fn wrong_key() -> CryptoError {
    CryptoError::Sealed("media object")
}

#[cfg(test)]
mod tests {
    use super::{hash, open, seal};

    #[test]
    fn media_opens_with_its_key_and_hash_only() {
        let sealed = seal(b"a photo", [7; 32], [1; 12]);
        assert_eq!(sealed.hash, hash(&sealed.ciphertext));
        assert!(!sealed.ciphertext.windows(7).any(|w| w == b"a photo"));
        assert_eq!(
            open(&sealed.ciphertext, &sealed.key, &sealed.hash).unwrap(),
            b"a photo"
        );
        let mut changed = sealed.ciphertext.clone();
        changed[20] ^= 1;
        let err = open(&changed, &sealed.key, &sealed.hash).unwrap_err();
        assert!(err.to_string().contains("does not match its hash"));
        // Right hash, wrong key: authentication fails.
        let other = super::MediaKey::from([8; 32]);
        assert!(open(&sealed.ciphertext, &other, &sealed.hash).is_err());
    }
}
