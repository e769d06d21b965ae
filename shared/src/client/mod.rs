//! The I/O-free client core.
//!
//! The web client, the native test client and the load generator own the
//! socket and the clock; these types decide what to do with each event:
//! - [`Connection`]: the handshake, sign-in, heartbeats, reconnects and the
//!   request ids that pair each answer with its request;
//! - [`Server`] and [`Api`]: requests out, typed answers in, over any driver;
//! - [`Messenger`]: the whole messenger of one device — chats, the outbox,
//!   marks, groups, media references, linking — over a [`Server`], a
//!   [`Store`] and an [`crate::time::Env`], with [`Effect`]s out;
//! - [`chat`]: the chat index and the messages a device keeps;
//! - [`Outbox`]: every durable send until the server accepts it, with its
//!   retries;
//! - [`SeenIds`]: drops repeats; [`Backoff`] spaces reconnects;
//!   [`GroupMarks`]: a group message's progress per member;
//! - [`call`]: one-to-one calls' signalling, as a state machine;
//! - [`media_type`]: which received media types are shown, and which only
//!   saved;
//! - [`search`]: the local full-text index over the decrypted history.

pub mod api;
mod backoff;
pub mod call;
pub mod chat;
mod connection;
mod dedupe;
mod group_marks;
pub mod media_type;
#[cfg(not(target_arch = "wasm32"))]
pub mod memory;
pub mod messenger;
pub mod outbox;
pub mod search;

pub use api::{Api, Server};
pub use backoff::Backoff;
pub use connection::{ANSWER_TIMEOUT_MS, Action, Connection, ConnectionState, Event};
pub use dedupe::SeenIds;
pub use group_marks::GroupMarks;
pub use messenger::{Effect, Messenger, MessengerError, Store};
pub use outbox::{Outbox, Outcome};
