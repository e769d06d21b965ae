//! [`SecureDevice`]: a native device running the shipped messenger core
//! ([`Messenger`]: the same chats, outbox, encryption, groups and linking as
//! the web client) over a [`TestDevice`]'s connection, with its records in
//! memory. Tests wait on what the core stored; a few probes reach under it
//! (crafted ciphertexts, raw frames) to test what an attacker could send.

use crate::device::{TestDevice, random_seed};
use courier_native::{Endpoint, NativeClient};
use courier_shared::client::api::Directory;
use courier_shared::client::chat::{ChatId, Mark, Message};
use courier_shared::client::memory::MemoryStore;
use courier_shared::client::{Api, Connection, Event, Messenger};
use courier_shared::crypto::content::Plaintext;
use courier_shared::crypto::device_list::SignedDeviceList;
use courier_shared::crypto::link::LinkSecret;
use courier_shared::crypto::{CryptoError, DeviceCrypto, flow};
use courier_shared::ids::{DeviceId, MessageId, RequestId, UserId, Username};
use courier_shared::proto::{ClientFrame, ErrorCode, Payload};
use courier_shared::time::SystemEnv;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Milliseconds since the Unix epoch.
pub fn unix_ms() -> u64 {
    courier_shared::time::system_now_ms()
}

/// The messenger core as the native tests run it.
pub type Core = Messenger<TestDevice, MemoryStore, SystemEnv>;

/// A received message: its id, sender and device, and what the core
/// stored (or why it could not be decrypted).
pub type Received = (MessageId, (UserId, DeviceId), Result<Message, String>);

/// How long a test waits for the core to get somewhere.
const WAIT: Duration = Duration::from_secs(30);

/// A device that encrypts end to end, running the shipped messenger core.
pub struct SecureDevice {
    /// The messenger core; its server is the device's connection.
    pub core: Core,
    /// Messages the core took in, not yet handed to the test.
    arrivals: VecDeque<(MessageId, (UserId, DeviceId))>,
    /// The ciphertext of the last message received, as delivered.
    pub last_payload: Option<Payload>,
}

fn connection() -> Connection {
    // Not acked on arrival: the core acks once it has stored a message.
    Connection::new("courier-tests")
}

fn endpoint(ws_url: &str) -> Endpoint {
    Endpoint::from_url(ws_url).expect("a ws://ADDR/ws URL")
}

impl SecureDevice {
    fn new(net: TestDevice) -> Self {
        Self {
            core: Messenger::new(net, MemoryStore::default(), SystemEnv),
            arrivals: VecDeque::new(),
            last_payload: None,
        }
    }

    /// Registers `username` as a new account: its first device founds the
    /// account key, publishes the device list and its pre-keys.
    pub async fn register(ws_url: &str, username: &str) -> Self {
        let seed = random_seed();
        let name = Username::parse(username).expect("valid username");
        let key = courier_shared::crypto::identity::DeviceKey::from_seed(seed);
        let client = NativeClient::register(endpoint(ws_url), connection(), name.clone(), key)
            .await
            .expect("registered");
        let net = TestDevice::from_client(client, seed);
        let me = (net.user, net.device);
        let mut this = Self::new(net);
        this.core
            .create_account(&name, DeviceCrypto::new(seed), me)
            .await
            .expect("account created");
        this
    }

    /// Joins the account whose device shows `code`: signs in through the
    /// link and sends its sealed hello to the account's devices.
    /// [`SecureDevice::finish_link`] completes it once approved.
    pub async fn start_link(ws_url: &str, code: &str) -> (Self, LinkSecret) {
        let secret = LinkSecret::parse(code).expect("a valid code");
        let seed = random_seed();
        let key = courier_shared::crypto::identity::DeviceKey::from_seed(seed);
        let client = NativeClient::link(endpoint(ws_url), connection(), secret.id(), key)
            .await
            .expect("linked");
        let net = TestDevice::from_client(client, seed);
        let me = (net.user, net.device);
        let mut this = Self::new(net);
        this.core
            .join(secret.clone(), DeviceCrypto::new(seed), me)
            .await
            .expect("hello sent");
        (this, secret)
    }

    /// The device's connection.
    pub fn net(&mut self) -> &mut TestDevice {
        &mut self.core.server
    }

    /// The device's crypto state.
    pub fn crypto(&self) -> &DeviceCrypto {
        self.core.crypto().expect("an account")
    }

    /// The device's crypto state, to probe.
    pub fn crypto_mut(&mut self) -> &mut DeviceCrypto {
        self.core.crypto_mut().expect("an account")
    }

    /// The user.
    pub fn user(&self) -> UserId {
        self.core.server.user
    }

    /// The device.
    pub fn device(&self) -> DeviceId {
        self.core.server.device
    }

    /// How many sends the server refused as stale and this device redid.
    pub fn stale_retries(&self) -> u32 {
        self.core.stale_retries()
    }

    /// Hands the core the next event of the connection, or, if none comes
    /// for a moment, lets it send what is due (a retry after a pause).
    async fn step(&mut self) {
        let device = self.device();
        let next = self.core.server.net.next_event();
        let event = match tokio::time::timeout(Duration::from_millis(250), next).await {
            Ok(Ok(event)) => event,
            Ok(Err(err)) => panic!("device {device:?}: {err}"),
            Err(_) => {
                self.core.on_tick().await.expect("retried");
                return;
            }
        };
        let message = match &event {
            Event::Message {
                id,
                from,
                from_device,
                payload,
                ..
            } => {
                self.last_payload = Some(payload.clone());
                Some((*id, (*from, *from_device)))
            }
            _ => None,
        };
        self.core
            .on_event(event)
            .await
            .expect("the core took it in");
        if let Some((id, from)) = message
            && self.stored(&id).is_some()
            && !self.arrivals.iter().any(|(known, _)| *known == id)
        {
            self.arrivals.push_back((id, from));
        }
    }

    /// Message `id` as the core stored it, in whatever chat.
    pub fn stored(&self, id: &MessageId) -> Option<&Message> {
        self.core
            .store
            .messages
            .iter()
            .find(|((_, m), _)| m == id)
            .map(|(_, message)| message)
    }

    /// Runs the connection until `done` says the core got there.
    pub async fn until(&mut self, mut done: impl FnMut(&Self) -> bool) {
        let deadline = Instant::now() + WAIT;
        while !done(self) {
            assert!(
                Instant::now() < deadline,
                "device {:?}: the core did not get there within {WAIT:?}",
                self.device()
            );
            self.step().await;
        }
    }

    /// Runs the connection for `period`, the core taking in what comes.
    pub async fn run_for(&mut self, period: Duration) {
        let deadline = Instant::now() + period;
        while Instant::now() < deadline {
            self.step().await;
        }
    }

    /// Waits until message `id` of `chat` left the outbox: accepted (or
    /// failed, which panics with its reason).
    pub async fn sent(&mut self, chat: ChatId, id: MessageId) {
        self.until(|this| !this.core.index().outbox.contains(&id))
            .await;
        let message = self.core.store.messages.get(&(chat, id)).expect("stored");
        assert_ne!(
            message.mark,
            Mark::Failed,
            "the send failed: {:?}",
            message.problem
        );
    }

    /// Writes `text` to `to` through the core; returns the message id once
    /// the server accepted it.
    pub async fn send_text(&mut self, to: UserId, text: &str) -> MessageId {
        self.send_to(ChatId::User(to), text).await
    }

    /// Writes `text` into `chat` (a person or a group) through the core;
    /// returns the message id once the server accepted it.
    pub async fn send_to(&mut self, chat: ChatId, text: &str) -> MessageId {
        let id = self
            .core
            .send_text(chat, text, None)
            .await
            .expect("written")
            .expect("not empty");
        self.sent(chat, id).await;
        id
    }

    /// The next message the core took in, in order.
    pub async fn next_message(&mut self) -> Received {
        let deadline = Instant::now() + WAIT;
        loop {
            assert!(
                Instant::now() < deadline,
                "device {:?}: no message within {WAIT:?}",
                self.device()
            );
            if let Some((id, from)) = self.arrivals.pop_front() {
                let message = self.stored(&id).cloned().expect("stored");
                let outcome = match &message.problem {
                    Some(problem) if message.text.is_none() => Err(problem.clone()),
                    _ => Ok(message),
                };
                return (id, from, outcome);
            }
            self.step().await;
        }
    }

    /// The next message's text: (id, sender, text); panics if it does not
    /// decrypt.
    pub async fn next_text(&mut self) -> (MessageId, UserId, String) {
        loop {
            let (id, from, message) = self.next_message().await;
            let message = message.expect("decrypts");
            if !message.system {
                return (id, from.0, message.text.unwrap_or_default());
            }
        }
    }

    /// Opens a link for a new device; returns the secret behind its code.
    pub async fn open_link(&mut self) -> LinkSecret {
        let code = self
            .core
            .show_link("http://courier.test")
            .await
            .expect("link opened");
        LinkSecret::parse(&code.code).expect("a valid code")
    }

    /// Waits until the core approved the device that typed the code
    /// (its hello arrived); the new device's id.
    pub async fn approve_link(&mut self, _secret: &LinkSecret) -> DeviceId {
        let before: Vec<DeviceId> = self.core.devices().iter().map(|d| d.0).collect();
        self.until(|this| this.core.devices().len() > before.len())
            .await;
        self.core
            .devices()
            .iter()
            .map(|d| d.0)
            .find(|d| !before.contains(d))
            .expect("a new device")
    }

    /// Waits until the approving device's welcome made this one approved.
    pub async fn finish_link(&mut self, _secret: &LinkSecret) {
        self.until(|this| this.core.is_approved()).await;
    }

    /// Removes `device` from the account.
    pub async fn remove_device(&mut self, device: DeviceId) {
        self.core.remove_device(device).await.expect("removed");
    }

    /// Tops the server's stock of this device's one-time keys up; the
    /// stock after.
    pub async fn publish_prekeys(&mut self) -> u32 {
        self.core.top_up_prekeys().await.expect("topped up");
        self.net()
            .net
            .publish_keys(Vec::new(), None)
            .await
            .expect("key count")
    }

    /// Probe: publishes `list` as this user's device list, as a forger would.
    pub async fn publish_list(&mut self, list: SignedDeviceList) -> Result<(), CryptoError> {
        self.net().net.publish_device_list(list).await?;
        Ok(())
    }

    /// Probe: encrypts `plain` for every device it must reach, as the core
    /// would, for a test to send (or damage) itself.
    pub async fn encrypt(
        &mut self,
        plain: &Plaintext,
    ) -> Result<Vec<(DeviceId, Payload)>, CryptoError> {
        let (crypto, server) = self.core.crypto_with_server().expect("an account");
        flow::encrypt_for(crypto, &mut Directory(server), plain, unix_ms()).await
    }

    /// Probe: encrypts and sends `plain` under its own id (an old
    /// timestamp, say), refreshing device lists when the server says they
    /// are stale.
    pub async fn send_plain(&mut self, plain: &Plaintext) {
        loop {
            let to = self.encrypt(plain).await.expect("encrypts");
            let frame = ClientFrame::Send {
                request: RequestId::NONE,
                id: plain.id,
                to,
            };
            self.net().send(frame).await;
            match self.net().outcome(plain.id).await {
                Ok(()) => return,
                Err(ErrorCode::StaleDevices) => {
                    let (crypto, server) = self.core.crypto_with_server().expect("an account");
                    flow::refresh_recipients(crypto, &mut Directory(server), plain.to)
                        .await
                        .expect("refreshed");
                }
                Err(code) => panic!("send refused: {code:?}"),
            }
        }
    }

    /// The next delivered message, undecrypted (the core never sees it).
    pub async fn next_raw(&mut self) -> (MessageId, (UserId, DeviceId), u64, Payload) {
        self.net()
            .expect(|e| match e {
                Event::Message {
                    id,
                    from,
                    from_device,
                    sent_at,
                    payload,
                } => Some((*id, (*from, *from_device), *sent_at, payload.clone())),
                _ => None,
            })
            .await
    }
}

/// A user with two approved devices, the second linked by code.
pub async fn user_with_two_devices(ws: &str, name: &str) -> (SecureDevice, SecureDevice) {
    let mut first = SecureDevice::register(ws, name).await;
    let secret = first.open_link().await;
    let qr = courier_shared::crypto::safety::qr_svg(&secret.qr_text()).expect("QR code");
    assert!(qr.contains("<svg"), "the link code also shows as a QR code");
    let (mut second, secret) = SecureDevice::start_link(ws, &secret.code()).await;
    first.approve_link(&secret).await;
    second.finish_link(&secret).await;
    assert!(second.crypto().is_approved());
    (first, second)
}
