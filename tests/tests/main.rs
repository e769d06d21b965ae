//! Courier's end-to-end tests: one binary, a module per capability.

mod binary;
mod browser;
mod health;
mod media;
mod protocol;
mod store;
