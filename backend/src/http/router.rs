//! The route table.

use super::{headers, health, media, web};
use crate::session::upgrade;
use crate::state::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use std::path::Path;
use std::sync::Arc;
use tower_http::trace::TraceLayer;

/// Every route the public listener answers: `/healthz`, `/readyz`, `/ws`,
/// `/media/<id>` (local media only), and the web client from `web_dir` for
/// everything else; each with the [`headers::secure`] headers. (`/metrics`
/// has a listener of its own: [`super::metrics::router`].)
pub fn router(state: AppState, web_dir: &Path) -> Router {
    let policy = headers::Policy::new(state.media.public_origin());
    // Sessions share one copy of the state (see `upgrade::handler`).
    let shared = Arc::new(state.clone());
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/ws", get(upgrade::handler).with_state(shared))
        .route(
            "/media/{id}",
            get(media::get)
                .put(media::put)
                // The handler enforces the signed size itself.
                .layer(DefaultBodyLimit::disable())
                .layer(axum::middleware::from_fn(media::inert)),
        )
        .fallback_service(web::service(web_dir))
        .with_state(state)
        .layer(axum::middleware::from_fn_with_state(
            policy,
            headers::secure,
        ))
        .layer(TraceLayer::new_for_http())
}
