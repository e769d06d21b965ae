//! Fan-out: a sender sends each message once, to many devices; the server
//! delivers it to all. Each process runs its own sender and receivers.

use super::pairs::{Pace, devices, receive_all, send_all};
use super::part::{Part, Phase, PhaseFuture, Share, encode_histogram, new_histogram};
use crate::device::Device;
use crate::results::Figures;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::net::SocketAddr;
use std::time::Instant;

/// Options of the fan-out scenario.
#[derive(Debug, Clone, clap::Args, Serialize, Deserialize)]
pub struct Args {
    /// Receiving devices of each message.
    #[arg(long, default_value_t = 100)]
    pub devices: usize,
    /// Messages each sender sends (one sender per process).
    #[arg(long, default_value_t = 200)]
    pub messages: usize,
    /// Unaccepted messages the sender keeps in flight.
    #[arg(long, default_value_t = 16)]
    pub window: usize,
    /// Ciphertext bytes per message.
    #[arg(long, default_value_t = 100)]
    pub payload_bytes: usize,
}

/// One process's sender and receivers.
pub struct Fanout {
    sender: Option<Device>,
    receivers: Vec<Device>,
    messages: usize,
    pace: Pace,
}

/// Registers this process's sender and receivers.
pub async fn prepare(addr: SocketAddr, args: &Args, _: Share) -> anyhow::Result<Fanout> {
    let mut all = devices(addr, args.devices.max(1) + 1).await?;
    let sender = all.remove(0);
    Ok(Fanout {
        sender: Some(sender),
        receivers: all,
        messages: args.messages,
        pace: Pace {
            window: args.window,
            every: None,
            payload_bytes: args.payload_bytes,
        },
    })
}

impl Fanout {
    async fn run(&mut self) -> anyhow::Result<serde_json::Value> {
        let sender = self
            .sender
            .take()
            .ok_or_else(|| anyhow::anyhow!("ran twice"))?;
        let receivers = std::mem::take(&mut self.receivers);
        let to: Vec<_> = receivers.iter().map(|d| d.device).collect();
        let deliveries = to.len() * self.messages;
        let base = Instant::now();
        let tasks: Vec<_> = receivers
            .into_iter()
            .map(|device| tokio::spawn(receive_all(device, self.messages, base)))
            .collect();
        send_all(sender, to, self.messages, self.pace, base).await?;
        let mut histogram = new_histogram()?;
        for task in tasks {
            histogram.add(task.await??.1)?;
        }
        Ok(json!({
            "messages": self.messages,
            "deliveries": deliveries,
            "histogram": encode_histogram(&histogram)?,
        }))
    }
}

impl Part for Fanout {
    fn phase(&mut self, _: usize) -> PhaseFuture<'_> {
        Box::pin(self.run())
    }
}

/// Deliveries per second, and what each cost.
pub fn report(args: &Args, phases: &[Phase]) -> anyhow::Result<Figures> {
    let phase = phases.first().ok_or_else(|| anyhow::anyhow!("no phase"))?;
    let deliveries = phase.sum("deliveries");
    let mut values = json!({
        "devices": args.devices,
        "messages": phase.sum("messages"),
        "deliveries": deliveries,
        "payload_bytes": args.payload_bytes,
        "seconds": phase.cost.seconds,
        "deliveries_per_sec": deliveries as f64 / phase.cost.seconds,
        "target_per_sec": 50_000,
        "latency": super::part::percentiles(&phase.histogram()?),
    });
    values["cost"] = phase.cost_per(deliveries);
    Ok(Figures {
        scenario: "fanout",
        variant: String::new(),
        values,
    })
}
