//! The route table.

use super::{health, media, metrics, web};
use crate::session::upgrade;
use crate::state::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use std::path::Path;
use tower_http::trace::TraceLayer;

/// Every route the server answers: `/healthz`, `/readyz`, `/metrics`, `/ws`,
/// `/media/<id>` (local media only), and the web client from `web_dir` for
/// everything else.
pub fn router(state: AppState, web_dir: &Path) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::handler))
        .route("/ws", get(upgrade::handler))
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
        .layer(TraceLayer::new_for_http())
}
