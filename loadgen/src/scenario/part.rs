//! Running a scenario in one or many load-generator processes.
//!
//! A scenario is a [`Job`]; each process takes a [`Share`] of it, sets up its
//! devices ([`Job::prepare`] gives a [`Part`]) and then runs the job's phases
//! on cue. With `--procs N` the parent starts N worker processes of this
//! binary (`courier-loadgen worker …`) and cues them over stdin/stdout, so
//! that no single process of the load generator is what saturates; around
//! each phase it reads the server's cost ([`Meter`]). Each worker reports the
//! CPU it used in the phase, so the load generator's own cost is on the page.

use super::{drain, fanout, latency, throughput};
use crate::meter::{Cost, Meter};
use crate::results::Figures;
use crate::server::{Server, cpu_us};
use anyhow::{Context, bail};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// One phase's run, boxed.
pub type PhaseFuture<'a> = Pin<Box<dyn Future<Output = anyhow::Result<Value>> + Send + 'a>>;

/// One process's share of a scenario: its devices, set up, waiting for cues.
pub trait Part: Send {
    /// Runs phase `n` (from 0) and returns this share's figures for it.
    fn phase(&mut self, n: usize) -> PhaseFuture<'_>;
}

/// A scenario that can be split over processes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Job {
    /// See [`throughput`].
    Throughput(throughput::Args),
    /// See [`latency`].
    Latency(latency::Args),
    /// See [`drain`].
    Drain(drain::Args),
    /// See [`fanout`].
    Fanout(fanout::Args),
}

/// Which part of a job a process runs: `index` of `of`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Share {
    /// This process's number, from 0.
    pub index: usize,
    /// How many processes share the job.
    pub of: usize,
}

impl Share {
    /// This share of `total` items (the first shares take the remainder).
    pub fn of_total(&self, total: usize) -> usize {
        let of = self.of.max(1);
        total / of + usize::from(self.index < total % of)
    }
}

/// What one phase gave: every share's figures and what it cost the server.
#[derive(Debug)]
pub struct Phase {
    /// One value per process.
    pub results: Vec<Value>,
    /// The server's cost over the phase.
    pub cost: Cost,
}

impl Phase {
    /// The sum of field `name` over every share.
    pub fn sum(&self, name: &str) -> u64 {
        self.results.iter().filter_map(|r| r[name].as_u64()).sum()
    }

    /// The phase's cost per unit of `work`, with the workers' own CPU.
    pub fn cost_per(&self, work: u64) -> Value {
        self.cost.per(work, self.sum("cpu_us"))
    }

    /// Every share's latency histogram, merged.
    pub fn histogram(&self) -> anyhow::Result<Histogram<u64>> {
        let mut all = new_histogram()?;
        for result in &self.results {
            if let Some(hex) = result["histogram"].as_str() {
                all.add(decode_histogram(hex)?)?;
            }
        }
        Ok(all)
    }
}

impl Job {
    fn phases(&self) -> usize {
        match self {
            Self::Drain(_) => 2,
            Self::Throughput(_) | Self::Latency(_) | Self::Fanout(_) => 1,
        }
    }

    /// Sets up this process's share of the job against the server at `addr`.
    pub async fn prepare(&self, addr: SocketAddr, share: Share) -> anyhow::Result<Box<dyn Part>> {
        Ok(match self {
            Self::Throughput(args) => Box::new(throughput::prepare(addr, args, share).await?),
            Self::Latency(args) => Box::new(latency::prepare(addr, args, share).await?),
            Self::Drain(args) => Box::new(drain::prepare(addr, args, share).await?),
            Self::Fanout(args) => Box::new(fanout::prepare(addr, args, share).await?),
        })
    }

    fn report(&self, phases: &[Phase]) -> anyhow::Result<Figures> {
        match self {
            Self::Throughput(args) => throughput::report(args, phases),
            Self::Latency(args) => latency::report(args, phases),
            Self::Drain(args) => drain::report(args, phases),
            Self::Fanout(args) => fanout::report(args, phases),
        }
    }
}

/// Runs `job` against `server` in `procs` processes (this one when 1).
pub async fn run(server: &Server, job: &Job, procs: usize) -> anyhow::Result<Figures> {
    let mut phases = Vec::new();
    if procs <= 1 {
        let mut part = job.prepare(server.addr, Share { index: 0, of: 1 }).await?;
        for n in 0..job.phases() {
            let meter = Meter::start(server).await;
            let result = part.phase(n).await?;
            let cost = meter.finish().await;
            phases.push(Phase {
                results: vec![result],
                cost,
            });
        }
    } else {
        let mut workers = Vec::new();
        for index in 0..procs {
            workers.push(Worker::spawn(server.addr, job, Share { index, of: procs })?);
        }
        for worker in &mut workers {
            let line = worker.line().await?;
            if line != "ready" {
                bail!("a worker did not get ready: {line}");
            }
        }
        for _ in 0..job.phases() {
            let meter = Meter::start(server).await;
            for worker in &mut workers {
                worker.stdin.write_all(b"go\n").await?;
                worker.stdin.flush().await?;
            }
            let mut results = Vec::new();
            for worker in &mut workers {
                results.push(serde_json::from_str(&worker.line().await?)?);
            }
            let cost = meter.finish().await;
            phases.push(Phase { results, cost });
        }
        for mut worker in workers {
            drop(worker.stdin);
            let _ = worker.child.wait().await;
        }
    }
    let mut figures = job.report(&phases)?;
    figures.values["procs"] = procs.max(1).into();
    Ok(figures)
}

/// A worker process and its pipes.
struct Worker {
    child: tokio::process::Child,
    stdin: tokio::process::ChildStdin,
    stdout: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
}

impl Worker {
    fn spawn(addr: SocketAddr, job: &Job, share: Share) -> anyhow::Result<Self> {
        let mut child = tokio::process::Command::new(std::env::current_exe()?)
            .args(["worker", "--addr", &addr.to_string()])
            .args(["--index", &share.index.to_string()])
            .args(["--of", &share.of.to_string()])
            .args(["--job", &serde_json::to_string(job)?])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("cannot start a worker process")?;
        let stdin = child.stdin.take().context("no stdin")?;
        let stdout = BufReader::new(child.stdout.take().context("no stdout")?).lines();
        Ok(Self {
            child,
            stdin,
            stdout,
        })
    }

    async fn line(&mut self) -> anyhow::Result<String> {
        self.stdout
            .next_line()
            .await?
            .context("a worker process ended early")
    }
}

/// The body of a worker process: sets up its share, says `ready`, then runs
/// a phase for every `go` it reads and prints that phase's figures (with the
/// CPU it used) as one JSON line.
pub async fn worker(addr: SocketAddr, share: Share, job: &str) -> anyhow::Result<()> {
    let job: Job = serde_json::from_str(job)?;
    let mut part = job.prepare(addr, share).await?;
    println!("ready");
    let mut cues = BufReader::new(tokio::io::stdin()).lines();
    for n in 0..job.phases() {
        if cues.next_line().await?.as_deref() != Some("go") {
            bail!("the parent process went away");
        }
        let before = cpu_us("self");
        let mut result = part.phase(n).await?;
        result["cpu_us"] = cpu_us("self").saturating_sub(before).into();
        println!("{result}");
    }
    Ok(())
}

/// A latency histogram in microseconds, up to a minute.
pub fn new_histogram() -> anyhow::Result<Histogram<u64>> {
    Ok(Histogram::new_with_bounds(1, 60_000_000, 3)?)
}

/// A histogram as hex text, to cross a pipe.
pub fn encode_histogram(histogram: &Histogram<u64>) -> anyhow::Result<String> {
    use hdrhistogram::serialization::Serializer;
    let mut bytes = Vec::new();
    hdrhistogram::serialization::V2Serializer::new()
        .serialize(histogram, &mut bytes)
        .map_err(|err| anyhow::anyhow!("{err:?}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn decode_histogram(hex: &str) -> anyhow::Result<Histogram<u64>> {
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("zz"), 16))
        .collect::<Result<Vec<u8>, _>>()?;
    hdrhistogram::serialization::Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|err| anyhow::anyhow!("{err:?}"))
}

/// Latency percentiles of `histogram` in milliseconds.
pub fn percentiles(histogram: &Histogram<u64>) -> Value {
    let ms = |q: f64| histogram.value_at_quantile(q) as f64 / 1_000.0;
    serde_json::json!({
        "p50_ms": ms(0.50),
        "p90_ms": ms(0.90),
        "p99_ms": ms(0.99),
        "p999_ms": ms(0.999),
        "max_ms": histogram.max() as f64 / 1_000.0,
    })
}
