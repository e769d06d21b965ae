//! [`SavedAccount`]: the account as a device stores it — its name and its
//! crypto state, framed as `[name length: u32 BE][name][crypto snapshot]`
//! (the store seals the bytes at rest).

use crate::crypto::{CryptoError, DeviceCrypto};

/// The saved account: name and crypto state.
pub struct SavedAccount {
    /// The account's username.
    pub username: String,
    /// The device's crypto state.
    pub crypto: DeviceCrypto,
}

impl SavedAccount {
    /// Encodes the account for the store.
    pub fn encode(username: &str, crypto: &DeviceCrypto) -> Vec<u8> {
        let name = username.as_bytes();
        let length = u32::try_from(name.len()).unwrap_or_default().to_be_bytes();
        [length.as_slice(), name, &crypto.snapshot()].concat()
    }

    /// Decodes what [`SavedAccount::encode`] made.
    pub fn decode(bytes: &[u8]) -> Result<Self, CryptoError> {
        let damaged = || CryptoError::Malformed("saved device");
        let (length, rest) = bytes.split_at_checked(4).ok_or_else(damaged)?;
        let length = u32::from_be_bytes(length.try_into().map_err(|_| damaged())?);
        let (name, snapshot) = rest
            .split_at_checked(usize::try_from(length).unwrap_or(usize::MAX))
            .ok_or_else(damaged)?;
        let username = String::from_utf8(name.to_vec()).map_err(|_| damaged())?;
        Ok(Self {
            username,
            crypto: DeviceCrypto::restore(snapshot)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::SavedAccount;
    use crate::crypto::DeviceCrypto;

    #[test]
    fn an_account_survives_saving_and_a_damaged_one_is_refused() {
        let crypto = DeviceCrypto::new([3; 32]);
        let bytes = SavedAccount::encode("ana", &crypto);
        let saved = SavedAccount::decode(&bytes).expect("decodes");
        assert_eq!(saved.username, "ana");
        assert_eq!(saved.crypto.signing_public(), crypto.signing_public());
        assert!(SavedAccount::decode(&bytes[..3]).is_err());
        assert!(SavedAccount::decode(&[0, 0, 0, 9, b'a']).is_err());
    }
}
