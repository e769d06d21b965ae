//! Senders and receivers: each message carries its send time (microseconds
//! since a base instant, in its first 8 bytes), so the receiver can record
//! how long it took end to end.

use super::part::{encode_histogram, new_histogram};
use crate::device::Device;
use anyhow::bail;
use courier_shared::client::Event;
use courier_shared::ids::DeviceId;
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::time::MissedTickBehavior;

/// How a sender sends.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// Unaccepted messages it keeps in flight at most.
    pub window: usize,
    /// Time between sends (`None`: as fast as the window allows).
    pub every: Option<Duration>,
    /// Ciphertext bytes per message (at least 8).
    pub payload_bytes: usize,
}

/// `n` devices, registered and signed in (sequentially: set-up is not measured).
pub async fn devices(addr: SocketAddr, n: usize) -> anyhow::Result<Vec<Device>> {
    let mut devices = Vec::with_capacity(n);
    for _ in 0..n {
        devices.push(Device::register(addr, None).await?);
    }
    Ok(devices)
}

/// `n` (sender, receiver) pairs.
pub async fn pairs(addr: SocketAddr, n: usize) -> anyhow::Result<Vec<(Device, Device)>> {
    let mut senders = devices(addr, n * 2).await?;
    let receivers = senders.split_off(n);
    Ok(senders.into_iter().zip(receivers).collect())
}

fn micros(base: Instant) -> u64 {
    u64::try_from(base.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// Sends `count` messages to `to` as `pace` allows; returns once every one
/// was accepted.
pub async fn send_all(
    mut device: Device,
    to: Vec<DeviceId>,
    count: usize,
    pace: Pace,
    base: Instant,
) -> anyhow::Result<Device> {
    let mut ticker = tokio::time::interval(pace.every.unwrap_or(Duration::from_secs(3600)));
    ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let window = pace.window.max(1);
    let (mut sent, mut accepted) = (0, 0);
    let payload = |base| {
        let mut payload = vec![0x5a; pace.payload_bytes.max(8)];
        payload[..8].copy_from_slice(&micros(base).to_le_bytes());
        payload
    };
    while accepted < count {
        if pace.every.is_none() {
            while sent < count && sent - accepted < window {
                device.send(to.clone(), payload(base)).await?;
                sent += 1;
            }
        }
        let room = sent < count && sent - accepted < window;
        tokio::select! {
            _ = ticker.tick(), if pace.every.is_some() && room => {
                device.send(to.clone(), payload(base)).await?;
                sent += 1;
            }
            message = device.recv() => {
                device.handle(message?).await;
                while let Some(event) = device.take_event() {
                    match crate::device::accepted(&event) {
                        Some(Ok(())) => accepted += 1,
                        Some(Err(reason)) => bail!("a send was refused: {reason}"),
                        None => {}
                    }
                }
            }
        }
    }
    Ok(device)
}

/// Waits until `count` messages arrived (the client core acknowledges each)
/// and records each one's time from send to arrival.
pub async fn receive_all(
    mut device: Device,
    count: usize,
    base: Instant,
) -> anyhow::Result<(Device, Histogram<u64>)> {
    let mut histogram = new_histogram()?;
    let mut received = 0;
    while received < count {
        if let Event::Message { payload, .. } = device.next_event().await? {
            let mut sent = [0u8; 8];
            if let Some(head) = payload.as_bytes().get(..8) {
                sent.copy_from_slice(head);
            }
            let took = micros(base).saturating_sub(u64::from_le_bytes(sent));
            histogram.saturating_record(took.max(1));
            received += 1;
        }
    }
    Ok((device, histogram))
}

/// Runs every pair at once, `per_pair` messages each; returns the count and
/// the latency histogram (hex) as a share's figures.
pub async fn run_pairs(
    pairs: Vec<(Device, Device)>,
    per_pair: usize,
    pace: Pace,
) -> anyhow::Result<Value> {
    let base = Instant::now();
    let mut receivers = Vec::new();
    let mut senders = Vec::new();
    let count = pairs.len() * per_pair;
    for (sender, receiver) in pairs {
        let to = vec![receiver.device];
        receivers.push(tokio::spawn(receive_all(receiver, per_pair, base)));
        senders.push(tokio::spawn(send_all(sender, to, per_pair, pace, base)));
    }
    for sender in senders {
        sender.await??;
    }
    let mut histogram = new_histogram()?;
    for receiver in receivers {
        histogram.add(receiver.await??.1)?;
    }
    Ok(json!({ "messages": count, "histogram": encode_histogram(&histogram)? }))
}
