//! The account on this device: creating it, linking a new device (both
//! sides: the code shown and the device that types it), removing devices,
//! safety numbers, and keeping the server's stock of pre-keys full.

use super::{Account, Effect, Messenger, MessengerError, Result, Store};
use crate::client::api::{Api, Server};
use crate::crypto::device::{KeyChange, KeyChangeNotice};
use crate::crypto::device_list::SignedDeviceList;
use crate::crypto::envelope::{Envelope, Sealed};
use crate::crypto::link::{LinkHello, LinkSecret};
use crate::crypto::{DeviceCrypto, flow};
use crate::ids::{DeviceId, RequestId, UserId, Username};
use crate::proto::ClientFrame;
use crate::time::Env;

/// A link code on screen, for a new device to type or scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkCode {
    /// The code to type.
    pub code: String,
    /// The same as a URL that opens the web client with the code filled in
    /// (for a QR code).
    pub url: String,
}

/// A contact's safety number, to compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafetyInfo {
    /// Whose.
    pub username: String,
    /// Sixty digits in twelve groups.
    pub number: String,
    /// What a QR code of it encodes.
    pub qr_text: String,
    /// A change to warn about, if the keys changed since last seen.
    pub warning: Option<String>,
    /// The user marked this account key verified.
    pub verified: bool,
}

impl<S: Server, St: Store, E: Env> Messenger<S, St, E> {
    /// A new device's crypto state, with a fresh signing key.
    pub fn new_device(&mut self) -> DeviceCrypto {
        DeviceCrypto::new(self.env.random())
    }

    /// The device `crypto` was signed in as `user`'s first device (by
    /// `Register` on the connection): founds the account — saves the
    /// device, publishes its pre-keys and the first device list.
    pub async fn create_account(
        &mut self,
        username: &Username,
        mut crypto: DeviceCrypto,
        (user, device): (UserId, DeviceId),
    ) -> Result<()> {
        crypto.set_me(user, device);
        self.account = Some(Account {
            username: username.as_str().to_owned(),
            crypto,
        });
        self.online = true;
        self.save_account().await?;
        self.top_up_prekeys().await?;
        let seed = self.env.random();
        let list = self.crypto_state()?.found_account(seed)?;
        self.publish_list(list).await?;
        self.show(Effect::Account);
        Ok(())
    }

    /// The device `crypto` joined an account through `secret`'s link (by
    /// `Link` on the connection): saves it, publishes its pre-keys and
    /// sends its sealed hello to the account's devices. It is approved when
    /// one of them answers ([`Effect::Approved`]).
    pub async fn join(
        &mut self,
        secret: LinkSecret,
        mut crypto: DeviceCrypto,
        (user, device): (UserId, DeviceId),
    ) -> Result<()> {
        crypto.set_me(user, device);
        let hello = LinkHello {
            device,
            signing_key: crypto.signing_public(),
            identity_key: crypto.identity_key(),
        };
        self.account = Some(Account {
            username: String::new(),
            crypto,
        });
        self.online = true;
        self.save_account().await?;
        self.top_up_prekeys().await?;
        let own = self.list_devices(user).await?;
        let sealed = secret.seal_hello(&hello, self.env.random())?;
        self.send_sealed(own, sealed).await?;
        self.joining = Some(secret);
        Ok(())
    }

    /// Opens a link for a new device of this account; the code to show.
    pub async fn show_link(&mut self, origin: &str) -> Result<LinkCode> {
        let secret = LinkSecret::from_random(self.env.random());
        self.server.create_link(secret.id()).await?;
        let code = LinkCode {
            code: secret.code(),
            url: secret.link_url(origin),
        };
        self.showing = Some(secret);
        Ok(code)
    }

    /// The devices on `user`'s current device list, from the server.
    async fn list_devices(&mut self, user: UserId) -> Result<Vec<DeviceId>> {
        let list = self
            .server
            .fetch_device_list(user)
            .await?
            .list
            .ok_or_else(|| MessengerError::invalid("the account has no devices"))?;
        Ok(list.open()?.devices().iter().map(|d| d.device).collect())
    }

    async fn send_sealed(&mut self, to: Vec<DeviceId>, sealed: Vec<u8>) -> Result<()> {
        let body = Sealed::new(sealed).ok_or_else(|| MessengerError::invalid("too large"))?;
        let payload = Envelope::Link { body }.to_payload()?;
        let id = self.env.message_id();
        self.server
            .deliver(ClientFrame::SendFanout {
                request: RequestId::NONE,
                id,
                to,
                payload,
            })
            .await?;
        Ok(())
    }

    /// A sealed link message from another device of this account: a hello
    /// for the code on screen, or the welcome this device waits for.
    pub(super) async fn on_link(&mut self, from_device: DeviceId, sealed: &[u8]) -> Result<()> {
        if let Some(secret) = self.showing.clone()
            && let Ok(hello) = secret.open_hello(sealed)
        {
            if hello.device != from_device {
                return Err(MessengerError::invalid(
                    "a link hello came from another device than it names",
                ));
            }
            return self.approve(&secret, &hello).await;
        }
        if let Some(secret) = self.joining.clone()
            && let Ok(welcome) = secret.open_welcome(sealed)
        {
            let username = welcome.username.as_str().to_owned();
            self.crypto_state()?.accept_welcome(&welcome)?;
            if let Some(account) = &mut self.account {
                account.username = username;
            }
            self.joining = None;
            self.save_account().await?;
            self.show(Effect::Account);
            self.show(Effect::Approved);
        }
        Ok(())
    }

    /// Approves the device that sent `hello` for the code on screen: a new
    /// device list that holds it, and the welcome sealed under the code.
    async fn approve(&mut self, secret: &LinkSecret, hello: &LinkHello) -> Result<()> {
        let (user, _) = self.crypto_state()?.require_me()?;
        let registered = self.server.fetch_device_list(user).await?.registered;
        let key = registered
            .iter()
            .find(|(d, _)| *d == hello.device)
            .ok_or_else(|| MessengerError::invalid("the new device is not registered"))?
            .1;
        let username = Username::parse(self.username().unwrap_or_default())
            .map_err(|err| MessengerError::invalid(err.to_string()))?;
        let (list, welcome) = self.crypto_state()?.approve_link(hello, &key, &username)?;
        self.publish_list(list).await?;
        let others: Vec<DeviceId> = self
            .crypto_state()?
            .recipients(user)?
            .iter()
            .map(|d| d.device)
            .collect();
        let sealed = secret.seal_welcome(&welcome, self.env.random())?;
        self.send_sealed(others, sealed).await?;
        self.showing = None;
        self.show(Effect::Notice(format!(
            "Device {} is now linked to your account.",
            hello.device.0
        )));
        Ok(())
    }

    /// Publishes this user's device list; on success this device adopts it.
    pub(super) async fn publish_list(&mut self, list: SignedDeviceList) -> Result<()> {
        self.server.publish_device_list(list.clone()).await?;
        self.crypto_state()?.adopt_own_list(&list)?;
        self.save_account().await?;
        self.show(Effect::Account);
        Ok(())
    }

    /// Removes `device` from the account.
    pub async fn remove_device(&mut self, device: DeviceId) -> Result<()> {
        let list = self.crypto_state()?.remove_device(device)?;
        self.publish_list(list).await?;
        self.show(Effect::Notice(format!("Device {} was removed.", device.0)));
        Ok(())
    }

    /// The safety number shared with the user named `name`, after fetching
    /// their device list again.
    pub async fn safety(&mut self, name: &str) -> Result<SafetyInfo> {
        let (user, username) = self.lookup(name).await?;
        let (crypto, mut directory) = self.crypto_parts()?;
        let was_verified = crypto.is_verified(user);
        let change = flow::refresh(crypto, &mut directory, user).await?;
        let notice = KeyChangeNotice {
            user,
            change,
            was_verified,
        };
        let crypto = self.crypto_state()?;
        let info = SafetyInfo {
            username: username.as_str().to_owned(),
            number: crypto
                .safety_number(user)
                .ok_or_else(|| MessengerError::invalid("no safety number yet"))?,
            qr_text: crypto.safety_qr_text(user).unwrap_or_default(),
            warning: key_warning(username.as_str(), &notice),
            verified: crypto.is_verified(user),
        };
        self.save_account().await?;
        Ok(info)
    }

    /// Marks the user named `name` verified: their safety number was
    /// compared. The mark lasts until their account key changes.
    pub async fn mark_verified(&mut self, name: &str) -> Result<()> {
        let (user, _) = self.lookup(name).await?;
        self.crypto_state()?.mark_verified(user);
        self.save_account().await
    }

    /// Tops the server's stock of this device's one-time keys up (and the
    /// fallback key, when it must rotate).
    pub async fn top_up_prekeys(&mut self) -> Result<()> {
        if self.account.is_none() {
            return Ok(());
        }
        let count = self.server.publish_keys(Vec::new(), None).await?;
        let now = self.env.now_ms();
        let (one_time, fallback) = self.crypto_state()?.prekeys_to_publish(count, now);
        if one_time.is_empty() && fallback.is_none() {
            return Ok(());
        }
        self.server.publish_keys(one_time, fallback).await?;
        self.save_account().await
    }

    /// Writes a line into the chat with each contact whose keys changed
    /// since the last call.
    pub(super) async fn show_key_changes(&mut self) -> Result<()> {
        let me = self.my_user();
        let notices = match self.account.as_mut() {
            Some(account) => account.crypto.take_key_changes(),
            None => return Ok(()),
        };
        for notice in notices {
            if Some(notice.user) == me {
                if let Some(text) = own_devices_warning(&notice) {
                    self.show(Effect::Notice(text));
                    self.show(Effect::Account);
                }
                continue;
            }
            let direct = self.index.get(super::ChatId::User(notice.user));
            let known = direct
                .map(|c| c.name.as_str())
                .or(self.index.name(notice.user));
            let Some(name) = known.map(str::to_owned) else {
                continue;
            };
            let Some(warning) = key_warning(&name, &notice) else {
                continue;
            };
            for chat in self.chats_seeing(notice.user) {
                let line = super::Message::line(self.env.message_id(), chat, None, warning.clone());
                self.arrived(line).await?;
            }
        }
        Ok(())
    }

    /// Where a change of `user`'s keys is told: the chat with them, or,
    /// for a member of groups never written to one to one, each such
    /// group (whose messages their new keys will now read).
    fn chats_seeing(&self, user: UserId) -> Vec<super::ChatId> {
        let direct = super::ChatId::User(user);
        if self.index.get(direct).is_some() {
            return vec![direct];
        }
        self.chats()
            .iter()
            .filter(|chat| chat.chat.group().is_some() && chat.member_ids().contains(&user))
            .map(|chat| chat.chat)
            .collect()
    }
}

/// What the user is told about a change of a contact's keys, naming them
/// (nothing for a first sighting).
pub fn key_warning(name: &str, notice: &KeyChangeNotice) -> Option<String> {
    Some(match &notice.change {
        KeyChange::IdentityChanged if notice.was_verified => format!(
            "{name}'s safety number changed, and you had verified it. \
             Compare it again (Devices → Verify a contact) before you trust new messages."
        ),
        KeyChange::IdentityChanged => format!(
            "{name}'s safety number changed: a new account key (a reinstall, or someone else). \
             Compare it in Devices → Verify a contact."
        ),
        KeyChange::DevicesChanged { added, removed } => format!(
            "{name}'s devices changed: {} added, {} removed. Messages now go to the new set.",
            added.len(),
            removed.len()
        ),
        KeyChange::New | KeyChange::None => return None,
    })
}

/// What the user is told when their own account's devices change (another
/// of their devices linked or removed one): a device they did not add
/// themselves is how an account takeover shows.
fn own_devices_warning(notice: &KeyChangeNotice) -> Option<String> {
    match &notice.change {
        KeyChange::DevicesChanged { added, removed } => Some(format!(
            "Your account's devices changed: {} added, {} removed. \
             If you did not do this, remove the devices you do not know (Devices).",
            added.len(),
            removed.len()
        )),
        KeyChange::IdentityChanged => {
            Some("Your account key changed on another device.".to_owned())
        }
        KeyChange::New | KeyChange::None => None,
    }
}
