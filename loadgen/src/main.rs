//! `courier-loadgen`: measures a real `courier` server on this machine.
//!
//! It starts the server binary itself (so it can read the server's memory
//! from `/proc`), drives it with devices that run the shared client core over
//! real WebSockets, prints the figures and merges them into a JSON results
//! file. It only ever connects to loopback addresses.
//!
//! Modules: [`server`] (the server process), [`device`] (one simulated
//! device), [`scenario`] (one module per scenario), [`results`] (the file).

mod device;
mod results;
mod scenario;
mod server;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Command-line options shared by every scenario.
#[derive(Debug, Parser)]
#[command(
    name = "courier-loadgen",
    about = "Load generator for Courier (loopback only)"
)]
struct Cli {
    /// The `courier` binary to start (build it with `cargo build --release`).
    #[arg(long, default_value = "target/release/courier")]
    server: PathBuf,
    /// Database for the server: `sqlite` (a fresh file) or a Postgres URL
    /// under which a fresh database is created.
    #[arg(long, default_value = "sqlite")]
    database: String,
    /// Results file to merge the figures into.
    #[arg(long, default_value = "docs/benchmarks.json")]
    out: PathBuf,
    /// A label for this run in the results file (for before/after).
    #[arg(long, default_value = "current")]
    label: String,
    #[command(subcommand)]
    scenario: Scenario,
}

/// The scenarios.
#[derive(Debug, Subcommand)]
enum Scenario {
    /// Hold N authenticated sockets and measure server memory per socket.
    Idle(scenario::idle::Args),
    /// Pairs of online devices sending as fast as the durable path allows.
    Throughput(scenario::throughput::Args),
    /// Latency percentiles under a fixed offered load.
    Latency(scenario::latency::Args),
    /// Queue N messages for an offline device, then time the drain on connect.
    Drain(scenario::drain::Args),
    /// One sender fanning each message out to many devices.
    Fanout(scenario::fanout::Args),
    /// Protocol bytes per text message frame beyond the ciphertext.
    Wire(scenario::wire::Args),
    /// A tiny run of every scenario, for CI (no figures are judged).
    Smoke,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    raise_open_file_limit();
    let figures = match &cli.scenario {
        Scenario::Wire(args) => vec![scenario::wire::run(args)?],
        Scenario::Smoke => scenario::smoke(&cli.server, &cli.database).await?,
        other => {
            let server = server::Server::start(&cli.server, &cli.database).await?;
            let run = match other {
                Scenario::Idle(args) => scenario::idle::run(&server, args).await?,
                Scenario::Throughput(args) => scenario::throughput::run(&server, args).await?,
                Scenario::Latency(args) => scenario::latency::run(&server, args).await?,
                Scenario::Drain(args) => scenario::drain::run(&server, args).await?,
                Scenario::Fanout(args) => scenario::fanout::run(&server, args).await?,
                Scenario::Wire(_) | Scenario::Smoke => unreachable!("handled above"),
            };
            vec![run]
        }
    };
    if matches!(cli.scenario, Scenario::Smoke) {
        println!("smoke: every scenario ran");
        return Ok(());
    }
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    for figure in figures {
        println!("{}", serde_json::to_string_pretty(&figure.values)?);
        results::merge(&cli.out, &cli.label, &cli.database, &command, figure)?;
    }
    Ok(())
}

/// Raises this process's open-file limit as far as the system allows (the
/// server it starts inherits it), so that idle runs are not capped at 1,024,
/// and says where it ended up: each socket costs one descriptor on each side.
fn raise_open_file_limit() {
    let ceiling = std::fs::read_to_string("/proc/sys/fs/nr_open")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(1 << 20);
    if rlimit::setrlimit(rlimit::Resource::NOFILE, ceiling, ceiling).is_err() {
        let _ = rlimit::increase_nofile_limit(ceiling);
    }
    if let Ok((soft, _)) = rlimit::getrlimit(rlimit::Resource::NOFILE) {
        eprintln!("open-file limit: {soft} per process");
    }
}
