//! [`Device`]: one simulated device running the shared client core — the
//! same state machine as the web client — over a real WebSocket.

use anyhow::{Context, bail};
use courier_shared::client::{Action, Connection, Event};
use courier_shared::crypto::identity::DeviceKey;
use courier_shared::ids::{DeviceId, MessageId, UserId, Username};
use courier_shared::proto::{self, ClientFrame, Payload};
use futures_util::{SinkExt, StreamExt};
use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// The socket type.
pub type Ws = WebSocketStream<TcpStream>;

/// A device connected to the server under test.
pub struct Device {
    /// Its socket.
    pub ws: Ws,
    conn: Connection,
    started: Instant,
    events: VecDeque<Event>,
    /// Its user.
    pub user: UserId,
    /// The device.
    pub device: DeviceId,
    /// Its key's seed.
    pub seed: [u8; 32],
}

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    let _ = getrandom::fill(&mut bytes);
    bytes
}

/// A fresh message id.
pub fn message_id() -> MessageId {
    let ms = chrono::Utc::now().timestamp_millis();
    MessageId::v7(u64::try_from(ms).unwrap_or_default(), random())
}

/// Opens a WebSocket to `addr`, from `source` if given (to spread sockets
/// over several loopback addresses past the 64k-port limit of one).
async fn open(addr: SocketAddr, source: Option<IpAddr>) -> anyhow::Result<Ws> {
    let socket = TcpSocket::new_v4()?;
    if let Some(ip) = source {
        socket.bind(SocketAddr::new(ip, 0))?;
    }
    let stream = socket.connect(addr).await?;
    stream.set_nodelay(true)?;
    let config = WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0);
    let (ws, _) = tokio_tungstenite::client_async_with_config(
        format!("ws://{addr}/ws"),
        stream,
        Some(config),
    )
    .await?;
    Ok(ws)
}

impl Device {
    /// Registers a new user with a random name and signs in.
    pub async fn register(addr: SocketAddr, source: Option<IpAddr>) -> anyhow::Result<Self> {
        let seed = random();
        let name: String = random::<8>().iter().map(|b| format!("{b:02x}")).collect();
        let username = Username::parse(&format!("lg{name}"))?;
        let mut conn = Connection::new("courier-loadgen");
        let pending = conn.register(username, DeviceKey::from_seed(seed));
        Self::connect(addr, source, conn, pending, seed).await
    }

    /// Signs in as `device` whose key has `seed`.
    pub async fn sign_in(
        addr: SocketAddr,
        source: Option<IpAddr>,
        device: DeviceId,
        seed: [u8; 32],
    ) -> anyhow::Result<Self> {
        let mut conn = Connection::new("courier-loadgen");
        let pending = conn.sign_in(device, DeviceKey::from_seed(seed));
        Self::connect(addr, source, conn, pending, seed).await
    }

    async fn connect(
        addr: SocketAddr,
        source: Option<IpAddr>,
        conn: Connection,
        pending: Vec<Action>,
        seed: [u8; 32],
    ) -> anyhow::Result<Self> {
        tokio::time::timeout(
            std::time::Duration::from_secs(20),
            Self::connect_now(addr, source, conn, pending, seed),
        )
        .await
        .context("no sign-in within 20 s (is the server out of file descriptors?)")?
    }

    async fn connect_now(
        addr: SocketAddr,
        source: Option<IpAddr>,
        mut conn: Connection,
        mut pending: Vec<Action>,
        seed: [u8; 32],
    ) -> anyhow::Result<Self> {
        let ws = open(addr, source).await?;
        let started = Instant::now();
        pending.extend(conn.on_open(0.0));
        let mut device = Self {
            ws,
            conn,
            started,
            events: VecDeque::new(),
            user: UserId(0),
            device: DeviceId(0),
            seed,
        };
        device.apply(pending).await?;
        loop {
            if let Event::SignedIn { user, device: id } = device.next_event().await? {
                device.user = user;
                device.device = id;
                return Ok(device);
            }
        }
    }

    fn now(&self) -> f64 {
        self.started.elapsed().as_secs_f64() * 1_000.0
    }

    async fn apply(&mut self, actions: Vec<Action>) -> anyhow::Result<()> {
        for action in actions {
            match action {
                Action::Send(frame) => {
                    let bytes = proto::encode(&frame)?;
                    self.ws.feed(Message::Binary(bytes.into())).await?;
                }
                Action::Emit(event) => self.events.push_back(event),
                Action::Close => bail!("the client core closed the connection"),
                Action::ReconnectAfter(_) => {}
            }
        }
        self.ws.flush().await?;
        Ok(())
    }

    /// Sends `payload` to `to` as one fan-out message; returns its id.
    pub async fn send(&mut self, to: Vec<DeviceId>, payload: Vec<u8>) -> anyhow::Result<MessageId> {
        let id = message_id();
        let frame = ClientFrame::SendFanout {
            id,
            to,
            payload: Payload::new(payload).context("payload too large")?,
        };
        let actions = self.conn.send(frame);
        self.apply(actions).await?;
        Ok(id)
    }

    /// Handles one message read from the socket (see [`Device::next_event`]).
    pub async fn handle(&mut self, message: Message) -> anyhow::Result<()> {
        let actions = match message {
            Message::Binary(bytes) => {
                let now = self.now();
                self.conn.on_message(&bytes, now)
            }
            Message::Close(frame) => bail!("the server closed the connection: {frame:?}"),
            _ => Vec::new(),
        };
        self.apply(actions).await
    }

    /// The next event, reading from the socket as needed.
    pub async fn next_event(&mut self) -> anyhow::Result<Event> {
        loop {
            if let Some(event) = self.events.pop_front() {
                return Ok(event);
            }
            let message = self.ws.next().await.context("connection closed")??;
            self.handle(message).await?;
        }
    }

    /// Takes an event already received, if any.
    pub fn take_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Closes the connection.
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}
