//! The HTTP surface: health endpoints, the WebSocket upgrade and the web client.

pub mod health;
pub mod router;
pub mod web;
