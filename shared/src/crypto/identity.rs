//! A device's Ed25519 identity key (`ed25519-dalek`).
//!
//! The key is made from 32 random bytes that the caller supplies (the browser's
//! CSPRNG, or the OS's natively), so this module does no I/O and needs no RNG.

use crate::ids::{PublicKey, Signature};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};

/// A device's private identity key. It never leaves the device.
pub struct DeviceKey(SigningKey);

impl DeviceKey {
    /// The key for 32 secret random bytes.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self(SigningKey::from_bytes(&seed))
    }

    /// The secret bytes, for the device's own (encrypted) key store.
    pub fn seed(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The public half, which the server and other users see.
    pub fn public_key(&self) -> PublicKey {
        PublicKey::new_const(self.0.verifying_key().to_bytes())
    }

    /// Signs `message`.
    pub fn sign(&self, message: &[u8]) -> Signature {
        Signature::new_const(self.0.sign(message).to_bytes())
    }
}

impl std::fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DeviceKey({:?})", self.public_key())
    }
}

/// Whether `signature` is `key`'s signature over `message`. Rejects weak and
/// malformed keys and non-canonical signatures.
pub fn verify(key: &PublicKey, message: &[u8], signature: &Signature) -> bool {
    let Ok(key) = VerifyingKey::from_bytes(key.as_bytes()) else {
        return false;
    };
    if key.is_weak() {
        return false;
    }
    let signature = ed25519_dalek::Signature::from_bytes(signature.as_bytes());
    key.verify_strict(message, &signature).is_ok()
}

#[cfg(test)]
mod tests {
    use super::{DeviceKey, verify};

    #[test]
    fn signatures_verify_only_for_their_key_and_message() {
        let key = DeviceKey::from_seed([7; 32]);
        let other = DeviceKey::from_seed([8; 32]);
        let signature = key.sign(b"challenge");
        assert!(verify(&key.public_key(), b"challenge", &signature));
        assert!(!verify(&key.public_key(), b"challengf", &signature));
        assert!(!verify(&other.public_key(), b"challenge", &signature));
        let mut tampered = signature;
        tampered.0[0] ^= 1;
        assert!(!verify(&key.public_key(), b"challenge", &tampered));
        assert_eq!(
            DeviceKey::from_seed(key.seed()).public_key(),
            key.public_key()
        );
    }
}
