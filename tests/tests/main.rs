//! Courier's end-to-end tests: one binary, a module per capability.

mod abuse;
mod amplification;
mod before_sign_in;
mod binary;
mod browser;
mod changes;
mod chaos;
mod chat;
mod cluster;
mod deliver_first;
mod devices;
mod encryption;
mod engines;
mod first_load;
mod group_chat;
mod groups;
mod health;
mod lazy;
mod media;
mod media_chat;
mod media_inert;
mod messaging;
mod page_headers;
mod protocol;
mod rate_limits;
mod store;
