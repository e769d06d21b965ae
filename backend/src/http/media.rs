//! `/media/<id>`: the embedded local media store's own signed URLs. `PUT`
//! stores exactly the signed bytes (size and SHA-256) into an open slot;
//! `GET` streams an object back. A missing, changed or expired signature is
//! `403`, and says nothing about whether the object exists.

use crate::clock::{now_ms, now_unix_ms};
use crate::media::local_url::{Allowed, Op, UrlQuery};
use crate::media::object_path;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::TryStreamExt;
use object_store::ObjectStoreExt;

fn refuse(status: StatusCode, reason: &'static str) -> Response {
    (status, reason).into_response()
}

/// What `query` allows for `op` on `id`, or the status and reason to refuse.
fn authorise(
    state: &AppState,
    op: Op,
    id: &str,
    query: Result<Query<UrlQuery>, QueryRejection>,
) -> Result<Allowed, (StatusCode, &'static str)> {
    let Some(key) = state.media.url_key() else {
        return Err((StatusCode::NOT_FOUND, "media is stored elsewhere"));
    };
    let Ok(Query(query)) = query else {
        return Err((StatusCode::FORBIDDEN, "a signed URL is required"));
    };
    key.check(op, id, &query, now_unix_ms())
        .map_err(|reason| (StatusCode::FORBIDDEN, reason))
}

/// Streams a media object (ciphertext) to a holder of a signed URL.
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Result<Query<UrlQuery>, QueryRejection>,
) -> Response {
    let media = match authorise(&state, Op::Get, &id, query) {
        Ok(allowed) => allowed.id,
        Err((status, reason)) => return refuse(status, reason),
    };
    match state.media.objects().get(&object_path(&media)).await {
        Ok(object) => {
            let size = object.meta.size;
            let body = Body::from_stream(object.into_stream().map_err(std::io::Error::other));
            (
                [
                    (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
                    (header::CONTENT_LENGTH, size.to_string()),
                    (header::CACHE_CONTROL, "private, max-age=900".to_owned()),
                ],
                body,
            )
                .into_response()
        }
        Err(object_store::Error::NotFound { .. }) => refuse(StatusCode::NOT_FOUND, "no such media"),
        Err(err) => {
            tracing::error!(%err, "media read failed");
            refuse(StatusCode::INTERNAL_SERVER_ERROR, "the media store failed")
        }
    }
}

/// Stores exactly the signed number of bytes as an open slot's object.
pub async fn put(
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Result<Query<UrlQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Allowed {
        id: media,
        size,
        hash,
    } = match authorise(&state, Op::Put, &id, query) {
        Ok(allowed) => allowed,
        Err((status, reason)) => return refuse(status, reason),
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > size) {
        return refuse(StatusCode::PAYLOAD_TOO_LARGE, "larger than the upload slot");
    }
    match state.store.media(&media, now_ms()).await {
        Ok(Some(record)) if !record.complete => {}
        Ok(_) => return refuse(StatusCode::CONFLICT, "the upload slot is closed"),
        Err(err) => {
            tracing::error!(%err, "media lookup failed");
            return refuse(StatusCode::INTERNAL_SERVER_ERROR, "the server failed");
        }
    }
    let limit = usize::try_from(size).unwrap_or(usize::MAX);
    let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
        return refuse(StatusCode::PAYLOAD_TOO_LARGE, "larger than the upload slot");
    };
    if bytes.len() != limit {
        return refuse(
            StatusCode::BAD_REQUEST,
            "not the size the slot was opened for",
        );
    }
    if hash != Some(courier_shared::crypto::media::hash(&bytes)) {
        return refuse(
            StatusCode::BAD_REQUEST,
            "not the bytes the slot was opened for",
        );
    }
    match state
        .media
        .objects()
        .put(&object_path(&media), bytes.into())
        .await
    {
        Ok(_) => StatusCode::OK.into_response(),
        Err(err) => {
            tracing::error!(%err, "media write failed");
            refuse(StatusCode::INTERNAL_SERVER_ERROR, "the media store failed")
        }
    }
}
