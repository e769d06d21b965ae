//! [`serve`]: the public listener's accept loop — HTTP/1.1 with upgrades
//! (WebSockets), a deadline for each request's headers, and each request
//! told its TCP peer ([`Peer`]).
//!
//! `axum::serve` sets no header read timeout, so a client could hold a
//! connection (and its task and buffers) for ever by sending a header line
//! now and then; here hyper closes any connection whose request head is not
//! complete within the deadline, counted from the head's first poll (the
//! deadline is not pushed back by trickled bytes).

use crate::session::address::Peer;
use axum::Router;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::pin::pin;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::Service;

/// Serves `app` on `listener` until `shutdown` completes, then asks every
/// connection to finish its request and waits for them.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    header_read_timeout: Duration,
    shutdown: impl Future<Output = ()>,
) {
    let stop = CancellationToken::new();
    let connections = TaskTracker::new();
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors, say: wait rather than spin.
                    tracing::warn!(%err, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(Peer(peer));
            let mut app = app.clone();
            async move { app.call(request).await }
        });
        let stop = stop.clone();
        connections.spawn(async move {
            let mut builder = http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_read_timeout);
            let connection = builder
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            let mut connection = pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(err) = result {
                        tracing::debug!(%err, "HTTP connection ended");
                    }
                    return;
                }
                () = stop.cancelled() => {}
            }
            connection.as_mut().graceful_shutdown();
            if let Err(err) = connection.await {
                tracing::debug!(%err, "HTTP connection ended at shutdown");
            }
        });
    }
    stop.cancel();
    connections.close();
    connections.wait().await;
}
