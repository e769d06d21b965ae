//! Idle connections: N authenticated sockets held open, and the server's
//! memory per socket.

use crate::device::Device;
use crate::results::Figures;
use crate::server::{Server, rss_kib};
use serde_json::json;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Options of the idle scenario.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Sockets to open.
    #[arg(long, default_value_t = 10_000)]
    pub connections: usize,
    /// Loopback source addresses to spread them over (127.0.0.1 up).
    #[arg(long, default_value_t = 8)]
    pub sources: u8,
    /// Seconds to hold them once all are open.
    #[arg(long, default_value_t = 10)]
    pub hold_secs: u64,
    /// Connections being set up at once (the ramp).
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
}

/// Opens the sockets, holds them, and reports memory per socket.
pub async fn run(server: &Server, args: &Args) -> anyhow::Result<Figures> {
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = server.rss_kib();
    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(args.concurrency.max(1)));
    let mut tasks = Vec::with_capacity(args.connections);
    for n in 0..args.connections {
        let source = IpAddr::V4(Ipv4Addr::new(
            127,
            0,
            0,
            1 + (n % usize::from(args.sources.max(1))) as u8,
        ));
        let gate = gate.clone();
        let addr = server.addr;
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await?;
            Device::register(addr, Some(source)).await
        }));
    }
    let mut held = Vec::with_capacity(args.connections);
    for task in tasks {
        held.push(task.await??);
    }
    let ramp = started.elapsed();
    tokio::time::sleep(Duration::from_secs(args.hold_secs)).await;
    let after = server.rss_kib();
    let per_connection = (after.saturating_sub(before) * 1024) / held.len().max(1) as u64;
    let figures = json!({
        "connections": held.len(),
        "open_seconds": ramp.as_secs_f64(),
        "opened_per_sec": held.len() as f64 / ramp.as_secs_f64(),
        "server_rss_before_kib": before,
        "server_rss_after_kib": after,
        "server_bytes_per_connection": per_connection,
        "loadgen_rss_kib": rss_kib("self"),
        "target_bytes_per_connection": 4096,
    });
    for device in held {
        drop(device);
    }
    Ok(Figures {
        scenario: "idle",
        variant: format!("connections={}", args.connections),
        values: figures,
    })
}
