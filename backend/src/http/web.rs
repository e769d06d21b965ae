//! Serves the built web client, with `index.html` for every unknown path so
//! that client-side routes survive a reload. The release build ships each
//! asset precompressed (`.br`, `.gz`: see `tools/finish-dist.mjs`); those are
//! sent as they are, anything else is compressed per response. Assets named
//! after their content (`name-<16 hex digits>…`) never change, so browsers
//! may keep them for a year; everything else (the page, the service worker,
//! the manifest) is revalidated on every use, so a deployment shows at once.

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
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
    .layer(middleware::from_fn(cache_control))
}

/// Sets `Cache-Control` on a good answer: a year for content-hashed
/// assets, revalidation for anything else.
async fn cache_control(request: Request, next: Next) -> Response {
    let immutable = is_content_hashed(request.uri().path());
    let mut response = next.run(request).await;
    if response.status().is_success() {
        let value = if immutable {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    response
}

/// Whether the file `path` names is a built asset (script, WebAssembly,
/// styles, image) carrying a content hash: a part of its name, between
/// `-`, `_` or `.`, of exactly 16 lower-case hex digits.
fn is_content_hashed(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or_default();
    let asset = file
        .rsplit_once('.')
        .is_some_and(|(_, ext)| ["wasm", "js", "css", "svg", "png"].contains(&ext));
    asset
        && file.split(['-', '_', '.']).any(|part| {
            part.len() == 16
                && part
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

async fn not_built() -> impl IntoResponse {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "The Courier web client is not built. Run `cargo xtask run`, or point --web-dir at \
         the output of `cargo xtask client`.",
    )
}

#[cfg(test)]
mod tests {
    use super::is_content_hashed;

    #[test]
    fn content_hashed_names_are_recognised() {
        for hashed in [
            "/courier-frontend-23f37aa80d282079_bg.wasm",
            "/courier-frontend-309d5942e6a5626a.js",
            "/split_devices-0029fbac7f446ed3.wasm",
            "/style-13d34388a956b4bd.css",
        ] {
            assert!(is_content_hashed(hashed), "{hashed}");
        }
        for plain in [
            "/",
            "/index.html",
            "/sw.js",
            "/icon-192.png",
            "/manifest.webmanifest",
            "/chats/0123456789abcdef0",
            "/chats/0123456789abcdef",
            "/x-0123456789ABCDEF.js",
        ] {
            assert!(!is_content_hashed(plain), "{plain}");
        }
    }
}
