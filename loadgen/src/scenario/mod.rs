//! The scenarios, one module each, the machinery that splits a scenario
//! over processes ([`part`]), and the CI smoke run of all of them.

pub mod drain;
pub mod fanout;
pub mod idle;
pub mod latency;
pub mod pairs;
pub mod part;
pub mod throughput;
pub mod wire;

use crate::server::Server;
use part::Job;
use std::path::Path;

/// Runs every scenario with tiny parameters against fresh servers, so that CI
/// keeps the load generator working, in one process and in two. Nothing
/// here depends on timing.
pub async fn smoke(bin: &Path, database: &str) -> anyhow::Result<Vec<crate::results::Figures>> {
    let mut figures = vec![wire::run(&wire::Args::default())?];
    let server = Server::start(bin, database, &[]).await?;
    figures.push(
        idle::run(
            &server,
            &idle::Args {
                connections: 50,
                sources: 2,
                hold_secs: 1,
                concurrency: 8,
            },
        )
        .await?,
    );
    let jobs = [
        Job::Throughput(throughput::Args {
            pairs: 2,
            messages: 200,
            window: 16,
            payload_bytes: 100,
        }),
        Job::Latency(latency::Args {
            pairs: 2,
            rate: 100,
            duration_secs: 1,
            payload_bytes: 100,
        }),
        Job::Drain(drain::Args {
            messages: 100,
            pairs: 2,
            window: 16,
            payload_bytes: 100,
        }),
        Job::Fanout(fanout::Args {
            devices: 5,
            messages: 10,
            window: 4,
            payload_bytes: 100,
        }),
    ];
    for procs in [1, 2] {
        for job in &jobs {
            figures.push(part::run(&server, job, procs).await?);
        }
    }
    for figure in &figures {
        println!("smoke {}: {}", figure.scenario, figure.values);
    }
    Ok(figures)
}
