//! Throughput: pairs of online devices, each sender keeping a window of
//! messages in flight through the durable path (accepted only once queued
//! or acknowledged by the recipient device).

use super::pairs::{Pace, pairs, run_pairs};
use super::part::{Part, Phase, PhaseFuture, Share, percentiles};
use crate::device::Device;
use crate::results::Figures;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::net::SocketAddr;

/// Options of the throughput scenario.
#[derive(Debug, Clone, clap::Args, Serialize, Deserialize)]
pub struct Args {
    /// Sender/receiver pairs (over all processes).
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

/// One process's pairs.
pub struct Pairs {
    pairs: Vec<(Device, Device)>,
    per_pair: usize,
    pace: Pace,
}

/// Registers this share's pairs.
pub async fn prepare(addr: SocketAddr, args: &Args, share: Share) -> anyhow::Result<Pairs> {
    let per_pair = args.messages / args.pairs.max(1);
    Ok(Pairs::new(
        pairs(addr, share.of_total(args.pairs.max(1))).await?,
        per_pair,
        Pace {
            window: args.window,
            every: None,
            payload_bytes: args.payload_bytes,
        },
    ))
}

impl Pairs {
    /// `pairs` that will each send `per_pair` messages as `pace` allows.
    pub fn new(pairs: Vec<(Device, Device)>, per_pair: usize, pace: Pace) -> Self {
        Self {
            pairs,
            per_pair,
            pace,
        }
    }
}

impl Part for Pairs {
    fn phase(&mut self, _: usize) -> PhaseFuture<'_> {
        Box::pin(run_pairs(
            std::mem::take(&mut self.pairs),
            self.per_pair,
            self.pace,
        ))
    }
}

/// Messages delivered per second end to end, and what each cost.
pub fn report(args: &Args, phases: &[Phase]) -> anyhow::Result<Figures> {
    let phase = phases.first().ok_or_else(|| anyhow::anyhow!("no phase"))?;
    let messages = phase.sum("messages");
    let mut values = json!({
        "pairs": args.pairs,
        "messages": messages,
        "window": args.window,
        "payload_bytes": args.payload_bytes,
        "seconds": phase.cost.seconds,
        "delivered_per_sec": messages as f64 / phase.cost.seconds,
        "target_per_sec": 30_000,
        "latency": percentiles(&phase.histogram()?),
    });
    values["cost"] = phase.cost_per(messages);
    Ok(Figures {
        scenario: "throughput",
        variant: String::new(),
        values,
    })
}
