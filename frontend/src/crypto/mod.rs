//! The device's private state at rest: IndexedDB ([`idb`]), sealed under a
//! non-extractable WebCrypto key ([`vault`]), used by one tab at a time
//! ([`lock`]); chat history sealed the same way ([`history`]). Nothing here
//! ever leaves the browser.

pub mod history;
pub mod idb;
pub mod lock;
pub mod vault;
