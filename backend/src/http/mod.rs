//! The HTTP surface: health and metrics endpoints, the WebSocket upgrade and
//! the web client.

pub mod health;
pub mod metrics;
pub mod router;
pub mod web;
