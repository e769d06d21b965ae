//! Protocol bytes per text message frame beyond the ciphertext.

use crate::results::Figures;
use courier_shared::ids::{DeviceId, MessageId, RequestId, UserId};
use courier_shared::proto::{self, ClientFrame, Payload, ServerFrame};
use serde_json::json;

/// Options of the wire scenario.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Ciphertext sizes to measure, in bytes.
    #[arg(long, value_delimiter = ',', default_value = "16,100,1000,10000")]
    pub sizes: Vec<usize>,
    /// Device and user numbers in the frames (ids grow with the user base).
    #[arg(long, default_value_t = 1_000_000)]
    pub id: u64,
}

impl Default for Args {
    fn default() -> Self {
        Self {
            sizes: vec![16, 100, 1000, 10_000],
            id: 1_000_000,
        }
    }
}

/// WebSocket framing bytes for a message of `len` bytes, server to client
/// (client to server adds a 4-byte mask).
fn ws_header(len: usize) -> usize {
    match len {
        0..=125 => 2,
        126..=65_535 => 4,
        _ => 10,
    }
}

/// Encodes a send and a delivery of each size and reports their overhead.
pub fn run(args: &Args) -> anyhow::Result<Figures> {
    let mut rows = Vec::new();
    for &size in &args.sizes {
        let payload = Payload::new(vec![0xa5; size]).ok_or_else(|| anyhow::anyhow!("too large"))?;
        let id = MessageId::v7(1_764_000_000_000, [7; 10]);
        // A device with 64 requests awaiting answers (the throughput
        // scenario's window) uses ids up to 64: two bytes on the wire.
        let send = proto::encode(&ClientFrame::SendFanout {
            request: RequestId(64),
            id,
            to: vec![DeviceId(args.id)],
            payload: payload.clone(),
        })?;
        let deliver = proto::encode(&ServerFrame::Deliver {
            id,
            from: UserId(args.id),
            from_device: DeviceId(args.id),
            payload,
        })?;
        rows.push(json!({
            "ciphertext_bytes": size,
            "send_frame_overhead": send.len() - size,
            "deliver_frame_overhead": deliver.len() - size,
            "send_websocket_header": ws_header(send.len()) + 4,
            "deliver_websocket_header": ws_header(deliver.len()),
        }));
    }
    Ok(Figures {
        scenario: "wire",
        variant: String::new(),
        values: json!({ "ids_up_to": args.id, "sizes": rows }),
    })
}
