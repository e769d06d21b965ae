//! Helpers for Courier's end-to-end tests.
//!
//! - [`spawn_app`] runs the real server in-process on a free port, with a fresh
//!   database: SQLite by default, Postgres for [`Backend::Postgres`]
//!   (`TEST_DATABASE_URL` names a server where test databases may be created).
//! - [`TestClient`] speaks the wire protocol over a real WebSocket;
//!   [`TestDevice`] runs the shared client core, and [`secure::SecureDevice`]
//!   adds the shared end-to-end encryption core.
//! - [`process`] runs the real `courier` binary; [`browser`] drives headless
//!   Chromium through ChromeDriver (and Firefox and WebKitGTK through their
//!   drivers), [`journey`] holds steps several browser journeys share;
//!   [`nginx`] runs the shipped load balancer.
//!
//! Set `COURIER_TEST_STRICT=1` (as `cargo xtask test` does) to turn a missing
//! Postgres, S3 server, browser or built client into a failure instead of a
//! skipped test.

pub mod browser;
pub mod client;
pub mod device;
pub mod env;
pub mod group;
pub mod journey;
pub mod nginx;
pub mod phone;
pub mod process;
pub mod secure;

pub use client::TestClient;
pub use courier_backend::store::Backend;
pub use device::TestDevice;

use courier_backend::Settings;
use secrecy::SecretString;
use std::net::SocketAddr;
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The database backends this run covers: SQLite always, Postgres when
/// `TEST_DATABASE_URL` is set.
pub fn backends() -> Vec<Backend> {
    let mut backends = vec![Backend::Sqlite];
    if env::optional("TEST_DATABASE_URL", "Postgres store tests").is_some() {
        backends.push(Backend::Postgres);
    }
    backends
}

/// A fresh, empty database of `backend`, as a URL. SQLite files live in `dir`.
pub async fn fresh_database_url(backend: Backend, dir: &std::path::Path) -> String {
    match backend {
        Backend::Sqlite => format!("sqlite://{}", dir.join("courier.db").display()),
        Backend::Postgres => {
            let admin = env::required("TEST_DATABASE_URL");
            let name = format!("courier_test_{}", uuid::Uuid::new_v4().simple());
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
                .await
                .expect("connect to TEST_DATABASE_URL");
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .expect("create a test database");
            let (base, _) = admin
                .rsplit_once('/')
                .expect("TEST_DATABASE_URL has a database");
            format!("{base}/{name}")
        }
    }
}

/// A server running in this process.
pub struct TestApp {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The settings it runs with.
    pub settings: Settings,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<Result<(), String>>>,
    _dir: Option<TempDir>,
}

impl TestApp {
    /// `http://ADDR`.
    pub fn http_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `ws://ADDR/ws`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// A second connection pool to the app's database, for checking what the
    /// server stored.
    pub async fn store(&self) -> courier_backend::store::Store {
        courier_backend::store::Store::open(&self.settings.database_url(), 2)
            .await
            .expect("open the app's database")
    }

    /// Signals shutdown and waits for `run` to return; fails if it errored.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(handle) = self.handle.take() {
            handle
                .await
                .expect("server task")
                .expect("server ran cleanly");
        }
    }
}

/// Starts the server on a free port with a fresh `backend` database, after
/// `adjust` has changed the default settings.
pub async fn spawn_app_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = Settings::with_data_dir(dir.path());
    settings.database_url = Some(SecretString::from(
        fresh_database_url(backend, dir.path()).await,
    ));
    settings.web_dir = dir.path().join("no-web-client");
    // Every test client comes from 127.0.0.1: the per-address limits
    // before sign-in are off unless a test sets them.
    settings.registrations_per_hour = u32::MAX;
    settings.max_unsigned_per_address = u32::MAX;
    adjust(&mut settings);
    start(settings, Some(dir)).await
}

/// Starts the server on a free port with a fresh `backend` database.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// Starts the server with exactly these settings (ignoring `settings.listen`).
pub async fn start(settings: Settings, dir: Option<TempDir>) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a free port");
    let addr = listener.local_addr().expect("local addr");
    let (stop, stopped) = oneshot::channel::<()>();
    let run_settings = settings.clone();
    let handle = tokio::spawn(async move {
        courier_backend::run(listener, run_settings, async {
            let _ = stopped.await;
        })
        .await
        .map_err(|err| format!("{err:#}"))
    });
    let app = TestApp {
        addr,
        settings,
        stop: Some(stop),
        handle: Some(handle),
        _dir: dir,
    };
    wait_ready(&app.http_url()).await;
    app
}

/// Polls `/readyz` until the server answers and hears the other nodes'
/// events (at most ten seconds). The database or the object store may be
/// unready on purpose (tests of readiness itself), so only `events` counts.
pub async fn wait_ready(base: &str) {
    let url = format!("{base}/readyz");
    for _ in 0..200 {
        if let Ok(response) = reqwest::get(&url).await
            && let Ok(text) = response.text().await
            && let Ok(body) = serde_json::from_str::<serde_json::Value>(&text)
            && body["events"] == "ok"
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("server at {base} did not start listening");
}
