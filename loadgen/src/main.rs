//! `courier-loadgen`: measures a real `courier` server on this machine.
//!
//! It starts the server binary itself (so it can read the server's CPU time,
//! memory and writes from `/proc`), drives it with devices that run the
//! shared client core over real WebSockets — from this process or from
//! several worker processes (`--procs`) — prints the figures, with what each
//! message cost the server, and merges them into a JSON results file. It
//! only ever connects to loopback addresses.
//!
//! Modules: [`server`] (the server process), [`meter`] (what a phase cost),
//! [`device`] (one simulated device), [`scenario`] (one module per scenario,
//! and how a scenario is split over processes), [`results`] (the file).

mod device;
mod meter;
mod results;
mod scenario;
mod server;

use clap::{Parser, Subcommand};
use scenario::part::{self, Job, Share};
use std::net::SocketAddr;
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
    /// Load-generator processes to drive the devices from (the devices are
    /// split between them).
    #[arg(long, default_value_t = 1)]
    procs: usize,
    /// An extra flag for the server (repeatable), e.g. `--server-arg=--queue-max-entries=100`.
    #[arg(long = "server-arg", allow_hyphen_values = true)]
    server_args: Vec<String>,
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
    /// Queue messages for offline devices, then time the drain on connect.
    Drain(scenario::drain::Args),
    /// One sender fanning each message out to many devices.
    Fanout(scenario::fanout::Args),
    /// Protocol bytes per text message frame beyond the ciphertext.
    Wire(scenario::wire::Args),
    /// A tiny run of every scenario, for CI (no figures are judged).
    Smoke,
    /// One worker process's share of a scenario (started by `--procs`).
    #[command(hide = true)]
    Worker {
        /// The server's address.
        #[arg(long)]
        addr: SocketAddr,
        /// This worker's number.
        #[arg(long)]
        index: usize,
        /// How many workers share the job.
        #[arg(long)]
        of: usize,
        /// The job, as JSON.
        #[arg(long)]
        job: String,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    raise_open_file_limit(!matches!(cli.scenario, Scenario::Worker { .. }));
    if let Scenario::Worker {
        addr,
        index,
        of,
        job,
    } = &cli.scenario
    {
        // A worker is one of several processes: one thread each is enough.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        return runtime.block_on(part::worker(
            *addr,
            Share {
                index: *index,
                of: *of,
            },
            job,
        ));
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(measure(cli))
}

async fn measure(cli: Cli) -> anyhow::Result<()> {
    let job = match &cli.scenario {
        Scenario::Throughput(args) => Some(Job::Throughput(args.clone())),
        Scenario::Latency(args) => Some(Job::Latency(args.clone())),
        Scenario::Drain(args) => Some(Job::Drain(args.clone())),
        Scenario::Fanout(args) => Some(Job::Fanout(args.clone())),
        _ => None,
    };
    let figures = match (&cli.scenario, job) {
        (Scenario::Wire(args), _) => vec![scenario::wire::run(args)?],
        (Scenario::Smoke, _) => scenario::smoke(&cli.server, &cli.database).await?,
        (Scenario::Idle(args), _) => {
            let server =
                server::Server::start(&cli.server, &cli.database, &cli.server_args).await?;
            vec![scenario::idle::run(&server, args).await?]
        }
        (_, Some(job)) => {
            let server =
                server::Server::start(&cli.server, &cli.database, &cli.server_args).await?;
            vec![part::run(&server, &job, cli.procs).await?]
        }
        (_, None) => anyhow::bail!("not a measuring scenario"),
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
fn raise_open_file_limit(say: bool) {
    let ceiling = std::fs::read_to_string("/proc/sys/fs/nr_open")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(1 << 20);
    if rlimit::setrlimit(rlimit::Resource::NOFILE, ceiling, ceiling).is_err() {
        let _ = rlimit::increase_nofile_limit(ceiling);
    }
    if say && let Ok((soft, _)) = rlimit::getrlimit(rlimit::Resource::NOFILE) {
        eprintln!("open-file limit: {soft} per process");
    }
}
