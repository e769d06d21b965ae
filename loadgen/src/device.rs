//! [`Device`]: one simulated device — the shared client core driven by the
//! native driver ([`courier_native::NativeClient`]), the same connection
//! machine as the web client and the end-to-end tests — over a real
//! WebSocket.

use anyhow::{Context, anyhow};
use courier_native::{Endpoint, NativeClient};
use courier_shared::client::{Connection, Event};
use courier_shared::crypto::identity::DeviceKey;
use courier_shared::ids::{DeviceId, MessageId, RequestId, Username};
use courier_shared::proto::{ClientFrame, Payload, ServerFrame};
use courier_shared::time::{Env, SystemEnv};
use futures_util::StreamExt;
use std::net::{IpAddr, SocketAddr};
use tokio_tungstenite::tungstenite::Message;

/// A device connected to the server under test.
pub struct Device {
    client: NativeClient,
    /// The device.
    pub device: DeviceId,
    /// Its key's seed.
    pub seed: [u8; 32],
}

/// A fresh message id.
pub fn message_id() -> MessageId {
    SystemEnv.message_id()
}

/// The endpoint at `addr`, connecting from `source`, with small buffers.
fn endpoint(addr: SocketAddr, source: Option<IpAddr>) -> Endpoint {
    Endpoint {
        source,
        small_buffers: true,
        ..Endpoint::new(addr)
    }
}

fn connection() -> Connection {
    Connection::new("courier-loadgen").acking_on_arrival()
}

impl Device {
    /// Registers a new user with a random name and signs in.
    pub async fn register(addr: SocketAddr, source: Option<IpAddr>) -> anyhow::Result<Self> {
        let seed: [u8; 32] = SystemEnv.random();
        let name: String = SystemEnv
            .random::<8>()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let username = Username::parse(&format!("lg{name}"))?;
        let key = DeviceKey::from_seed(seed);
        let client = tokio::time::timeout(
            std::time::Duration::from_secs(20),
            NativeClient::register(endpoint(addr, source), connection(), username, key),
        )
        .await
        .context("no sign-in within 20 s (is the server out of file descriptors?)")??;
        Ok(Self::new(client, seed))
    }

    /// Signs in as `device` whose key has `seed`.
    pub async fn sign_in(
        addr: SocketAddr,
        source: Option<IpAddr>,
        device: DeviceId,
        seed: [u8; 32],
    ) -> anyhow::Result<Self> {
        let key = DeviceKey::from_seed(seed);
        let client = tokio::time::timeout(
            std::time::Duration::from_secs(20),
            NativeClient::sign_in(endpoint(addr, source), connection(), device, key),
        )
        .await
        .context("no sign-in within 20 s (is the server out of file descriptors?)")??;
        Ok(Self::new(client, seed))
    }

    fn new(client: NativeClient, seed: [u8; 32]) -> Self {
        Self {
            device: client.device,
            client,
            seed,
        }
    }

    /// Sends `payload` to `to` as one fan-out message; returns its id. The
    /// answer comes as an [`Event::Answer`] (see [`accepted`]).
    pub async fn send(&mut self, to: Vec<DeviceId>, payload: Vec<u8>) -> anyhow::Result<MessageId> {
        let id = message_id();
        let frame = ClientFrame::SendFanout {
            request: RequestId::NONE,
            id,
            to,
            payload: Payload::new(payload).context("payload too large")?,
        };
        self.client.request(frame).await;
        Ok(id)
    }

    /// Reads the next message from the socket, for callers that `select!`
    /// on it (cancel-safe); hand it to [`Device::handle`].
    pub async fn recv(&mut self) -> anyhow::Result<Message> {
        let socket = self.client.socket().context("connection closed")?;
        Ok(socket.next().await.context("connection closed")??)
    }

    /// Handles a message read with [`Device::recv`].
    pub async fn handle(&mut self, message: Message) {
        self.client.handle(message).await;
    }

    /// The next event, reading from the socket as needed.
    pub async fn next_event(&mut self) -> anyhow::Result<Event> {
        self.client.next_event().await.map_err(|err| anyhow!(err))
    }

    /// Takes an event already received, if any.
    pub fn take_event(&mut self) -> Option<Event> {
        self.client.take_event()
    }

    /// Closes the connection.
    pub async fn close(mut self) {
        self.client.close_raw().await;
    }
}

/// Whether `event` says a send was accepted: `Some(Ok)`, refused:
/// `Some(Err(reason))`, or is something else: `None`.
pub fn accepted(event: &Event) -> Option<Result<(), String>> {
    match event {
        Event::Answer {
            answer: Ok(ServerFrame::Accepted { .. }),
            ..
        } => Some(Ok(())),
        Event::Answer {
            answer: Err(refusal),
            ..
        } => Some(Err(refusal.to_string())),
        _ => None,
    }
}
