//! Offline drain: messages queued for devices that are offline (phase 1),
//! then the time it takes those devices to receive them all once they
//! connect (phase 2).

use super::pairs::{Pace, pairs, receive_all, send_all};
use super::part::{Part, Phase, PhaseFuture, Share, encode_histogram, new_histogram};
use crate::device::Device;
use crate::results::Figures;
use courier_shared::ids::DeviceId;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::net::SocketAddr;
use std::time::Instant;

/// Options of the drain scenario.
#[derive(Debug, Clone, clap::Args, Serialize, Deserialize)]
pub struct Args {
    /// Messages to queue, in all.
    #[arg(long, default_value_t = 10_000)]
    pub messages: usize,
    /// Sender/receiver pairs (over all processes); every receiver is offline
    /// while its messages are queued.
    #[arg(long, default_value_t = 1)]
    pub pairs: usize,
    /// Unaccepted messages each sender keeps in flight.
    #[arg(long, default_value_t = 256)]
    pub window: usize,
    /// Ciphertext bytes per message.
    #[arg(long, default_value_t = 100)]
    pub payload_bytes: usize,
}

/// One process's senders and its offline receivers (device and key seed).
pub struct Drain {
    addr: SocketAddr,
    senders: Vec<(Device, DeviceId)>,
    receivers: Vec<(DeviceId, [u8; 32])>,
    per_pair: usize,
    pace: Pace,
}

/// Registers this share's pairs and takes the receivers offline.
pub async fn prepare(addr: SocketAddr, args: &Args, share: Share) -> anyhow::Result<Drain> {
    let mut senders = Vec::new();
    let mut receivers = Vec::new();
    for (sender, receiver) in pairs(addr, share.of_total(args.pairs.max(1))).await? {
        receivers.push((receiver.device, receiver.seed));
        senders.push((sender, receiver.device));
        receiver.close().await;
    }
    Ok(Drain {
        addr,
        senders,
        receivers,
        per_pair: args.messages / args.pairs.max(1),
        pace: Pace {
            window: args.window,
            every: None,
            payload_bytes: args.payload_bytes,
        },
    })
}

impl Drain {
    async fn queue(&mut self) -> anyhow::Result<serde_json::Value> {
        let base = Instant::now();
        let mut tasks = Vec::new();
        for (sender, to) in std::mem::take(&mut self.senders) {
            tasks.push(tokio::spawn(send_all(
                sender,
                vec![to],
                self.per_pair,
                self.pace,
                base,
            )));
        }
        for task in tasks {
            task.await??.close().await;
        }
        Ok(json!({ "messages": self.receivers.len() * self.per_pair }))
    }

    async fn drain(&mut self) -> anyhow::Result<serde_json::Value> {
        let base = Instant::now();
        let mut tasks = Vec::new();
        for (device, seed) in std::mem::take(&mut self.receivers) {
            let (addr, count) = (self.addr, self.per_pair);
            tasks.push(tokio::spawn(async move {
                let receiver = Device::sign_in(addr, None, device, seed).await?;
                receive_all(receiver, count, base).await
            }));
        }
        let mut histogram = new_histogram()?;
        let mut messages = 0;
        for task in tasks {
            histogram.add(task.await??.1)?;
            messages += self.per_pair;
        }
        Ok(json!({ "messages": messages, "histogram": encode_histogram(&histogram)? }))
    }
}

impl Part for Drain {
    fn phase(&mut self, n: usize) -> PhaseFuture<'_> {
        if n == 0 {
            Box::pin(self.queue())
        } else {
            Box::pin(self.drain())
        }
    }
}

/// The queuing and draining rates, and what each cost.
pub fn report(args: &Args, phases: &[Phase]) -> anyhow::Result<Figures> {
    let [queue, drain] = phases else {
        anyhow::bail!("the drain scenario has two phases");
    };
    let messages = queue.sum("messages");
    let mut values = json!({
        "messages": messages,
        "pairs": args.pairs,
        "payload_bytes": args.payload_bytes,
        "queued_per_sec": messages as f64 / queue.cost.seconds,
        "drain_seconds": drain.cost.seconds,
        "drained_per_sec": drain.sum("messages") as f64 / drain.cost.seconds,
        "target_per_sec": 10_000,
    });
    values["queue_cost"] = queue.cost_per(messages);
    values["drain_cost"] = drain.cost_per(drain.sum("messages"));
    Ok(Figures {
        scenario: "drain",
        variant: format!("pairs={}", args.pairs),
        values,
    })
}
