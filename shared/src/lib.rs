//! Courier's shared core: everything both ends of a connection must agree on.
//!
//! Layout, in the order a frame travels:
//! - [`proto`]: the versioned CBOR wire protocol — [`proto::ClientFrame`] and
//!   [`proto::ServerFrame`], their error codes and the size-limited codec.
//! - [`ids`]: identifiers and validated values (users, devices, message ids,
//!   keys, usernames, bounded payloads).
//! - [`crypto`]: device identity keys (Ed25519), from audited crates.
//! - [`text_encoding`]: hex, base32 and base64 for codes, names and URLs.
//! - [`time`]: Unix milliseconds, and the clock and randomness the core is given.
//! - [`wav`]: 16-bit PCM WAV, the voice-note format every browser plays.
//! - [`client`]: the I/O-free client core — the connection state machine and its
//!   reconnect back-off — driven by the web client and by native tests alike.
//!
//! This crate does no I/O and pulls in no runtime (no tokio, sqlx or axum), so it
//! builds for `wasm32-unknown-unknown` as well as natively.

pub mod client;
pub mod crypto;
pub mod ids;
pub mod proto;
pub mod text_encoding;
pub mod time;
pub mod wav;
