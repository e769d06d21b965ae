//! Sender keys for group chats (Megolm in vodozemac), with no I/O.
//!
//! Each device keeps one outbound Megolm session per group. A group message
//! is encrypted once with it and fanned out by the server to every member
//! device. The session key is handed to each member device over the
//! pairwise Olm sessions ([`super::content::Content::GroupKey`]), so it is
//! bound to the device that sent it. A device that receives the key gets it
//! at the session's current index: it cannot decrypt earlier messages.
//!
//! Rotation: a sender starts a new session before its next message when a
//! device it shared the key with is no longer a member (a removed member must
//! not read on), and after [`GROUP_KEY_MAX_MESSAGES`] messages or
//! [`GROUP_KEY_MAX_AGE_MS`], since a sender key alone gives no recovery
//! after a compromise.

use super::CryptoError;
use super::envelope::{Envelope, Sealed};
use crate::ids::{DeviceId, GroupId, MessageId, UserId};
use crate::proto::Payload;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use vodozemac::megolm::{
    GroupSession, GroupSessionPickle, InboundGroupSession, InboundGroupSessionPickle,
    MegolmMessage, SessionConfig, SessionKey,
};

/// A sender key is replaced after this many messages…
pub const GROUP_KEY_MAX_MESSAGES: u32 = 100;
/// …or after this long (a week).
pub const GROUP_KEY_MAX_AGE_MS: u64 = 7 * 24 * 60 * 60 * 1000;
/// Sender keys kept per member device and group (older ones still decrypt
/// late messages).
const INBOUND_PER_SENDER: usize = 4;

crate::proto::tuple::wire_struct! {
    /// What a group message says: `[id, group, text]`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct GroupPlaintext {
        /// The message id the server delivers it under.
        pub id: MessageId,
        /// The group.
        pub group: GroupId,
        /// The content.
        pub content: super::content::Content,
    }
}

struct Outbound {
    session: GroupSession,
    created_ms: u64,
    sent: u32,
    shared_with: BTreeSet<DeviceId>,
}

struct Inbound {
    session: InboundGroupSession,
    seen: BTreeSet<u32>,
}

/// One device's sender keys: its own per group, and those of other member
/// devices.
#[derive(Default)]
pub struct SenderKeys {
    outbound: HashMap<GroupId, Outbound>,
    inbound: HashMap<(GroupId, DeviceId), Vec<Inbound>>,
}

impl std::fmt::Debug for SenderKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SenderKeys")
            .field("outbound", &self.outbound.len())
            .field("inbound", &self.inbound.len())
            .finish()
    }
}

/// A saved outbound key: group, session, created (Unix ms), messages sent,
/// devices it was shared with.
type SavedOutbound = (GroupId, GroupSessionPickle, u64, u32, Vec<DeviceId>);
/// Saved inbound keys of one member device: the sessions with the message
/// indices already received.
type SavedInbound = (
    GroupId,
    DeviceId,
    Vec<(InboundGroupSessionPickle, Vec<u32>)>,
);

/// The serialised form of [`SenderKeys`].
#[derive(Serialize, Deserialize, Default)]
pub struct SavedSenderKeys {
    outbound: Vec<SavedOutbound>,
    inbound: Vec<SavedInbound>,
}

impl SenderKeys {
    /// Whether this device must start a new sender key for `group` before
    /// sending to `members` (every member device but this one) at `now_ms`.
    pub fn needs_rotation(&self, group: GroupId, members: &[DeviceId], now_ms: u64) -> bool {
        let Some(current) = self.outbound.get(&group) else {
            return true;
        };
        current.sent >= GROUP_KEY_MAX_MESSAGES
            || now_ms.saturating_sub(current.created_ms) > GROUP_KEY_MAX_AGE_MS
            || current.shared_with.iter().any(|d| !members.contains(d))
    }

    /// The sender-key shares to send before the next message to `members`:
    /// for a new or rotated key every member device, else those that joined
    /// since. Each share goes to its device over the pairwise Olm session;
    /// call [`SenderKeys::shared`] once they are sent.
    pub fn shares(
        &mut self,
        group: GroupId,
        name: &super::content::GroupName,
        members: &[DeviceId],
        now_ms: u64,
    ) -> Vec<(DeviceId, super::content::Content)> {
        if self.needs_rotation(group, members, now_ms) {
            self.outbound.insert(
                group,
                Outbound {
                    session: GroupSession::new(SessionConfig::version_1()),
                    created_ms: now_ms,
                    sent: 0,
                    shared_with: BTreeSet::new(),
                },
            );
        }
        let Some(current) = self.outbound.get(&group) else {
            return Vec::new();
        };
        let key = current.session.session_key().to_bytes();
        members
            .iter()
            .filter(|d| !current.shared_with.contains(d))
            .filter_map(|d| {
                let key = crate::ids::Blob::new(key.clone())?;
                let name = name.clone();
                Some((*d, super::content::Content::GroupKey { group, key, name }))
            })
            .collect()
    }

    /// Records that the current key of `group` reached `devices`.
    pub fn shared(&mut self, group: GroupId, devices: &[DeviceId]) {
        if let Some(current) = self.outbound.get_mut(&group) {
            current.shared_with.extend(devices.iter().copied());
        }
    }

    /// Encrypts `plaintext` once for the whole group.
    pub fn encrypt(
        &mut self,
        group: GroupId,
        plaintext: &GroupPlaintext,
    ) -> Result<Payload, CryptoError> {
        let current = self
            .outbound
            .get_mut(&group)
            .ok_or(CryptoError::Olm("no sender key for this group yet".into()))?;
        let bytes = crate::proto::encode(plaintext)
            .map_err(|_| CryptoError::Malformed("group message content"))?;
        let message = current.session.encrypt(&bytes);
        current.sent = current.sent.saturating_add(1);
        let body = Sealed::new(message.to_bytes())
            .ok_or(CryptoError::Limit("the message is too large"))?;
        Envelope::Group { group, body }.to_payload()
    }

    /// Takes a sender key that `from_device` sent over its Olm session.
    pub fn receive_key(
        &mut self,
        group: GroupId,
        from_device: DeviceId,
        key: &[u8],
    ) -> Result<(), CryptoError> {
        let key = SessionKey::from_bytes(key).map_err(|_| CryptoError::Malformed("sender key"))?;
        let session = InboundGroupSession::new(&key, SessionConfig::version_1());
        let keys = self.inbound.entry((group, from_device)).or_default();
        if keys
            .iter()
            .any(|k| k.session.session_id() == session.session_id())
        {
            return Ok(());
        }
        keys.insert(
            0,
            Inbound {
                session,
                seen: BTreeSet::new(),
            },
        );
        keys.truncate(INBOUND_PER_SENDER);
        Ok(())
    }

    /// Decrypts group message `id` from `from`'s `from_device`. A message
    /// index seen before is a replay and is refused.
    pub fn decrypt(
        &mut self,
        from: (UserId, DeviceId),
        id: MessageId,
        payload: &[u8],
    ) -> Result<GroupPlaintext, CryptoError> {
        let failed = |reason: String| CryptoError::Undecryptable {
            user: from.0,
            device: from.1,
            reason,
        };
        let Envelope::Group { group, body } = Envelope::from_payload(payload)? else {
            return Err(failed("it is not a group message".into()));
        };
        let message = MegolmMessage::from_bytes(body.as_bytes())
            .map_err(|err| failed(format!("malformed group message: {err}")))?;
        let keys = self
            .inbound
            .get_mut(&(group, from.1))
            .ok_or_else(|| failed("no sender key from this device for this group".into()))?;
        let mut last_error = String::from("no sender key decrypts it");
        for key in keys.iter_mut() {
            match key.session.decrypt(&message) {
                Ok(decrypted) => {
                    if !key.seen.insert(decrypted.message_index) {
                        return Err(failed("it was already received (a replay)".into()));
                    }
                    let plain: GroupPlaintext = crate::proto::decode(&decrypted.plaintext)
                        .map_err(|_| CryptoError::Malformed("group message content"))?;
                    if plain.id != id || plain.group != group {
                        return Err(failed("it was replayed under another id or group".into()));
                    }
                    return Ok(plain);
                }
                Err(err) => last_error = err.to_string(),
            }
        }
        Err(failed(last_error))
    }

    /// Forgets everything about `group` (this device left it).
    pub fn forget(&mut self, group: GroupId) {
        self.outbound.remove(&group);
        self.inbound.retain(|(g, _), _| *g != group);
    }

    /// The keys in serialisable form.
    pub fn save(&self) -> SavedSenderKeys {
        SavedSenderKeys {
            outbound: self
                .outbound
                .iter()
                .map(|(group, o)| {
                    let shared = o.shared_with.iter().copied().collect();
                    (*group, o.session.pickle(), o.created_ms, o.sent, shared)
                })
                .collect(),
            inbound: self
                .inbound
                .iter()
                .map(|((group, device), keys)| {
                    let keys = keys
                        .iter()
                        .map(|k| (k.session.pickle(), k.seen.iter().copied().collect()))
                        .collect();
                    (*group, *device, keys)
                })
                .collect(),
        }
    }

    /// The keys saved by [`SenderKeys::save`].
    pub fn restore(saved: SavedSenderKeys) -> Self {
        Self {
            outbound: saved
                .outbound
                .into_iter()
                .map(|(group, pickle, created_ms, sent, shared)| {
                    let outbound = Outbound {
                        session: GroupSession::from_pickle(pickle),
                        created_ms,
                        sent,
                        shared_with: insert_all(shared),
                    };
                    (group, outbound)
                })
                .collect(),
            inbound: saved
                .inbound
                .into_iter()
                .map(|(group, device, keys)| {
                    let keys = keys
                        .into_iter()
                        .map(|(pickle, seen)| Inbound {
                            session: InboundGroupSession::from_pickle(pickle),
                            seen: insert_all(seen),
                        })
                        .collect();
                    ((group, device), keys)
                })
                .collect(),
        }
    }
}

/// A set built by inserting, not by `collect` (which sorts first and so
/// adds a sort routine per element type to the web client).
fn insert_all<T: Ord>(items: Vec<T>) -> BTreeSet<T> {
    let mut set = BTreeSet::new();
    set.extend(items);
    set
}
