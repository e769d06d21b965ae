//! Throwaway backing services for the tests, on free loopback ports: a
//! Postgres cluster in a temporary directory, an `s3s-fs` S3 server and a
//! coturn TURN server. Each stops (and deletes its files) when dropped.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free TCP port on 127.0.0.1.
fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|err| format!("no free port: {err}"))
}

/// Waits until something accepts connections on `port`.
fn wait_for_port(port: u16, what: &str) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!("{what} did not start listening on port {port}"))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A Postgres server binary: on `PATH`, or in Debian's versioned directory.
pub fn postgres_bin(name: &str) -> Option<PathBuf> {
    let on_path = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    on_path.or_else(|| {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(Result::ok)
            .map(|e| e.path().join("bin").join(name))
            .filter(|p| p.is_file())
            .collect();
        dirs.sort();
        dirs.pop()
    })
}

/// Runs a Postgres tool as the `postgres` user when we are root (initdb
/// refuses to run as root).
fn pg_command(tool: &Path) -> Command {
    if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(tool);
        command
    } else {
        Command::new(tool)
    }
}

/// A throwaway Postgres cluster.
pub struct Postgres {
    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    pub url: String,
    dir: PathBuf,
    pg_ctl: PathBuf,
}

impl Postgres {
    /// Initialises and starts a cluster with trust authentication on loopback.
    pub fn start() -> Result<Self, String> {
        let initdb = postgres_bin("initdb").ok_or("initdb not found")?;
        let pg_ctl = postgres_bin("pg_ctl").ok_or("pg_ctl not found")?;
        let port = free_port()?;
        let dir = PathBuf::from(format!("/tmp/courier-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        if is_root() {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .status()
                .map_err(|e| format!("chown: {e}"))?;
            if !status.success() {
                return Err("cannot hand the Postgres directory to the postgres user".into());
            }
        }
        println!("==> start Postgres on port {port}");
        let data = dir.join("data");
        let status = pg_command(&initdb)
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ])
            .stdout(Stdio::null())
            .status()
            .map_err(|e| format!("initdb: {e}"))?;
        if !status.success() {
            return Err(format!("initdb failed ({status})"));
        }
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -k {} -c fsync=off -c max_connections=300",
            dir.display()
        );
        let status = pg_command(&pg_ctl)
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(dir.join("server.log"))
            .args(["-w", "-t", "60", "-o", &options, "start"])
            .stdout(Stdio::null())
            .status()
            .map_err(|e| format!("pg_ctl: {e}"))?;
        if !status.success() {
            let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
            return Err(format!("Postgres did not start ({status}):\n{log}"));
        }
        Ok(Self {
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            dir,
            pg_ctl,
        })
    }
}

impl Postgres {
    /// A shell command that restarts the server (for the chaos test).
    pub fn restart_command(&self) -> String {
        let pg_ctl = self.pg_ctl.display();
        let data = self.dir.join("data");
        let data = data.display();
        let ctl = format!("{pg_ctl} -D {data} -m fast -w -t 60 restart");
        if is_root() {
            format!("runuser -u postgres -- {ctl}")
        } else {
            ctl
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = pg_command(&self.pg_ctl)
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "immediate", "-w", "stop"])
            .stdout(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A throwaway `s3s-fs` server: a real SigV4-checking S3 API over a directory.
pub struct S3Server {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    child: Child,
    dir: PathBuf,
}

impl S3Server {
    /// The bucket the tests use.
    pub const BUCKET: &'static str = "courier";
    /// The access key the server accepts.
    pub const ACCESS_KEY: &'static str = "courier";
    /// The secret key the server accepts.
    pub const SECRET_KEY: &'static str = "courier-secret";

    /// Starts the server with one empty bucket.
    pub fn start() -> Result<Self, String> {
        let port = free_port()?;
        let dir = std::env::temp_dir().join(format!("courier-s3-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join(Self::BUCKET)).map_err(|e| format!("{e}"))?;
        println!("==> start s3s-fs on port {port}");
        let child = Command::new(crate::exec::cargo_bin_dir().join("s3s-fs"))
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args([
                "--access-key",
                Self::ACCESS_KEY,
                "--secret-key",
                Self::SECRET_KEY,
            ])
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start s3s-fs: {e}"))?;
        let server = Self {
            endpoint: format!("http://127.0.0.1:{port}"),
            child,
            dir,
        };
        wait_for_port(port, "s3s-fs")?;
        Ok(server)
    }
}

impl S3Server {
    /// The directory the server keeps its buckets in.
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A throwaway coturn TURN server on loopback, checking TURN REST API
/// credentials under [`Coturn::SECRET`] (as Courier issues them).
pub struct Coturn {
    /// `turn:127.0.0.1:PORT`.
    pub url: String,
    child: Child,
}

impl Coturn {
    /// The secret shared with the Courier servers under test.
    pub const SECRET: &'static str = "courier-turn-secret";

    /// Starts coturn: UDP and TCP on one free port, relaying between
    /// loopback addresses (both ends of a test call are on this machine).
    pub fn start() -> Result<Self, String> {
        let port = free_port()?;
        let relays = free_port()?.clamp(20_000, 60_000);
        println!("==> start coturn on port {port}");
        let child = Command::new(crate::tools::TURNSERVER)
            .args(coturn_args(port, relays, Self::SECRET))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start coturn: {e}"))?;
        let server = Self {
            url: format!("turn:127.0.0.1:{port}"),
            child,
        };
        wait_for_port(port, "coturn")?;
        Ok(server)
    }
}

/// coturn's flags: loopback only, no TLS, TURN REST API credentials under
/// `secret`, relay ports from `relays` on.
fn coturn_args(port: u16, relays: u16, secret: &str) -> Vec<String> {
    [
        "-n",
        "--listening-ip=127.0.0.1",
        "--relay-ip=127.0.0.1",
        "--allow-loopback-peers",
        "--no-tls",
        "--no-dtls",
        "--no-cli",
        "--fingerprint",
        "--use-auth-secret",
        "--realm=courier.test",
        "--log-file=stdout",
        "--simple-log",
    ]
    .into_iter()
    .map(str::to_owned)
    .chain([
        format!("--listening-port={port}"),
        format!("--static-auth-secret={secret}"),
        format!("--min-port={relays}"),
        format!("--max-port={}", relays + 200),
    ])
    .collect()
}

impl Drop for Coturn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
