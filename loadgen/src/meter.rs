//! [`Meter`]: what one phase of a scenario cost, read from outside the
//! server: its CPU time and the bytes it wrote (`/proc`), the statements and
//! commits of its message path (its `/metrics`), its fsyncs (`perf stat` on
//! the fsync tracepoints, when perf is installed) and, with Postgres, the
//! database's own counts (`pg_stat_statements`, `pg_stat_database`,
//! `pg_stat_wal`).

use crate::server::{Database, Server, cpu_us, write_bytes};
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Counters read at one moment.
#[derive(Debug, Default, Clone)]
struct Reading {
    server_cpu_us: u64,
    loadgen_cpu_us: u64,
    server_write_bytes: u64,
    statements: f64,
    commits: f64,
    postgres: Option<PgReading>,
}

/// Postgres's own counters for the benchmark database (WAL: the cluster's).
#[derive(Debug, Default, Clone)]
struct PgReading {
    /// CPU time of the cluster's processes (backends, background workers
    /// and the postmaster), in µs.
    cpu_us: u64,
    statements: i64,
    /// Statements run inside others (foreign-key checks, triggers).
    nested: i64,
    commits: i64,
    wal_bytes: i64,
    wal_syncs: i64,
}

/// Measures one phase: [`Meter::start`] before, [`Meter::finish`] after.
pub struct Meter<'a> {
    server: &'a Server,
    before: Reading,
    started: Instant,
    perf: Option<(Child, tempfile::NamedTempFile)>,
}

/// A phase's cost, ready to divide by its work.
#[derive(Debug, Clone)]
pub struct Cost {
    /// Wall-clock seconds.
    pub seconds: f64,
    values: Value,
    server_cpu_us: f64,
}

impl Cost {
    /// The figures, per unit of `work` (messages delivered, say), with the
    /// CPU the load generator's worker processes reported (`workers_cpu_us`).
    pub fn per(&self, work: u64, workers_cpu_us: u64) -> Value {
        let work = work.max(1) as f64;
        let mut values = self.values.clone();
        let loadgen = values["loadgen_cpu_us"].as_f64().unwrap_or(0.0) + workers_cpu_us as f64;
        values["loadgen_cpu_us"] = json!(loadgen);
        values["server_cpu_us_per_msg"] = json!(self.server_cpu_us / work);
        values["loadgen_cpu_us_per_msg"] = json!(loadgen / work);
        values["server_cores"] = json!(self.server_cpu_us / 1e6 / self.seconds);
        values["loadgen_cores"] = json!(loadgen / 1e6 / self.seconds);
        if let Some(db) = values["db_cpu_us"].as_f64() {
            values["db_cpu_us_per_msg"] = json!(db / work);
            values["db_cores"] = json!(db / 1e6 / self.seconds);
        }
        for (total, each) in [
            ("db_statements", "db_statements_per_msg"),
            ("db_commits", "db_commits_per_msg"),
            ("fsyncs", "fsyncs_per_msg"),
            ("db_bytes_written", "db_bytes_per_msg"),
        ] {
            values[each] = values[total]
                .as_f64()
                .map_or(Value::Null, |v| json!(v / work));
        }
        values
    }
}

impl<'a> Meter<'a> {
    /// Reads every counter and starts counting fsyncs.
    pub async fn start(server: &'a Server) -> Self {
        let perf = start_perf(server.pid());
        let before = read(server).await;
        Self {
            server,
            before,
            started: Instant::now(),
            perf,
        }
    }

    /// Reads every counter again; returns the differences.
    pub async fn finish(self) -> Cost {
        let seconds = self.started.elapsed().as_secs_f64();
        let fsyncs = self.perf.and_then(|(child, file)| stop_perf(child, &file));
        if matches!(self.server.database, Database::Postgres { .. }) {
            // Postgres publishes its statistics at most once a second.
            tokio::time::sleep(Duration::from_millis(1_500)).await;
        }
        let after = read(self.server).await;
        let b = &self.before;
        let server_cpu_us = after.server_cpu_us.saturating_sub(b.server_cpu_us) as f64;
        let mut values = json!({
            "server_cpu_us": server_cpu_us,
            "loadgen_cpu_us": after.loadgen_cpu_us.saturating_sub(b.loadgen_cpu_us),
            "db_statements": after.statements - b.statements,
            "db_commits": after.commits - b.commits,
            "fsyncs": fsyncs,
            "db_bytes_written": after.server_write_bytes.saturating_sub(b.server_write_bytes),
            "counted_by": "server /proc (CPU, write_bytes), server /metrics (statements, commits), perf stat (fsyncs)",
        });
        if let (Some(pa), Some(pb)) = (&after.postgres, &b.postgres) {
            values["db_statements"] = json!(pa.statements - pb.statements);
            values["db_commits"] = json!(pa.commits - pb.commits);
            values["fsyncs"] = json!(pa.wal_syncs - pb.wal_syncs);
            values["db_bytes_written"] = json!(pa.wal_bytes - pb.wal_bytes);
            values["server_counted_statements"] = json!(after.statements - b.statements);
            values["db_cpu_us"] = json!(pa.cpu_us.saturating_sub(pb.cpu_us));
            values["db_nested_statements"] = json!(pa.nested - pb.nested);
            values["counted_by"] = json!(
                "server /proc (CPU); Postgres: its processes' /proc (db CPU), \
                 pg_stat_statements (top-level statements; nested ones apart), \
                 pg_stat_database (commits), pg_stat_wal (WAL fsyncs, WAL bytes)"
            );
        }
        Cost {
            seconds,
            values,
            server_cpu_us,
        }
    }
}

async fn read(server: &Server) -> Reading {
    let metrics = server.metrics().unwrap_or_default();
    let metric = |name: &str| {
        metrics
            .iter()
            .find(|(n, _)| n == name)
            .map_or(0.0, |(_, v)| *v)
    };
    Reading {
        server_cpu_us: cpu_us(server.pid()),
        loadgen_cpu_us: cpu_us("self"),
        server_write_bytes: write_bytes(server.pid()),
        statements: metric("courier_db_statements_total"),
        commits: metric("courier_db_commits_total"),
        postgres: match &server.database {
            Database::Postgres { admin_url, name } => pg_reading(admin_url, name)
                .await
                .map_err(|err| eprintln!("pg stats: {err}"))
                .ok(),
            Database::Sqlite => None,
        },
    }
}

async fn pg_reading(admin_url: &str, name: &str) -> anyhow::Result<PgReading> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(admin_url).await?;
    sqlx::query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        .execute(&mut conn)
        .await?;
    let (statements, nested): (Option<i64>, Option<i64>) = sqlx::query_as(
        "SELECT sum(calls) FILTER (WHERE toplevel)::bigint, \
                sum(calls) FILTER (WHERE NOT toplevel)::bigint \
         FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid \
         WHERE d.datname = $1 AND upper(s.query) NOT IN ('BEGIN', 'COMMIT', 'ROLLBACK')",
    )
    .bind(name)
    .fetch_one(&mut conn)
    .await?;
    let commits: i64 =
        sqlx::query_scalar("SELECT xact_commit FROM pg_stat_database WHERE datname = $1")
            .bind(name)
            .fetch_one(&mut conn)
            .await?;
    let pids: Vec<i32> = sqlx::query_scalar("SELECT pid FROM pg_stat_activity")
        .fetch_all(&mut conn)
        .await?;
    let mut pids: Vec<u32> = pids
        .into_iter()
        .filter_map(|p| u32::try_from(p).ok())
        .collect();
    pids.extend(pids.first().and_then(|pid| parent(*pid)));
    let cpu_us = pids.iter().map(cpu_us).sum();
    let (wal_bytes, wal_syncs): (i64, i64) =
        sqlx::query_as("SELECT wal_bytes::bigint, wal_sync FROM pg_stat_wal")
            .fetch_one(&mut conn)
            .await?;
    Ok(PgReading {
        cpu_us,
        statements: statements.unwrap_or(0),
        nested: nested.unwrap_or(0),
        commits,
        wal_bytes,
        wal_syncs,
    })
}

/// The parent of process `pid` (a Postgres backend's is the postmaster).
fn parent(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(") ")?
        .1
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Counts the fsync and fdatasync calls of process `pid` with `perf stat`,
/// if perf is there and allowed.
fn start_perf(pid: u32) -> Option<(Child, tempfile::NamedTempFile)> {
    let file = tempfile::NamedTempFile::new().ok()?;
    let child = Command::new("perf")
        .args(["stat", "-x", ",", "-o"])
        .arg(file.path())
        .args([
            "-e",
            "syscalls:sys_enter_fsync,syscalls:sys_enter_fdatasync",
            "-p",
            &pid.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    // perf needs a moment to attach to every thread.
    std::thread::sleep(Duration::from_millis(300));
    Some((child, file))
}

fn stop_perf(mut child: Child, file: &tempfile::NamedTempFile) -> Option<u64> {
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let text = std::fs::read_to_string(file.path()).ok()?;
    let counts: Vec<u64> = text
        .lines()
        .filter(|l| l.contains("syscalls:sys_enter_f"))
        .filter_map(|l| l.split(',').next()?.trim().parse().ok())
        .collect();
    (!counts.is_empty()).then(|| counts.iter().sum())
}
