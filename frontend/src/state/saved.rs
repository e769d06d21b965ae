//! The saved form of the device: account name and crypto state, framed as
//! `[name length: u32 BE][name][crypto snapshot]` and sealed by the vault.

use courier_shared::crypto::{CryptoError, DeviceCrypto};

/// Encodes the device for the vault.
pub fn encode(username: &str, crypto: &DeviceCrypto) -> Vec<u8> {
    let name = username.as_bytes();
    let length = u32::try_from(name.len()).unwrap_or_default().to_be_bytes();
    [length.as_slice(), name, &crypto.snapshot()].concat()
}

/// Decodes what [`encode`] made.
pub fn decode(bytes: &[u8]) -> Result<(String, DeviceCrypto), CryptoError> {
    let damaged = CryptoError::Malformed("saved device");
    let (length, rest) = bytes.split_at_checked(4).ok_or(damaged)?;
    let length = u32::from_be_bytes(
        length
            .try_into()
            .map_err(|_| CryptoError::Malformed("saved device"))?,
    );
    let (name, snapshot) = rest
        .split_at_checked(usize::try_from(length).unwrap_or(usize::MAX))
        .ok_or(CryptoError::Malformed("saved device"))?;
    let name =
        String::from_utf8(name.to_vec()).map_err(|_| CryptoError::Malformed("saved device"))?;
    Ok((name, DeviceCrypto::restore(snapshot)?))
}
