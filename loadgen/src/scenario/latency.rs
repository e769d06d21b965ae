//! Latency under a fixed offered load: senders send on a timer, receivers
//! record the time from send to delivery in an HDR histogram.

use super::devices;
use crate::device::Device;
use crate::results::Figures;
use crate::server::Server;
use courier_shared::client::Event;
use courier_shared::ids::DeviceId;
use hdrhistogram::Histogram;
use serde_json::json;
use std::time::{Duration, Instant};
use tokio::time::MissedTickBehavior;

/// Options of the latency scenario.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Sender/receiver pairs.
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

async fn send_on_timer(
    mut device: Device,
    to: DeviceId,
    count: usize,
    every: Duration,
    base: Instant,
    payload_bytes: usize,
) -> anyhow::Result<()> {
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let (mut sent, mut accepted) = (0, 0);
    while accepted < count {
        tokio::select! {
            _ = ticker.tick(), if sent < count => {
                let mut payload = vec![0u8; payload_bytes.max(8)];
                let micros = u64::try_from(base.elapsed().as_micros()).unwrap_or(u64::MAX);
                payload[..8].copy_from_slice(&micros.to_le_bytes());
                device.send(vec![to], payload).await?;
                sent += 1;
            }
            message = device.recv() => {
                device.handle(message?).await;
                while let Some(event) = device.take_event() {
                    if let Some(Ok(())) = crate::device::accepted(&event) {
                        accepted += 1;
                    }
                }
            }
        }
    }
    Ok(())
}

async fn record(mut device: Device, count: usize, base: Instant) -> anyhow::Result<Histogram<u64>> {
    let mut histogram = Histogram::new_with_bounds(1, 60_000_000, 3)?;
    let mut received = 0;
    while received < count {
        if let Event::Message { payload, .. } = device.next_event().await? {
            let mut sent = [0u8; 8];
            sent.copy_from_slice(&payload.as_bytes()[..8]);
            let now = u64::try_from(base.elapsed().as_micros()).unwrap_or(u64::MAX);
            histogram.saturating_record(now.saturating_sub(u64::from_le_bytes(sent)).max(1));
            received += 1;
        }
    }
    Ok(histogram)
}

/// Offers the load and reports latency percentiles in milliseconds.
pub async fn run(server: &Server, args: &Args) -> anyhow::Result<Figures> {
    let pairs = args.pairs.max(1);
    let per_pair = usize::try_from(args.rate * args.duration_secs).unwrap_or(0) / pairs;
    let every = Duration::from_secs_f64(pairs as f64 / args.rate.max(1) as f64);
    let mut all = devices(server, pairs * 2).await?;
    let receivers: Vec<Device> = all.split_off(pairs);
    let base = Instant::now();
    let mut senders = Vec::new();
    let mut recorders = Vec::new();
    for (sender, receiver) in all.into_iter().zip(receivers) {
        let to = receiver.device;
        recorders.push(tokio::spawn(record(receiver, per_pair, base)));
        senders.push(tokio::spawn(send_on_timer(
            sender,
            to,
            per_pair,
            every,
            base,
            args.payload_bytes,
        )));
    }
    for sender in senders {
        sender.await??;
    }
    let mut histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    for recorder in recorders {
        histogram.add(recorder.await??)?;
    }
    let ms = |q: f64| histogram.value_at_quantile(q) as f64 / 1_000.0;
    Ok(Figures {
        scenario: "latency",
        values: json!({
            "pairs": pairs,
            "offered_per_sec": args.rate,
            "messages": histogram.len(),
            "p50_ms": ms(0.50),
            "p90_ms": ms(0.90),
            "p99_ms": ms(0.99),
            "max_ms": histogram.max() as f64 / 1_000.0,
        }),
    })
}
