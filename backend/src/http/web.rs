//! Serves the built web client, with `index.html` for every unknown path so
//! that client-side routes survive a reload. The release build ships each
//! asset precompressed (`.br`, `.gz`: see `tools/finish-dist.mjs`); those are
//! sent as they are, anything else is compressed per response.

use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, any_service, get};
use std::path::Path;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::services::{ServeDir, ServeFile};

/// The service for every path the API does not claim.
pub fn service(web_dir: &Path) -> MethodRouter {
    let index = web_dir.join("index.html");
    if !index.is_file() {
        tracing::warn!(dir = %web_dir.display(), "web client not built; serving a notice instead");
        return get(not_built);
    }
    let files = ServeDir::new(web_dir)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(
            ServeFile::new(index)
                .precompressed_br()
                .precompressed_gzip(),
        );
    any_service(
        ServiceBuilder::new()
            .layer(CompressionLayer::new())
            .service(files),
    )
}

async fn not_built() -> impl IntoResponse {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "The Courier web client is not built. Run `cargo xtask run`, or point --web-dir at \
         the output of `cargo xtask client`.",
    )
}
