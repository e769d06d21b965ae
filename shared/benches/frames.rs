//! Micro-benchmarks of the hot path's pure code: encoding and decoding the
//! frames every message crosses, and the Ed25519 signatures of sign-in.
//! `cargo bench -p courier-shared --bench frames` (message encryption:
//! `benches/crypto.rs`).

#[cfg(not(target_arch = "wasm32"))]
mod frames {
    use courier_shared::crypto::identity::{DeviceKey, verify};
    use courier_shared::ids::{DeviceId, MessageId, RequestId, UserId};
    use courier_shared::proto::{self, ClientFrame, Payload, ServerFrame};
    use criterion::{Criterion, Throughput};
    use std::hint::black_box;

    fn deliver() -> ServerFrame {
        ServerFrame::Deliver {
            id: MessageId::v7(1_764_000_000_000, [7; 10]),
            from: UserId(123_456),
            from_device: DeviceId(234_567),
            payload: Payload::new(vec![0xa5; 100]).expect("small"),
        }
    }

    fn send() -> ClientFrame {
        ClientFrame::SendFanout {
            request: RequestId(1),
            id: MessageId::v7(1_764_000_000_000, [7; 10]),
            to: vec![DeviceId(234_567)],
            payload: Payload::new(vec![0xa5; 100]).expect("small"),
        }
    }

    /// Encode and decode of a 100-byte message, both directions.
    pub fn codec(c: &mut Criterion) {
        let mut group = c.benchmark_group("codec");
        group.throughput(Throughput::Elements(1));
        let frame = deliver();
        let bytes = proto::encode(&frame).expect("encodes");
        group.bench_function("encode Deliver (100 B)", |b| {
            b.iter(|| proto::encode(black_box(&frame)))
        });
        group.bench_function("decode Deliver (100 B)", |b| {
            b.iter(|| proto::decode::<ServerFrame>(black_box(&bytes)))
        });
        let frame = send();
        let bytes = proto::encode(&frame).expect("encodes");
        group.bench_function("encode SendFanout (100 B)", |b| {
            b.iter(|| proto::encode(black_box(&frame)))
        });
        group.bench_function("decode SendFanout (100 B)", |b| {
            b.iter(|| proto::decode::<ClientFrame>(black_box(&bytes)))
        });
        group.finish();
    }

    /// Signing and verifying a sign-in challenge.
    pub fn signatures(c: &mut Criterion) {
        let key = DeviceKey::from_seed([3; 32]);
        let public = key.public_key();
        let message = [9u8; 56];
        let signature = key.sign(&message);
        c.bench_function("ed25519 sign", |b| b.iter(|| key.sign(black_box(&message))));
        c.bench_function("ed25519 verify", |b| {
            b.iter(|| {
                verify(
                    black_box(&public),
                    black_box(&message),
                    black_box(&signature),
                )
            })
        });
    }
}

#[cfg(not(target_arch = "wasm32"))]
criterion::criterion_group!(benches, frames::codec, frames::signatures);
#[cfg(not(target_arch = "wasm32"))]
criterion::criterion_main!(benches);

#[cfg(target_arch = "wasm32")]
fn main() {}
