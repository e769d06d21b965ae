//! The native client driver: one device's [`Connection`] (the shared,
//! I/O-free client core) over a real tokio-tungstenite WebSocket.
//!
//! [`NativeClient`] owns the socket and the clock, carries out the
//! connection's [`Action`]s and keeps its [`Event`]s in order for the caller.
//! It implements [`Server`], so the shared messenger and crypto flows run over
//! it exactly as they run over the browser's socket; the end-to-end tests
//! and the load generator both drive devices through it.

use courier_shared::client::{Action, Connection, Event, Server};
use courier_shared::crypto::identity::DeviceKey;
use courier_shared::ids::{DeviceId, LinkId, RequestId, UserId, Username};
use courier_shared::proto::{self, ClientFrame, Refusal, ServerFrame};
use futures_util::{SinkExt, StreamExt};
use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// The socket type.
pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long one read waits before the clock ticks.
const TICK: Duration = Duration::from_millis(100);

/// Why the driver could not go on.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// The WebSocket could not be opened or failed.
    #[error("WebSocket: {0}")]
    Socket(#[from] tokio_tungstenite::tungstenite::Error),
    /// The TCP connection could not be opened.
    #[error("connect: {0}")]
    Connect(#[from] std::io::Error),
    /// The socket is closed.
    #[error("the connection is closed")]
    Closed,
    /// Nothing expected arrived in time.
    #[error("nothing arrived within {0:?}")]
    Timeout(Duration),
    /// The server refused the sign-in or ended the connection with an error.
    #[error("the server refused: {0}")]
    Refused(Refusal),
}

/// Where and how to connect.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The server's address.
    pub addr: SocketAddr,
    /// The local address to connect from (to spread many sockets over
    /// several loopback addresses past one address's 64k ports).
    pub source: Option<IpAddr>,
    /// Small socket buffers (for many idle devices).
    pub small_buffers: bool,
    /// The URL path and host as `ws://…/ws` (for a load balancer in front).
    pub url: String,
}

impl Endpoint {
    /// `ws://ADDR/ws`.
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            source: None,
            small_buffers: false,
            url: format!("ws://{addr}/ws"),
        }
    }

    /// The endpoint a `ws://host:port/ws` URL names.
    pub fn from_url(url: &str) -> Option<Self> {
        let rest = url.strip_prefix("ws://")?;
        let host = rest.split('/').next()?;
        let addr = host.parse().ok()?;
        Some(Self {
            url: url.to_owned(),
            ..Self::new(addr)
        })
    }
}

/// One device's connection, driven natively.
pub struct NativeClient {
    endpoint: Endpoint,
    socket: Option<Ws>,
    conn: Connection,
    events: VecDeque<Event>,
    started: Instant,
    /// The device's user, once signed in.
    pub user: UserId,
    /// The device, once signed in.
    pub device: DeviceId,
    /// Bytes of the WebSocket messages this device sent (frames, without
    /// the WebSocket header).
    pub bytes_sent: u64,
    /// Whether acknowledgements are dropped instead of sent (to provoke
    /// redelivery in tests).
    pub withhold_acks: bool,
}

impl NativeClient {
    /// A client for `endpoint` whose connection machine is `conn` (not yet
    /// connected).
    pub fn new(endpoint: Endpoint, conn: Connection) -> Self {
        Self {
            endpoint,
            socket: None,
            conn,
            events: VecDeque::new(),
            started: Instant::now(),
            user: UserId(0),
            device: DeviceId(0),
            bytes_sent: 0,
            withhold_acks: false,
        }
    }

    /// Registers `username` with `key`, and waits until signed in.
    pub async fn register(
        endpoint: Endpoint,
        conn: Connection,
        username: Username,
        key: DeviceKey,
    ) -> Result<Self, DriverError> {
        let mut client = Self::new(endpoint, conn);
        let actions = client.conn.register(username, key);
        client.start(actions).await?;
        Ok(client)
    }

    /// Signs in as `device` with `key`, and waits until signed in.
    pub async fn sign_in(
        endpoint: Endpoint,
        conn: Connection,
        device: DeviceId,
        key: DeviceKey,
    ) -> Result<Self, DriverError> {
        let mut client = Self::new(endpoint, conn);
        let actions = client.conn.sign_in(device, key);
        client.start(actions).await?;
        Ok(client)
    }

    /// Joins the account that opened `link` as a new device with `key`.
    pub async fn link(
        endpoint: Endpoint,
        conn: Connection,
        link: LinkId,
        key: DeviceKey,
    ) -> Result<Self, DriverError> {
        let mut client = Self::new(endpoint, conn);
        let actions = client.conn.link(link, key);
        client.start(actions).await?;
        Ok(client)
    }

    async fn start(&mut self, pending: Vec<Action>) -> Result<(), DriverError> {
        self.apply(pending).await;
        self.connect().await?;
        self.wait_signed_in(Duration::from_secs(20)).await
    }

    /// The connection machine.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Milliseconds on this client's monotonic clock.
    pub fn now(&self) -> f64 {
        self.started.elapsed().as_secs_f64() * 1_000.0
    }

    /// Opens the socket and starts the handshake.
    pub async fn connect(&mut self) -> Result<(), DriverError> {
        let socket = open(&self.endpoint).await?;
        self.socket = Some(socket);
        let actions = self.conn.on_open(self.now());
        self.apply(actions).await;
        Ok(())
    }

    /// Waits until the connection is signed in; its user and device are
    /// recorded.
    pub async fn wait_signed_in(&mut self, within: Duration) -> Result<(), DriverError> {
        let (user, device) = self
            .expect(within, |event| match event {
                Event::SignedIn { user, device } => Some(Ok((*user, *device))),
                Event::SignInRefused(refusal) | Event::Failed(refusal) => {
                    Some(Err(refusal.clone()))
                }
                _ => None,
            })
            .await?
            .map_err(DriverError::Refused)?;
        self.user = user;
        self.device = device;
        Ok(())
    }

    /// Closes the socket (the device goes offline) without losing the
    /// connection machine's state.
    pub async fn disconnect(&mut self) {
        if let Some(mut socket) = self.socket.take() {
            let _ = socket.close(None).await;
        }
        let actions = self.conn.on_close(0.0);
        self.keep_events(actions);
    }

    /// Connects again and signs in.
    pub async fn reconnect(&mut self) -> Result<(), DriverError> {
        self.disconnect().await;
        self.connect().await?;
        self.wait_signed_in(Duration::from_secs(20)).await
    }

    /// Whether the socket is open.
    pub fn is_open(&self) -> bool {
        self.socket.is_some()
    }

    fn keep_events(&mut self, actions: Vec<Action>) {
        for action in actions {
            if let Action::Emit(event) = action {
                self.events.push_back(event);
            }
        }
    }

    /// Carries out the connection's actions. A socket that fails to take a
    /// frame counts as closed: the connection then answers every waiting
    /// request as unanswered, so nothing waits forever.
    async fn apply(&mut self, actions: Vec<Action>) {
        let mut wrote = false;
        let mut failed = false;
        for action in actions {
            match action {
                Action::Send(ClientFrame::Ack { .. }) if self.withhold_acks => {}
                Action::Send(frame) => {
                    let Ok(bytes) = proto::encode(&frame) else {
                        continue;
                    };
                    self.bytes_sent += bytes.len() as u64;
                    if let Some(socket) = &mut self.socket {
                        failed |= socket.feed(Message::Binary(bytes.into())).await.is_err();
                        wrote = true;
                    }
                }
                Action::Emit(event) => self.events.push_back(event),
                Action::Close => failed = true,
                Action::ReconnectAfter(_) => {}
            }
        }
        if wrote && let Some(socket) = &mut self.socket {
            failed |= socket.flush().await.is_err();
        }
        if failed {
            self.drop_socket().await;
        }
    }

    async fn drop_socket(&mut self) {
        if let Some(mut socket) = self.socket.take() {
            let _ = socket.close(None).await;
            let actions = self.conn.on_close(0.0);
            self.keep_events(actions);
        }
    }

    /// Sends `frame` as a request under a fresh id; its answer (or its
    /// loss, if the socket fails) comes later as an [`Event::Answer`].
    pub async fn request(&mut self, frame: ClientFrame) -> RequestId {
        let now = self.now();
        let (request, actions) = self.conn.request(frame, now);
        self.apply(actions).await;
        request
    }

    /// Sends a frame that has no answer (`Ack`, `Typing`).
    pub async fn send_notice(&mut self, frame: ClientFrame) {
        let actions = self.conn.notify(frame);
        self.apply(actions).await;
    }

    /// Sends a raw WebSocket message, bypassing the client core.
    pub async fn send_raw(&mut self, message: Message) -> Result<(), DriverError> {
        let socket = self.socket.as_mut().ok_or(DriverError::Closed)?;
        socket.send(message).await?;
        Ok(())
    }

    /// Closes the socket without telling the connection machine (to let
    /// the server see a device vanish).
    pub async fn close_raw(&mut self) {
        if let Some(mut socket) = self.socket.take() {
            let _ = socket.close(None).await;
        }
    }

    /// The socket, for raw reads.
    pub fn socket(&mut self) -> Option<&mut Ws> {
        self.socket.as_mut()
    }

    /// Reads one message from the server (or ticks the clock after a short
    /// wait) and applies what the core decides; `false` if the socket is
    /// closed.
    pub async fn pump(&mut self) -> bool {
        let Some(socket) = &mut self.socket else {
            return false;
        };
        let next = tokio::time::timeout(TICK, socket.next()).await;
        let now = self.now();
        let actions = match next {
            Err(_) => self.conn.on_tick(now),
            Ok(Some(Ok(Message::Binary(bytes)))) => self.conn.on_message(&bytes, now),
            Ok(Some(Ok(Message::Close(_)) | Err(_)) | None) => {
                self.drop_socket().await;
                return false;
            }
            Ok(Some(Ok(_))) => self.conn.on_tick(now),
        };
        self.apply(actions).await;
        true
    }

    /// Handles one message the caller read from [`NativeClient::socket`].
    pub async fn handle(&mut self, message: Message) {
        match message {
            Message::Binary(bytes) => {
                let now = self.now();
                let actions = self.conn.on_message(&bytes, now);
                self.apply(actions).await;
            }
            Message::Close(_) => self.drop_socket().await,
            _ => {}
        }
    }

    /// Ticks the connection's clock (heartbeats, request timeouts).
    pub async fn tick(&mut self) {
        let now = self.now();
        let actions = self.conn.on_tick(now);
        self.apply(actions).await;
    }

    /// Takes the oldest event already received, if any.
    pub fn take_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The next event, reading from the socket as needed.
    pub async fn next_event(&mut self) -> Result<Event, DriverError> {
        loop {
            if let Some(event) = self.events.pop_front() {
                return Ok(event);
            }
            if !self.pump().await {
                return Err(DriverError::Closed);
            }
        }
    }

    /// Waits (at most `within`) for an event that `pick` accepts, keeping
    /// the others, in order, for later calls.
    pub async fn expect<T>(
        &mut self,
        within: Duration,
        mut pick: impl FnMut(&Event) -> Option<T>,
    ) -> Result<T, DriverError> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(index) = self.events.iter().position(|e| pick(e).is_some())
                && let Some(event) = self.events.remove(index)
                && let Some(found) = pick(&event)
            {
                return Ok(found);
            }
            if Instant::now() >= deadline {
                return Err(DriverError::Timeout(within));
            }
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

    /// The events received and not yet taken.
    pub fn events(&self) -> &VecDeque<Event> {
        &self.events
    }
}

impl Server for NativeClient {
    async fn call(&mut self, frame: ClientFrame) -> Result<ServerFrame, Refusal> {
        let request = self.request(frame).await;
        let answered = move |event: &Event| match event {
            Event::Answer { request: r, answer } if *r == request => Some(answer.clone()),
            _ => None,
        };
        // The connection answers every request within its own timeout (or
        // when the socket drops), so this wait ends.
        self.expect(Duration::from_secs(120), answered)
            .await
            .unwrap_or_else(|_| Err(Refusal::unanswered()))
    }

    async fn post(&mut self, frame: ClientFrame) -> RequestId {
        self.request(frame).await
    }

    async fn notify(&mut self, frame: ClientFrame) {
        self.send_notice(frame).await;
    }
}

/// Opens the WebSocket of `endpoint`.
async fn open(endpoint: &Endpoint) -> Result<Ws, DriverError> {
    let socket = TcpSocket::new_v4()?;
    if let Some(ip) = endpoint.source {
        socket.bind(SocketAddr::new(ip, 0))?;
    }
    let stream = socket.connect(endpoint.addr).await?;
    stream.set_nodelay(true)?;
    let config = if endpoint.small_buffers {
        WebSocketConfig::default()
            .read_buffer_size(4 * 1024)
            .write_buffer_size(0)
    } else {
        WebSocketConfig::default()
    };
    let (ws, _) = tokio_tungstenite::client_async_with_config(
        endpoint.url.as_str(),
        MaybeTlsStream::Plain(stream),
        Some(config),
    )
    .await?;
    Ok(ws)
}
