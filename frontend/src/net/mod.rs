//! Everything that touches bytes on the network. Components only see signals.

pub mod socket;
