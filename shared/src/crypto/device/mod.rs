//! [`DeviceCrypto`]: one device's end-to-end encryption state, with no I/O.
//!
//! It holds the device's Ed25519 signing key (sign-in, pre-key signatures),
//! its Olm account (Curve25519 identity, one-time and fallback keys), the
//! account identity key once the device is approved, the verified device
//! lists of the users it talks to (its own included) and an Olm session per
//! other device. Callers feed it what the server answers and persist
//! [`DeviceCrypto::snapshot`] after every change; [`super::flow`] strings
//! the steps together over a [`super::flow::KeyServer`].
//!
//! - `lists.rs`: device lists, the account key, linking and removal.
//! - `sessions.rs`: pre-keys, Olm sessions, encryption and decryption.
//! - group sender keys live in [`super::group::SenderKeys`], saved with the rest.

mod lists;
mod sessions;

use super::CryptoError;
use super::device_list::DeviceList;
use super::group::{SavedSenderKeys, SenderKeys};
use super::identity::DeviceKey;
use crate::ids::{CurveKey, DeviceId, FixedBytes, PublicKey, UserId};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use vodozemac::olm::{Account, AccountPickle, Session, SessionPickle};

pub use lists::{KeyChange, KeyChangeNotice};

/// A session is replaced by a fresh one after this long (7 days)…
pub const SESSION_MAX_AGE_MS: u64 = 7 * 24 * 60 * 60 * 1000;
/// …or after this many messages sent through it.
pub const SESSION_MAX_MESSAGES: u32 = 1_000;
/// Sessions kept per other device, newest first (older ones still decrypt
/// late messages).
const SESSIONS_PER_DEVICE: usize = 4;

/// What this device knows of a user (or of its own account).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// Their newest verified device list.
    pub list: DeviceList,
    /// Whether the safety number was compared for this account key.
    pub verified: bool,
}

struct SessionEntry {
    session: Session,
    created_ms: u64,
    sent: u32,
}

/// One device's end-to-end encryption state.
pub struct DeviceCrypto {
    signing: DeviceKey,
    account: Account,
    account_key: Option<DeviceKey>,
    me: Option<(UserId, DeviceId)>,
    users: HashMap<UserId, Contact>,
    sessions: HashMap<DeviceId, Vec<SessionEntry>>,
    renew: HashSet<DeviceId>,
    groups: SenderKeys,
    /// Key changes not yet taken by the app (not saved: taken right after
    /// the operation that found them).
    changes: Vec<KeyChangeNotice>,
    /// A peer opened a session with one of this device's one-time keys since
    /// the app last asked (so the server's stock went down).
    one_time_key_used: bool,
    /// When the current fallback key was first published (Unix ms).
    fallback_published_ms: Option<u64>,
}

impl std::fmt::Debug for DeviceCrypto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceCrypto")
            .field("me", &self.me)
            .field("signing", &self.signing.public_key())
            .field("approved", &self.account_key.is_some())
            .finish_non_exhaustive()
    }
}

/// A saved session: the pickle, when it was made, messages sent through it.
type SavedSession = (SessionPickle, u64, u32);

/// The serialised form of [`DeviceCrypto`].
#[derive(Serialize, Deserialize)]
struct Snapshot {
    signing: FixedBytes<32>,
    account: AccountPickle,
    account_key: Option<FixedBytes<32>>,
    me: Option<(UserId, DeviceId)>,
    users: Vec<(UserId, Contact)>,
    sessions: Vec<(DeviceId, Vec<SavedSession>)>,
    renew: Vec<DeviceId>,
    #[serde(default)]
    groups: SavedSenderKeys,
    #[serde(default)]
    fallback_published_ms: Option<u64>,
}

impl DeviceCrypto {
    /// A new device whose signing key comes from 32 secret random bytes.
    pub fn new(signing_seed: [u8; 32]) -> Self {
        let mut account = Account::new();
        account.generate_fallback_key();
        Self {
            signing: DeviceKey::from_seed(signing_seed),
            account,
            account_key: None,
            me: None,
            users: HashMap::new(),
            sessions: HashMap::new(),
            renew: HashSet::new(),
            groups: SenderKeys::default(),
            changes: Vec::new(),
            one_time_key_used: false,
            fallback_published_ms: None,
        }
    }

    /// The group sender keys (Megolm) of this device.
    pub fn groups(&mut self) -> &mut SenderKeys {
        &mut self.groups
    }

    /// The device's signing key, to sign in with.
    pub fn signing_key(&self) -> DeviceKey {
        DeviceKey::from_seed(self.signing.seed())
    }

    /// The public half of the signing key.
    pub fn signing_public(&self) -> PublicKey {
        self.signing.public_key()
    }

    /// The device's Olm identity key.
    pub fn identity_key(&self) -> CurveKey {
        FixedBytes(self.account.curve25519_key().to_bytes())
    }

    /// The signed-in user and device, once known.
    pub fn me(&self) -> Option<(UserId, DeviceId)> {
        self.me
    }

    /// Records the user and device the server signed this device in as.
    pub fn set_me(&mut self, user: UserId, device: DeviceId) {
        self.me = Some((user, device));
    }

    /// The signed-in user and device, or [`CryptoError::NotSignedIn`].
    pub fn require_me(&self) -> Result<(UserId, DeviceId), CryptoError> {
        self.me.ok_or(CryptoError::NotSignedIn)
    }

    /// The account identity key's public half, once approved.
    pub fn account_public(&self) -> Option<PublicKey> {
        self.account_key.as_ref().map(DeviceKey::public_key)
    }

    /// Whether this device is on its account's signed device list.
    pub fn is_approved(&self) -> bool {
        self.me.is_some_and(|(user, device)| {
            self.account_key.is_some()
                && self
                    .users
                    .get(&user)
                    .is_some_and(|c| c.list.device(device).is_some())
        })
    }

    /// What is known of `user`.
    pub fn user(&self, user: UserId) -> Option<&Contact> {
        self.users.get(&user)
    }

    /// The state as bytes, to be sealed and stored on the device.
    pub fn snapshot(&self) -> Vec<u8> {
        let snapshot = Snapshot {
            signing: FixedBytes(self.signing.seed()),
            account: self.account.pickle(),
            account_key: self.account_key.as_ref().map(|k| FixedBytes(k.seed())),
            me: self.me,
            users: self.users.iter().map(|(u, c)| (*u, c.clone())).collect(),
            sessions: self
                .sessions
                .iter()
                .map(|(device, entries)| {
                    let entries = entries
                        .iter()
                        .map(|e| (e.session.pickle(), e.created_ms, e.sent))
                        .collect();
                    (*device, entries)
                })
                .collect(),
            renew: self.renew.iter().copied().collect(),
            groups: self.groups.save(),
            fallback_published_ms: self.fallback_published_ms,
        };
        // Writing to a Vec cannot fail, and every field serialises.
        cbor4ii::serde::to_vec(Vec::new(), &snapshot).unwrap_or_default()
    }

    /// The state saved by [`DeviceCrypto::snapshot`].
    pub fn restore(bytes: &[u8]) -> Result<Self, CryptoError> {
        let snapshot: Snapshot = cbor4ii::serde::from_slice(bytes)
            .map_err(|_| CryptoError::Malformed("saved device state"))?;
        Ok(Self {
            signing: DeviceKey::from_seed(snapshot.signing.0),
            account: Account::from_pickle(snapshot.account),
            account_key: snapshot.account_key.map(|k| DeviceKey::from_seed(k.0)),
            me: snapshot.me,
            users: snapshot.users.into_iter().collect(),
            sessions: snapshot
                .sessions
                .into_iter()
                .map(|(device, entries)| {
                    let entries = entries
                        .into_iter()
                        .map(|(pickle, created_ms, sent)| SessionEntry {
                            session: Session::from_pickle(pickle),
                            created_ms,
                            sent,
                        })
                        .collect();
                    (device, entries)
                })
                .collect(),
            renew: snapshot.renew.into_iter().collect(),
            groups: SenderKeys::restore(snapshot.groups),
            changes: Vec::new(),
            one_time_key_used: false,
            fallback_published_ms: snapshot.fallback_published_ms,
        })
    }
}
