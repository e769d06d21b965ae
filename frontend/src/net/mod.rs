//! The only place that touches bytes on the wire: the WebSocket driver of the
//! shared client core, request/answer pairing on top of it, and media
//! transfers to and from the object store.

pub mod requests;
pub mod socket;
pub mod transfer;
