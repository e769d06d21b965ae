//! End-to-end encryption and device identity, from audited crates only
//! (vodozemac's Olm for sessions, RustCrypto for AES-GCM, HKDF and SHA-2,
//! ed25519-dalek for signatures), with no I/O: the browser and the native
//! tests run the same code.
//!
//! - [`identity`]: Ed25519 keys — a device's signing key and the account key.
//! - [`keys`]: signed one-time and fallback pre-keys.
//! - [`device_list`]: the account-signed list of a user's approved devices.
//! - [`device`]: [`DeviceCrypto`], one device's whole state (Olm account,
//!   sessions, known users), snapshotted for storage at rest.
//! - [`flow`]: sending and receiving over a [`flow::KeyServer`].
//! - [`group`]: sender keys for groups (Megolm): encrypt once, rotate.
//! - [`envelope`] and [`content`]: a payload's outer layer and plaintext.
//! - [`link`]: linking a new device with a code or QR code.
//! - [`safety`]: safety numbers and QR codes.
//! - [`profile`]: display names, about lines and photos, sealed.
//! - [`aead`]: AES-256-GCM sealed boxes.

pub mod aead;
pub mod content;
pub mod device;
pub mod device_list;
pub mod envelope;
mod error;
pub mod flow;
pub mod group;
pub mod group_flow;
pub mod identity;
pub mod keys;
pub mod link;
pub mod media;
pub mod profile;
pub mod safety;

pub use device::DeviceCrypto;
pub use error::CryptoError;
