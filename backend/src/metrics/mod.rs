//! Prometheus metrics for `/metrics`, one registry per process.
//!
//! Counters and gauges are updated where things happen (the upgrade, the
//! session task, the router); the queue depth is read from the store when
//! the endpoint is scraped.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::LazyLock;

/// A label set: `(name, value)` pairs.
pub type Labels = Vec<(&'static str, &'static str)>;

/// Every metric the server exports.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Open WebSocket connections.
    pub connections: Gauge,
    /// Frames received, by frame type.
    pub frames_in: Family<Labels, Counter>,
    /// Frames sent.
    pub frames_out: Counter,
    /// Error and refusal frames sent, by error code.
    pub errors: Family<Labels, Counter>,
    /// Messages accepted (durably queued).
    pub accepted: Counter,
    /// Seconds from a message's acceptance to its delivery to a device.
    pub delivery_latency: Histogram,
    /// Entries waiting in all queues (read at scrape time).
    pub queue_depth: Gauge,
    /// SQL statements the message path ran (queue writes and reads, the
    /// device check; transaction control excluded).
    pub db_statements: Counter,
    /// Transactions the message path committed.
    pub db_commits: Counter,
    /// Queue entries written for a device (an entry its device acknowledged
    /// before it had to be stored is never written).
    pub entries_stored: Counter,
}

impl Metrics {
    fn new() -> Self {
        let mut registry = Registry::with_prefix("courier");
        let metrics = Self {
            connections: Gauge::default(),
            frames_in: Family::default(),
            frames_out: Counter::default(),
            errors: Family::default(),
            accepted: Counter::default(),
            delivery_latency: Histogram::new(exponential_buckets(0.000_5, 2.0, 16)),
            queue_depth: Gauge::default(),
            db_statements: Counter::default(),
            db_commits: Counter::default(),
            entries_stored: Counter::default(),
            registry: Registry::default(),
        };
        registry.register(
            "connections",
            "Open WebSocket connections",
            metrics.connections.clone(),
        );
        registry.register(
            "frames_in",
            "Frames received, by type",
            metrics.frames_in.clone(),
        );
        registry.register("frames_out", "Frames sent", metrics.frames_out.clone());
        registry.register(
            "errors",
            "Error and refusal frames sent, by code",
            metrics.errors.clone(),
        );
        registry.register(
            "messages_accepted",
            "Messages durably queued",
            metrics.accepted.clone(),
        );
        registry.register(
            "delivery_latency_seconds",
            "Time from acceptance to delivery to a device",
            metrics.delivery_latency.clone(),
        );
        registry.register(
            "queue_depth",
            "Entries waiting in all queues",
            metrics.queue_depth.clone(),
        );
        registry.register(
            "db_statements",
            "SQL statements run by the message path",
            metrics.db_statements.clone(),
        );
        registry.register(
            "db_commits",
            "Transactions committed by the message path",
            metrics.db_commits.clone(),
        );
        registry.register(
            "entries_stored",
            "Queue entries written for a device (the others were acknowledged first)",
            metrics.entries_stored.clone(),
        );
        Self {
            registry,
            ..metrics
        }
    }

    /// Counts one incoming frame of type `name`, without building a label
    /// set each time.
    pub fn frame_in(&self, name: &'static str) {
        thread_local! {
            static COUNTERS: std::cell::RefCell<Vec<(&'static str, Counter)>> =
                const { std::cell::RefCell::new(Vec::new()) };
        }
        COUNTERS.with_borrow_mut(|counters| {
            if let Some((_, counter)) = counters.iter().find(|(n, _)| std::ptr::eq(*n, name)) {
                counter.inc();
                return;
            }
            let counter = self.frames_in.get_or_create(&vec![("type", name)]).clone();
            counter.inc();
            counters.push((name, counter));
        });
    }

    /// The metrics in the OpenMetrics text format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        if let Err(err) = encode(&mut text, &self.registry) {
            tracing::error!(%err, "cannot encode metrics");
        }
        text
    }
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

/// The process's metrics.
pub fn metrics() -> &'static Metrics {
    &METRICS
}
