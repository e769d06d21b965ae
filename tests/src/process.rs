//! [`CourierProcess`]: the real `courier` binary, started as users start it.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Where the `courier` binary is: `COURIER_BIN`, or beside this test binary's
/// target directory. `None` (after a notice) when it was not built.
pub fn courier_bin() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("COURIER_BIN") {
        return Some(PathBuf::from(path));
    }
    let exe = std::env::current_exe().ok()?;
    let candidate = exe.parent()?.parent()?.join("courier");
    if candidate.is_file() {
        return Some(candidate);
    }
    crate::env::optional("COURIER_BIN", "tests of the courier binary")?;
    None
}

/// A data directory and a fresh database of one backend for `courier`
/// processes, on a port of their own (a restarted process finds its data).
pub struct FreshData {
    dir: tempfile::TempDir,
    /// The database URL the processes use.
    pub database_url: String,
    listen: String,
    metrics: String,
}

impl FreshData {
    /// A new data directory and database of `backend`.
    pub async fn new(backend: crate::Backend) -> Self {
        let dir = tempfile::tempdir().expect("data dir");
        let database_url = crate::fresh_database_url(backend, dir.path()).await;
        let listen = format!("127.0.0.1:{}", crate::browser::free_port());
        let metrics = format!("127.0.0.1:{}", crate::browser::free_port());
        Self {
            dir,
            database_url,
            listen,
            metrics,
        }
    }

    /// `http://ADDR/metrics` of the processes, on their metrics listener.
    pub fn metrics_url(&self) -> String {
        format!("http://{}/metrics", self.metrics)
    }

    /// Starts `bin` on this data with `envs`, and waits until it is ready.
    pub async fn start(&self, bin: &PathBuf, envs: &[(&str, &str)]) -> CourierProcess {
        let data_dir = self.dir.path().to_str().expect("utf-8 path");
        let args = [
            "--listen",
            self.listen.as_str(),
            "--metrics-listen",
            self.metrics.as_str(),
            "--metrics-queue-secs",
            "0",
            "--data-dir",
            data_dir,
            "--database-url",
            self.database_url.as_str(),
        ];
        let courier = CourierProcess::start(bin, &args, envs);
        crate::wait_ready(&courier.url).await;
        courier
    }
}

/// A running `courier` process; killed when dropped.
pub struct CourierProcess {
    child: Child,
    log: std::sync::Arc<std::sync::Mutex<String>>,
    /// The URL it printed for people to open.
    pub url: String,
}

impl CourierProcess {
    /// Starts `bin` with `args` and `envs`, and waits for the URL it prints.
    pub fn start(bin: &PathBuf, args: &[&str], envs: &[(&str, &str)]) -> Self {
        let mut command = Command::new(bin);
        command
            .args(args)
            .env("COURIER_LOG", "info")
            // Every test client comes from 127.0.0.1 (or nginx there).
            .env("COURIER_REGISTRATIONS_PER_HOUR", "1000000")
            .env("COURIER_MAX_UNSIGNED_PER_ADDRESS", "1000000")
            .envs(envs.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = command.spawn().expect("courier starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let url = loop {
            let line = lines
                .next()
                .expect("courier prints its URL before exiting")
                .expect("readable stdout");
            if let Some(start) = line.find("http://") {
                let url = line[start..].split_whitespace().next().unwrap_or_default();
                break url.trim_end_matches('/').to_owned();
            }
        };
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if let Ok(mut log) = sink.lock() {
                    log.push_str(&line);
                    log.push('\n');
                }
            }
        });
        Self { child, url, log }
    }

    /// The WebSocket URL of its `/ws`.
    pub fn ws_url(&self) -> String {
        format!("{}/ws", self.url.replace("http", "ws"))
    }

    /// Everything the process logged (its standard output) so far.
    pub fn log(&self) -> String {
        self.log.lock().map(|log| log.clone()).unwrap_or_default()
    }

    /// The process id, for sending signals.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `signal` (such as `TERM` or `KILL`) with kill(1).
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Waits up to `limit` for the process to exit; its exit code, or `None`
    /// if it was still running (it is then killed).
    pub fn wait_exit(&mut self, limit: Duration) -> Option<i32> {
        let deadline = std::time::Instant::now() + limit;
        while std::time::Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        None
    }
}

impl Drop for CourierProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The real `courier` serving the built web client (`dist`) from a fresh
/// data directory on a free port; it can be killed and started again on the
/// same port and data, as a crash and restart would.
pub struct WebServer {
    /// The running process.
    pub process: CourierProcess,
    listen: String,
    metrics: String,
    data: tempfile::TempDir,
    bin: PathBuf,
    dist: String,
    extra: Vec<String>,
}

impl WebServer {
    /// Starts `bin` serving `dist`, and waits until it is ready.
    pub async fn start(bin: &std::path::Path, dist: &str) -> Self {
        Self::start_with(bin, dist, &[]).await
    }

    /// [`WebServer::start`] with more flags (`--turn-url …`, say).
    pub async fn start_with(bin: &std::path::Path, dist: &str, extra: &[&str]) -> Self {
        let data = tempfile::tempdir().expect("data dir");
        let listen = format!("127.0.0.1:{}", crate::browser::free_port());
        let metrics = format!("127.0.0.1:{}", crate::browser::free_port());
        let extra: Vec<String> = extra.iter().map(|a| (*a).to_owned()).collect();
        let process = Self::spawn(bin, &[&listen, &metrics], data.path(), dist, &extra);
        crate::wait_ready(&process.url).await;
        Self {
            process,
            listen,
            metrics,
            data,
            bin: bin.to_path_buf(),
            dist: dist.to_owned(),
            extra,
        }
    }

    /// Runs `bin` on `[listen, metrics listen]`.
    fn spawn(
        bin: &std::path::Path,
        [listen, metrics]: &[&str; 2],
        data: &std::path::Path,
        dist: &str,
        extra: &[String],
    ) -> CourierProcess {
        let data = data.to_str().expect("utf-8 path");
        let mut args = vec![
            "--listen",
            listen,
            "--metrics-listen",
            metrics,
            "--metrics-queue-secs",
            "0",
            "--data-dir",
            data,
            "--web-dir",
            dist,
        ];
        args.extend(extra.iter().map(String::as_str));
        CourierProcess::start(&bin.to_path_buf(), &args, &[])
    }

    /// `http://ADDR`, the page to open.
    pub fn url(&self) -> String {
        self.process.url.clone()
    }

    /// `http://ADDR/metrics`, on the metrics listener.
    pub fn metrics_url(&self) -> String {
        format!("http://{}/metrics", self.metrics)
    }

    /// The server's data directory (its SQLite file and local media).
    pub fn data_dir(&self) -> &std::path::Path {
        self.data.path()
    }

    /// `ws://ADDR/ws`, for native devices.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.listen)
    }

    /// Kills the server (SIGKILL), as a crash would.
    pub async fn crash(&mut self) {
        self.process.signal("KILL");
        let _ = self.process.wait_exit(std::time::Duration::from_secs(10));
    }

    /// Starts the server again after [`WebServer::crash`].
    pub async fn restart(&mut self) {
        let listeners = [self.listen.as_str(), self.metrics.as_str()];
        self.process = Self::spawn(
            &self.bin,
            &listeners,
            self.data.path(),
            &self.dist,
            &self.extra,
        );
        crate::wait_ready(&self.process.url).await;
    }

    /// Deploys another build of the web client (`dist`): stops the server
    /// as a rolling deploy does (SIGTERM, drained) and starts it again on
    /// the same address and data, serving `dist`.
    pub async fn redeploy(&mut self, dist: &str) {
        self.process.signal("TERM");
        let _ = self.process.wait_exit(std::time::Duration::from_secs(15));
        dist.clone_into(&mut self.dist);
        self.restart().await;
    }
}

/// What a browser test needs — the `courier` binary, the built client
/// (`COURIER_WEB_DIST`) and ChromeDriver — or `None` to skip.
pub fn browser_setup() -> Option<(PathBuf, String, String)> {
    let bin = courier_bin()?;
    let dist = crate::env::optional("COURIER_WEB_DIST", "browser tests of the built client")?;
    let driver = crate::browser::available()?;
    Some((bin, dist, driver))
}
