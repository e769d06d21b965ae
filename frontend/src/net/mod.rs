//! The only place that touches bytes on the wire: the WebSocket driver of the
//! shared client core, and request/answer pairing on top of it.

pub mod requests;
pub mod socket;
