//! `GET /metrics`: Prometheus metrics, served on their own listener
//! (`--metrics-listen`), never on the public one. The queue depth is a
//! count over the whole queue, so it is taken at most once per interval
//! (`--metrics-queue-secs`, a minute by default), not on every scrape.

use crate::clock::now_ms;
use crate::metrics::metrics;
use crate::state::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// What the metrics handler shares.
#[derive(Debug, Clone)]
pub struct MetricsState {
    app: AppState,
    depth: DepthClock,
}

/// When the queue may be counted again.
#[derive(Debug, Clone)]
struct DepthClock {
    every_ms: i64,
    /// When it was last counted (ms; `i64::MIN`: never).
    counted_at: Arc<AtomicI64>,
}

impl DepthClock {
    fn new(every: Duration) -> Self {
        Self {
            every_ms: i64::try_from(every.as_millis()).unwrap_or(i64::MAX),
            counted_at: Arc::new(AtomicI64::new(i64::MIN)),
        }
    }

    /// Whether a scrape at `now` should count the queue; claims it if so.
    fn claim(&self, now: i64) -> bool {
        let last = self.counted_at.load(Ordering::Relaxed);
        now.saturating_sub(last) >= self.every_ms
            && self
                .counted_at
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}

/// The routes of the metrics listener; the queue is counted at most once
/// per `depth_every`.
pub fn router(app: AppState, depth_every: Duration) -> axum::Router {
    let state = MetricsState {
        app,
        depth: DepthClock::new(depth_every),
    };
    axum::Router::new()
        .route("/metrics", get(handler))
        .with_state(state)
}

/// The metrics, with the queue depth at most one interval old.
pub async fn handler(State(state): State<MetricsState>) -> impl IntoResponse {
    if state.depth.claim(now_ms()) {
        let counted = state.app.store.total_queued();
        if let Ok(Ok(depth)) = tokio::time::timeout(Duration::from_secs(2), counted).await {
            metrics()
                .queue_depth
                .set(i64::try_from(depth).unwrap_or(i64::MAX));
        }
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        metrics().render(),
    )
}

#[cfg(test)]
mod tests {
    use super::DepthClock;
    use std::time::Duration;

    #[test]
    fn the_queue_is_counted_once_per_interval_at_most() {
        let clock = DepthClock::new(Duration::from_secs(60));
        let start = 1_000_000_000;
        assert!(clock.claim(start));
        assert!(!clock.claim(start + 1));
        assert!(!clock.claim(start + 59_999));
        assert!(clock.claim(start + 60_000));
        let always = DepthClock::new(Duration::ZERO);
        assert!(always.claim(start) && always.claim(start));
    }
}
