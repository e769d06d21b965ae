//! Latency under a fixed offered load: senders send on a timer, receivers
//! record the time from send to delivery in an HDR histogram.

use super::pairs::{Pace, pairs};
use super::part::{Phase, Share, percentiles};
use super::throughput::Pairs;
use crate::results::Figures;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::net::SocketAddr;
use std::time::Duration;

/// Options of the latency scenario.
#[derive(Debug, Clone, clap::Args, Serialize, Deserialize)]
pub struct Args {
    /// Sender/receiver pairs (over all processes).
    #[arg(long, default_value_t = 20)]
    pub pairs: usize,
    /// Messages per second offered in all.
    #[arg(long, default_value_t = 1_000)]
    pub rate: u64,
    /// Seconds of load.
    #[arg(long, default_value_t = 10)]
    pub duration_secs: u64,
    /// Ciphertext bytes per message (at least 8: the send time rides in it).
    #[arg(long, default_value_t = 100)]
    pub payload_bytes: usize,
}

/// Registers this share's pairs, each sending at `rate / pairs` per second.
pub async fn prepare(addr: SocketAddr, args: &Args, share: Share) -> anyhow::Result<Pairs> {
    let pairs_total = args.pairs.max(1);
    let per_pair = usize::try_from(args.rate * args.duration_secs).unwrap_or(0) / pairs_total;
    let every = Duration::from_secs_f64(pairs_total as f64 / args.rate.max(1) as f64);
    Ok(Pairs::new(
        pairs(addr, share.of_total(pairs_total)).await?,
        per_pair,
        Pace {
            window: usize::MAX,
            every: Some(every),
            payload_bytes: args.payload_bytes,
        },
    ))
}

/// Latency percentiles in milliseconds at the offered load.
pub fn report(args: &Args, phases: &[Phase]) -> anyhow::Result<Figures> {
    let phase = phases.first().ok_or_else(|| anyhow::anyhow!("no phase"))?;
    let histogram = phase.histogram()?;
    let messages = phase.sum("messages");
    let mut values = json!({
        "pairs": args.pairs,
        "offered_per_sec": args.rate,
        "messages": histogram.len(),
        "delivered_per_sec": messages as f64 / phase.cost.seconds,
    });
    if let (Some(values), Some(latency)) =
        (values.as_object_mut(), percentiles(&histogram).as_object())
    {
        values.extend(latency.clone());
    }
    values["cost"] = phase.cost_per(messages);
    Ok(Figures {
        scenario: "latency",
        variant: format!("rate={}", args.rate),
        values,
    })
}
