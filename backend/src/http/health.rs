//! `/healthz` (the process is alive) and `/readyz` (it can serve: the database
//! and the object store both answer, and it hears the other nodes).

use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use std::future::Future;
use std::time::Duration;

/// How long each readiness probe may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// Always 200 while the process runs.
pub async fn healthz() -> &'static str {
    "ok"
}

/// The body of `/readyz`.
#[derive(Debug, Serialize)]
pub struct Readiness {
    /// `ready` or `unready`.
    pub status: &'static str,
    /// `ok` or why the database did not answer.
    pub database: String,
    /// `ok` or why the object store did not answer.
    pub media: String,
    /// `ok` once this node hears the other nodes' events.
    pub events: String,
    /// The deployment this node belongs to.
    pub deployment: String,
}

/// 200 when the database and the object store answer, 503 with the reasons
/// otherwise. A node that is shutting down reports itself unready.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let (database, media) = tokio::join!(probe(state.store.ping()), probe(state.media.ping()),);
    let events = if state.bus.is_listening() {
        "ok".to_owned()
    } else {
        "not yet listening to the other nodes".to_owned()
    };
    let ready =
        database == "ok" && media == "ok" && events == "ok" && !state.shutdown.is_cancelled();
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = Readiness {
        status: if ready { "ready" } else { "unready" },
        database,
        media,
        events,
        deployment: state.deployment_id.to_string(),
    };
    (status, Json(body))
}

async fn probe<E: std::fmt::Display>(check: impl Future<Output = Result<(), E>>) -> String {
    match tokio::time::timeout(PROBE_TIMEOUT, check).await {
        Ok(Ok(())) => "ok".to_owned(),
        Ok(Err(err)) => {
            tracing::warn!(%err, "readiness probe failed");
            err.to_string()
        }
        Err(_) => "timed out".to_owned(),
    }
}
