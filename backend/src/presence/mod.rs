//! [`Presence`]: who follows whose online state on this node.
//!
//! A device subscribes to users; the session checks first that each user has
//! the subscriber in their contact list. When a user comes online or goes
//! offline, every subscribed device gets a `Presence` signal through the
//! [`Registry`]. Presence is transient: only `last_seen` is stored.

use crate::router::registry::Registry;
use courier_shared::ids::{DeviceId, UserId};
use courier_shared::proto::ServerFrame;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

#[derive(Debug, Default)]
struct Inner {
    watchers: HashMap<UserId, HashSet<(DeviceId, UserId)>>,
    watching: HashMap<DeviceId, HashSet<UserId>>,
}

/// Presence subscriptions of the devices connected to this node.
#[derive(Debug, Default, Clone)]
pub struct Presence {
    inner: Arc<Mutex<Inner>>,
}

impl Presence {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `device` (of `watcher`) follows `user`'s presence.
    pub fn subscribe(&self, device: DeviceId, watcher: UserId, user: UserId) {
        let mut inner = self.lock();
        inner
            .watchers
            .entry(user)
            .or_default()
            .insert((device, watcher));
        inner.watching.entry(device).or_default().insert(user);
    }

    /// `watcher`'s devices stop following `user` (they are no longer a contact).
    pub fn revoke(&self, watcher: UserId, user: UserId) {
        let mut inner = self.lock();
        let mut removed = Vec::new();
        if let Some(set) = inner.watchers.get_mut(&user) {
            set.retain(|(device, owner)| {
                let keep = *owner != watcher;
                if !keep {
                    removed.push(*device);
                }
                keep
            });
        }
        for device in removed {
            if let Some(set) = inner.watching.get_mut(&device) {
                set.remove(&user);
            }
        }
    }

    /// Forgets every subscription of `device` (it disconnected).
    pub fn forget(&self, device: DeviceId) {
        let mut inner = self.lock();
        let Some(users) = inner.watching.remove(&device) else {
            return;
        };
        for user in users {
            if let Some(set) = inner.watchers.get_mut(&user) {
                set.retain(|(d, _)| *d != device);
                if set.is_empty() {
                    inner.watchers.remove(&user);
                }
            }
        }
    }

    /// Tells every device following `user` that they are now `online`.
    pub fn announce(&self, registry: &Registry, user: UserId, online: bool, last_seen: u64) {
        let watchers: Vec<DeviceId> = self
            .lock()
            .watchers
            .get(&user)
            .map(|set| set.iter().map(|(device, _)| *device).collect())
            .unwrap_or_default();
        for device in watchers {
            registry.signal(
                device,
                ServerFrame::Presence {
                    user,
                    online,
                    last_seen,
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Presence;
    use crate::router::registry::Registry;
    use courier_shared::ids::{DeviceId, UserId};
    use courier_shared::proto::ServerFrame;

    #[test]
    fn announcements_reach_subscribers_until_revoked_or_forgotten() {
        let registry = Registry::default();
        let presence = Presence::default();
        let watcher = registry.register(UserId(2), DeviceId(20), 1);
        presence.subscribe(DeviceId(20), UserId(2), UserId(1));
        presence.announce(&registry, UserId(1), true, 5);
        assert!(matches!(
            watcher.try_signal(),
            Some(ServerFrame::Presence { online: true, .. })
        ));
        presence.revoke(UserId(2), UserId(1));
        presence.announce(&registry, UserId(1), false, 6);
        assert!(watcher.try_signal().is_none());
        presence.subscribe(DeviceId(20), UserId(2), UserId(1));
        presence.forget(DeviceId(20));
        presence.announce(&registry, UserId(1), false, 7);
        assert!(watcher.try_signal().is_none());
    }
}
