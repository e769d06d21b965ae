//! [`TestDevice`]: a native device running the shared client core (the same
//! state machine as the web client) over a real WebSocket.

use courier_shared::client::{Action, Connection, Event};
use courier_shared::crypto::identity::DeviceKey;
use courier_shared::ids::{DeviceId, MessageId, UserId, Username};
use courier_shared::proto::{self, ClientFrame, Payload};
use futures_util::{SinkExt, StreamExt};
use std::collections::VecDeque;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long [`TestDevice::expect`] waits for an event.
pub const EVENT_TIMEOUT: Duration = Duration::from_secs(15);

/// 32 random bytes.
pub fn random_seed() -> [u8; 32] {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).expect("randomness");
    seed
}

/// A fresh message id.
pub fn new_message_id() -> MessageId {
    let mut random = [0u8; 10];
    getrandom::fill(&mut random).expect("randomness");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis();
    MessageId::v7(u64::try_from(now).expect("fits"), random)
}

/// A device: its key, its connection machine and its socket.
pub struct TestDevice {
    url: String,
    socket: Option<Socket>,
    conn: Connection,
    events: VecDeque<Event>,
    started: Instant,
    /// The device's user.
    pub user: UserId,
    /// The device.
    pub device: DeviceId,
    /// The device key's secret seed.
    pub seed: [u8; 32],
    /// Whether acknowledgements are withheld (to provoke redelivery).
    pub withhold_acks: bool,
    /// Bytes of the WebSocket messages this device sent (frames, without
    /// the WebSocket header).
    pub bytes_sent: u64,
}

impl TestDevice {
    /// Registers `username` from a new device at `ws_url`.
    pub async fn register(ws_url: &str, username: &str) -> Self {
        Self::register_seeded(ws_url, username, random_seed()).await
    }

    /// Joins the account that opened `link`, as a new device whose key has
    /// `seed`.
    pub async fn link(ws_url: &str, link: courier_shared::ids::LinkId, seed: [u8; 32]) -> Self {
        let mut device = Self::new(ws_url, seed);
        let actions = device.conn.link(link, DeviceKey::from_seed(seed));
        device.connect(actions).await;
        device.wait_signed_in().await;
        device
    }

    /// Registers `username` from a new device whose key has `seed`.
    pub async fn register_seeded(ws_url: &str, username: &str, seed: [u8; 32]) -> Self {
        let mut device = Self::new(ws_url, seed);
        let name = Username::parse(username).expect("valid username");
        let actions = device.conn.register(name, DeviceKey::from_seed(seed));
        device.connect(actions).await;
        device.wait_signed_in().await;
        device
    }

    /// Signs in as an existing `device` whose key has `seed`.
    pub async fn sign_in(ws_url: &str, device: DeviceId, seed: [u8; 32]) -> Self {
        let mut this = Self::new(ws_url, seed);
        let actions = this.conn.sign_in(device, DeviceKey::from_seed(seed));
        this.connect(actions).await;
        this.wait_signed_in().await;
        this
    }

    fn new(ws_url: &str, seed: [u8; 32]) -> Self {
        Self {
            url: ws_url.to_owned(),
            socket: None,
            conn: Connection::new("courier-tests"),
            events: VecDeque::new(),
            started: Instant::now(),
            user: UserId(0),
            device: DeviceId(0),
            seed,
            withhold_acks: false,
            bytes_sent: 0,
        }
    }

    fn now(&self) -> f64 {
        self.started.elapsed().as_secs_f64() * 1_000.0
    }

    async fn connect(&mut self, mut pending: Vec<Action>) {
        let (socket, _) = connect_async(&self.url).await.expect("WebSocket connects");
        self.socket = Some(socket);
        pending.extend(self.conn.on_open(self.now()));
        self.apply(pending).await;
    }

    async fn wait_signed_in(&mut self) {
        let (user, device) = self
            .expect(|e| match e {
                Event::SignedIn { user, device } => Some((*user, *device)),
                _ => None,
            })
            .await;
        self.user = user;
        self.device = device;
    }

    /// Drops the connection (the device goes offline) without losing its
    /// state: outbox, seen ids, identity.
    pub async fn disconnect(&mut self) {
        if let Some(mut socket) = self.socket.take() {
            let _ = socket.close(None).await;
        }
        self.conn.on_close(0.0);
    }

    /// Connects again and signs in.
    pub async fn reconnect(&mut self) {
        self.disconnect().await;
        self.connect(Vec::new()).await;
        self.wait_signed_in().await;
    }

    async fn apply(&mut self, actions: Vec<Action>) {
        for action in actions {
            match action {
                Action::Send(ClientFrame::Ack { .. }) if self.withhold_acks => {}
                Action::Send(frame) => {
                    let bytes = proto::encode(&frame).expect("encodes");
                    self.bytes_sent += bytes.len() as u64;
                    if let Some(socket) = &mut self.socket {
                        let _ = socket.send(Message::Binary(bytes.into())).await;
                    }
                }
                Action::Emit(event) => self.events.push_back(event),
                Action::Close => {
                    if let Some(socket) = &mut self.socket {
                        let _ = socket.close(None).await;
                    }
                }
                Action::ReconnectAfter(_) => {}
            }
        }
    }

    /// Sends `frame` through the client core (sends go via the outbox).
    pub async fn send(&mut self, frame: ClientFrame) {
        let actions = self.conn.send(frame);
        self.apply(actions).await;
    }

    /// Sends `text` to `devices` as one fan-out message; returns its id.
    pub async fn send_text(&mut self, devices: &[DeviceId], text: &str) -> MessageId {
        let id = new_message_id();
        self.send(ClientFrame::SendFanout {
            id,
            to: devices.to_vec(),
            payload: Payload::new(text.as_bytes().to_vec()).expect("small"),
        })
        .await;
        id
    }

    /// Reads one message from the server (or ticks the clock), applying
    /// what the client core decides. `false` if the socket is closed.
    async fn pump(&mut self) -> bool {
        let Some(socket) = &mut self.socket else {
            return false;
        };
        let next = tokio::time::timeout(Duration::from_millis(100), socket.next()).await;
        let now = self.now();
        let actions = match next {
            Err(_) => self.conn.on_tick(now),
            Ok(Some(Ok(Message::Binary(bytes)))) => self.conn.on_message(&bytes, now),
            Ok(Some(Ok(Message::Close(_))) | Some(Err(_)) | None) => {
                self.socket = None;
                self.conn.on_close(0.0);
                return false;
            }
            Ok(Some(Ok(_))) => Vec::new(),
        };
        self.apply(actions).await;
        true
    }

    /// Waits (at most [`EVENT_TIMEOUT`]) for an event that `pick` accepts,
    /// keeping the others for later calls.
    pub async fn expect<T>(&mut self, mut pick: impl FnMut(&Event) -> Option<T>) -> T {
        let deadline = Instant::now() + EVENT_TIMEOUT;
        loop {
            if let Some(index) = self.events.iter().position(|e| pick(e).is_some())
                && let Some(event) = self.events.remove(index)
                && let Some(found) = pick(&event)
            {
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "no expected event within {EVENT_TIMEOUT:?}; got {:?}",
                self.events
            );
            if !self.pump().await {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }

    /// Keeps the connection running for `period`; returns every event seen.
    pub async fn idle(&mut self, period: Duration) -> Vec<Event> {
        let deadline = Instant::now() + period;
        while Instant::now() < deadline {
            if !self.pump().await {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        self.events.drain(..).collect()
    }

    /// Waits for the next message and returns (id, sender, text).
    pub async fn next_message(&mut self) -> (MessageId, UserId, String) {
        self.expect(|e| match e {
            Event::Message {
                id, from, payload, ..
            } => Some((
                *id,
                *from,
                String::from_utf8_lossy(payload.as_bytes()).into_owned(),
            )),
            _ => None,
        })
        .await
    }

    /// The id of the user named `username`.
    pub async fn lookup(&mut self, username: &str) -> UserId {
        let name = Username::parse(username).expect("valid username");
        self.send(ClientFrame::LookupUser {
            username: name.clone(),
        })
        .await;
        self.expect(|e| match e {
            Event::UserInfo { user, username, .. } if *username == name => Some(*user),
            _ => None,
        })
        .await
    }

    /// Waits for the server to accept message `id`.
    pub async fn accepted(&mut self, id: MessageId) {
        self.expect(|e| (*e == Event::Accepted(id)).then_some(()))
            .await;
    }

    /// Sends a raw WebSocket message, bypassing the client core.
    pub async fn send_raw(&mut self, message: Message) {
        if let Some(socket) = &mut self.socket {
            socket.send(message).await.expect("send");
        }
    }

    /// Reads raw frames until the server closes; returns the error frame's
    /// code, if one came.
    pub async fn closed_with(&mut self) -> Option<courier_shared::proto::ErrorCode> {
        let deadline = Instant::now() + EVENT_TIMEOUT;
        let mut code = None;
        while let Some(socket) = &mut self.socket {
            assert!(Instant::now() < deadline, "the server did not close");
            match tokio::time::timeout(Duration::from_millis(200), socket.next()).await {
                Ok(Some(Ok(Message::Binary(bytes)))) => {
                    if let Ok(courier_shared::proto::ServerFrame::Error { code: c, .. }) =
                        proto::decode(&bytes)
                    {
                        code = Some(c);
                    }
                }
                Ok(Some(Ok(Message::Close(_)) | Err(_)) | None) => self.socket = None,
                _ => {}
            }
        }
        code
    }
}
