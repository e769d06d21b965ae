//! Micro-benchmarks of what end-to-end encryption costs a client per
//! message: Olm (one-to-one) and Megolm (groups) on a 100-byte message,
//! and opening a new Olm session from a claimed pre-key. These are the
//! vodozemac primitives `crypto::device` and `crypto::group` call, with the
//! same session configuration; Courier's envelope around them is a CBOR
//! encode/decode as cheap as the frames in `benches/frames.rs`.
//! `cargo bench -p courier-shared --bench crypto`.

#[cfg(not(target_arch = "wasm32"))]
mod crypto {
    use criterion::{BatchSize, Criterion, Throughput};
    use std::hint::black_box;
    use std::time::{Duration, Instant};
    use vodozemac::megolm::{self, GroupSession, InboundGroupSession};
    use vodozemac::olm::{Account, OlmMessage, Session, SessionConfig};

    /// The plaintext of a short text message, as the benchmark sends it.
    const MESSAGE: [u8; 100] = [0x5a; 100];

    /// A session from `alice` to `bob` and its first (pre-key) message.
    fn open(alice: &Account, bob: &mut Account) -> (Session, OlmMessage) {
        bob.generate_one_time_keys(1);
        let one_time = *bob.one_time_keys().values().next().expect("a fresh key");
        bob.mark_keys_as_published();
        let mut session = alice
            .create_outbound_session(SessionConfig::version_1(), bob.curve25519_key(), one_time)
            .expect("bob's key is valid");
        let first = session.encrypt(MESSAGE).expect("encrypts");
        (session, first)
    }

    /// Two accounts with a session each way, past the pre-key exchange.
    fn pair() -> (Session, Session) {
        let alice = Account::new();
        let mut bob = Account::new();
        let (mut outbound, first) = open(&alice, &mut bob);
        let OlmMessage::PreKey(pre_key) = &first else {
            panic!("the first message carries the pre-key");
        };
        let mut inbound = bob
            .create_inbound_session(SessionConfig::version_1(), alice.curve25519_key(), pre_key)
            .expect("opens")
            .session;
        // Bob answers once, so that Alice's next messages are normal ones.
        let reply = inbound.encrypt(MESSAGE).expect("encrypts");
        outbound.decrypt(&reply).expect("decrypts");
        (outbound, inbound)
    }

    /// Olm on a 100-byte message: one direction (a chain-key step per
    /// message) and a conversation that alternates (a Diffie-Hellman ratchet
    /// step at each turn, as in a chat where both write).
    pub fn olm(c: &mut Criterion) {
        let mut group = c.benchmark_group("olm");
        group.throughput(Throughput::Elements(1));
        let (mut alice, _) = pair();
        group.bench_function("encrypt 100 B", |b| {
            b.iter(|| alice.encrypt(black_box(MESSAGE)).expect("encrypts"))
        });
        let (mut alice, mut bob) = pair();
        group.bench_function("decrypt 100 B", |b| {
            b.iter_batched(
                || alice.encrypt(MESSAGE).expect("encrypts"),
                |message| bob.decrypt(&message).expect("decrypts"),
                BatchSize::SmallInput,
            )
        });
        let (mut a, mut b) = pair();
        group.bench_function("encrypt + decrypt 100 B, alternating turns", |bench| {
            bench.iter(|| {
                let there = a.encrypt(black_box(MESSAGE)).expect("encrypts");
                b.decrypt(&there).expect("decrypts");
                let back = b.encrypt(black_box(MESSAGE)).expect("encrypts");
                a.decrypt(&back).expect("decrypts")
            })
        });
        group.finish();
    }

    /// A new Olm session from a claimed one-time key: the sender's side
    /// (triple Diffie-Hellman, then its first message) and the receiver's
    /// (the same from the pre-key message, then decrypting it).
    pub fn new_session(c: &mut Criterion) {
        let mut group = c.benchmark_group("olm session");
        let alice = Account::new();
        let mut bob = Account::new();
        let bob_identity = bob.curve25519_key();
        // Timed by hand: each round needs a fresh one-time key (or pre-key
        // message), made outside the measured part.
        group.bench_function("create outbound + first message", |b| {
            b.iter_custom(|rounds| {
                let mut spent = Duration::ZERO;
                for _ in 0..rounds {
                    bob.generate_one_time_keys(1);
                    let one_time = *bob.one_time_keys().values().next().expect("a fresh key");
                    bob.mark_keys_as_published();
                    let started = Instant::now();
                    let mut session = alice
                        .create_outbound_session(SessionConfig::version_1(), bob_identity, one_time)
                        .expect("valid key");
                    black_box(session.encrypt(MESSAGE).expect("encrypts"));
                    spent += started.elapsed();
                }
                spent
            })
        });
        group.bench_function("create inbound from a pre-key message", |b| {
            b.iter_custom(|rounds| {
                let mut spent = Duration::ZERO;
                for _ in 0..rounds {
                    let OlmMessage::PreKey(pre_key) = open(&alice, &mut bob).1 else {
                        panic!("the first message carries the pre-key");
                    };
                    let started = Instant::now();
                    black_box(
                        bob.create_inbound_session(
                            SessionConfig::version_1(),
                            alice.curve25519_key(),
                            &pre_key,
                        )
                        .expect("opens"),
                    );
                    spent += started.elapsed();
                }
                spent
            })
        });
        group.finish();
    }

    /// Megolm on a 100-byte message: the sender encrypts once for the whole
    /// group, each member device decrypts.
    pub fn megolm(c: &mut Criterion) {
        let mut group = c.benchmark_group("megolm");
        group.throughput(Throughput::Elements(1));
        let mut outbound = GroupSession::new(megolm::SessionConfig::version_1());
        group.bench_function("encrypt 100 B", |b| {
            b.iter(|| outbound.encrypt(black_box(MESSAGE)))
        });
        let mut outbound = GroupSession::new(megolm::SessionConfig::version_1());
        let mut reader =
            InboundGroupSession::new(&outbound.session_key(), megolm::SessionConfig::version_1());
        group.bench_function("decrypt 100 B", |b| {
            b.iter_batched(
                || outbound.encrypt(MESSAGE),
                |message| reader.decrypt(&message).expect("decrypts"),
                BatchSize::SmallInput,
            )
        });
        group.finish();
    }
}

#[cfg(not(target_arch = "wasm32"))]
criterion::criterion_group!(benches, crypto::olm, crypto::new_session, crypto::megolm);
#[cfg(not(target_arch = "wasm32"))]
criterion::criterion_main!(benches);

#[cfg(target_arch = "wasm32")]
fn main() {}
