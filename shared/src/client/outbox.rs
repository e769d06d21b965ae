//! [`Outbox`]: messages written but not yet accepted by the server — the one
//! place that decides when a send goes (again).
//!
//! Every durable send (a message, a receipt) is pushed under its message id
//! and stays until the server answers `Accepted` or refuses it for good. The
//! owner sends what [`Outbox::due`] lists, records the request with
//! [`Outbox::sent`] and hands each answer to [`Outbox::on_answer`]:
//! - `Accepted`: gone ([`Outcome::Accepted`]);
//! - a transient refusal (rate limit, server failure, no answer because the
//!   connection dropped): due again after a back-off ([`Outcome::Retrying`]);
//! - any other refusal: held ([`Outcome::Refused`]) until the owner decides —
//!   [`Outbox::retry`] after fixing the cause (stale device lists, say) or
//!   [`Outbox::remove`].
//!
//! Because the message id is fixed when the message is written, a re-send is
//! never a second message: the server and the recipients know the id. The
//! outbox is saved with the owner's state, so it survives reloads.

use crate::ids::{MessageId, RequestId};
use crate::proto::{Refusal, ServerFrame};
use serde::{Deserialize, Serialize};

/// The first pause after a transient refusal; it doubles per attempt.
pub const RETRY_BASE_MS: u64 = 1_000;
/// The longest pause between attempts.
pub const RETRY_MAX_MS: u64 = 30_000;

/// The pause before attempt `attempts + 1`: doubling from
/// [`RETRY_BASE_MS`] up to [`RETRY_MAX_MS`].
fn pause(attempts: u32) -> u64 {
    RETRY_BASE_MS
        .saturating_mul(1 << attempts.min(5))
        .min(RETRY_MAX_MS)
}

/// Where one pending send stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "Saved", from = "Saved")]
enum Stage {
    /// To be sent when the owner next flushes (at sign-in, or at once).
    Due,
    /// Sent as this request; waiting for its answer.
    InFlight(RequestId),
    /// Refused transiently: due again at this time (Unix ms).
    RetryAt(u64),
    /// Refused; the owner decides.
    Held,
}

/// A [`Stage`] as saved: a send in flight is saved as due, since after a
/// reload its answer can no longer arrive.
#[derive(Serialize, Deserialize)]
enum Saved {
    Due,
    RetryAt(u64),
    Held,
}

impl From<Stage> for Saved {
    fn from(stage: Stage) -> Self {
        match stage {
            Stage::Due | Stage::InFlight(_) => Self::Due,
            Stage::RetryAt(at) => Self::RetryAt(at),
            Stage::Held => Self::Held,
        }
    }
}

impl From<Saved> for Stage {
    fn from(saved: Saved) -> Self {
        match saved {
            Saved::Due => Self::Due,
            Saved::RetryAt(at) => Self::RetryAt(at),
            Saved::Held => Self::Held,
        }
    }
}

/// One pending send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Entry<T> {
    id: MessageId,
    item: T,
    stage: Stage,
    attempts: u32,
}

/// What an answer meant for a pending send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome<T> {
    /// The server accepted it; it left the outbox.
    Accepted(MessageId, T),
    /// Refused transiently; it goes again at this time (Unix ms).
    Retrying(MessageId, u64),
    /// Refused for a reason of its own; held until [`Outbox::retry`] or
    /// [`Outbox::remove`].
    Refused(MessageId, Refusal),
}

/// Pending sends, oldest first, each with whatever its owner needs to send
/// it again (`T`: a chat, or a whole frame).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(bound(serialize = "T: Serialize", deserialize = "T: Deserialize<'de>"))]
pub struct Outbox<T> {
    entries: Vec<Entry<T>>,
}

impl<T> Default for Outbox<T> {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
        }
    }
}

impl<T: Clone> Outbox<T> {
    /// Adds send `id`, due at once; `false` if it is already pending.
    pub fn push(&mut self, id: MessageId, item: T) -> bool {
        if self.contains(&id) {
            return false;
        }
        self.entries.push(Entry {
            id,
            item,
            stage: Stage::Due,
            attempts: 0,
        });
        true
    }

    /// Whether `id` is pending.
    pub fn contains(&self, id: &MessageId) -> bool {
        self.entries.iter().any(|e| e.id == *id)
    }

    /// The item of pending send `id`.
    pub fn get(&self, id: &MessageId) -> Option<&T> {
        self.entries.iter().find(|e| e.id == *id).map(|e| &e.item)
    }

    /// How many sends are pending.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many times send `id` was refused or lost and tried again.
    pub fn attempts(&self, id: &MessageId) -> u32 {
        self.entries
            .iter()
            .find(|e| e.id == *id)
            .map_or(0, |e| e.attempts)
    }

    /// Every pending send with its item, oldest first.
    pub fn entries(&self) -> impl Iterator<Item = (&MessageId, &T)> {
        self.entries.iter().map(|e| (&e.id, &e.item))
    }

    /// Puts send `id` off after a failure of the owner's own (it could not
    /// be prepared): due again after the same growing pause as a transient
    /// refusal. Returns when.
    pub fn postpone(&mut self, id: &MessageId, now_ms: u64) -> Option<u64> {
        let entry = self.entries.iter_mut().find(|e| e.id == *id)?;
        let at = now_ms.saturating_add(pause(entry.attempts));
        entry.attempts += 1;
        entry.stage = Stage::RetryAt(at);
        Some(at)
    }

    /// The sends to make now (at `now_ms`), oldest first: due ones and those
    /// whose retry time came.
    pub fn due(&self, now_ms: u64) -> Vec<(MessageId, T)> {
        self.entries
            .iter()
            .filter(|e| match e.stage {
                Stage::Due => true,
                Stage::RetryAt(at) => at <= now_ms,
                Stage::InFlight(_) | Stage::Held => false,
            })
            .map(|e| (e.id, e.item.clone()))
            .collect()
    }

    /// The earliest retry time, if a send waits for one.
    pub fn next_retry(&self) -> Option<u64> {
        self.entries
            .iter()
            .filter_map(|e| match e.stage {
                Stage::RetryAt(at) => Some(at),
                _ => None,
            })
            .min()
    }

    /// Send `id` went out as `request`.
    pub fn sent(&mut self, id: &MessageId, request: RequestId) {
        if let Some(entry) = self.entries.iter_mut().find(|e| e.id == *id) {
            entry.stage = Stage::InFlight(request);
        }
    }

    /// Takes in the answer to `request`; `None` if it answers no send here.
    pub fn on_answer(
        &mut self,
        request: RequestId,
        answer: &Result<ServerFrame, Refusal>,
        now_ms: u64,
    ) -> Option<Outcome<T>> {
        let index = self
            .entries
            .iter()
            .position(|e| e.stage == Stage::InFlight(request))?;
        match answer {
            Ok(ServerFrame::Accepted { .. }) => {
                let entry = self.entries.remove(index);
                Some(Outcome::Accepted(entry.id, entry.item))
            }
            Ok(other) => {
                let entry = &mut self.entries[index];
                entry.stage = Stage::Held;
                Some(Outcome::Refused(entry.id, Refusal::unexpected(other)))
            }
            Err(refusal) if refusal.is_transient() => {
                let entry = &mut self.entries[index];
                let at = now_ms.saturating_add(pause(entry.attempts));
                entry.attempts += 1;
                entry.stage = Stage::RetryAt(at);
                Some(Outcome::Retrying(entry.id, at))
            }
            Err(refusal) => {
                let entry = &mut self.entries[index];
                entry.stage = Stage::Held;
                Some(Outcome::Refused(entry.id, refusal.clone()))
            }
        }
    }

    /// Makes a held (or in-flight) send `id` due again, counting an attempt.
    pub fn retry(&mut self, id: &MessageId) {
        if let Some(entry) = self.entries.iter_mut().find(|e| e.id == *id) {
            entry.attempts += 1;
            entry.stage = Stage::Due;
        }
    }

    /// Forgets send `id`; its item, if it was pending.
    pub fn remove(&mut self, id: &MessageId) -> Option<T> {
        let index = self.entries.iter().position(|e| e.id == *id)?;
        Some(self.entries.remove(index).item)
    }

    /// The connection was replaced: whatever was in flight is due again (its
    /// answer, if any, went with the old connection).
    pub fn reconnected(&mut self) {
        for entry in &mut self.entries {
            if matches!(entry.stage, Stage::InFlight(_)) {
                entry.stage = Stage::Due;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Outbox, Outcome, RETRY_BASE_MS};
    use crate::ids::{MessageId, RequestId};
    use crate::proto::{ErrorCode, Refusal, ServerFrame};

    fn id(n: u8) -> MessageId {
        MessageId::v7(u64::from(n), [n; 10])
    }

    fn accepted(request: u32) -> Result<ServerFrame, Refusal> {
        Ok(ServerFrame::Accepted {
            request: RequestId(request),
        })
    }

    #[test]
    fn keeps_order_ignores_duplicates_and_survives_a_save() {
        let mut outbox = Outbox::default();
        assert!(outbox.push(id(1), "a"));
        assert!(outbox.push(id(2), "b"));
        assert!(!outbox.push(id(1), "again"));
        assert_eq!(outbox.due(0), vec![(id(1), "a"), (id(2), "b")]);
        outbox.sent(&id(1), RequestId(1));
        let saved = cbor4ii::serde::to_vec(Vec::new(), &outbox).expect("encodes");
        let restored: Outbox<String> = cbor4ii::serde::from_slice(&saved).expect("decodes");
        assert_eq!(
            restored.due(0).len(),
            2,
            "in-flight sends are due after a reload"
        );
        assert_eq!(outbox.due(0), vec![(id(2), "b")]);
    }

    #[test]
    fn accepted_sends_leave_and_other_answers_touch_nothing() {
        let mut outbox = Outbox::default();
        outbox.push(id(1), ());
        outbox.sent(&id(1), RequestId(3));
        assert_eq!(outbox.on_answer(RequestId(4), &accepted(4), 0), None);
        assert_eq!(
            outbox.on_answer(RequestId(3), &accepted(3), 0),
            Some(Outcome::Accepted(id(1), ()))
        );
        assert!(outbox.is_empty());
    }

    #[test]
    fn transient_refusals_retry_with_growing_pauses_under_the_same_id() {
        let mut outbox = Outbox::default();
        outbox.push(id(1), ());
        let limited = Err(Refusal::new(ErrorCode::RateLimited, "slow down"));
        outbox.sent(&id(1), RequestId(1));
        let first = outbox.on_answer(RequestId(1), &limited, 100);
        assert_eq!(first, Some(Outcome::Retrying(id(1), 100 + RETRY_BASE_MS)));
        assert!(outbox.due(100).is_empty());
        assert_eq!(outbox.due(100 + RETRY_BASE_MS), vec![(id(1), ())]);
        outbox.sent(&id(1), RequestId(2));
        let second = outbox.on_answer(RequestId(2), &Err(Refusal::unanswered()), 2_000);
        assert_eq!(
            second,
            Some(Outcome::Retrying(id(1), 2_000 + 2 * RETRY_BASE_MS))
        );
        assert_eq!(outbox.attempts(&id(1)), 2);
    }

    #[test]
    fn other_refusals_are_held_until_the_owner_decides() {
        let mut outbox = Outbox::default();
        outbox.push(id(1), ());
        outbox.sent(&id(1), RequestId(1));
        let stale = Err(Refusal::new(ErrorCode::StaleDevices, "stale"));
        assert!(matches!(
            outbox.on_answer(RequestId(1), &stale, 0),
            Some(Outcome::Refused(
                _,
                Refusal {
                    code: ErrorCode::StaleDevices,
                    ..
                }
            ))
        ));
        assert!(outbox.due(u64::MAX).is_empty());
        outbox.retry(&id(1));
        assert_eq!(outbox.due(0).len(), 1);
        assert_eq!(outbox.remove(&id(1)), Some(()));
    }

    #[test]
    fn a_new_connection_makes_in_flight_sends_due() {
        let mut outbox = Outbox::default();
        outbox.push(id(1), ());
        outbox.sent(&id(1), RequestId(1));
        assert!(outbox.due(0).is_empty());
        outbox.reconnected();
        assert_eq!(outbox.due(0).len(), 1);
    }
}
