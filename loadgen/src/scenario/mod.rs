//! The scenarios, one module each, and the CI smoke run of all of them.

pub mod drain;
pub mod fanout;
pub mod idle;
pub mod latency;
pub mod throughput;
pub mod wire;

use crate::device::Device;
use crate::server::Server;
use std::path::Path;

/// `n` devices, registered and signed in (sequentially: set-up is not measured).
pub async fn devices(server: &Server, n: usize) -> anyhow::Result<Vec<Device>> {
    let mut devices = Vec::with_capacity(n);
    for _ in 0..n {
        devices.push(Device::register(server.addr, None).await?);
    }
    Ok(devices)
}

/// Runs every scenario with tiny parameters against fresh servers, so that CI
/// keeps the load generator working. Nothing here depends on timing.
pub async fn smoke(bin: &Path, database: &str) -> anyhow::Result<Vec<crate::results::Figures>> {
    let mut figures = vec![wire::run(&wire::Args::default())?];
    let server = Server::start(bin, database).await?;
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
    figures.push(
        throughput::run(
            &server,
            &throughput::Args {
                pairs: 2,
                messages: 200,
                window: 16,
                payload_bytes: 100,
            },
        )
        .await?,
    );
    figures.push(
        latency::run(
            &server,
            &latency::Args {
                pairs: 2,
                rate: 100,
                duration_secs: 1,
                payload_bytes: 100,
            },
        )
        .await?,
    );
    figures.push(
        drain::run(
            &server,
            &drain::Args {
                messages: 100,
                payload_bytes: 100,
            },
        )
        .await?,
    );
    figures.push(
        fanout::run(
            &server,
            &fanout::Args {
                devices: 5,
                messages: 10,
                payload_bytes: 100,
            },
        )
        .await?,
    );
    for figure in &figures {
        println!("smoke {}: {}", figure.scenario, figure.values);
    }
    Ok(figures)
}
