//! One device's WebSocket session: upgrade, frame loop and protocol state.
//!
//! [`upgrade`] admits a connection (within the connection cap) and hands the
//! socket to [`task::run`], which owns it: it reads frames, feeds them to the
//! I/O-free [`machine::Session`], writes the replies and closes the socket with
//! a close code from [`close`] when the protocol is broken or the server stops.

pub mod close;
pub mod machine;
pub mod task;
pub mod upgrade;
