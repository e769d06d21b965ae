//! [`TestDevice`]: a device speaking the protocol through the shared client
//! core and the native driver ([`courier_native::NativeClient`]) — the same
//! connection machine as the web client — with the waits and assertions the
//! protocol tests need. It acks what it receives on arrival and sends raw
//! (unencrypted) payloads; [`crate::secure::SecureDevice`] runs the whole
//! messenger core instead.

use courier_native::{Endpoint, NativeClient};
use courier_shared::client::{Connection, Event, Outbox, Outcome, Server};
use courier_shared::crypto::identity::DeviceKey;
use courier_shared::ids::{DeviceId, LinkId, MessageId, RequestId, UserId, Username};
use courier_shared::proto::{self, ClientFrame, ErrorCode, Payload, Refusal, ServerFrame};
use courier_shared::time::{Env, SystemEnv};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

/// How long [`TestDevice::expect`] waits for an event.
pub const EVENT_TIMEOUT: Duration = Duration::from_secs(15);

/// 32 random bytes.
pub fn random_seed() -> [u8; 32] {
    SystemEnv.random()
}

/// A fresh message id, minted as every client mints them.
pub fn new_message_id() -> MessageId {
    SystemEnv.message_id()
}

impl Server for TestDevice {
    async fn call(&mut self, frame: ClientFrame) -> Result<ServerFrame, Refusal> {
        self.net.call(frame).await
    }

    async fn post(&mut self, frame: ClientFrame) -> RequestId {
        self.net.post(frame).await
    }

    async fn notify(&mut self, frame: ClientFrame) {
        self.net.notify(frame).await;
    }
}

/// A device: its key, its connection and the sends it made.
pub struct TestDevice {
    /// The connection.
    pub net: NativeClient,
    /// The device's user.
    pub user: UserId,
    /// The device.
    pub device: DeviceId,
    /// The device key's secret seed.
    pub seed: [u8; 32],
    /// The requests each message was sent under, for [`TestDevice::accepted`].
    sends: HashMap<MessageId, Vec<RequestId>>,
    /// Durable sends ([`TestDevice::send_durable`]): the client core's
    /// outbox, with raw frames.
    pub outbox: Outbox<ClientFrame>,
}

fn endpoint(ws_url: &str) -> Endpoint {
    Endpoint::from_url(ws_url).expect("a ws://ADDR/ws URL")
}

fn connection() -> Connection {
    Connection::new("courier-tests").acking_on_arrival()
}

impl TestDevice {
    /// Registers `username` from a new device at `ws_url`.
    pub async fn register(ws_url: &str, username: &str) -> Self {
        Self::register_seeded(ws_url, username, random_seed()).await
    }

    /// Joins the account that opened `link`, as a new device whose key has
    /// `seed`.
    pub async fn link(ws_url: &str, link: LinkId, seed: [u8; 32]) -> Self {
        let key = DeviceKey::from_seed(seed);
        let net = NativeClient::link(endpoint(ws_url), connection(), link, key)
            .await
            .expect("linked");
        Self::new(net, seed)
    }

    /// Registers `username` from a new device whose key has `seed`.
    pub async fn register_seeded(ws_url: &str, username: &str, seed: [u8; 32]) -> Self {
        let name = Username::parse(username).expect("valid username");
        let key = DeviceKey::from_seed(seed);
        let net = NativeClient::register(endpoint(ws_url), connection(), name, key)
            .await
            .expect("registered");
        Self::new(net, seed)
    }

    /// Signs in as an existing `device` whose key has `seed`.
    pub async fn sign_in(ws_url: &str, device: DeviceId, seed: [u8; 32]) -> Self {
        let key = DeviceKey::from_seed(seed);
        let net = NativeClient::sign_in(endpoint(ws_url), connection(), device, key)
            .await
            .expect("signed in");
        Self::new(net, seed)
    }

    /// A device over an already signed-in `client` whose key has `seed`.
    pub fn from_client(client: NativeClient, seed: [u8; 32]) -> Self {
        Self::new(client, seed)
    }

    fn new(net: NativeClient, seed: [u8; 32]) -> Self {
        Self {
            user: net.user,
            device: net.device,
            net,
            seed,
            sends: HashMap::new(),
            outbox: Outbox::default(),
        }
    }

    /// Drops the connection (the device goes offline).
    pub async fn disconnect(&mut self) {
        self.net.disconnect().await;
    }

    /// Connects again and signs in.
    pub async fn reconnect(&mut self) {
        self.net.reconnect().await.expect("signed in again");
    }

    /// Sends `frame` as a request; its answer arrives as an event.
    pub async fn send(&mut self, frame: ClientFrame) -> RequestId {
        let id = match &frame {
            ClientFrame::Send { id, .. }
            | ClientFrame::SendFanout { id, .. }
            | ClientFrame::SendGroup { id, .. } => Some(*id),
            _ => None,
        };
        let request = self.net.request(frame).await;
        if let Some(id) = id {
            self.sends.entry(id).or_default().push(request);
        }
        request
    }

    /// Sends `frame` and waits for its answer.
    pub async fn call(&mut self, frame: ClientFrame) -> Result<ServerFrame, Refusal> {
        let request = self.send(frame).await;
        self.answer(request).await
    }

    /// Waits for the answer to `request`.
    pub async fn answer(&mut self, request: RequestId) -> Result<ServerFrame, Refusal> {
        self.expect(|e| match e {
            Event::Answer { request: r, answer } if *r == request => Some(answer.clone()),
            _ => None,
        })
        .await
    }

    /// Sends `text` to `devices` as one fan-out message; returns its id.
    pub async fn send_text(&mut self, devices: &[DeviceId], text: &str) -> MessageId {
        let id = new_message_id();
        self.send(ClientFrame::SendFanout {
            request: RequestId::NONE,
            id,
            to: devices.to_vec(),
            payload: Payload::new(text.as_bytes().to_vec()).expect("small"),
        })
        .await;
        id
    }

    /// Waits for the answer to the next send of message `id` still
    /// unanswered: `Ok` if accepted, else the refusal's code.
    pub async fn outcome(&mut self, id: MessageId) -> Result<(), ErrorCode> {
        let requests = self.sends.get_mut(&id).expect("message sent");
        assert!(!requests.is_empty(), "every send of {id:?} was answered");
        let request = requests.remove(0);
        match self.answer(request).await {
            Ok(ServerFrame::Accepted { .. }) => Ok(()),
            Ok(other) => panic!("a send answered with {other:?}"),
            Err(refusal) => Err(refusal.code),
        }
    }

    /// Waits for the server to accept message `id`.
    pub async fn accepted(&mut self, id: MessageId) {
        if let Err(code) = self.outcome(id).await {
            panic!("message refused: {code:?}");
        }
    }

    /// Waits (at most [`EVENT_TIMEOUT`]) for an event that `pick` accepts,
    /// keeping the others for later calls.
    pub async fn expect<T>(&mut self, pick: impl FnMut(&Event) -> Option<T>) -> T {
        match self.net.expect(EVENT_TIMEOUT, pick).await {
            Ok(found) => found,
            Err(err) => panic!(
                "no expected event: {err}; got {:?}",
                self.net.events().iter().collect::<Vec<_>>()
            ),
        }
    }

    /// Keeps the connection running for `period`; returns every event seen.
    pub async fn idle(&mut self, period: Duration) -> Vec<Event> {
        self.net.idle(period).await
    }

    /// Sends message `frame` through the outbox: now, and again after a
    /// transient refusal or a lost answer (see [`TestDevice::run_outbox`]),
    /// until the server accepts it.
    pub async fn send_durable(&mut self, id: MessageId, frame: ClientFrame) {
        self.outbox.push(id, frame);
        self.flush_outbox().await;
    }

    /// Sends what the outbox says is due.
    pub async fn flush_outbox(&mut self) {
        for (id, frame) in self.outbox.due(courier_shared::time::system_now_ms()) {
            let request = self.net.request(frame).await;
            self.outbox.sent(&id, request);
        }
    }

    /// Runs the connection for `period`, handing every answer to the outbox
    /// and sending again what is due; returns the other events.
    pub async fn run_outbox(&mut self, period: Duration) -> Vec<Event> {
        let mut others = Vec::new();
        let deadline = Instant::now() + period;
        while Instant::now() < deadline {
            for event in self.net.idle(Duration::from_millis(50)).await {
                match event {
                    Event::Answer { request, answer } => {
                        let now = courier_shared::time::system_now_ms();
                        if let Some(Outcome::Refused(id, refusal)) =
                            self.outbox.on_answer(request, &answer, now)
                        {
                            panic!("{id:?} refused: {refusal}");
                        }
                        others.push(Event::Answer { request, answer });
                    }
                    other => others.push(other),
                }
            }
            self.flush_outbox().await;
        }
        others
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
        use courier_shared::client::Api;
        self.net.lookup_user(name).await.expect("user found").user
    }

    /// Sends a raw WebSocket message, bypassing the client core.
    pub async fn send_raw(&mut self, message: Message) {
        self.net.send_raw(message).await.expect("send");
    }

    /// Sends an answerless frame (`Ack`, `Typing`).
    pub async fn notify(&mut self, frame: ClientFrame) {
        self.net.notify(frame).await;
    }

    /// Reads raw frames until the server closes; returns the error frame's
    /// code, if one came.
    pub async fn closed_with(&mut self) -> Option<ErrorCode> {
        let deadline = Instant::now() + EVENT_TIMEOUT;
        let mut code = None;
        while let Some(socket) = self.net.socket() {
            assert!(Instant::now() < deadline, "the server did not close");
            use futures_util::StreamExt;
            match tokio::time::timeout(Duration::from_millis(200), socket.next()).await {
                Ok(Some(Ok(Message::Binary(bytes)))) => {
                    if let Ok(ServerFrame::Error { code: c, .. }) = proto::decode(&bytes) {
                        code = Some(c);
                    }
                }
                Ok(Some(Ok(Message::Close(_)) | Err(_)) | None) => {
                    self.net.close_raw().await;
                }
                _ => {}
            }
        }
        code
    }
}
