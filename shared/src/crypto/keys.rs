//! Signed pre-keys: the one-time and fallback Curve25519 keys a device
//! publishes so that others can open Olm sessions with it while it is offline.
//!
//! Olm has no signed pre-key of its own, so every published key carries the
//! device's Ed25519 signature; a sender verifies it against the device's
//! signing key from the account-signed device list before using the key, so
//! the server cannot substitute a key of its own.

use super::CryptoError;
use super::identity::{DeviceKey, verify};
use crate::ids::{CurveKey, PublicKey, Signature};

const PREKEY: &[u8] = b"courier/v1/prekey\0";

/// How many unused one-time keys a device keeps on the server.
pub const ONE_TIME_KEY_TARGET: u32 = 50;
/// When the server holds fewer than this many, the device tops up.
pub const ONE_TIME_KEY_LOW: u32 = 20;
/// How long a device publishes the same fallback key before a new one (a
/// week, as Signal rotates its signed pre-key).
pub const FALLBACK_ROTATION_MS: u64 = 7 * 24 * 3_600 * 1_000;
/// Most keys one publish may carry, and most a device may hold on the server.
pub const MAX_ONE_TIME_KEYS: usize = 100;

crate::proto::tuple::wire_struct! {
    /// A Curve25519 pre-key with its device's signature: `[key, signature]`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct SignedKey {
        /// The Curve25519 key.
        pub key: CurveKey,
        /// The device's Ed25519 signature over [`prekey_message`].
        pub signature: Signature,
    }
}

/// The bytes a device signs to vouch for one of its pre-keys.
pub fn prekey_message(key: &CurveKey) -> Vec<u8> {
    [PREKEY, key.as_bytes()].concat()
}

impl SignedKey {
    /// `key`, signed by `device`.
    pub fn sign(key: CurveKey, device: &DeviceKey) -> Self {
        Self {
            key,
            signature: device.sign(&prekey_message(&key)),
        }
    }

    /// The key, if `signer` signed it.
    pub fn verify(&self, signer: &PublicKey) -> Result<CurveKey, CryptoError> {
        if verify(signer, &prekey_message(&self.key), &self.signature) {
            Ok(self.key)
        } else {
            Err(CryptoError::BadSignature("a one-time key"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SignedKey;
    use crate::crypto::identity::DeviceKey;
    use crate::ids::CurveKey;

    #[test]
    fn a_pre_key_verifies_only_under_its_devices_key() {
        let device = DeviceKey::from_seed([1; 32]);
        let other = DeviceKey::from_seed([2; 32]);
        let signed = SignedKey::sign(CurveKey::new_const([9; 32]), &device);
        assert_eq!(signed.verify(&device.public_key()).unwrap(), signed.key);
        assert!(signed.verify(&other.public_key()).is_err());
        let swapped = SignedKey {
            key: CurveKey::new_const([8; 32]),
            signature: signed.signature,
        };
        assert!(swapped.verify(&device.public_key()).is_err());
    }
}
