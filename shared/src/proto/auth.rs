//! What a device signs to prove it holds its identity key.
//!
//! Each message binds the server's per-connection challenge and a purpose
//! label, so a signature can be neither replayed on another connection nor
//! reused for another purpose.

use crate::ids::{Challenge, LinkId, Username};

const REGISTER: &[u8] = b"courier/v1/register\0";
const AUTHENTICATE: &[u8] = b"courier/v1/authenticate\0";
const LINK: &[u8] = b"courier/v1/link\0";

/// The bytes a new device signs to register `username`.
pub fn register_message(challenge: &Challenge, username: &Username) -> Vec<u8> {
    let mut message = Vec::with_capacity(REGISTER.len() + 32 + username.as_str().len());
    message.extend_from_slice(REGISTER);
    message.extend_from_slice(challenge.as_bytes());
    message.extend_from_slice(username.as_str().as_bytes());
    message
}

/// The bytes a device signs to sign in.
pub fn authenticate_message(challenge: &Challenge) -> Vec<u8> {
    let mut message = Vec::with_capacity(AUTHENTICATE.len() + 32);
    message.extend_from_slice(AUTHENTICATE);
    message.extend_from_slice(challenge.as_bytes());
    message
}

/// The bytes a new device signs to join an account through `link`.
pub fn link_message(challenge: &Challenge, link: &LinkId) -> Vec<u8> {
    [LINK, challenge.as_bytes(), link.as_bytes()].concat()
}
