//! [`SecureDevice`]: a [`TestDevice`] with end-to-end encryption — the same
//! shared crypto core ([`DeviceCrypto`] and [`flow`]) the web client runs,
//! talking to the real server's key directory.

use crate::device::{TestDevice, new_message_id, random_seed};
use courier_shared::client::{Api, Event};
use courier_shared::crypto::content::GroupName;
use courier_shared::crypto::content::{Content, Plaintext};
use courier_shared::crypto::device_list::SignedDeviceList;
use courier_shared::crypto::envelope::{Envelope, Sealed};
use courier_shared::crypto::flow::{self, KeyServer};
use courier_shared::crypto::group_flow::Incoming;
use courier_shared::crypto::keys::SignedKey;
use courier_shared::crypto::link::{LinkHello, LinkSecret};
use courier_shared::crypto::safety;
use courier_shared::crypto::{CryptoError, DeviceCrypto};
use courier_shared::ids::{DeviceId, GroupId, MessageId, PublicKey, RequestId, UserId, Username};
use courier_shared::proto::{ClientFrame, ErrorCode, Payload, Refusal};

/// Milliseconds since the Unix epoch.
pub fn unix_ms() -> u64 {
    courier_shared::time::system_now_ms()
}

/// A received message, decrypted or not.
pub type Received = (
    MessageId,
    (UserId, DeviceId),
    Result<Plaintext, CryptoError>,
);

/// The key directory over a device's connection, waiting out rate limits
/// as a real client does (a large group's first send asks for many device
/// lists).
pub struct Directory<'a>(pub &'a mut TestDevice);

impl Directory<'_> {
    async fn retrying<T>(
        &mut self,
        mut call: impl AsyncFnMut(&mut courier_native::NativeClient) -> Result<T, Refusal>,
    ) -> Result<T, CryptoError> {
        loop {
            match call(&mut self.0.net).await {
                Err(refusal) if refusal.code == ErrorCode::RateLimited => {
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
                other => return Ok(other?),
            }
        }
    }
}

impl KeyServer for Directory<'_> {
    async fn fetch_list(&mut self, user: UserId) -> Result<Option<SignedDeviceList>, CryptoError> {
        self.retrying(async |net| Ok(net.fetch_device_list(user).await?.list))
            .await
    }

    async fn claim(
        &mut self,
        devices: Vec<DeviceId>,
    ) -> Result<Vec<(DeviceId, SignedKey)>, CryptoError> {
        self.retrying(async |net| net.claim_keys(devices.clone()).await)
            .await
    }
}

/// A device that encrypts end to end.
pub struct SecureDevice {
    /// Its connection.
    pub net: TestDevice,
    /// Its crypto state.
    pub crypto: DeviceCrypto,
    /// How many sends the server refused as stale and this device redid.
    pub stale_retries: u32,
    /// The account's name (known once registered or welcomed).
    pub username: Username,
    /// The groups this device knows: name and members.
    pub groups: std::collections::HashMap<GroupId, GroupState>,
    /// The ciphertext of the last message received, as delivered.
    pub last_payload: Option<Payload>,
}

/// What a device knows of a group.
#[derive(Debug, Clone)]
pub struct GroupState {
    /// The name (end-to-end encrypted between members).
    pub name: GroupName,
    /// The members, as the server last said, with whether they are admins.
    pub members: Vec<(UserId, bool)>,
}

impl SecureDevice {
    /// Registers `username` as a new account: its first device founds the
    /// account key, publishes the device list and its pre-keys.
    pub async fn register(ws_url: &str, username: &str) -> Self {
        let seed = random_seed();
        let net = TestDevice::register_seeded(ws_url, username, seed).await;
        let mut this = Self::new(net, seed);
        this.username = Username::parse(username).expect("valid username");
        this.publish_prekeys().await;
        let list = this
            .crypto
            .found_account(random_seed())
            .expect("founds the account");
        this.publish_list(list).await.expect("first list published");
        this
    }

    fn new(net: TestDevice, seed: [u8; 32]) -> Self {
        let mut crypto = DeviceCrypto::new(seed);
        crypto.set_me(net.user, net.device);
        Self {
            net,
            crypto,
            stale_retries: 0,
            username: Username::parse("pending").expect("valid"),
            groups: std::collections::HashMap::new(),
            last_payload: None,
        }
    }

    /// The user.
    pub fn user(&self) -> UserId {
        self.net.user
    }

    /// The device.
    pub fn device(&self) -> DeviceId {
        self.net.device
    }

    /// Tops the server's stock of this device's one-time keys up.
    pub async fn publish_prekeys(&mut self) -> u32 {
        let count = self
            .net
            .net
            .publish_keys(Vec::new(), None)
            .await
            .expect("key count");
        let (one_time, fallback) = self.crypto.prekeys_to_publish(count);
        self.net
            .net
            .publish_keys(one_time, fallback)
            .await
            .expect("keys published")
    }

    /// Publishes this user's device list; on success this device adopts it.
    pub async fn publish_list(&mut self, list: SignedDeviceList) -> Result<(), CryptoError> {
        let user = self.user();
        self.net.net.publish_device_list(list.clone()).await?;
        self.crypto.accept_list(user, &list)?;
        Ok(())
    }

    /// Opens a link for a new device; returns the secret behind its code.
    pub async fn open_link(&mut self) -> LinkSecret {
        let mut random = [0u8; 16];
        getrandom::fill(&mut random).expect("randomness");
        let secret = LinkSecret::from_random(random);
        self.net
            .net
            .create_link(secret.id())
            .await
            .expect("link opened");
        secret
    }

    /// Joins the account whose device shows `code`: signs in through the
    /// link, publishes pre-keys and sends its sealed hello to the account's
    /// devices. [`SecureDevice::finish_link`] completes it once approved.
    pub async fn start_link(ws_url: &str, code: &str) -> (Self, LinkSecret) {
        let secret = LinkSecret::parse(code).expect("a valid code");
        let seed = random_seed();
        let net = TestDevice::link(ws_url, secret.id(), seed).await;
        let mut this = Self::new(net, seed);
        this.publish_prekeys().await;
        let user = this.user();
        let list = Directory(&mut this.net)
            .fetch_list(user)
            .await
            .expect("own list")
            .expect("published");
        let devices: Vec<DeviceId> = list
            .open()
            .expect("valid")
            .devices()
            .iter()
            .map(|d| d.0)
            .collect();
        let hello = LinkHello(
            this.device(),
            this.crypto.signing_public(),
            this.crypto.identity_key(),
        );
        let sealed = secret.seal_hello(&hello, nonce()).expect("seals");
        this.send_sealed(devices, sealed).await;
        (this, secret)
    }

    async fn send_sealed(&mut self, to: Vec<DeviceId>, sealed: Vec<u8>) {
        let payload = Envelope::Link {
            body: Sealed::new(sealed).expect("small"),
        }
        .to_payload()
        .expect("fits");
        let id = new_message_id();
        self.net
            .send(ClientFrame::SendFanout {
                request: RequestId::NONE,
                id,
                to,
                payload,
            })
            .await;
        self.net.accepted(id).await;
    }

    /// Waits for the approving device's welcome and takes the account key.
    pub async fn finish_link(&mut self, secret: &LinkSecret) {
        loop {
            let (_, from, _, payload) = self.next_raw().await;
            if from.0 != self.user() {
                continue;
            }
            if let Ok(Envelope::Link { body }) = Envelope::from_payload(payload.as_bytes())
                && let Ok(welcome) = secret.open_welcome(body.as_bytes())
            {
                self.crypto
                    .accept_welcome(&welcome)
                    .expect("welcome accepted");
                self.username = welcome.2;
                return;
            }
        }
    }

    /// Waits for a link hello sealed under `secret`, approves the device
    /// that sent it, publishes the new list and sends the welcome.
    pub async fn approve_link(&mut self, secret: &LinkSecret) -> DeviceId {
        let user = self.user();
        let hello = loop {
            let (_, from, _, payload) = self.next_raw().await;
            if from.0 != user {
                continue;
            }
            if let Ok(Envelope::Link { body }) = Envelope::from_payload(payload.as_bytes())
                && let Ok(hello) = secret.open_hello(body.as_bytes())
            {
                break hello;
            }
        };
        let registered = self.registered_key(hello.0).await;
        let (list, welcome) = self
            .crypto
            .approve_link(&hello, &registered, &self.username)
            .expect("approves");
        self.publish_list(list).await.expect("list published");
        let sealed = secret.seal_welcome(&welcome, nonce()).expect("seals");
        let others: Vec<DeviceId> = self
            .crypto
            .recipients(user)
            .expect("own list")
            .iter()
            .map(|d| d.0)
            .collect();
        self.send_sealed(others, sealed).await;
        hello.0
    }

    async fn registered_key(&mut self, device: DeviceId) -> PublicKey {
        let user = self.user();
        let registered = self
            .net
            .net
            .fetch_device_list(user)
            .await
            .expect("device list")
            .registered;
        registered
            .into_iter()
            .find(|(d, _)| *d == device)
            .expect("registered")
            .1
    }

    /// Removes `device` from the account.
    pub async fn remove_device(&mut self, device: DeviceId) {
        let list = self.crypto.remove_device(device).expect("signs");
        self.publish_list(list).await.expect("published");
    }

    /// Encrypts and sends `text` to `to`; refreshes device lists and retries
    /// when the server says they are stale. Returns the message id once the
    /// server accepted it.
    pub async fn send_text(&mut self, to: UserId, text: &str) -> MessageId {
        let id = new_message_id();
        let plain = Plaintext::text(id, to, text, None);
        self.send_plain(&plain).await;
        id
    }

    /// Encrypts and sends `plain`, as [`SecureDevice::send_text`] does.
    pub async fn send_plain(&mut self, plain: &Plaintext) {
        let id = plain.0;
        loop {
            let to = self.encrypt(plain).await.expect("encrypts");
            let frame = ClientFrame::Send {
                request: RequestId::NONE,
                id,
                to,
            };
            self.net.send(frame).await;
            match self.net.outcome(id).await {
                Ok(()) => return,
                Err(ErrorCode::StaleDevices) => {
                    self.stale_retries += 1;
                    let mut directory = Directory(&mut self.net);
                    flow::refresh_recipients(&mut self.crypto, &mut directory, plain.1)
                        .await
                        .expect("refreshed");
                }
                Err(code) => panic!("send refused: {code:?}"),
            }
        }
    }

    /// Encrypts `plain` for every device it must reach.
    pub async fn encrypt(
        &mut self,
        plain: &Plaintext,
    ) -> Result<Vec<(DeviceId, Payload)>, CryptoError> {
        flow::encrypt_for(
            &mut self.crypto,
            &mut Directory(&mut self.net),
            plain,
            unix_ms(),
        )
        .await
    }

    /// The next delivered message, undecrypted.
    pub async fn next_raw(&mut self) -> (MessageId, (UserId, DeviceId), u64, Payload) {
        self.net
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

    /// The next message, decrypted (or why it could not be).
    pub async fn next_message(&mut self) -> Received {
        let (id, from, incoming) = self.next_incoming().await;
        let plain = incoming.and_then(|incoming| match incoming {
            Incoming::Direct(plain) => Ok(plain),
            Incoming::Group(_) => Err(CryptoError::Malformed("pairwise message (got a group one)")),
        });
        (id, from, plain)
    }

    /// The next message's text; panics if it does not decrypt.
    pub async fn next_text(&mut self) -> (MessageId, UserId, String) {
        let (id, from, plain) = self.next_message().await;
        match plain.expect("decrypts").2 {
            Content::Text { text, .. } => (id, from.0, text.as_str().to_owned()),
            other => panic!("expected text, got {other:?}"),
        }
    }
}

/// A user with two approved devices, the second linked by code.
pub async fn user_with_two_devices(ws: &str, name: &str) -> (SecureDevice, SecureDevice) {
    let mut first = SecureDevice::register(ws, name).await;
    let secret = first.open_link().await;
    let qr = safety::qr_svg(&secret.qr_text()).expect("QR code");
    assert!(qr.contains("<svg"), "the link code also shows as a QR code");
    let (mut second, secret) = SecureDevice::start_link(ws, &secret.code()).await;
    first.approve_link(&secret).await;
    second.finish_link(&secret).await;
    assert!(second.crypto.is_approved());
    (first, second)
}

fn nonce() -> [u8; 12] {
    let mut nonce = [0u8; 12];
    getrandom::fill(&mut nonce).expect("randomness");
    nonce
}
