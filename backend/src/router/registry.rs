//! [`Registry`]: which devices are connected to this node, and how to reach
//! their session tasks.
//!
//! Each connected device has a [`Slot`]: a `Notify` that wakes its session to
//! pull from its queue (a wake-up is never lost, and many coalesce into one),
//! a bounded [`Signals`] queue for transient signals (presence, typing;
//! dropped when full, never blocking the sender), and a token that evicts the
//! session when the same device connects again. Nothing in a slot allocates
//! until it is used, so an idle device costs a few hundred bytes.

use courier_shared::ids::{DeviceId, UserId};
use courier_shared::proto::ServerFrame;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// How many transient signals may wait for one device.
pub const SIGNAL_CAPACITY: usize = 64;

/// A bounded queue of transient signals for one device. Unlike a channel it
/// allocates nothing until a signal arrives.
#[derive(Debug, Default)]
pub struct Signals {
    queue: Mutex<VecDeque<ServerFrame>>,
    ready: Notify,
}

impl Signals {
    fn lock(&self) -> MutexGuard<'_, VecDeque<ServerFrame>> {
        self.queue
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds `frame` unless [`SIGNAL_CAPACITY`] signals already wait.
    pub fn push(&self, frame: ServerFrame) {
        let mut queue = self.lock();
        if queue.len() < SIGNAL_CAPACITY {
            queue.push_back(frame);
            drop(queue);
            self.ready.notify_one();
        }
    }

    /// Takes the oldest waiting signal, if any.
    pub fn try_pop(&self) -> Option<ServerFrame> {
        self.lock().pop_front()
    }

    /// Waits for the next signal.
    pub async fn pop(&self) -> ServerFrame {
        loop {
            if let Some(frame) = self.try_pop() {
                return frame;
            }
            self.ready.notified().await;
        }
    }
}

/// What a session task holds to be reached by others.
#[derive(Debug)]
pub struct Handle {
    /// Woken when the device's queue has new entries.
    pub wake: Arc<Notify>,
    /// Transient signals for the device.
    pub signals: Arc<Signals>,
    /// Cancelled when a newer connection of the same device takes over.
    pub evicted: CancellationToken,
}

#[derive(Debug)]
struct Slot {
    user: UserId,
    conn: u64,
    wake: Arc<Notify>,
    signals: Arc<Signals>,
    evicted: CancellationToken,
}

#[derive(Debug, Default)]
struct Inner {
    devices: HashMap<DeviceId, Slot>,
    users: HashMap<UserId, HashSet<DeviceId>>,
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
    /// of the same device on this node.
    pub fn register(&self, user: UserId, device: DeviceId, conn: u64) -> Handle {
        let handle = Handle {
            wake: Arc::new(Notify::new()),
            signals: Arc::new(Signals::default()),
            evicted: CancellationToken::new(),
        };
        let slot = Slot {
            user,
            conn,
            wake: handle.wake.clone(),
            signals: handle.signals.clone(),
            evicted: handle.evicted.clone(),
        };
        let mut inner = self.lock();
        if let Some(old) = inner.devices.insert(device, slot) {
            old.evicted.cancel();
        }
        inner.users.entry(user).or_default().insert(device);
        // A new connection starts by pulling its queue.
        handle.wake.notify_one();
        handle
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
        if let Some(devices) = inner.users.get_mut(&user) {
            devices.remove(&device);
            if devices.is_empty() {
                inner.users.remove(&user);
            }
        }
        true
    }

    /// Closes this node's connection of `device`, which signed in elsewhere.
    pub fn evict(&self, device: DeviceId) {
        if let Some(slot) = self.lock().devices.get(&device) {
            slot.evicted.cancel();
        }
    }

    /// Wakes every session on this node.
    pub fn wake_all(&self) {
        for slot in self.lock().devices.values() {
            slot.wake.notify_one();
        }
    }

    /// Wakes the sessions of these devices that are connected here.
    pub fn wake(&self, devices: &[DeviceId]) {
        let inner = self.lock();
        for device in devices {
            if let Some(slot) = inner.devices.get(device) {
                slot.wake.notify_one();
            }
        }
    }

    /// Queues a transient signal for `device` if it is connected here; drops
    /// it if the device's signal channel is full.
    pub fn signal(&self, device: DeviceId, frame: ServerFrame) {
        let inner = self.lock();
        if let Some(slot) = inner.devices.get(&device) {
            slot.signals.push(frame);
        }
    }

    /// The devices of `user` connected here.
    pub fn online_devices(&self, user: UserId) -> Vec<DeviceId> {
        self.lock()
            .users
            .get(&user)
            .map(|devices| devices.iter().copied().collect())
            .unwrap_or_default()
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
    use super::Registry;
    use courier_shared::ids::{DeviceId, UserId};

    #[test]
    fn a_reconnect_evicts_the_old_connection_and_only_the_current_one_unregisters() {
        let registry = Registry::default();
        let first = registry.register(UserId(1), DeviceId(1), 10);
        let second = registry.register(UserId(1), DeviceId(1), 11);
        assert!(first.evicted.is_cancelled());
        assert!(!registry.unregister(DeviceId(1), 10), "stale connection");
        assert_eq!(registry.online_devices(UserId(1)), vec![DeviceId(1)]);
        registry.evict(DeviceId(1));
        assert!(second.evicted.is_cancelled(), "signed in on another node");
        assert!(registry.unregister(DeviceId(1), 11));
        assert!(registry.online_devices(UserId(1)).is_empty());
        assert!(registry.is_empty());
    }
}
