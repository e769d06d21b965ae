//! The I/O-free client core.
//!
//! The web client (and, later, the load generator and native tests) owns the
//! socket and the clock; these types decide what to do with each event:
//! [`Connection`] tracks the handshake, sign-in, heartbeats and reconnects,
//! sends through the [`Outbox`] until the server accepts, acknowledges what it
//! receives and drops repeats with [`SeenIds`]; [`Backoff`] spaces reconnects.

mod backoff;
mod connection;
mod dedupe;
mod group_marks;
mod outbox;

pub use backoff::Backoff;
pub use connection::{Action, Connection, ConnectionState, Event};
pub use dedupe::SeenIds;
pub use group_marks::GroupMarks;
pub use outbox::Outbox;
