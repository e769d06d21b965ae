//! `/media/<id>`: the embedded local media store's own signed URLs. `PUT`
//! stores exactly the signed bytes (size and SHA-256) into an open slot,
//! once ([`local_put`]); `GET` streams an object back. A missing, changed
//! or expired signature is `403`, and says nothing about whether the object
//! exists. Every answer carries the [`INERT_HEADERS`] ([`inert`]).

use crate::clock::{now_ms, now_unix_ms};
use crate::media::local_put::{self, PutError};
use crate::media::local_url::{Allowed, Op, UrlQuery};
use crate::media::{INERT_HEADERS, object_path};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use courier_shared::crypto::media::UPLOAD_HEADERS;
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

/// Stores exactly the signed bytes as an open slot's object, streamed to
/// disk: a `Content-Length` other than the signed one is `403`, as with a
/// bucket; a second upload to a slot (running or done) is `409`.
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
    if declared.is_some_and(|length| length != size) {
        return refuse(
            StatusCode::FORBIDDEN,
            "not the length the URL was signed for",
        );
    }
    let bound = UPLOAD_HEADERS
        .iter()
        .all(|(name, value)| headers.get(*name).is_some_and(|v| v == *value));
    if !bound {
        return refuse(
            StatusCode::FORBIDDEN,
            "not the headers the URL was signed for",
        );
    }
    let (Some(hash), Some(dir)) = (hash, state.media.local_dir()) else {
        return refuse(StatusCode::FORBIDDEN, "the URL names no upload");
    };
    match state.store.media(&media, now_ms()).await {
        Ok(Some(record)) if !record.complete => {}
        Ok(_) => return refuse(StatusCode::CONFLICT, "the upload slot is closed"),
        Err(err) => {
            tracing::error!(%err, "media lookup failed");
            return refuse(StatusCode::INTERNAL_SERVER_ERROR, "the server failed");
        }
    }
    match local_put::write(dir, &media, size, &hash, body).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(err @ (PutError::Busy | PutError::Filled)) => {
            (StatusCode::CONFLICT, err.to_string()).into_response()
        }
        Err(err @ PutError::Length) => (StatusCode::FORBIDDEN, err.to_string()).into_response(),
        Err(err @ (PutError::Bytes | PutError::Body(_))) => {
            (StatusCode::BAD_REQUEST, err.to_string()).into_response()
        }
        Err(PutError::Io(err)) => {
            tracing::error!(%err, "media write failed");
            refuse(StatusCode::INTERNAL_SERVER_ERROR, "the media store failed")
        }
    }
}

/// Gives every `/media` response the [`INERT_HEADERS`]: whatever the
/// bytes, a browser saves them and never renders or runs them.
pub async fn inert(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in INERT_HEADERS {
        headers.insert(
            header::HeaderName::from_static(name),
            header::HeaderValue::from_static(value),
        );
    }
    response
}
