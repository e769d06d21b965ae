//! The HTTP surface: the accept loop ([`serve`]), health and metrics
//! endpoints, the WebSocket upgrade, the local media store's signed URLs and
//! the web client.

pub mod headers;
pub mod health;
pub mod media;
pub mod metrics;
pub mod router;
pub mod serve;
pub mod web;
