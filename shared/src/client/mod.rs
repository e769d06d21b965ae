//! The I/O-free client core.
//!
//! The web client (and, later, the load generator and native tests) owns the
//! socket and the clock; these types decide what to do with each event:
//! [`Connection`] tracks the handshake, heartbeats and reconnects, and
//! [`Backoff`] spaces the reconnect attempts.

mod backoff;
mod connection;

pub use backoff::Backoff;
pub use connection::{Action, Connection, ConnectionState};
