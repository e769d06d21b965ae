//! The chaos test: two nodes behind nginx, 200 devices exchanging 20,000
//! messages while one node is killed with SIGKILL and restarted and Postgres
//! is restarted. Every message must reach the client layer exactly once.
//!
//! Seeded and bounded in time. It restarts the Postgres server named by
//! `TEST_DATABASE_URL` with the command in `TEST_POSTGRES_RESTART`, so
//! `cargo xtask test` runs it alone, after the other tests.

use courier_shared::client::{Action, Connection, Event, Outbox, Outcome};
use courier_shared::crypto::identity::DeviceKey;
use courier_shared::ids::{DeviceId, MessageId, RequestId};
use courier_shared::proto::{self, ClientFrame, Payload};
use courier_shared::time::system_now_ms;
use courier_tests::device::new_message_id;
use courier_tests::nginx::{self, Nginx};
use courier_tests::process::{CourierProcess, courier_bin};
use courier_tests::{Backend, TestDevice, browser::free_port, env, fresh_database_url};
use futures_util::{SinkExt, StreamExt};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

const DEVICES: usize = 200;
const MESSAGES: usize = 20_000;
const SEED: u64 = 0x00c0_ffee_2026;
const TIME_LIMIT: Duration = Duration::from_secs(360);
/// Sends a device keeps unaccepted at once.
const WINDOW: usize = 8;

/// xorshift64*: a small seeded generator, so every run sends the same plan.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Counters shared by every device task.
#[derive(Default)]
struct Tally {
    received: AtomicU64,
    duplicates: AtomicU64,
    deliveries: AtomicU64,
    reconnects: AtomicU64,
}

/// What one device got: message ids, each emitted once by the client core.
type Inbox = HashSet<MessageId>;

/// Runs one device until `stop`: connects (again and again) through nginx,
/// sends its plan through the outbox, and records what it receives.
async fn run_device(
    url: String,
    device: DeviceId,
    seed: [u8; 32],
    mut plan: VecDeque<(DeviceId, MessageId)>,
    tally: Arc<Tally>,
    stop: CancellationToken,
) -> Inbox {
    let started = Instant::now();
    let now = || started.elapsed().as_secs_f64() * 1_000.0;
    let mut conn = Connection::new("chaos").acking_on_arrival();
    let mut pending = conn.sign_in(device, DeviceKey::from_seed(seed));
    // The client core's outbox, with raw frames: it decides what goes again.
    let mut outbox: Outbox<ClientFrame> = Outbox::default();
    let mut inbox = Inbox::new();
    let mut socket = None;
    let mut signed_in = false;
    while !stop.is_cancelled() {
        let Some(ws) = socket.as_mut() else {
            match tokio_tungstenite::connect_async(&url).await {
                Ok((ws, _)) => {
                    socket = Some(ws);
                    pending.extend(conn.on_open(now()));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
            continue;
        };
        if signed_in {
            if outbox.len() < WINDOW
                && let Some((to, id)) = plan.pop_front()
            {
                outbox.push(
                    id,
                    ClientFrame::SendFanout {
                        request: RequestId::NONE,
                        id,
                        to: vec![to],
                        payload: Payload::new(id.as_bytes().to_vec()).expect("small"),
                    },
                );
            }
            for (id, frame) in outbox.due(system_now_ms()) {
                let (request, actions) = conn.request(frame, now());
                outbox.sent(&id, request);
                pending.extend(actions);
            }
        }
        let mut closed = false;
        for action in pending.drain(..) {
            match action {
                Action::Send(frame) => {
                    if matches!(frame, ClientFrame::Ack { .. }) {
                        tally.deliveries.fetch_add(1, Ordering::Relaxed);
                    }
                    let bytes = proto::encode(&frame).expect("encodes");
                    closed |= ws.send(Message::Binary(bytes.into())).await.is_err();
                }
                Action::Emit(Event::SignedIn { .. }) => signed_in = true,
                Action::Emit(Event::Answer { request, answer }) => {
                    if let Some(Outcome::Refused(id, refusal)) =
                        outbox.on_answer(request, &answer, system_now_ms())
                    {
                        panic!("{id:?} refused: {refusal}");
                    }
                }
                Action::Emit(Event::Message { id, .. }) => {
                    if inbox.insert(id) {
                        tally.received.fetch_add(1, Ordering::Relaxed);
                    } else {
                        tally.duplicates.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Action::Close => closed = true,
                Action::Emit(_) | Action::ReconnectAfter(_) => {}
            }
        }
        if !closed {
            match tokio::time::timeout(Duration::from_millis(50), ws.next()).await {
                Err(_) => pending.extend(conn.on_tick(now())),
                Ok(Some(Ok(Message::Binary(bytes)))) => {
                    pending.extend(conn.on_message(&bytes, now()));
                }
                Ok(Some(Ok(Message::Close(_)) | Err(_)) | None) => closed = true,
                Ok(Some(Ok(_))) => {}
            }
        }
        if closed {
            socket = None;
            signed_in = false;
            // Requests on the dropped connection are answered "unanswered":
            // the outbox sends them again.
            pending.extend(conn.on_close(0.0));
            tally.reconnects.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    inbox
}

async fn wait_for(tally: &Tally, received: u64, deadline: Instant) {
    while tally.received.load(Ordering::Relaxed) < received {
        assert!(
            Instant::now() < deadline,
            "stuck at {} of {MESSAGES} messages",
            tally.received.load(Ordering::Relaxed)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_message_arrives_exactly_once_through_node_and_database_restarts() {
    let (Some(bin), Some(nginx_bin)) = (courier_bin(), nginx::available()) else {
        return;
    };
    let Some(restart) = env::optional("TEST_POSTGRES_RESTART", "the chaos test") else {
        return;
    };
    let started = Instant::now();
    let deadline = started + TIME_LIMIT;
    let data = tempfile::tempdir().expect("data dir");
    let url = fresh_database_url(Backend::Postgres, data.path()).await;
    let ports = [free_port(), free_port()];
    let args = |port: u16, dir: &str| {
        [
            "--listen".to_owned(),
            format!("127.0.0.1:{port}"),
            "--data-dir".to_owned(),
            dir.to_owned(),
            "--database-url".to_owned(),
            url.clone(),
            "--rate-limit-per-sec".to_owned(),
            "100000".to_owned(),
            "--rate-limit-burst".to_owned(),
            "100000".to_owned(),
        ]
    };
    let dirs = [data.path().join("a"), data.path().join("b")];
    let start_node = |i: usize| {
        let args = args(ports[i], dirs[i].to_str().expect("utf-8"));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        CourierProcess::start(&bin, &args, &[("COURIER_LOG", "warn")])
    };
    let mut nodes = [Some(start_node(0)), Some(start_node(1))];
    for node in nodes.iter().flatten() {
        courier_tests::wait_ready(&node.url).await;
    }
    let addrs: Vec<_> = ports
        .iter()
        .map(|p| format!("127.0.0.1:{p}").parse().expect("address"))
        .collect();
    let balancer = Nginx::start(&nginx_bin, &addrs);
    let ws_url = format!("ws://{}/ws", balancer.addr);

    let mut devices = Vec::with_capacity(DEVICES);
    for n in 0..DEVICES {
        let mut device = TestDevice::register(&ws_url, &format!("chaos{n}")).await;
        device.disconnect().await;
        devices.push((device.device, device.seed));
    }
    let mut rng = Rng(SEED);
    let mut plans: Vec<VecDeque<(DeviceId, MessageId)>> = vec![VecDeque::new(); DEVICES];
    let mut expected: HashMap<DeviceId, Inbox> = HashMap::new();
    for n in 0..MESSAGES {
        let from = n % DEVICES;
        let to = (from + 1 + rng.below(DEVICES - 1)) % DEVICES;
        let id = new_message_id();
        plans[from].push_back((devices[to].0, id));
        expected.entry(devices[to].0).or_default().insert(id);
    }

    let tally = Arc::new(Tally::default());
    let stop = CancellationToken::new();
    let traffic_started = Instant::now();
    let tasks: Vec<_> = devices
        .iter()
        .zip(plans)
        .map(|((device, seed), plan)| {
            tokio::spawn(run_device(
                ws_url.clone(),
                *device,
                *seed,
                plan,
                tally.clone(),
                stop.clone(),
            ))
        })
        .collect();

    wait_for(&tally, (MESSAGES / 4) as u64, deadline).await;
    let killed_at = tally.received.load(Ordering::Relaxed);
    if let Some(node) = nodes[0].take() {
        node.signal("KILL");
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    nodes[0] = Some(start_node(0));

    wait_for(&tally, (MESSAGES / 2) as u64, deadline).await;
    let restarted_db_at = tally.received.load(Ordering::Relaxed);
    let status = std::process::Command::new("sh")
        .args(["-c", &restart])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("restart Postgres");
    assert!(status.success(), "Postgres restart failed");

    wait_for(&tally, MESSAGES as u64, deadline).await;
    // A little longer, to catch any late duplicate.
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.cancel();
    let mut received: HashMap<DeviceId, Inbox> = HashMap::new();
    for (task, (device, _)) in tasks.into_iter().zip(&devices) {
        received.insert(*device, task.await.expect("device task"));
    }
    let elapsed = traffic_started.elapsed();
    let deliveries = tally.deliveries.load(Ordering::Relaxed);
    println!(
        "chaos: {MESSAGES} messages among {DEVICES} devices in {:.1} s ({:.0} msg/s) through \
         2 nodes behind nginx; node killed after {killed_at}, Postgres restarted after \
         {restarted_db_at}; {} reconnects; {} deliveries for {MESSAGES} messages \
         ({} redelivered and dropped by the client); {} shown twice",
        elapsed.as_secs_f64(),
        MESSAGES as f64 / elapsed.as_secs_f64(),
        tally.reconnects.load(Ordering::Relaxed),
        deliveries,
        deliveries.saturating_sub(MESSAGES as u64),
        tally.duplicates.load(Ordering::Relaxed),
    );
    drop(balancer);
    drop(nodes);
    assert_eq!(
        tally.duplicates.load(Ordering::Relaxed),
        0,
        "a message was shown twice"
    );
    for (device, want) in &expected {
        let got = received.get(device).cloned().unwrap_or_default();
        assert_eq!(got.len(), want.len(), "{device:?} got a different count");
        assert!(
            got == *want,
            "{device:?} got other messages than were sent to it"
        );
    }
    assert!(started.elapsed() < TIME_LIMIT);
}
