//! Reusable pieces of the page.

pub mod connection_badge;
