//! [`Messenger`]: one device's whole messenger, with no I/O — the chat
//! index and the outbox, sends and their retries, marks and receipts,
//! key-change lines, groups with sender keys, media references, linking.
//!
//! In the style of matrix-sdk-crypto's `OlmMachine`: requests go out and
//! answers come in through a [`Server`] (the browser's socket or the native
//! driver, both over [`super::Connection`]'s request ids), records go to a
//! [`Store`] (IndexedDB in the browser, memory in native tests), time and
//! randomness come from an [`Env`], and what the user should see comes out
//! as [`Effect`]s ([`Messenger::take_effects`]). The web client, the native
//! test client and the unit tests all drive this same code.
//!
//! - `account.rs`: creating an account, linking and approving devices,
//!   removing them, safety numbers, pre-keys.
//! - `outgoing.rs`: the outbox — sends, their answers and retries, receipts.
//! - `incoming.rs`: what arrives — decryption, storage, marks, key changes.
//! - `contacts.rs`: starting chats, contacts, names, presence.
//! - `groups.rs`: group membership, sender-key sends and group events.
//! - `media.rs`: media messages — drafts, uploads done, forwards.
//! - `calls.rs`: call signals out, call lines in the chat.
//! - `timer.rs`: disappearing messages — a chat's timer and the sweep.
//! - `gallery.rs`: each chat's shared media, files and voice notes.
//! - `description.rs`: a group's description.
//! - `invites.rs`: group invite links — made, revoked, joined.
//! - `profiles.rs`: display names, about lines and photos, and their keys.

mod account;
mod calls;
mod changes;
mod contacts;
mod description;
mod gallery;
mod groups;
mod incoming;
mod invites;
mod media;
mod organise;
mod outgoing;
mod profiles;
mod saved;
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
mod timer;

pub use account::{LinkCode, SafetyInfo};
pub use description::MAX_DESCRIPTION_CHARS;
pub use gallery::{SharedMedia, carries_media};
pub use groups::GroupAction;
pub use invites::{JOIN_FRAGMENT, read_invite};
pub use media::{Download, MediaDraft, MediaFacts, label as media_label};
pub use profiles::PhotoChange;
pub use saved::SavedAccount;
pub use timer::timer_label;

use super::api::{Directory, Server};
use super::chat::{ChatId, Gallery, Index, Message};
use super::connection::Event;
use crate::crypto::link::LinkSecret;
use crate::crypto::{CryptoError, DeviceCrypto};
use crate::ids::{DeviceId, MessageId, UserId};
use crate::proto::Refusal;
use crate::time::Env;

/// Where the device's records live: sealed at rest by the store.
#[allow(async_fn_in_trait)] // single-threaded drivers; no Send bound wanted
pub trait Store {
    /// One message, if stored.
    async fn message(&mut self, chat: ChatId, id: &MessageId) -> Result<Option<Message>, String>;
    /// Saves (or replaces) one message.
    async fn save_message(&mut self, message: &Message) -> Result<(), String>;
    /// Saves the chat index (with the outbox).
    async fn save_index(&mut self, index: &Index) -> Result<(), String>;
    /// Saves the account: name and crypto state ([`SavedAccount`]).
    async fn save_account(&mut self, account: &[u8]) -> Result<(), String>;
    /// Up to `limit` messages of `chat` older than `before` (or the
    /// newest), oldest first.
    async fn page(
        &mut self,
        chat: ChatId,
        before: Option<&MessageId>,
        limit: usize,
    ) -> Result<Vec<Message>, String>;
    /// The media messages of `chat`, if saved.
    async fn gallery(&mut self, chat: ChatId) -> Result<Option<Gallery>, String>;
    /// Saves (or replaces) the media messages of `chat`.
    async fn save_gallery(&mut self, chat: ChatId, gallery: &Gallery) -> Result<(), String>;
    /// The photo of `chat` (a JPEG: a person's profile photo, or a
    /// group's), if saved.
    async fn photo(&mut self, chat: ChatId) -> Result<Option<Vec<u8>>, String>;
    /// Saves the photo of `chat` (empty: none).
    async fn save_photo(&mut self, chat: ChatId, photo: &[u8]) -> Result<(), String>;
}

/// Something the user should see, for the driver to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// The chat list changed: show [`Messenger::chats`].
    Chats,
    /// A message was stored or changed: show it if its chat is open.
    Message(Message),
    /// A message arrived that the user should be told about (the driver
    /// notifies when the page is hidden).
    Notify {
        /// The chat's name.
        title: String,
        /// What it says.
        body: String,
    },
    /// Something to tell the user.
    Notice(String),
    /// The account changed (signed in, approved, devices): show
    /// [`Messenger::devices`] and [`Messenger::username`].
    Account,
    /// Names of people were learnt: show [`Messenger::names`].
    Names,
    /// What this device shows of a chat's person or group changed (a
    /// profile, a group's photo): show [`Messenger::profile`] and
    /// [`Messenger::photo`].
    Profile(ChatId),
    /// A contact's presence.
    Presence {
        /// The contact.
        user: UserId,
        /// Online now.
        online: bool,
        /// Last online (Unix ms, 0: never).
        last_seen: u64,
    },
    /// A contact started or stopped typing.
    Typing {
        /// The contact.
        from: UserId,
        /// Typing now.
        typing: bool,
    },
    /// A media message that should download at once (a small photo or a
    /// voice note), if the user's setting allows.
    AutoFetch(Message),
    /// This device was approved by another device of the account (linked).
    Approved,
    /// A call's signal arrived, for the calls' state machine
    /// ([`crate::client::call::Calls::on_signal`]); never stored.
    Call {
        /// The device it came from.
        from_device: DeviceId,
        /// From another device of this user.
        own: bool,
        /// The other person of the call.
        peer: UserId,
        /// The signal (a [`crate::crypto::content::Content::Call`]).
        content: crate::crypto::content::Content,
    },
}

/// Why a messenger step failed, in words for the user.
#[derive(Debug, thiserror::Error)]
pub enum MessengerError {
    /// The server refused a request.
    #[error("{0}")]
    Refused(#[from] Refusal),
    /// Encryption or decryption failed.
    #[error("{0}")]
    Crypto(#[from] CryptoError),
    /// The device's storage failed.
    #[error("cannot store: {0}")]
    Store(String),
    /// The user asked for something that cannot be done.
    #[error("{0}")]
    Invalid(String),
}

impl MessengerError {
    /// An error for the user.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid(message.into())
    }
}

/// The result of a messenger step.
pub type Result<T, E = MessengerError> = std::result::Result<T, E>;

/// One device's messenger.
pub struct Messenger<S, St, E> {
    /// The server, through the connection.
    pub server: S,
    /// The device's storage.
    pub store: St,
    /// Time and randomness.
    pub env: E,
    account: Option<Account>,
    index: Index,
    showing: Option<LinkSecret>,
    joining: Option<LinkSecret>,
    online: bool,
    open: Option<ChatId>,
    looking: bool,
    effects: Vec<Effect>,
    stale_retries: u32,
}

/// The signed-in account on this device.
struct Account {
    username: String,
    crypto: DeviceCrypto,
}

impl<S: Server, St: Store, E: Env> Messenger<S, St, E> {
    /// A messenger with no account yet (the welcome page).
    pub fn new(server: S, store: St, env: E) -> Self {
        Self {
            server,
            store,
            env,
            account: None,
            index: Index::default(),
            showing: None,
            joining: None,
            online: false,
            open: None,
            looking: true,
            effects: Vec::new(),
            stale_retries: 0,
        }
    }

    /// A messenger for the saved account and chat index.
    pub fn restore(server: S, store: St, env: E, saved: SavedAccount, mut index: Index) -> Self {
        index.upgrade();
        let mut this = Self::new(server, store, env);
        this.account = Some(Account {
            username: saved.username,
            crypto: saved.crypto,
        });
        this.index = index;
        this
    }

    /// What the driver should show since the last call.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    fn show(&mut self, effect: Effect) {
        self.effects.push(effect);
    }

    /// The chats, most recent first.
    pub fn chats(&self) -> &[super::chat::Chat] {
        &self.index.chats
    }

    /// The chat index (with the outbox).
    pub fn index(&self) -> &Index {
        &self.index
    }

    /// The names of people this user knows of.
    pub fn names(&self) -> &[(UserId, String)] {
        &self.index.names
    }

    /// The account's username, once known.
    pub fn username(&self) -> Option<&str> {
        self.account.as_ref().map(|a| a.username.as_str())
    }

    /// This device's user and device, once signed in.
    pub fn me(&self) -> Option<(UserId, DeviceId)> {
        self.account.as_ref().and_then(|a| a.crypto.me())
    }

    /// Whether this device is approved (on its account's device list).
    pub fn is_approved(&self) -> bool {
        self.account
            .as_ref()
            .is_some_and(|a| a.crypto.is_approved())
    }

    /// The account's approved devices, this one marked.
    pub fn devices(&self) -> Vec<(DeviceId, bool)> {
        let Some((user, me)) = self.me() else {
            return Vec::new();
        };
        self.account
            .as_ref()
            .and_then(|a| a.crypto.user(user))
            .map(|c| {
                c.list
                    .devices()
                    .iter()
                    .map(|d| (d.device, d.device == me))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The device's crypto state (for the tests that probe it).
    pub fn crypto(&self) -> Option<&DeviceCrypto> {
        self.account.as_ref().map(|a| &a.crypto)
    }

    /// The device's crypto state, to change (for the tests that probe it).
    pub fn crypto_mut(&mut self) -> Option<&mut DeviceCrypto> {
        self.account.as_mut().map(|a| &mut a.crypto)
    }

    /// The crypto state with the server, borrowed together (for the tests
    /// that run the crypto flows by hand, as an attacker might).
    pub fn crypto_with_server(&mut self) -> Option<(&mut DeviceCrypto, &mut S)> {
        let account = self.account.as_mut()?;
        Some((&mut account.crypto, &mut self.server))
    }

    /// How many sends the server refused as stale and this device redid.
    pub fn stale_retries(&self) -> u32 {
        self.stale_retries
    }

    /// The open conversation.
    pub fn open_chat(&self) -> Option<ChatId> {
        self.open
    }

    fn my_user(&self) -> Option<UserId> {
        self.me().map(|(user, _)| user)
    }

    fn crypto_parts(&mut self) -> Result<(&mut DeviceCrypto, Directory<&mut S>)> {
        let account = self
            .account
            .as_mut()
            .ok_or_else(|| MessengerError::invalid("no account on this device yet"))?;
        Ok((&mut account.crypto, Directory(&mut self.server)))
    }

    fn crypto_state(&mut self) -> Result<&mut DeviceCrypto> {
        self.account
            .as_mut()
            .map(|a| &mut a.crypto)
            .ok_or_else(|| MessengerError::invalid("no account on this device yet"))
    }

    /// Seals and saves the account.
    async fn save_account(&mut self) -> Result<()> {
        let Some(account) = &self.account else {
            return Ok(());
        };
        let bytes = SavedAccount::encode(&account.username, &account.crypto);
        self.store
            .save_account(&bytes)
            .await
            .map_err(MessengerError::Store)
    }

    /// Saves the chat index and shows the chat list.
    async fn save_index(&mut self) -> Result<()> {
        self.store
            .save_index(&self.index)
            .await
            .map_err(MessengerError::Store)?;
        self.show(Effect::Chats);
        Ok(())
    }

    /// Saves `message` and shows it.
    async fn store_message(&mut self, message: &Message) -> Result<()> {
        self.store
            .save_message(message)
            .await
            .map_err(MessengerError::Store)?;
        if carries_media(message) {
            self.note_media(message.chat, message.id).await?;
        }
        self.show(Effect::Message(message.clone()));
        Ok(())
    }

    async fn load(&mut self, chat: ChatId, id: &MessageId) -> Result<Option<Message>> {
        self.store
            .message(chat, id)
            .await
            .map_err(MessengerError::Store)
    }

    /// Takes in an event of the connection.
    pub async fn on_event(&mut self, event: Event) -> Result<()> {
        let outcome = match event {
            Event::SignedIn { .. } => self.on_signed_in().await,
            Event::Message {
                id,
                from,
                from_device,
                payload,
                ..
            } => {
                self.on_message(id, (from, from_device), payload.as_bytes())
                    .await
            }
            Event::Receipt {
                id,
                from,
                kind,
                ids,
                ..
            } => self.on_receipt(id, from, kind, ids).await,
            Event::Answer { request, answer } => self.on_answer(request, answer).await,
            Event::Presence {
                user,
                online,
                last_seen,
            } => {
                self.show(Effect::Presence {
                    user,
                    online,
                    last_seen,
                });
                Ok(())
            }
            Event::Typing { from, typing } => {
                self.show(Effect::Typing { from, typing });
                Ok(())
            }
            Event::KeysLow(_) => self.top_up_prekeys().await,
            Event::Disconnected => {
                self.online = false;
                Ok(())
            }
            Event::SignInRefused(refusal) | Event::Failed(refusal) => {
                self.show(Effect::Notice(refusal.message));
                Ok(())
            }
        };
        // Whatever the step found out about contacts' keys is shown, even if
        // it failed later.
        self.show_key_changes().await?;
        outcome
    }

    /// The connection dropped (as [`Event::Disconnected`] says): nothing
    /// goes out until the next sign-in.
    pub fn on_disconnected(&mut self) {
        self.online = false;
    }

    /// Time passed: sends whose retry time came go again.
    pub async fn on_tick(&mut self) -> Result<()> {
        self.expire().await?;
        if self.online {
            self.flush().await?;
        }
        Ok(())
    }

    /// When [`Messenger::on_tick`] is next wanted (Unix ms): the outbox's
    /// next retry, or the next message to disappear.
    pub fn next_retry(&self) -> Option<u64> {
        match (self.index.outbox.next_retry(), self.next_expiry()) {
            (Some(retry), Some(expiry)) => Some(retry.min(expiry)),
            (retry, expiry) => retry.or(expiry),
        }
    }

    async fn on_signed_in(&mut self) -> Result<()> {
        if self.account.is_none() {
            return Ok(());
        }
        self.online = true;
        self.expire().await?;
        self.index.outbox.reconnected();
        self.subscribe_presence().await;
        self.fetch_profiles().await?;
        self.top_up_prekeys().await?;
        self.flush().await
    }
}
