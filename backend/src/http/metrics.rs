//! `GET /metrics`: Prometheus metrics.

use crate::metrics::metrics;
use crate::state::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use std::time::Duration;

/// The metrics, with the queue depth read fresh from the store.
pub async fn handler(State(state): State<AppState>) -> impl IntoResponse {
    let depth = tokio::time::timeout(Duration::from_secs(2), state.store.total_queued()).await;
    if let Ok(Ok(depth)) = depth {
        metrics()
            .queue_depth
            .set(i64::try_from(depth).unwrap_or(i64::MAX));
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        metrics().render(),
    )
}
