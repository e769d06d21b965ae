//! [`Registry`]: which devices are connected to this node, and how to reach
//! their session tasks.
//!
//! Each connected device has an [`Inbox`]: everything other tasks tell its
//! session arrives there — eviction by a newer connection, "pull from your
//! queue", entries pushed straight to it, answers to its sends, the news
//! that acknowledged entries are gone, and transient signals (presence,
//! typing; at most [`SIGNAL_CAPACITY`] wait, the rest are dropped, so a slow
//! reader never blocks a sender). One allocation per device, and nothing
//! more until something arrives.

use bytes::Bytes;
use courier_shared::ids::{DeviceId, MessageId, UserId};
use courier_shared::proto::ServerFrame;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::Notify;

/// How many transient signals may wait for one device.
pub const SIGNAL_CAPACITY: usize = 64;

/// An entry pushed straight to a connected device, before (or instead of)
/// being stored in its queue.
#[derive(Debug)]
pub struct Pushed {
    /// The entry's id.
    pub id: MessageId,
    /// Message or receipt.
    pub kind: crate::store::queue::EntryKind,
    /// Who sent it.
    pub from: UserId,
    /// From which device.
    pub from_device: DeviceId,
    /// The bytes to deliver.
    pub payload: Bytes,
}

/// What a session is told, in the order it should act on it.
#[derive(Debug)]
pub enum Arrival {
    /// A newer connection of the device took over: close.
    Evicted,
    /// An entry to deliver now.
    Push(Arc<Pushed>),
    /// A frame to send: the outcome of one of the session's sends.
    Answer(ServerFrame),
    /// These acknowledged entries are gone for good.
    Acked(Vec<MessageId>),
    /// The device's queue has new entries: read it.
    Woken,
    /// A transient signal to pass on.
    Signal(ServerFrame),
}

#[derive(Debug, Default)]
struct InboxState {
    evicted: bool,
    woken: bool,
    arrivals: VecDeque<Arrival>,
    signals: VecDeque<ServerFrame>,
}

/// One connected device's inbox.
#[derive(Debug, Default)]
pub struct Inbox {
    state: Mutex<InboxState>,
    ready: Notify,
    /// Entries sent to the device (or on their way) and not yet gone.
    pub window: AtomicUsize,
    /// Whether the device's queue was read to its end since it was last
    /// woken, so that new entries may be pushed without overtaking it.
    pub caught_up: AtomicBool,
}

impl Inbox {
    fn lock(&self) -> MutexGuard<'_, InboxState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn change(&self, f: impl FnOnce(&mut InboxState)) {
        f(&mut self.lock());
        self.ready.notify_one();
    }

    /// Tells the session to close.
    pub fn evict(&self) {
        self.change(|state| state.evicted = true);
    }

    /// Tells the session to read its queue (many wake-ups make one).
    pub fn wake(&self) {
        self.caught_up.store(false, Ordering::Release);
        self.change(|state| state.woken = true);
    }

    /// Hands the session something it must act on.
    pub fn post(&self, arrival: Arrival) {
        self.change(|state| state.arrivals.push_back(arrival));
    }

    /// Takes `window` room for one more entry if fewer than `max` are out.
    pub fn reserve(&self, max: usize) -> bool {
        self.window
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .is_ok()
    }

    /// Adds a transient signal unless [`SIGNAL_CAPACITY`] already wait.
    pub fn signal(&self, frame: ServerFrame) {
        let mut state = self.lock();
        if state.signals.len() < SIGNAL_CAPACITY {
            state.signals.push_back(frame);
            drop(state);
            self.ready.notify_one();
        }
    }

    /// Takes the oldest waiting signal, if any (passing over the rest).
    pub fn try_signal(&self) -> Option<ServerFrame> {
        self.lock().signals.pop_front()
    }

    /// The next arrival, if any, most urgent first.
    pub fn try_next(&self) -> Option<Arrival> {
        let mut state = self.lock();
        if state.evicted {
            return Some(Arrival::Evicted);
        }
        if let Some(arrival) = state.arrivals.pop_front() {
            return Some(arrival);
        }
        if std::mem::take(&mut state.woken) {
            return Some(Arrival::Woken);
        }
        state.signals.pop_front().map(Arrival::Signal)
    }

    /// Waits for the next arrival.
    pub async fn next(&self) -> Arrival {
        loop {
            if let Some(arrival) = self.try_next() {
                return arrival;
            }
            self.ready.notified().await;
        }
    }
}

#[derive(Debug)]
struct Slot {
    user: UserId,
    conn: u64,
    inbox: Arc<Inbox>,
}

#[derive(Debug, Default)]
struct Inner {
    devices: HashMap<DeviceId, Slot>,
    /// Each connected device under its user, in one ordered set rather than
    /// a set per user: no allocation of its own per user (most have one
    /// device connected), about 16 bytes an entry.
    users: BTreeSet<(UserId, DeviceId)>,
}

/// The devices connected to this node.
#[derive(Debug, Default, Clone)]
pub struct Registry {
    inner: Arc<Mutex<Inner>>,
}

impl Registry {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registers connection `conn` of `device`, evicting any older connection
    /// of the same device on this node; returns the new connection's inbox,
    /// already woken (a new connection starts by reading its queue).
    pub fn register(&self, user: UserId, device: DeviceId, conn: u64) -> Arc<Inbox> {
        let inbox = Arc::new(Inbox::default());
        inbox.wake();
        let slot = Slot {
            user,
            conn,
            inbox: inbox.clone(),
        };
        let mut inner = self.lock();
        if let Some(old) = inner.devices.insert(device, slot) {
            old.inbox.evict();
        }
        inner.users.insert((user, device));
        inbox
    }

    /// Removes connection `conn` of `device` (a newer connection of the same
    /// device stays). Returns whether it was removed.
    pub fn unregister(&self, device: DeviceId, conn: u64) -> bool {
        let mut inner = self.lock();
        let Some(slot) = inner.devices.get(&device) else {
            return false;
        };
        if slot.conn != conn {
            return false;
        }
        let user = slot.user;
        inner.devices.remove(&device);
        inner.users.remove(&(user, device));
        true
    }

    /// Closes this node's connection of `device`, which signed in elsewhere.
    pub fn evict(&self, device: DeviceId) {
        if let Some(slot) = self.lock().devices.get(&device) {
            slot.inbox.evict();
        }
    }

    /// Wakes every session on this node.
    pub fn wake_all(&self) {
        for slot in self.lock().devices.values() {
            slot.inbox.wake();
        }
    }

    /// Wakes the sessions of these devices that are connected here.
    pub fn wake(&self, devices: &[DeviceId]) {
        let inner = self.lock();
        for device in devices {
            if let Some(slot) = inner.devices.get(device) {
                slot.inbox.wake();
            }
        }
    }

    /// The inbox of `device` if it is connected here.
    pub fn inbox(&self, device: DeviceId) -> Option<Arc<Inbox>> {
        self.lock()
            .devices
            .get(&device)
            .map(|slot| slot.inbox.clone())
    }

    /// Queues a transient signal for `device` if it is connected here; drops
    /// it if too many wait.
    pub fn signal(&self, device: DeviceId, frame: ServerFrame) {
        let inner = self.lock();
        if let Some(slot) = inner.devices.get(&device) {
            slot.inbox.signal(frame);
        }
    }

    /// The devices of `user` connected here.
    pub fn online_devices(&self, user: UserId) -> Vec<DeviceId> {
        self.lock()
            .users
            .range((user, DeviceId(0))..=(user, DeviceId(u64::MAX)))
            .map(|&(_, device)| device)
            .collect()
    }

    /// How many devices are connected here.
    pub fn len(&self) -> usize {
        self.lock().devices.len()
    }

    /// Whether no device is connected here.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::{Arrival, Registry};
    use courier_shared::ids::{DeviceId, UserId};

    #[test]
    fn a_reconnect_evicts_the_old_connection_and_only_the_current_one_unregisters() {
        let registry = Registry::default();
        let first = registry.register(UserId(1), DeviceId(1), 10);
        let second = registry.register(UserId(1), DeviceId(1), 11);
        assert!(matches!(first.try_next(), Some(Arrival::Evicted)));
        assert!(matches!(second.try_next(), Some(Arrival::Woken)));
        assert!(second.try_next().is_none(), "wake-ups are taken once");
        assert!(!registry.unregister(DeviceId(1), 10), "stale connection");
        assert_eq!(registry.online_devices(UserId(1)), vec![DeviceId(1)]);
        registry.evict(DeviceId(1));
        assert!(
            matches!(second.try_next(), Some(Arrival::Evicted)),
            "signed in on another node"
        );
        assert!(registry.unregister(DeviceId(1), 11));
        assert!(registry.online_devices(UserId(1)).is_empty());
        assert!(registry.is_empty());
    }

    #[test]
    fn signals_are_bounded_and_come_after_what_must_be_acted_on() {
        let registry = Registry::default();
        let inbox = registry.register(UserId(1), DeviceId(1), 1);
        let _ = inbox.try_next();
        for nonce in 0..100 {
            inbox.signal(courier_shared::proto::ServerFrame::Pong { nonce });
        }
        inbox.post(Arrival::Acked(Vec::new()));
        assert!(matches!(inbox.try_next(), Some(Arrival::Acked(_))));
        let mut signals = 0;
        while let Some(Arrival::Signal(_)) = inbox.try_next() {
            signals += 1;
        }
        assert_eq!(signals, super::SIGNAL_CAPACITY);
        assert!(inbox.reserve(1) && !inbox.reserve(1), "the window holds");
    }
}
