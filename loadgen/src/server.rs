//! [`Server`]: the `courier` process under test, on a free loopback port,
//! and what can be read about it from outside: `/proc` (CPU time, memory,
//! bytes written) and its `/metrics` endpoint.

use anyhow::{Context, bail};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tempfile::TempDir;

/// The database a server runs on.
#[derive(Debug, Clone)]
pub enum Database {
    /// A fresh SQLite file in the server's data directory.
    Sqlite,
    /// A fresh database on a Postgres server.
    Postgres {
        /// The URL of the Postgres server's admin database.
        admin_url: String,
        /// The fresh database's name.
        name: String,
    },
}

/// A running server; killed when dropped.
pub struct Server {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Where it serves `/metrics` (its own listener, off the public one).
    pub metrics_addr: SocketAddr,
    /// What it stores in.
    pub database: Database,
    _data: TempDir,
}

impl Server {
    /// Starts `bin` on a fresh database: `sqlite`, or a new database on the
    /// Postgres server named by a `postgres://` URL. Limits meant for
    /// production (connection cap, rate limits, heartbeats, queue caps) are
    /// lifted so that they do not cap the measurement; `extra` flags are
    /// passed on.
    pub async fn start(bin: &Path, database: &str, extra: &[String]) -> anyhow::Result<Self> {
        let data = tempfile::tempdir()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let metrics_port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let mut command = dies_with_us(bin);
        command
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--metrics-listen", &format!("127.0.0.1:{metrics_port}")])
            .args(["--metrics-queue-secs", "0"])
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
            // Every simulated device comes from 127.0.0.1.
            .args(["--registrations-per-hour", "4000000000"])
            .args(["--max-unsigned-per-address", "4000000000"])
            .args(extra)
            .env("COURIER_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let database = if database.starts_with("postgres") {
            let name = fresh_postgres(database).await?;
            command.args(["--database-url", &database_url(database, &name)?]);
            Database::Postgres {
                admin_url: database.to_owned(),
                name,
            }
        } else if database == "sqlite" {
            Database::Sqlite
        } else {
            bail!("--database is `sqlite` or a postgres:// URL");
        };
        let mut child = command
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut reader = BufReader::new(stdout);
        // The first line with a URL says it listens (a wrapper such as a
        // heap profiler may print lines of its own before).
        let mut line = String::new();
        for _ in 0..20 {
            line.clear();
            if reader.read_line(&mut line)? == 0 || line.contains("http://") {
                break;
            }
        }
        if !line.contains("http://") {
            bail!("the server did not start: {line}");
        }
        // Keep reading, so that the server's logs never hit a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let server = Self {
            child,
            addr,
            metrics_addr: SocketAddr::from(([127, 0, 0, 1], metrics_port)),
            database,
            _data: data,
        };
        tokio::time::sleep(Duration::from_millis(200)).await;
        Ok(server)
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's resident memory, in KiB.
    pub fn rss_kib(&self) -> u64 {
        rss_kib(self.child.id())
    }

    /// The server's `/metrics` counters and gauges, by name.
    pub fn metrics(&self) -> anyhow::Result<Vec<(String, f64)>> {
        let mut stream = std::net::TcpStream::connect(self.metrics_addr)?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        write!(
            stream,
            "GET /metrics HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.metrics_addr
        )?;
        let mut text = String::new();
        stream.read_to_string(&mut text)?;
        Ok(text
            .lines()
            .filter(|line| !line.starts_with('#'))
            .filter_map(|line| {
                let (name, value) = line.rsplit_once(' ')?;
                Some((name.to_owned(), value.parse().ok()?))
            })
            .collect())
    }
}

/// How long a stopped server may take to shut down before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(10);

impl Drop for Server {
    /// Asks the server to stop (SIGTERM) and waits for it, so that a build
    /// that writes something at exit (the `dhat-heap` profile) gets to;
    /// kills it if it takes longer than [`STOP_GRACE`].
    fn drop(&mut self) {
        let asked = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .is_ok_and(|status| status.success());
        if asked {
            let deadline = std::time::Instant::now() + STOP_GRACE;
            while std::time::Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The resident memory of process `pid` (`self` for this one), in KiB.
pub fn rss_kib(pid: impl std::fmt::Display) -> u64 {
    proc_field(&format!("/proc/{pid}/status"), "VmRSS:").unwrap_or(0)
}

/// The CPU time (user + system, every thread) process `pid` (or `self`)
/// has used, in microseconds. `/proc` counts it in ticks of 10 ms
/// (`USER_HZ` is 100 on Linux), so runs should last seconds.
pub fn cpu_us(pid: impl std::fmt::Display) -> u64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0;
    };
    // The command name (field 2) may hold spaces: count from after it.
    let Some((_, rest)) = stat.rsplit_once(") ") else {
        return 0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 here.
    let ticks = |n: usize| fields.get(n).and_then(|f| f.parse::<u64>().ok());
    match (ticks(11), ticks(12)) {
        (Some(user), Some(system)) => (user + system) * 10_000,
        _ => 0,
    }
}

/// The bytes process `pid` caused to be written to storage (`write_bytes`
/// of `/proc/PID/io`: counted when pages are dirtied).
pub fn write_bytes(pid: impl std::fmt::Display) -> u64 {
    proc_field(&format!("/proc/{pid}/io"), "write_bytes:").unwrap_or(0)
}

/// The first number after `label` in the `/proc` file `path`.
fn proc_field(path: &str, label: &str) -> Option<u64> {
    std::fs::read_to_string(path)
        .ok()?
        .lines()
        .find(|l| l.starts_with(label))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// The URL of database `name` on the server of `admin_url`.
fn database_url(admin_url: &str, name: &str) -> anyhow::Result<String> {
    let (base, _) = admin_url
        .rsplit_once('/')
        .context("the Postgres URL needs a database")?;
    Ok(format!("{base}/{name}"))
}

/// Creates an empty database on the server of `admin_url`; returns its name.
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
    Ok(name)
}

/// A command that runs `bin` and is killed if the load generator dies
/// first, even by SIGKILL (through util-linux `setpriv --pdeathsig`, where
/// it is installed): a benchmark that is interrupted leaves no server
/// behind holding its port, data directory and the machine's cores.
fn dies_with_us(bin: &Path) -> Command {
    let setpriv = Path::new("/usr/bin/setpriv");
    if !setpriv.is_file() {
        return Command::new(bin);
    }
    let mut command = Command::new(setpriv);
    command.args(["--pdeathsig", "KILL", "--"]).arg(bin);
    command
}
