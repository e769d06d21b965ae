//! One device's WebSocket session: upgrade, frame loop and protocol state.
//!
//! [`upgrade`] admits a connection (within the connection cap and its
//! [`address`]'s share of connections not signed in) and hands the
//! socket to [`task::run`], which owns it: it reads frames, feeds them to the
//! I/O-free [`machine::Session`], carries out requests through [`commands`]
//! (key-directory requests in [`directory`], group requests in [`groups`],
//! media requests in [`media`])
//! within the [`rate_limit`], delivers the device's queue and what the router
//! pushes ([`delivery`]), and ends with an [`end::End`] that names the close
//! code (the protocol is broken, the client left, the server stops).

pub mod address;
pub mod challenge;
pub mod commands;
pub mod delivery;
pub mod directory;
pub mod end;
pub mod groups;
pub mod machine;
pub mod media;
pub mod rate_limit;
pub mod task;
pub mod upgrade;
