//! Fan-out: one sender sends each message once, to many devices; the server
//! writes one queue row per device and delivers to all.

use super::devices;
use super::throughput::{receive_all, send_all};
use crate::results::Figures;
use crate::server::Server;
use serde_json::json;
use std::time::Instant;

/// Options of the fan-out scenario.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Receiving devices.
    #[arg(long, default_value_t = 100)]
    pub devices: usize,
    /// Messages sent.
    #[arg(long, default_value_t = 200)]
    pub messages: usize,
    /// Ciphertext bytes per message.
    #[arg(long, default_value_t = 100)]
    pub payload_bytes: usize,
}

/// Sends, waits for every device to have every message; reports deliveries/s.
pub async fn run(server: &Server, args: &Args) -> anyhow::Result<Figures> {
    let mut all = devices(server, args.devices.max(1) + 1).await?;
    let sender = all.remove(0);
    let to: Vec<_> = all.iter().map(|d| d.device).collect();
    let started = Instant::now();
    let mut tasks: Vec<_> = all
        .into_iter()
        .map(|device| tokio::spawn(receive_all(device, args.messages)))
        .collect();
    tasks.push(tokio::spawn(send_all(
        sender,
        to,
        args.messages,
        16,
        args.payload_bytes,
    )));
    for task in tasks {
        task.await??;
    }
    let seconds = started.elapsed().as_secs_f64();
    let deliveries = args.messages * args.devices.max(1);
    Ok(Figures {
        scenario: "fanout",
        values: json!({
            "devices": args.devices,
            "messages": args.messages,
            "deliveries": deliveries,
            "seconds": seconds,
            "deliveries_per_sec": deliveries as f64 / seconds,
            "sent_frames": args.messages,
        }),
    })
}
