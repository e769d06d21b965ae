//! The device's private state at rest: IndexedDB ([`idb`]), sealed under a
//! non-extractable WebCrypto key ([`vault`]), used by one tab at a time
//! ([`lock`]); chat history sealed the same way ([`history`]). Nothing here
//! ever leaves the browser. [`profile`] lets the page choose its phase before
//! the messenger core has loaded.

pub mod history;
pub mod idb;
pub mod lock;
pub mod profile;
pub mod vault;
