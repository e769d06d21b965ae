//! Cryptography shared by the server and the clients, from audited crates only.
//!
//! - [`identity`]: a device's Ed25519 identity key, which signs the server's
//!   challenges; the server verifies with [`identity::verify`].

pub mod identity;
