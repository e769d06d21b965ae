//! [`Settings`]: every knob of the server, from flags or `COURIER_*` variables.
//!
//! With nothing set, Courier runs on its embedded defaults: a SQLite database and
//! a media directory under `--data-dir`. A `postgres://` database URL selects
//! Postgres; an S3 bucket selects S3-compatible object storage.

use clap::{Parser, ValueEnum};
use secrecy::SecretString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The server's configuration. `courier --help` lists every field with its
/// environment variable.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "courier",
    version,
    about = "Courier: an end-to-end encrypted messenger server"
)]
pub struct Settings {
    /// Address to listen on for HTTP and WebSocket connections.
    #[arg(long, env = "COURIER_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Address to serve Prometheus `/metrics` on, apart from the public
    /// listener (`127.0.0.1:9464`, say); no metrics are served without it.
    #[arg(long, env = "COURIER_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,

    /// Least seconds between two counts of the whole queue for the
    /// `courier_queue_depth` metric (a scrape in between reports the last).
    #[arg(long, env = "COURIER_METRICS_QUEUE_SECS", default_value_t = 60)]
    pub metrics_queue_secs: u64,

    /// Directory for the embedded defaults: the SQLite database and local media.
    #[arg(long, env = "COURIER_DATA_DIR", default_value = "courier-data")]
    pub data_dir: PathBuf,

    /// Database URL: `sqlite://PATH` or `postgres://USER@HOST:PORT/DB`.
    /// Defaults to a SQLite file in the data directory.
    #[arg(long, env = "COURIER_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<SecretString>,

    /// Most database connections this node opens.
    #[arg(long, env = "COURIER_DATABASE_MAX_CONNECTIONS", default_value_t = 16)]
    pub database_max_connections: u32,

    /// Directory holding the built web client (`cargo xtask client` output).
    #[arg(long, env = "COURIER_WEB_DIR", default_value = "frontend/dist")]
    pub web_dir: PathBuf,

    /// S3-compatible endpoint for media, such as `http://minio:9000`.
    /// Without `--s3-bucket`, media stays in the data directory.
    #[arg(long, env = "COURIER_S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,

    /// The S3 endpoint as browsers reach it, used in signed URLs (for
    /// example nginx in front of MinIO); the S3 endpoint if unset.
    #[arg(long, env = "COURIER_S3_PUBLIC_ENDPOINT")]
    pub s3_public_endpoint: Option<String>,

    /// S3 bucket for media; setting it selects S3-compatible storage.
    #[arg(long, env = "COURIER_S3_BUCKET")]
    pub s3_bucket: Option<String>,

    /// S3 region.
    #[arg(long, env = "COURIER_S3_REGION", default_value = "us-east-1")]
    pub s3_region: String,

    /// S3 access key id.
    #[arg(long, env = "COURIER_S3_ACCESS_KEY")]
    pub s3_access_key: Option<String>,

    /// S3 secret access key.
    #[arg(long, env = "COURIER_S3_SECRET_KEY", hide_env_values = true)]
    pub s3_secret_key: Option<SecretString>,

    /// Largest media object (encrypted photo, voice note or file), in bytes.
    #[arg(long, env = "COURIER_MEDIA_MAX_BYTES", default_value_t = 100 * 1024 * 1024)]
    pub media_max_bytes: u64,

    /// Media bytes one user may keep stored at once.
    #[arg(long, env = "COURIER_MEDIA_QUOTA_BYTES", default_value_t = 2 * 1024 * 1024 * 1024)]
    pub media_quota_bytes: u64,

    /// Seconds a media object is kept after its upload.
    #[arg(long, env = "COURIER_MEDIA_TTL_SECS", default_value_t = 30 * 24 * 3600)]
    pub media_ttl_secs: u64,

    /// TURN servers for calls, comma-separated (`turn:turn.example.com:3478`,
    /// `turns:…:5349`); none: calls use direct paths only.
    #[arg(long, env = "COURIER_TURN_URL", value_delimiter = ',')]
    pub turn_url: Vec<String>,

    /// The secret shared with coturn (its `static-auth-secret`), from which
    /// each device's short-lived TURN credentials are made.
    #[arg(long, env = "COURIER_TURN_SECRET", hide_env_values = true)]
    pub turn_secret: Option<SecretString>,

    /// Seconds a TURN credential stays valid (it must outlast a call: coturn
    /// checks it again when an allocation is refreshed).
    #[arg(long, env = "COURIER_TURN_TTL_SECS", default_value_t = 24 * 3600)]
    pub turn_ttl_secs: u64,

    /// Seconds a signed media URL (upload or download) stays valid.
    #[arg(long, env = "COURIER_MEDIA_URL_SECS", default_value_t = 15 * 60)]
    pub media_url_secs: u64,

    /// Most WebSocket connections this node holds at once.
    #[arg(long, env = "COURIER_MAX_CONNECTIONS", default_value_t = 10_000)]
    pub max_connections: usize,

    /// Seconds a client has to send a request's headers once it starts; a
    /// connection that has not by then is closed.
    #[arg(long, env = "COURIER_HEADER_READ_TIMEOUT_SECS", default_value_t = 10)]
    pub header_read_timeout_secs: u64,

    /// Proxies (nginx in front of the nodes) whose `X-Forwarded-For` is
    /// believed, comma-separated addresses or networks (`10.0.0.2`,
    /// `172.16.0.0/12`); a request from anyone else counts as coming from
    /// its TCP peer.
    #[arg(long, env = "COURIER_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<crate::session::address::TrustedProxy>,

    /// Most WebSockets one address (an IPv6 /64) may hold open before they
    /// sign in; past it, new ones are refused (429).
    #[arg(long, env = "COURIER_MAX_UNSIGNED_PER_ADDRESS", default_value_t = 16)]
    pub max_unsigned_per_address: u32,

    /// Accounts one address may register per hour (in a burst, or spread
    /// over the hour); past it, `Register` is refused `RateLimited`.
    #[arg(long, env = "COURIER_REGISTRATIONS_PER_HOUR", default_value_t = 20)]
    pub registrations_per_hour: u32,

    /// Seconds a new connection has to complete the handshake.
    #[arg(long, env = "COURIER_HANDSHAKE_TIMEOUT_SECS", default_value_t = 10)]
    pub handshake_timeout_secs: u64,

    /// Seconds between client heartbeats; a connection silent for three of them
    /// is closed.
    #[arg(long, env = "COURIER_HEARTBEAT_SECS", default_value_t = 25)]
    pub heartbeat_secs: u16,

    /// Request tokens per second one device may spend on average, over all
    /// its connections to this node. A request costs one token; a key claim
    /// one per device it names, a subscription one per user; an
    /// acknowledgement of delivered entries nothing.
    #[arg(long, env = "COURIER_RATE_LIMIT_PER_SEC", default_value_t = 50)]
    pub rate_limit_per_sec: u32,

    /// Request tokens one device may spend in a burst.
    #[arg(long, env = "COURIER_RATE_LIMIT_BURST", default_value_t = 200)]
    pub rate_limit_burst: u32,

    /// Most devices whose rate limits this node remembers; past it, the
    /// limits of devices that have been quiet longest are forgotten.
    #[arg(long, env = "COURIER_RATE_LIMIT_DEVICES", default_value_t = 100_000)]
    pub rate_limit_devices: usize,

    /// One-time pre-keys one device may claim of another device per day;
    /// past it, it gets the fallback key, so that no one can drain a
    /// device's stock.
    #[arg(long, env = "COURIER_PREKEY_CLAIMS_PER_DAY", default_value_t = 5)]
    pub prekey_claims_per_day: u32,

    /// Seconds an undelivered entry waits in a queue before it is deleted.
    #[arg(long, env = "COURIER_MESSAGE_TTL_SECS", default_value_t = 30 * 24 * 3600)]
    pub message_ttl_secs: u64,

    /// Most entries one device's queue may hold; a message that would go
    /// past it is refused (`QuotaExceeded`) until the device catches up.
    #[arg(long, env = "COURIER_QUEUE_MAX_ENTRIES", default_value_t = 10_000)]
    pub queue_max_entries: u64,

    /// Milliseconds a message pushed to an online device may wait for the
    /// device's acknowledgement before it is stored in the device's queue
    /// anyway (acknowledged in time, it is never stored).
    #[arg(long, env = "COURIER_PERSIST_AFTER_MS", default_value_t = 100)]
    pub persist_after_ms: u64,

    /// Seconds between sweeps for expired queue entries.
    #[arg(long, env = "COURIER_SWEEP_INTERVAL_SECS", default_value_t = 60)]
    pub sweep_interval_secs: u64,

    /// Seconds to wait for connections to close on shutdown.
    #[arg(long, env = "COURIER_SHUTDOWN_GRACE_SECS", default_value_t = 10)]
    pub shutdown_grace_secs: u64,

    /// Log format.
    #[arg(long, env = "COURIER_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

impl Settings {
    /// Settings with every default, rooted at `data_dir`: what tests start from.
    pub fn with_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        let mut settings = Self::parse_from(["courier"]);
        settings.data_dir = data_dir.into();
        settings
    }

    /// How long a media object is kept (ms).
    pub fn media_ttl_ms(&self) -> i64 {
        i64::try_from(self.media_ttl_secs.saturating_mul(1_000)).unwrap_or(i64::MAX)
    }

    /// The least time between two counts of the queue for the metrics.
    pub fn metrics_queue_every(&self) -> Duration {
        Duration::from_secs(self.metrics_queue_secs)
    }

    /// How long a signed media URL stays valid.
    pub fn media_url_ttl(&self) -> Duration {
        Duration::from_secs(self.media_url_secs.max(1))
    }

    /// The database URL in force: the configured one or the embedded SQLite file.
    pub fn database_url(&self) -> SecretString {
        match &self.database_url {
            Some(url) => url.clone(),
            None => {
                let path = self.data_dir.join("courier.db");
                SecretString::from(format!("sqlite://{}", path.display()))
            }
        }
    }

    /// The directory for media when no S3 bucket is configured.
    pub fn media_dir(&self) -> PathBuf {
        self.data_dir.join("media")
    }

    /// The deadline for a request's headers.
    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_secs(self.header_read_timeout_secs.max(1))
    }

    /// The handshake deadline.
    pub fn handshake_timeout(&self) -> Duration {
        Duration::from_secs(self.handshake_timeout_secs.max(1))
    }

    /// How long a connection may stay silent before it is closed.
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(u64::from(self.heartbeat_secs.max(1)) * 3)
    }

    /// How long undelivered entries are kept, in milliseconds.
    pub fn message_ttl_ms(&self) -> i64 {
        i64::try_from(self.message_ttl_secs.saturating_mul(1_000)).unwrap_or(i64::MAX)
    }

    /// The pause between expiry sweeps.
    pub fn sweep_interval(&self) -> Duration {
        Duration::from_secs(self.sweep_interval_secs.max(1))
    }

    /// The bound on waiting for connections at shutdown.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::Settings;
    use clap::Parser;
    use secrecy::ExposeSecret;

    #[test]
    fn defaults_are_the_embedded_stores_under_the_data_dir() {
        let settings = Settings::parse_from(["courier", "--data-dir", "/srv/courier"]);
        assert_eq!(
            settings.database_url().expose_secret(),
            "sqlite:///srv/courier/courier.db"
        );
        assert_eq!(settings.media_dir().to_str(), Some("/srv/courier/media"));
        assert!(settings.s3_bucket.is_none());
    }

    #[test]
    fn flags_override_defaults_and_secrets_stay_out_of_debug_output() {
        let settings = Settings::parse_from([
            "courier",
            "--listen",
            "0.0.0.0:9000",
            "--database-url",
            "postgres://courier:hunter2@db/courier",
            "--s3-secret-key",
            "s3cr3t",
        ]);
        assert_eq!(settings.listen.port(), 9000);
        let debug = format!("{settings:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(!debug.contains("s3cr3t"), "{debug}");
    }
}
