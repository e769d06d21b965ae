//! What the dispatcher does with a writer's outcome: stored entries settle
//! (and their devices are woken to read them), held entries are pushed once
//! their job's first write succeeded, repeats and full queues are answered,
//! deleted entries are reported to their sessions.

use super::dispatch::{Dispatcher, report};
use super::job::Done;
use super::pending::State;
use super::writer::Item;
use crate::refusal::Refusal;
use crate::store::StoreError;
use crate::store::queue::{AckDelete, SendOutcome, Written};
use courier_shared::ids::DeviceId;
use courier_shared::proto::ErrorCode;
use std::sync::atomic::Ordering;
use tokio::time::Instant;

/// The refusal of the sends a failed transaction held (the cause is logged).
fn failed(err: &StoreError) -> Refusal {
    crate::refusal::internal(err)
}

impl Dispatcher {
    /// Applies the outcome of one transaction.
    pub fn written(&mut self, items: Vec<Item>, result: Result<Written, StoreError>) {
        let (mut sends, mut deleted, error) = match result {
            Ok(written) => (written.sends.into_iter(), written.deleted.into_iter(), None),
            Err(err) => {
                tracing::warn!(%err, "a queue transaction failed");
                (Vec::new().into_iter(), Vec::new().into_iter(), Some(err))
            }
        };
        let mut woken = Vec::new();
        for item in items {
            match item {
                Item::First { job } => match (sends.next(), &error) {
                    (Some(outcome), _) => self.first(job, outcome, &mut woken),
                    (None, err) => {
                        let err = err.as_ref().map_or_else(
                            || crate::refusal::internal(&"a send's outcome was lost"),
                            failed,
                        );
                        self.drop_job(job, Err(err));
                    }
                },
                Item::Miss { job, entries } => match sends.next() {
                    Some(SendOutcome::Duplicate) => self.drop_job(job, Ok(())),
                    Some(_) => self.stored(job, &entries, &mut woken),
                    None => self.retry(job, &entries),
                },
                Item::Mark { key } => {
                    let _ = sends.next();
                    self.settled.remove(&key);
                }
                Item::Delete { done, ids } => {
                    let count = deleted.next();
                    match done {
                        Done::Wait(reply) => {
                            let _ = reply.send(match (&error, count) {
                                (None, count) => Ok(count.unwrap_or(0)),
                                (Some(err), _) => {
                                    Err(StoreError::Query(sqlx::Error::Protocol(err.to_string())))
                                }
                            });
                        }
                        done => report(&done, ids),
                    }
                }
            }
        }
        if !woken.is_empty() {
            woken.sort_unstable();
            woken.dedup();
            self.bus.wake(woken);
        }
    }

    /// A job's first write: its stored entries settle and the held ones are
    /// pushed, or the whole job is answered (a repeat, a full queue).
    fn first(&mut self, id: u64, outcome: SendOutcome, woken: &mut Vec<DeviceId>) {
        match outcome {
            SendOutcome::Written => {
                let Some(mut pending) = self.jobs.remove(&id) else {
                    return;
                };
                for entry in &mut pending.entries {
                    if entry.state == State::Writing {
                        entry.state = State::Stored;
                        woken.push(entry.device);
                    }
                }
                self.push(id, &mut pending);
                self.jobs.insert(id, pending);
                self.settle(id);
            }
            SendOutcome::Duplicate => self.drop_job(id, Ok(())),
            SendOutcome::Full(device) => self.drop_job(
                id,
                Err(Refusal::new(
                    ErrorCode::QuotaExceeded,
                    format!(
                        "device {} has too many messages waiting; try again once it has caught up",
                        device.0
                    ),
                )),
            ),
        }
    }

    /// Entries stored after their device did not acknowledge them in time.
    fn stored(&mut self, id: u64, entries: &[usize], woken: &mut Vec<DeviceId>) {
        let Some(pending) = self.jobs.get_mut(&id) else {
            return;
        };
        let entry_id = pending.job.id;
        for n in entries {
            let entry = &mut pending.entries[*n];
            self.by_entry.remove(&(entry.device, entry_id));
            woken.push(entry.device);
            if entry.state == State::AckedWhileWriting {
                let done = entry.acked_by.take().map_or(Done::Nobody, Done::Session);
                self.next.deletes.push(AckDelete {
                    device: entry.device,
                    seqs: Vec::new(),
                    ids: vec![entry_id],
                });
                self.next.items.push(Item::Delete {
                    done,
                    ids: vec![entry_id],
                });
            }
            entry.state = State::Stored;
        }
        self.settle(id);
    }

    /// A late write that failed: the entries wait for their acknowledgement
    /// again and are written at the next deadline.
    fn retry(&mut self, id: u64, entries: &[usize]) {
        let Some(pending) = self.jobs.get_mut(&id) else {
            return;
        };
        for n in entries {
            let entry = &mut pending.entries[*n];
            entry.state = match entry.state {
                State::AckedWhileWriting => {
                    if let Some(inbox) = entry.acked_by.take() {
                        report(&Done::Session(inbox), vec![pending.job.id]);
                    }
                    self.by_entry.remove(&(entry.device, pending.job.id));
                    State::Acked
                }
                _ => State::Pushed,
            };
        }
        self.reschedule(id, Instant::now() + self.limits.persist_after);
        self.settle(id);
    }

    /// Answers a job that ends without (more) being stored, and forgets it.
    pub(super) fn drop_job(&mut self, id: u64, outcome: Result<(), Refusal>) {
        let Some(mut pending) = self.jobs.remove(&id) else {
            return;
        };
        let entry_id = pending.job.id;
        for entry in &pending.entries {
            self.by_entry.remove(&(entry.device, entry_id));
            if let (State::Held, Some(inbox)) = (entry.state, &entry.inbox) {
                inbox.window.fetch_sub(1, Ordering::AcqRel);
            }
        }
        self.by_send.remove(&(pending.job.sender.1, entry_id));
        if !pending.answered {
            for reply in std::mem::take(&mut pending.replies) {
                reply.send(outcome.clone());
            }
        }
    }
}
