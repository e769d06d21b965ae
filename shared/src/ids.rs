//! Identifiers and validated values that travel on the wire.
//!
//! Each is a newtype that can only hold a valid value: decoding checks
//! lengths and formats, so handlers never see a malformed id or name.

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A user account, numbered by the server.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct UserId(pub u64);

/// A group chat, numbered by the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GroupId(pub u64);

/// One device (browser profile) of a user, numbered by the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DeviceId(pub u64);

/// Pairs a request with its answer on one connection: the client picks it,
/// the server echoes it in the answer or the refusal. Clients count up to
/// 65,535 and wrap, skipping ids still waiting, so an id is not reused while
/// a late answer to its last request could still come; it costs one to
/// three bytes on the wire. [`RequestId::NONE`] (0) marks a server frame
/// that answers no request (a push).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct RequestId(pub u32);

impl RequestId {
    /// No request: a pushed frame, or a request whose id is yet to be set.
    pub const NONE: Self = Self(0);
}

/// Exactly `N` bytes, encoded as one CBOR byte string.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FixedBytes<const N: usize>(pub [u8; N]);

impl<const N: usize> Default for FixedBytes<N> {
    fn default() -> Self {
        Self([0; N])
    }
}

impl<const N: usize> FixedBytes<N> {
    /// Wraps `bytes` (usable in constants).
    pub const fn new_const(bytes: [u8; N]) -> Self {
        Self(bytes)
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8; N] {
        &self.0
    }

    /// Copies exactly `N` bytes from `slice`, or `None` if its length differs.
    pub fn from_slice(slice: &[u8]) -> Option<Self> {
        slice.try_into().ok().map(Self)
    }
}

impl<const N: usize> From<[u8; N]> for FixedBytes<N> {
    fn from(bytes: [u8; N]) -> Self {
        Self(bytes)
    }
}

impl<const N: usize> fmt::Debug for FixedBytes<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in &self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl<const N: usize> Serialize for FixedBytes<N> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

impl<'de, const N: usize> Deserialize<'de> for FixedBytes<N> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FixedVisitor<const N: usize>;
        impl<const N: usize> Visitor<'_> for FixedVisitor<N> {
            type Value = FixedBytes<N>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "a byte string of exactly {N} bytes")
            }
            fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<Self::Value, E> {
                FixedBytes::from_slice(bytes).ok_or_else(|| E::invalid_length(bytes.len(), &self))
            }
        }
        deserializer.deserialize_bytes(FixedVisitor::<N>)
    }
}

/// A message id, made by the sending client (UUIDv7: time-ordered, random),
/// so that a retried send is recognised as the same message.
pub type MessageId = FixedBytes<16>;

impl MessageId {
    /// A UUIDv7 from a Unix time in milliseconds and ten random bytes.
    pub fn v7(unix_ms: u64, random: [u8; 10]) -> Self {
        let mut id = [0u8; 16];
        id[..6].copy_from_slice(&unix_ms.to_be_bytes()[2..]);
        id[6..].copy_from_slice(&random);
        id[6] = 0x70 | (id[6] & 0x0f);
        id[8] = 0x80 | (id[8] & 0x3f);
        Self(id)
    }

    /// The Unix time in milliseconds a UUIDv7 was made at.
    pub fn unix_ms(&self) -> u64 {
        let mut ms = [0u8; 8];
        ms[2..].copy_from_slice(&self.0[..6]);
        u64::from_be_bytes(ms)
    }
}

/// An Ed25519 public key.
pub type PublicKey = FixedBytes<32>;
/// An Ed25519 signature.
pub type Signature = FixedBytes<64>;
/// The server's per-connection random challenge.
pub type Challenge = FixedBytes<32>;
/// A Curve25519 public key: a device's Olm identity key, or a one-time or
/// fallback key.
pub type CurveKey = FixedBytes<32>;
/// A pending device link, as the server knows it: derived from the link
/// code's secret, which the server never sees.
pub type LinkId = FixedBytes<16>;

/// A digest of a set of devices (see [`crate::proto::device_set_digest`]).
pub type DeviceSetDigest = FixedBytes<16>;

/// A media object (an encrypted photo, voice note or file), named by the
/// server with 16 random bytes so that it cannot be guessed.
pub type MediaId = FixedBytes<16>;

/// Opaque bytes of at most `MAX` bytes: ciphertext, as far as the server knows.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Blob<const MAX: usize>(Vec<u8>);

impl<const MAX: usize> Blob<MAX> {
    /// Wraps `bytes`, or `None` if there are more than `MAX`.
    pub fn new(bytes: Vec<u8>) -> Option<Self> {
        (bytes.len() <= MAX).then_some(Self(bytes))
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The bytes, owned.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

impl<const MAX: usize> fmt::Debug for Blob<MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Blob({} bytes)", self.0.len())
    }
}

impl<const MAX: usize> Serialize for Blob<MAX> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

impl<'de, const MAX: usize> Deserialize<'de> for Blob<MAX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct BlobVisitor<const MAX: usize>;
        impl<const MAX: usize> Visitor<'_> for BlobVisitor<MAX> {
            type Value = Blob<MAX>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "a byte string of at most {MAX} bytes")
            }
            fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<Self::Value, E> {
                self.visit_byte_buf(bytes.to_vec())
            }
            fn visit_byte_buf<E: de::Error>(self, bytes: Vec<u8>) -> Result<Self::Value, E> {
                let len = bytes.len();
                Blob::new(bytes).ok_or_else(|| E::invalid_length(len, &self))
            }
        }
        deserializer.deserialize_byte_buf(BlobVisitor::<MAX>)
    }
}

/// A username: 3 to 32 characters of `a-z`, `0-9`, `_` and `.`, starting with
/// a letter. Lower case only, so that names cannot impersonate each other by case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Username(String);

/// Why a username was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a username is 3 to 32 characters of a-z, 0-9, _ and ., starting with a letter")]
pub struct InvalidUsername;

impl Username {
    /// Validates `name`.
    pub fn parse(name: &str) -> Result<Self, InvalidUsername> {
        let valid_len = (3..=32).contains(&name.len());
        let starts_with_letter = name.starts_with(|c: char| c.is_ascii_lowercase());
        let valid_chars = name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.');
        if valid_len && starts_with_letter && valid_chars {
            Ok(Self(name.to_owned()))
        } else {
            Err(InvalidUsername)
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Username {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Username::parse(&name).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::{Blob, MessageId, Username};

    #[test]
    fn usernames_are_validated() {
        for good in ["ana", "ben_2", "c.d.e", "z23456789012345678901234567890ab"] {
            assert!(Username::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "ab",
            "Ana",
            "1ana",
            "_ana",
            "ana!",
            "ana bob",
            "ñandu",
            &"a".repeat(33),
        ] {
            assert!(Username::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn message_ids_are_uuid_v7() {
        let id = MessageId::v7(0x0123_4567_89ab, [0xff; 10]);
        assert_eq!(id.unix_ms(), 0x0123_4567_89ab);
        assert_eq!(id.0[6] >> 4, 7, "version");
        assert_eq!(id.0[8] >> 6, 0b10, "variant");
    }

    #[test]
    fn blobs_enforce_their_limit() {
        assert!(Blob::<4>::new(vec![0; 4]).is_some());
        assert!(Blob::<4>::new(vec![0; 5]).is_none());
    }
}
