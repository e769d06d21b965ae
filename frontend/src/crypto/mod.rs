//! The device's private state at rest: IndexedDB ([`idb`], in a place of
//! its own where the browser allows: [`place`]), sealed under a
//! non-extractable WebCrypto key, each record bound to its name ([`vault`]),
//! used by one tab at a time ([`lock`]); chat history sealed the same way
//! ([`history`]); media sealed and opened by WebCrypto ([`media`]). Nothing here ever leaves the browser. [`profile`] lets the
//! page choose its phase before the messenger core has loaded. The app lock
//! that keeps the key itself out of IndexedDB is `crate::applock`.

pub mod history;
pub mod idb;
pub mod lock;
pub mod media;
pub mod place;
pub mod profile;
pub mod vault;
