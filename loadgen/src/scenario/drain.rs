//! Offline drain: N messages queued for an offline device, then the time it
//! takes that device to receive them all once it connects.

use super::devices;
use super::throughput::{receive_all, send_all};
use crate::device::Device;
use crate::results::Figures;
use crate::server::Server;
use serde_json::json;
use std::time::Instant;

/// Options of the drain scenario.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Messages to queue.
    #[arg(long, default_value_t = 10_000)]
    pub messages: usize,
    /// Ciphertext bytes per message.
    #[arg(long, default_value_t = 100)]
    pub payload_bytes: usize,
}

/// Queues, connects, drains; reports both rates.
pub async fn run(server: &Server, args: &Args) -> anyhow::Result<Figures> {
    let mut pair = devices(server, 2).await?;
    let receiver = pair.pop().ok_or_else(|| anyhow::anyhow!("no device"))?;
    let sender = pair.pop().ok_or_else(|| anyhow::anyhow!("no device"))?;
    let (device, seed) = (receiver.device, receiver.seed);
    receiver.close().await;

    let started = Instant::now();
    let sender = send_all(sender, vec![device], args.messages, 256, args.payload_bytes).await?;
    let queue_seconds = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let receiver = Device::sign_in(server.addr, None, device, seed).await?;
    receive_all(receiver, args.messages).await?;
    let drain_seconds = started.elapsed().as_secs_f64();
    sender.close().await;
    Ok(Figures {
        scenario: "drain",
        values: json!({
            "messages": args.messages,
            "queued_per_sec": args.messages as f64 / queue_seconds,
            "drain_seconds": drain_seconds,
            "drained_per_sec": args.messages as f64 / drain_seconds,
        }),
    })
}
