//! The account-signed device list: which devices a user approved.
//!
//! Each user has an account identity key (Ed25519), made by their first
//! device and handed to each device they link. It signs the list of the
//! user's devices — id, signing key and Olm identity key of each — with a
//! version that only grows. Senders encrypt only to devices on a list that
//! verifies under the account key they pinned for that user, so a device the
//! server adds on its own receives nothing it can read.

use super::CryptoError;
use super::identity::{DeviceKey, verify};
use crate::ids::{Blob, CurveKey, DeviceId, PublicKey, Signature, UserId};

const DEVICE_LIST: &[u8] = b"courier/v1/device-list\0";

/// Most devices one user may have.
pub const MAX_DEVICES: usize = 16;
/// Largest encoded device list, in bytes.
pub const MAX_LIST_BYTES: usize = 4 * 1024;

crate::proto::tuple::wire_struct! {
    /// One approved device: `[id, signing key, Olm identity key]`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct ListedDevice {
        /// The device.
        pub device: DeviceId,
        /// Its Ed25519 signing key (the one it signs in and signs pre-keys with).
        pub signing_key: PublicKey,
        /// Its Curve25519 Olm identity key.
        pub identity_key: CurveKey,
    }
}

crate::proto::tuple::wire_struct! {
    /// A user's approved devices: `[user, version, account key, devices]`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct DeviceList {
        /// The user.
        pub user: UserId,
        /// Grows with every change; a lower version is a rollback.
        pub version: u64,
        /// The account identity key that signs the list.
        pub account: PublicKey,
        /// The devices, by id.
        pub devices: Vec<ListedDevice>,
    }
}

impl DeviceList {
    /// The user.
    pub fn user(&self) -> UserId {
        self.user
    }

    /// The version.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The account identity key.
    pub fn account(&self) -> &PublicKey {
        &self.account
    }

    /// The devices.
    pub fn devices(&self) -> &[ListedDevice] {
        &self.devices
    }

    /// The listed device `id`.
    pub fn device(&self, id: DeviceId) -> Option<&ListedDevice> {
        self.devices.iter().find(|d| d.device == id)
    }

    /// Signs the list with the account key it names.
    pub fn sign(&self, account: &DeviceKey) -> Result<SignedDeviceList, CryptoError> {
        if self.devices.len() > MAX_DEVICES {
            return Err(CryptoError::Limit("a user may have at most 16 devices"));
        }
        let body = crate::proto::encode(self).map_err(|_| CryptoError::Malformed("device list"))?;
        let signature = account.sign(&[DEVICE_LIST, &body].concat());
        let body = Blob::new(body).ok_or(CryptoError::Limit("the device list is too large"))?;
        Ok(SignedDeviceList { body, signature })
    }
}

crate::proto::tuple::wire_struct! {
    /// A device list as it travels: `[encoded list, account signature]`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct SignedDeviceList {
        /// The encoded [`DeviceList`].
        pub body: Blob<MAX_LIST_BYTES>,
        /// The account key's signature over it.
        pub signature: Signature,
    }
}

impl SignedDeviceList {
    /// The list, if it is well-formed, within limits and signed by the
    /// account key it names.
    pub fn open(&self) -> Result<DeviceList, CryptoError> {
        let list: DeviceList = crate::proto::decode(self.body.as_bytes())
            .map_err(|_| CryptoError::Malformed("device list"))?;
        if list.devices.len() > MAX_DEVICES {
            return Err(CryptoError::Limit("a user may have at most 16 devices"));
        }
        let mut ids: Vec<DeviceId> = list.devices.iter().map(|d| d.device).collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.len() != list.devices.len() {
            return Err(CryptoError::Malformed("device list (a device twice)"));
        }
        let message = [DEVICE_LIST, self.body.as_bytes()].concat();
        if !verify(&list.account, &message, &self.signature) {
            return Err(CryptoError::BadSignature("a device list"));
        }
        Ok(list)
    }
}

#[cfg(test)]
mod tests {
    use super::{DeviceList, ListedDevice};
    use crate::crypto::identity::DeviceKey;
    use crate::ids::{DeviceId, PublicKey, UserId};

    fn list(account: &DeviceKey) -> DeviceList {
        let device = ListedDevice {
            device: DeviceId(4),
            signing_key: PublicKey::new_const([1; 32]),
            identity_key: [2; 32].into(),
        };
        DeviceList {
            user: UserId(7),
            version: 3,
            account: account.public_key(),
            devices: vec![device],
        }
    }

    #[test]
    fn a_signed_list_opens_and_a_forged_one_does_not() {
        let account = DeviceKey::from_seed([5; 32]);
        let signed = list(&account).sign(&account).unwrap();
        assert_eq!(signed.open().unwrap(), list(&account));

        let impostor = DeviceKey::from_seed([6; 32]);
        let forged = list(&account).sign(&impostor).unwrap();
        assert!(
            forged.open().is_err(),
            "signed by a key the list does not name"
        );

        let mut tampered = signed.clone();
        let mut body = tampered.body.as_bytes().to_vec();
        *body.last_mut().unwrap() ^= 1;
        tampered.body = crate::ids::Blob::new(body).unwrap();
        assert!(tampered.open().is_err());
    }
}
