//! The `LISTEN` side of the bus: a worker per node.

use super::{Bus, CHANNEL, Event};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Applies other nodes' events until `shutdown`. Reconnects after the
/// database goes away, and then wakes every local session, since
/// notifications sent meanwhile are lost. Returns at once with SQLite.
pub async fn listen(bus: Bus, shutdown: CancellationToken) {
    let Some(pool) = bus.pg.clone() else {
        return;
    };
    let mut retry = Duration::from_millis(100);
    while !shutdown.is_cancelled() {
        let mut listener = match sqlx::postgres::PgListener::connect_with(&pool).await {
            Ok(listener) => listener,
            Err(err) => {
                tracing::warn!(%err, "cannot connect the event listener; retrying");
                pause(retry, &shutdown).await;
                retry = (retry * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        if let Err(err) = listener.listen(CHANNEL).await {
            tracing::warn!(%err, "cannot LISTEN; retrying");
            pause(retry, &shutdown).await;
            continue;
        }
        retry = Duration::from_millis(100);
        bus.set_listening(true);
        bus.wake_all();
        // Changes announced while not listening were missed.
        crate::store::routing::changed();
        tracing::info!("listening for events from other nodes");
        loop {
            let received = tokio::select! {
                () = shutdown.cancelled() => return,
                received = listener.try_recv() => received,
            };
            match received {
                Ok(Some(notification)) => {
                    if let Some((node, event)) = Event::decode(notification.payload())
                        && node != bus.node
                    {
                        if let Event::Evict(device) = event
                            && bus.placed_here(device).await
                        {
                            continue;
                        }
                        bus.apply(&event);
                    }
                }
                Ok(None) => {
                    tracing::warn!("event listener lost its connection; reconnecting");
                    bus.set_listening(false);
                    break;
                }
                Err(err) => {
                    tracing::warn!(%err, "event listener failed; reconnecting");
                    bus.set_listening(false);
                    break;
                }
            }
        }
    }
}

async fn pause(period: Duration, shutdown: &CancellationToken) {
    tokio::select! {
        () = shutdown.cancelled() => {}
        () = tokio::time::sleep(period) => {}
    }
}
