//! A job in flight, as the dispatcher keeps it: where each recipient's
//! entry stands, and the writes it needs.

use super::job::{Job, Payloads, Reply};
use super::registry::Inbox;
use crate::store::queue::SendWrite;
use courier_shared::ids::DeviceId;
use std::sync::Arc;

/// Where one recipient's entry of a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// To be pushed once the job's first write succeeds.
    Held,
    /// Pushed, not acknowledged.
    Pushed,
    /// Acknowledged by the device: settled, never stored.
    Acked,
    /// Being stored.
    Writing,
    /// Acknowledged while being stored: delete it once stored.
    AckedWhileWriting,
    /// Stored in the device's queue: settled.
    Stored,
}

/// One recipient of a job in flight.
#[derive(Debug)]
pub struct Entry {
    /// The recipient device.
    pub device: DeviceId,
    /// Its session's inbox, if it is pushed to.
    pub inbox: Option<Arc<Inbox>>,
    /// Where it stands.
    pub state: State,
    /// The session that acknowledged it while it was being stored.
    pub acked_by: Option<Arc<Inbox>>,
}

/// A job in flight.
#[derive(Debug)]
pub struct Pending {
    /// The job.
    pub job: Job,
    /// Where its outcome goes (the job's own reply, then repeats').
    pub replies: Vec<Reply>,
    /// Whether the replies were sent (later repeats are answered at once).
    pub answered: bool,
    /// One per recipient device.
    pub entries: Vec<Entry>,
    /// Whether its mark against repeats is written (or being written).
    pub marked: bool,
    /// When it was admitted (Unix ms).
    pub now_ms: i64,
}

impl Pending {
    /// Whether every entry is acknowledged or stored.
    pub fn settled(&self) -> bool {
        self.entries.iter().all(|e| {
            matches!(
                e.state,
                State::Acked | State::Stored | State::AckedWhileWriting
            )
        })
    }

    /// Whether an entry is being stored.
    pub fn writing(&self) -> bool {
        self.entries
            .iter()
            .any(|e| matches!(e.state, State::Writing | State::AckedWhileWriting))
    }

    /// A write of the entries at `indices`.
    pub fn write(&self, indices: &[usize], mark: bool, capped: bool, ttl_ms: i64) -> SendWrite {
        let job = &self.job;
        let shared = match &job.payloads {
            Payloads::Shared(payload) if indices.len() > 1 => Some(payload.clone()),
            _ => None,
        };
        let rows = indices
            .iter()
            .map(|n| {
                let device = self.entries[*n].device;
                let own = match shared {
                    Some(_) => None,
                    None => job.payloads.of(device).cloned(),
                };
                (device, own)
            })
            .collect();
        SendWrite {
            sender: job.sender,
            id: job.id,
            kind: job.kind,
            mark: mark && job.dedupe,
            capped,
            shared,
            rows,
            now_ms: self.now_ms,
            expires_at: self.now_ms.saturating_add(ttl_ms),
        }
    }
}
