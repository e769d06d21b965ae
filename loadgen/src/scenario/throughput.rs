//! Throughput: pairs of online devices, each sender keeping a window of
//! messages in flight through the durable path (accepted only once queued).

use super::devices;
use crate::device::Device;
use crate::results::Figures;
use crate::server::Server;
use anyhow::bail;
use courier_shared::client::Event;
use courier_shared::ids::DeviceId;
use serde_json::json;
use std::time::Instant;

/// Options of the throughput scenario.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Sender/receiver pairs.
    #[arg(long, default_value_t = 50)]
    pub pairs: usize,
    /// Messages in all.
    #[arg(long, default_value_t = 20_000)]
    pub messages: usize,
    /// Unaccepted messages each sender keeps in flight.
    #[arg(long, default_value_t = 64)]
    pub window: usize,
    /// Ciphertext bytes per message.
    #[arg(long, default_value_t = 100)]
    pub payload_bytes: usize,
}

/// Sends `count` messages to `to`, at most `window` unaccepted at a time.
pub async fn send_all(
    mut device: Device,
    to: Vec<DeviceId>,
    count: usize,
    window: usize,
    payload_bytes: usize,
) -> anyhow::Result<Device> {
    let (mut sent, mut accepted) = (0, 0);
    while accepted < count {
        while sent < count && sent - accepted < window.max(1) {
            device.send(to.clone(), vec![0x5a; payload_bytes]).await?;
            sent += 1;
        }
        match crate::device::accepted(&device.next_event().await?) {
            Some(Ok(())) => accepted += 1,
            Some(Err(reason)) => bail!("a send was refused: {reason}"),
            None => {}
        }
    }
    Ok(device)
}

/// Waits until `count` messages arrived (the client core acknowledges each).
pub async fn receive_all(mut device: Device, count: usize) -> anyhow::Result<Device> {
    let mut received = 0;
    while received < count {
        if let Event::Message { .. } = device.next_event().await? {
            received += 1;
        }
    }
    Ok(device)
}

/// Runs the pairs and reports messages delivered per second end to end.
pub async fn run(server: &Server, args: &Args) -> anyhow::Result<Figures> {
    let pairs = args.pairs.max(1);
    let per_pair = args.messages / pairs;
    let mut all = devices(server, pairs * 2).await?;
    let receivers: Vec<Device> = all.split_off(pairs);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (sender, receiver) in all.into_iter().zip(receivers) {
        let to = vec![receiver.device];
        tasks.push(tokio::spawn(receive_all(receiver, per_pair)));
        tasks.push(tokio::spawn(send_all(
            sender,
            to,
            per_pair,
            args.window,
            args.payload_bytes,
        )));
    }
    for task in tasks {
        task.await??;
    }
    let seconds = started.elapsed().as_secs_f64();
    let total = per_pair * pairs;
    Ok(Figures {
        scenario: "throughput",
        values: json!({
            "pairs": pairs,
            "messages": total,
            "window": args.window,
            "payload_bytes": args.payload_bytes,
            "seconds": seconds,
            "delivered_per_sec": total as f64 / seconds,
            "target_per_sec": 30_000,
        }),
    })
}
