//! The dispatcher: one task per node that owns every message in flight.
//!
//! Sessions hand it jobs and acknowledgements ([`Command`]). New jobs are
//! checked together against the facts it keeps from earlier checks, or read
//! for the batch (one or two reads, [`super::check`]); the facts are dropped
//! whenever devices, device lists or groups change, here or on another node.
//! A recipient device connected to this node, caught up with its queue and
//! with room in its window, gets the entry pushed at once; every other
//! device's entry is stored (through a queue writer, [`super::writer`]).
//! A pushed entry that its device acknowledges within `persist_after` is
//! never stored; one that is not, is stored then. The sender hears
//! `Accepted` once every entry is acknowledged or stored — never before — so
//! a crash loses nothing that was accepted. What the writers did comes back
//! here ([`Dispatcher::written`], in `settle.rs`).

use super::MAX_INFLIGHT;
use super::check;
use super::job::{Done, Job};
use super::pending::{Entry, Pending, State};
use super::registry::{Arrival, Pushed, Registry};
use super::writer::{Item, Order};
use crate::bus::Bus;
use crate::clock::now_ms;
use crate::store::queue::{AckDelete, SendWrite};
use crate::store::routing::{self, RoutingFacts};
use crate::store::{Store, StoreError};
use courier_shared::ids::{DeviceId, MessageId};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// What sessions ask of the dispatcher.
#[derive(Debug)]
pub enum Command {
    /// Route this job.
    Send(Job),
    /// `device` acknowledged these entries (with their queue positions where
    /// its session knows them); tell `done` once they are gone.
    Ack {
        /// The acknowledging device.
        device: DeviceId,
        /// The entries.
        entries: Vec<(MessageId, Option<i64>)>,
        /// Who to tell.
        done: Done,
    },
}

/// The dispatcher's limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// How long an undelivered entry is kept (ms).
    pub ttl_ms: i64,
    /// How long a pushed entry may wait for its acknowledgement.
    pub persist_after: Duration,
    /// Most entries one device's queue may hold.
    pub queue_cap: u64,
}

/// A check of new jobs' recipients under way.
pub(super) type Checking = std::pin::Pin<
    Box<dyn std::future::Future<Output = (Vec<Job>, Result<RoutingFacts, StoreError>, u64)> + Send>,
>;

/// Devices whose routing facts a dispatcher keeps at most (then it starts
/// over).
const MAX_CACHED_DEVICES: usize = 200_000;

/// The next transaction, being gathered while the writers are busy.
#[derive(Debug, Default)]
pub(super) struct Next {
    pub sends: Vec<SendWrite>,
    pub deletes: Vec<AckDelete>,
    pub items: Vec<Item>,
    /// Marks of settled messages, which only guard against repeats: they
    /// wait for other work, for [`MARKS_AT_ONCE`] of them or for
    /// [`MARKS_WAIT`], so that a quiet node commits a few times a second
    /// rather than once per message.
    pub marks: Vec<(SendWrite, (DeviceId, MessageId))>,
    /// When the oldest waiting mark was made.
    pub marks_since: Option<Instant>,
}

/// Marks that go to a writer even without other work.
const MARKS_AT_ONCE: usize = 4_096;
/// Longest a mark waits for other work.
const MARKS_WAIT: Duration = Duration::from_millis(200);

impl Next {
    /// When the waiting marks must go to a writer.
    fn marks_due(&self) -> Option<Instant> {
        self.marks_since.map(|since| since + MARKS_WAIT)
    }

    /// Whether there is work for a writer now.
    fn ready(&self, now: Instant) -> bool {
        !self.items.is_empty()
            || self.marks.len() >= MARKS_AT_ONCE
            || self.marks_due().is_some_and(|due| due <= now)
    }
}

/// The dispatcher's state.
pub(super) struct Dispatcher {
    pub store: Store,
    pub bus: Bus,
    pub registry: Registry,
    pub limits: Limits,
    pub jobs: HashMap<u64, Pending>,
    next_job: u64,
    /// Pushed entries awaiting acknowledgement: (device, id) → (job, entry).
    pub by_entry: HashMap<(DeviceId, MessageId), (u64, usize)>,
    /// Messages in flight by (sender device, id), to recognise repeats.
    pub by_send: HashMap<(DeviceId, MessageId), u64>,
    /// Messages settled whose mark is not written yet.
    pub settled: HashSet<(DeviceId, MessageId)>,
    deadlines: VecDeque<(Instant, u64)>,
    fresh: Vec<Job>,
    pub next: Next,
    /// What recent checks read (devices, users' devices, groups), valid
    /// while the directory's epoch stays `cache_epoch`.
    cache: RoutingFacts,
    cache_epoch: u64,
}

impl Dispatcher {
    pub fn new(store: Store, bus: Bus, registry: Registry, limits: Limits) -> Self {
        Self {
            store,
            bus,
            registry,
            limits,
            jobs: HashMap::new(),
            next_job: 0,
            by_entry: HashMap::new(),
            by_send: HashMap::new(),
            settled: HashSet::new(),
            deadlines: VecDeque::new(),
            fresh: Vec::new(),
            next: Next::default(),
            cache: RoutingFacts::default(),
            cache_epoch: routing::epoch(),
        }
    }

    /// Whether nothing is in flight.
    pub fn idle(&self) -> bool {
        self.jobs.is_empty()
            && self.fresh.is_empty()
            && self.next.items.is_empty()
            && self.next.marks.is_empty()
    }

    /// When something is due: the oldest pushed job must be stored if still
    /// unacknowledged, or the waiting marks must be written.
    pub fn deadline(&self) -> Option<Instant> {
        let pushed = self.deadlines.front().map(|(at, _)| *at);
        // Marks already due wait for a free writer, not for a timer.
        let marks = self.next.marks_due().filter(|due| *due > Instant::now());
        match (pushed, marks) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether a writer has work now.
    pub fn work(&self) -> bool {
        self.next.ready(Instant::now())
    }

    /// Takes one command.
    pub fn command(&mut self, command: Command) {
        match command {
            Command::Send(mut job) => {
                let key = (job.sender.1, job.id);
                if job.dedupe {
                    if let Some(pending) = self.by_send.get(&key).and_then(|n| self.jobs.get_mut(n))
                    {
                        if let Some(reply) = job.reply.take() {
                            if pending.answered {
                                reply.send(Ok(()));
                            } else {
                                pending.replies.push(reply);
                            }
                        }
                        return;
                    }
                    if self.settled.contains(&key) {
                        job.answer(Ok(()));
                        return;
                    }
                }
                self.fresh.push(job);
            }
            Command::Ack {
                device,
                entries,
                done,
            } => self.ack(device, entries, done),
        }
    }

    /// Checks the jobs taken since the last check, if any: at once if the
    /// cached facts answer them, otherwise by a read that runs while the
    /// dispatcher goes on with acknowledgements and writes (the future
    /// returned; its outcome goes to [`Dispatcher::route`]).
    pub fn check(&mut self) -> Option<Checking> {
        if self.fresh.is_empty() {
            return None;
        }
        let epoch = routing::epoch();
        if epoch != self.cache_epoch || self.cache.devices.len() > MAX_CACHED_DEVICES {
            self.cache = RoutingFacts::default();
            self.cache_epoch = epoch;
        }
        let jobs = std::mem::take(&mut self.fresh);
        let missing = self.cache.missing(&check::query(&jobs));
        if missing.is_empty() {
            let facts = std::mem::take(&mut self.cache);
            self.admit_checked(jobs, &facts);
            self.cache = facts;
            return None;
        }
        let store = self.store.clone();
        Some(Box::pin(async move {
            let facts = store.routing_facts(&missing).await;
            (jobs, facts, epoch)
        }))
    }

    /// Routes each job of a check, given the facts read for it (at `epoch`).
    pub fn route(&mut self, jobs: Vec<Job>, read: Result<RoutingFacts, StoreError>, epoch: u64) {
        match read {
            Ok(read) => {
                let mut facts = std::mem::take(&mut self.cache);
                facts.extend(read);
                self.admit_checked(jobs, &facts);
                // Facts read across a change are used once, not kept.
                if self.cache_epoch == epoch && routing::epoch() == epoch {
                    self.cache = facts;
                }
            }
            Err(err) => {
                let failed = crate::refusal::internal(&err);
                for mut job in jobs {
                    job.answer(Err(failed.clone()));
                }
            }
        }
    }

    fn admit_checked(&mut self, jobs: Vec<Job>, facts: &RoutingFacts) {
        for mut job in jobs {
            match check::recipients(&job, facts) {
                Ok(devices) => self.admit(job, devices),
                Err(err) => job.answer(Err(err)),
            }
        }
    }

    /// Starts a checked job: pushes it to the devices that can take it now,
    /// stores it for the others (and pushes only once that succeeded).
    fn admit(&mut self, mut job: Job, devices: Vec<DeviceId>) {
        if devices.is_empty() {
            job.answer(Ok(()));
            return;
        }
        let entries: Vec<Entry> = devices
            .into_iter()
            .map(|device| {
                let inbox = self.registry.inbox(device).filter(|inbox| {
                    inbox.caught_up.load(std::sync::atomic::Ordering::Acquire)
                        && inbox.reserve(MAX_INFLIGHT)
                });
                let state = if inbox.is_some() {
                    State::Held
                } else {
                    State::Writing
                };
                Entry {
                    device,
                    inbox,
                    state,
                    acked_by: None,
                }
            })
            .collect();
        let id = self.next_job;
        self.next_job += 1;
        let stored: Vec<usize> = (0..entries.len())
            .filter(|n| entries[*n].state == State::Writing)
            .collect();
        let mut pending = Pending {
            replies: job.reply.take().into_iter().collect(),
            answered: false,
            entries,
            marked: !stored.is_empty(),
            now_ms: now_ms(),
            job,
        };
        if pending.job.dedupe {
            self.by_send
                .insert((pending.job.sender.1, pending.job.id), id);
        }
        if stored.is_empty() {
            self.push(id, &mut pending);
        } else {
            let write = pending.write(&stored, true, true, self.limits.ttl_ms);
            self.next.sends.push(write);
            self.next.items.push(Item::First { job: id });
        }
        self.jobs.insert(id, pending);
    }

    /// Pushes a job's held entries to their devices and starts its clock.
    pub fn push(&mut self, id: u64, pending: &mut Pending) {
        let mut shared: Option<Arc<Pushed>> = None;
        let job = &pending.job;
        let mut any = false;
        for (n, entry) in pending.entries.iter_mut().enumerate() {
            let (State::Held, Some(inbox)) = (entry.state, &entry.inbox) else {
                continue;
            };
            let make = || {
                Arc::new(Pushed {
                    id: job.id,
                    kind: job.kind,
                    from: job.sender.0,
                    from_device: job.sender.1,
                    payload: job.payloads.of(entry.device).cloned().unwrap_or_default(),
                })
            };
            let pushed = match &job.payloads {
                super::job::Payloads::Shared(_) => shared.get_or_insert_with(make).clone(),
                super::job::Payloads::PerDevice(_) => make(),
            };
            inbox.post(Arrival::Push(pushed));
            entry.state = State::Pushed;
            self.by_entry.insert((entry.device, job.id), (id, n));
            any = true;
        }
        if any {
            self.deadlines
                .push_back((Instant::now() + self.limits.persist_after, id));
        }
    }

    /// Checks job `id` again at `at` (no earlier than every deadline already
    /// set, all being `persist_after` from when they were set).
    pub fn reschedule(&mut self, id: u64, at: Instant) {
        self.deadlines.push_back((at, id));
    }

    /// Stores the entries of jobs whose acknowledgement is overdue.
    pub fn expire(&mut self, now: Instant) {
        while let Some((at, id)) = self.deadlines.front().copied() {
            if at > now {
                break;
            }
            self.deadlines.pop_front();
            let Some(pending) = self.jobs.get_mut(&id) else {
                continue;
            };
            let late: Vec<usize> = (0..pending.entries.len())
                .filter(|n| pending.entries[*n].state == State::Pushed)
                .collect();
            if late.is_empty() {
                continue;
            }
            for n in &late {
                pending.entries[*n].state = State::Writing;
            }
            let mark = !pending.marked;
            pending.marked = true;
            let write = pending.write(&late, mark, false, self.limits.ttl_ms);
            self.next.sends.push(write);
            self.next.items.push(Item::Miss {
                job: id,
                entries: late,
            });
        }
    }

    /// Takes an acknowledgement: pushed entries settle at once, stored ones
    /// are deleted with the next transaction.
    fn ack(&mut self, device: DeviceId, entries: Vec<(MessageId, Option<i64>)>, done: Done) {
        let mut gone = Vec::new();
        let mut delete = AckDelete {
            device,
            seqs: Vec::new(),
            ids: Vec::new(),
        };
        let mut deleted_ids = Vec::new();
        for (id, seq) in entries {
            if let Some((job, n)) = self.by_entry.get(&(device, id)).copied() {
                let Some(pending) = self.jobs.get_mut(&job) else {
                    self.by_entry.remove(&(device, id));
                    continue;
                };
                match pending.entries[n].state {
                    State::Pushed => {
                        pending.entries[n].state = State::Acked;
                        self.by_entry.remove(&(device, id));
                        gone.push(id);
                        self.settle(job);
                        continue;
                    }
                    State::Writing => {
                        // Deleted (and reported) once its write is done.
                        pending.entries[n].state = State::AckedWhileWriting;
                        if let Done::Session(inbox) = &done {
                            pending.entries[n].acked_by = Some(inbox.clone());
                        }
                        continue;
                    }
                    _ => {}
                }
            }
            match seq {
                Some(seq) => delete.seqs.push(seq),
                None => delete.ids.push(id),
            }
            deleted_ids.push(id);
        }
        if !gone.is_empty() {
            report(&done, gone);
        }
        if !deleted_ids.is_empty() {
            self.next.deletes.push(delete);
            self.next.items.push(Item::Delete {
                done,
                ids: deleted_ids,
            });
        }
    }

    /// Answers a job's sender once it is settled, and forgets the job once
    /// nothing of it is being written.
    pub fn settle(&mut self, id: u64) {
        let Some(pending) = self.jobs.get_mut(&id) else {
            return;
        };
        if !pending.settled() {
            return;
        }
        if !pending.answered {
            pending.answered = true;
            if pending.job.kind == crate::store::queue::EntryKind::Message {
                crate::metrics::metrics().accepted.inc();
            }
            for reply in std::mem::take(&mut pending.replies) {
                reply.send(Ok(()));
            }
        }
        if pending.writing() {
            return;
        }
        let key = (pending.job.sender.1, pending.job.id);
        let needs_mark = pending.job.dedupe && !pending.marked;
        if needs_mark {
            let write = pending.write(&[], true, false, self.limits.ttl_ms);
            self.next.marks.push((write, key));
            self.next.marks_since.get_or_insert_with(Instant::now);
            self.settled.insert(key);
        }
        self.by_send.remove(&key);
        self.jobs.remove(&id);
    }

    /// Takes the gathered transaction for a writer.
    pub fn take_order(&mut self) -> Order {
        let mut next = std::mem::take(&mut self.next);
        for (write, key) in next.marks {
            next.sends.push(write);
            next.items.push(Item::Mark { key });
        }
        Order {
            sends: next.sends,
            deletes: next.deletes,
            items: next.items,
            queue_cap: self.limits.queue_cap,
        }
    }
}

/// Tells `done` that `ids` are gone.
pub(super) fn report(done: &Done, ids: Vec<MessageId>) {
    match done {
        Done::Session(inbox) => inbox.post(Arrival::Acked(ids)),
        Done::Wait(_) | Done::Nobody => {}
    }
}

/// Runs the dispatcher until every router handle is gone and nothing is in
/// flight.
pub(super) async fn run(mut dispatcher: Dispatcher, mut commands: mpsc::Receiver<Command>) {
    let writers = match dispatcher.store.backend() {
        crate::store::Backend::Sqlite => 1,
        crate::store::Backend::Postgres => 4,
    };
    let (orders, mut results) = super::writer::start(dispatcher.store.clone(), writers);
    let mut open = true;
    // One check at a time, so that a sender's messages are admitted in order.
    let mut checking: Option<Checking> = None;
    loop {
        let deadline = dispatcher.deadline();
        tokio::select! {
            biased;
            Some((items, result)) = results.recv() => dispatcher.written(items, result),
            Some((jobs, facts, epoch)) = futures_util::future::OptionFuture::from(checking.as_mut()), if checking.is_some() => {
                checking = None;
                dispatcher.route(jobs, facts, epoch);
            }
            permit = orders.reserve(), if dispatcher.work() => {
                if let Ok(permit) = permit {
                    permit.send(dispatcher.take_order());
                }
            }
            () = tokio::time::sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => {
                dispatcher.expire(Instant::now());
            }
            command = commands.recv(), if open => match command {
                Some(command) => {
                    dispatcher.command(command);
                    for _ in 0..1_024 {
                        match commands.try_recv() {
                            Ok(command) => dispatcher.command(command),
                            Err(_) => break,
                        }
                    }
                }
                None => {
                    open = false;
                    // Nobody can acknowledge any more: store what was pushed.
                    dispatcher.limits.persist_after = Duration::ZERO;
                    dispatcher.expire(Instant::now() + Duration::from_secs(3_600));
                }
            },
        }
        if checking.is_none() {
            checking = dispatcher.check();
        }
        if !open && checking.is_none() && dispatcher.idle() {
            return;
        }
    }
}
