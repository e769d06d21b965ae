//! Linking a new device to an account with a code shown on an existing one.
//!
//! The existing device makes a random 128-bit secret and shows it as a code
//! (26 base32 letters and digits) and as a QR code. From the secret both
//! devices derive, with HKDF-SHA-256, a link id that the server uses to
//! admit the new device to the account, and a key that the server never
//! learns. Over the server they then swap sealed boxes (AES-256-GCM):
//! the new device's keys ([`LinkHello`]) one way, and the account identity
//! key with the new signed device list ([`LinkWelcome`]) the other. A server
//! that sees the link id can neither read nor forge either box.

use super::CryptoError;
use super::aead;
use super::device_list::SignedDeviceList;
use crate::ids::{CurveKey, DeviceId, FixedBytes, LinkId, PublicKey, Username};
use hkdf::Hkdf;
use sha2::Sha256;

/// How long a link code stays valid, in milliseconds.
pub const LINK_TTL_MS: u64 = 10 * 60 * 1000;
const HELLO: &[u8] = b"courier/v1/link-hello";
const WELCOME: &[u8] = b"courier/v1/link-welcome";
const CODE_PREFIX: &str = "courier-link:";
/// Where a link URL carries the code: `https://host/#link=CODE`.
pub const LINK_FRAGMENT: &str = "#link=";

/// The secret behind a link code. It never reaches the server.
#[derive(Clone, PartialEq, Eq)]
pub struct LinkSecret([u8; 16]);

impl std::fmt::Debug for LinkSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkSecret(..)")
    }
}

impl LinkSecret {
    /// A secret from 16 random bytes.
    pub fn from_random(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// The code to type: base32 in groups of five, like `ABCDE-FGHIJ-…`.
    pub fn code(&self) -> String {
        let plain = crate::text_encoding::base32(&self.0);
        let groups: Vec<&str> = plain
            .as_bytes()
            .chunks(5)
            .filter_map(|c| std::str::from_utf8(c).ok())
            .collect();
        groups.join("-")
    }

    /// The code as text for a QR code read by another Courier app.
    pub fn qr_text(&self) -> String {
        format!("{CODE_PREFIX}{}", crate::text_encoding::base32(&self.0))
    }

    /// The code as a link to the web client at `origin` (what the QR code
    /// holds): a phone's camera opens it and the page fills the code in. The
    /// code rides in the fragment, which browsers never send to a server.
    pub fn link_url(&self, origin: &str) -> String {
        format!(
            "{}/{LINK_FRAGMENT}{}",
            origin.trim_end_matches('/'),
            crate::text_encoding::base32(&self.0)
        )
    }

    /// Reads a typed code (any case, dashes and spaces ignored), a scanned
    /// QR text or a [`LinkSecret::link_url`].
    pub fn parse(code: &str) -> Result<Self, CryptoError> {
        let code = code.trim();
        let code = code
            .split_once(LINK_FRAGMENT)
            .map_or(code, |(_, after)| after);
        let code = code.strip_prefix(CODE_PREFIX).unwrap_or(code);
        let cleaned: String = code
            .chars()
            .filter(|c| !matches!(c, '-' | ' '))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let bytes = crate::text_encoding::base32_decode(&cleaned)
            .ok_or(CryptoError::Malformed("link code"))?;
        let bytes: [u8; 16] = bytes
            .try_into()
            .map_err(|_| CryptoError::Malformed("link code"))?;
        Ok(Self(bytes))
    }

    fn derive<const N: usize>(&self, info: &[u8]) -> [u8; N] {
        let mut out = [0u8; N];
        // HKDF-SHA-256 yields up to 8,160 bytes; N is 16 or 32.
        let _ = Hkdf::<Sha256>::new(None, &self.0).expand(info, &mut out);
        out
    }

    /// The id the server knows the link by.
    pub fn id(&self) -> LinkId {
        FixedBytes(self.derive(b"courier/v1/link-id"))
    }

    fn key(&self) -> [u8; 32] {
        self.derive(b"courier/v1/link-key")
    }

    /// Seals the new device's hello with random `nonce`.
    pub fn seal_hello(&self, hello: &LinkHello, nonce: [u8; 12]) -> Result<Vec<u8>, CryptoError> {
        let bytes =
            crate::proto::encode(hello).map_err(|_| CryptoError::Malformed("link hello"))?;
        Ok(aead::seal(&self.key(), nonce, HELLO, &bytes))
    }

    /// Opens a hello sealed with this secret.
    pub fn open_hello(&self, sealed: &[u8]) -> Result<LinkHello, CryptoError> {
        let bytes = aead::open(&self.key(), HELLO, sealed, "link hello")?;
        crate::proto::decode(&bytes).map_err(|_| CryptoError::Malformed("link hello"))
    }

    /// Seals the approving device's welcome with random `nonce`.
    pub fn seal_welcome(
        &self,
        welcome: &LinkWelcome,
        nonce: [u8; 12],
    ) -> Result<Vec<u8>, CryptoError> {
        let bytes =
            crate::proto::encode(welcome).map_err(|_| CryptoError::Malformed("link welcome"))?;
        Ok(aead::seal(&self.key(), nonce, WELCOME, &bytes))
    }

    /// Opens a welcome sealed with this secret.
    pub fn open_welcome(&self, sealed: &[u8]) -> Result<LinkWelcome, CryptoError> {
        let bytes = aead::open(&self.key(), WELCOME, sealed, "link welcome")?;
        crate::proto::decode(&bytes).map_err(|_| CryptoError::Malformed("link welcome"))
    }
}

crate::proto::tuple::wire_struct! {
    /// The new device introduces itself: `[device, signing key, Olm identity key]`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct LinkHello {
        /// The id the server gave the new device.
        pub device: DeviceId,
        /// Its Ed25519 signing key.
        pub signing_key: PublicKey,
        /// Its Curve25519 Olm identity key.
        pub identity_key: CurveKey,
    }
}

crate::proto::tuple::wire_struct! {
    /// The approving device answers: `[account key seed, new device list,
    /// account name]`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct LinkWelcome {
        /// The account identity key's secret seed.
        pub account_seed: FixedBytes<32>,
        /// The device list that now includes the new device.
        pub list: SignedDeviceList,
        /// The account's username, for the new device to show.
        pub username: Username,
    }
}

#[cfg(test)]
mod tests {
    use super::{LinkHello, LinkSecret};
    use crate::ids::{DeviceId, PublicKey};

    #[test]
    fn a_code_round_trips_and_seals_only_for_its_holder() {
        let secret = LinkSecret::from_random([42; 16]);
        let code = secret.code();
        assert_eq!(code.len(), 26 + 5);
        assert_eq!(LinkSecret::parse(&code.to_lowercase()).unwrap(), secret);
        assert_eq!(LinkSecret::parse(&secret.qr_text()).unwrap(), secret);
        let url = secret.link_url("https://courier.example/");
        assert!(url.starts_with("https://courier.example/#link="), "{url}");
        assert_eq!(LinkSecret::parse(&url).unwrap(), secret);
        assert!(LinkSecret::parse("ABCDE").is_err());

        let hello = LinkHello {
            device: DeviceId(3),
            signing_key: PublicKey::new_const([1; 32]),
            identity_key: [2; 32].into(),
        };
        let sealed = secret.seal_hello(&hello, [7; 12]).unwrap();
        assert_eq!(secret.open_hello(&sealed).unwrap(), hello);
        let other = LinkSecret::from_random([43; 16]);
        assert!(other.open_hello(&sealed).is_err());
        assert!(
            secret.open_welcome(&sealed).is_err(),
            "a hello never opens as a welcome"
        );
        assert_ne!(secret.id(), other.id());
    }
}
