//! The security headers of every public response ([`secure`]): for the web
//! client's pages a strict Content-Security-Policy (scripts only from this
//! origin, WebAssembly allowed to compile, no inline or `eval`ed script, no
//! plugins, no framing; `blob:` only for what the page itself made), and
//! on everything no MIME sniffing and no referrer. A response that set its own (media: `sandbox`) keeps it.

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// The page policy, built once.
#[derive(Debug, Clone)]
pub struct Policy(HeaderValue);

impl Policy {
    /// The policy of a server whose media is fetched from `media_origin`
    /// (a bucket's public origin), or from this origin when `None`.
    pub fn new(media_origin: Option<&str>) -> Self {
        let connect = media_origin.map_or_else(String::new, |origin| format!(" {origin}"));
        let policy = format!(
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
             style-src 'self' 'unsafe-inline'; img-src 'self' blob: data:; \
             media-src 'self' blob:; connect-src 'self' blob:{connect}; worker-src 'self'; \
             manifest-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; \
             frame-ancestors 'none'"
        );
        Self(HeaderValue::from_str(&policy).unwrap_or_else(|_| {
            tracing::warn!(?media_origin, "media origin unfit for a policy; left out");
            HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'")
        }))
    }

    /// The header value.
    pub fn value(&self) -> &HeaderValue {
        &self.0
    }
}

/// Adds the policy and the other security headers where the response has
/// not set them.
pub async fn secure(State(policy): State<Policy>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let fixed: [(HeaderName, HeaderValue); 4] = [
        (header::CONTENT_SECURITY_POLICY, policy.0),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    ];
    for (name, value) in fixed {
        headers.entry(name).or_insert(value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::Policy;

    #[test]
    fn scripts_only_from_this_origin_and_the_media_origin_is_reachable() {
        let policy = Policy::new(Some("https://media.example"));
        let text = policy.value().to_str().expect("ascii");
        let script = text
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .expect("script-src");
        assert_eq!(script.trim(), "script-src 'self' 'wasm-unsafe-eval'");
        assert!(text.contains("connect-src 'self' blob: https://media.example;"));
        assert!(text.contains("frame-ancestors 'none'"));
        assert!(!text.contains("'unsafe-eval'"), "{text}");
    }
}
