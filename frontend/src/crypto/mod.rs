//! The device's private state at rest: IndexedDB ([`idb`]), sealed under a
//! non-extractable WebCrypto key ([`vault`]), used by one tab at a time
//! ([`lock`]). Nothing here ever leaves the browser.

pub mod idb;
pub mod lock;
pub mod vault;
