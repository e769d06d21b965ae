//! [`Server`]: the `courier` process under test, on a free loopback port.

use anyhow::{Context, bail};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tempfile::TempDir;

/// A running server; killed when dropped.
pub struct Server {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    _data: TempDir,
}

impl Server {
    /// Starts `bin` on a fresh database: `sqlite`, or a new database on the
    /// Postgres server named by a `postgres://` URL. Limits meant for
    /// production (connection cap, rate limits, heartbeats) are lifted so
    /// that they do not cap the measurement.
    pub async fn start(bin: &Path, database: &str) -> anyhow::Result<Self> {
        let data = tempfile::tempdir()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let mut command = Command::new(bin);
        command
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(data.path())
            .args(["--max-connections", "2000000"])
            .args([
                "--rate-limit-per-sec",
                "1000000",
                "--rate-limit-burst",
                "1000000",
            ])
            .args(["--heartbeat-secs", "3600"])
            .env("COURIER_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if database.starts_with("postgres") {
            command.args(["--database-url", &fresh_postgres(database).await?]);
        } else if database != "sqlite" {
            bail!("--database is `sqlite` or a postgres:// URL");
        }
        let mut child = command
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        reader.read_line(&mut line)?;
        if !line.contains("http://") {
            bail!("the server did not start: {line}");
        }
        // Keep reading, so that the server's logs never hit a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let server = Self {
            child,
            addr,
            _data: data,
        };
        tokio::time::sleep(Duration::from_millis(200)).await;
        Ok(server)
    }

    /// The server's resident memory, in KiB.
    pub fn rss_kib(&self) -> u64 {
        rss_kib(self.child.id())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The resident memory of process `pid` (`self` for this one), in KiB.
pub fn rss_kib(pid: impl std::fmt::Display) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// Creates an empty database on the server of `admin_url`; returns its URL.
async fn fresh_postgres(admin_url: &str) -> anyhow::Result<String> {
    use sqlx::Connection;
    let mut random = [0u8; 6];
    getrandom::fill(&mut random)?;
    let name: String = random.iter().map(|b| format!("{b:02x}")).collect();
    let name = format!("courier_bench_{name}");
    let mut conn = sqlx::PgConnection::connect(admin_url).await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await?;
    let (base, _) = admin_url
        .rsplit_once('/')
        .context("the Postgres URL needs a database")?;
    Ok(format!("{base}/{name}"))
}
