//! The I/O-free client core.
//!
//! The web client, the native test client and the load generator own the
//! socket and the clock; these types decide what to do with each event:
//! - [`Connection`]: the handshake, sign-in, heartbeats, reconnects and the
//!   request ids that pair each answer with its request;
//! - [`Server`] and [`Api`]: requests out, typed answers in, over any driver;
//! - [`Outbox`]: every durable send until the server accepts it, with its
//!   retries;
//! - [`SeenIds`]: drops repeats; [`Backoff`] spaces reconnects;
//!   [`GroupMarks`]: a group message's progress per member.

pub mod api;
mod backoff;
mod connection;
mod dedupe;
mod group_marks;
pub mod outbox;

pub use api::{Api, Server};
pub use backoff::Backoff;
pub use connection::{ANSWER_TIMEOUT_MS, Action, Connection, ConnectionState, Event};
pub use dedupe::SeenIds;
pub use group_marks::GroupMarks;
pub use outbox::{Outbox, Outcome};
