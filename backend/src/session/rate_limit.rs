//! Rate limits kept in the node's memory ([`Limits`]): [`TokenBucket`], and
//! [`Buckets`], a bounded map of buckets by key (a device, a pair of
//! devices, an address) that outlives any one connection, so a reconnect
//! refills nothing.
//!
//! A deployment of several nodes limits per node: each node keeps its own
//! buckets (a device that reconnects to another node starts full there).

use super::address::{AddressKey, TrustedProxy, Unsigned};
use crate::config::Settings;
use courier_shared::ids::{DeviceId, MessageId};
use courier_shared::proto::ClientFrame;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Allows `rate` tokens per second on average and bursts of `burst`; a
/// request takes as many tokens as it costs.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket of `burst` tokens refilled at `rate` a second.
    pub fn new(rate: u32, burst: u32, now: Instant) -> Self {
        Self::with_rate(f64::from(rate.max(1)), burst, now)
    }

    /// A full bucket of `count` tokens, refilled at `count` per `period`.
    pub fn per_period(count: u32, period: Duration, now: Instant) -> Self {
        let rate = f64::from(count.max(1)) / period.as_secs_f64().max(0.001);
        Self::with_rate(rate, count, now)
    }

    fn with_rate(rate: f64, burst: u32, now: Instant) -> Self {
        let burst = f64::from(burst.max(1));
        Self {
            rate,
            burst,
            tokens: burst,
            last: now,
        }
    }

    /// Takes `cost` tokens at `now`; `false` (taking none) if fewer are
    /// left. A cost above the burst takes the whole (full) bucket, so that
    /// no request is refused for ever.
    pub fn try_take(&mut self, cost: u32, now: Instant) -> bool {
        self.refill(now);
        let cost = f64::from(cost).min(self.burst);
        if self.tokens >= cost {
            self.tokens -= cost;
            true
        } else {
            false
        }
    }

    /// A full bucket of the same rate and burst, as of `now`.
    fn fresh(&self, now: Instant) -> Self {
        Self {
            tokens: self.burst,
            last: now,
            ..self.clone()
        }
    }

    /// Whether the bucket is full again at `now`: forgetting it then loses
    /// nothing, as a new bucket would be full too.
    fn is_full(&self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens + elapsed * self.rate >= self.burst
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = self.last.max(now);
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
    }
}

/// Token buckets by key, at most `capacity` of them. When the map is full,
/// buckets that have refilled completely are dropped first (a new one would
/// be the same), then the one used longest ago.
#[derive(Debug)]
pub struct Buckets<K> {
    capacity: usize,
    template: TokenBucket,
    map: Mutex<HashMap<K, TokenBucket>>,
}

impl<K: Eq + Hash + Copy> Buckets<K> {
    /// An empty map of at most `capacity` buckets, each starting as a copy
    /// of `template` (full).
    pub fn new(capacity: usize, template: TokenBucket) -> Self {
        Self {
            capacity: capacity.max(1),
            template,
            map: Mutex::new(HashMap::new()),
        }
    }

    /// Takes `cost` tokens from `key`'s bucket at `now`; `false` if it has
    /// too few.
    pub fn try_take(&self, key: K, cost: u32, now: Instant) -> bool {
        let mut map = self
            .map
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !map.contains_key(&key) && map.len() >= self.capacity {
            map.retain(|_, bucket| !bucket.is_full(now));
            if map.len() >= self.capacity {
                let oldest = map.iter().min_by_key(|(_, b)| b.last).map(|(k, _)| *k);
                if let Some(oldest) = oldest {
                    map.remove(&oldest);
                }
            }
        }
        map.entry(key)
            .or_insert_with(|| self.template.fresh(now))
            .try_take(cost, now)
    }

    /// How many buckets are kept.
    pub fn len(&self) -> usize {
        self.map.lock().map(|map| map.len()).unwrap_or_default()
    }

    /// Whether no bucket is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The node's rate limits, shared by every session.
#[derive(Debug)]
pub struct Limits {
    /// The requests of each signed-in device, over all its connections.
    pub devices: Buckets<DeviceId>,
    /// The one-time keys each device (first) may still claim of each other
    /// device (second).
    pub claims: Buckets<(DeviceId, DeviceId)>,
    /// The registrations each address may still make.
    pub registrations: Buckets<AddressKey>,
    /// The connections each address holds open without having signed in.
    pub unsigned: Arc<Unsigned>,
    /// The proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<TrustedProxy>,
}

/// The period of the registration limit.
const REGISTRATION_PERIOD: Duration = Duration::from_secs(3_600);

/// The period of the one-time key claim budget.
const CLAIM_PERIOD: Duration = Duration::from_secs(24 * 3_600);

impl Limits {
    /// Empty limits as `settings` configure them.
    pub fn new(settings: &Settings) -> Self {
        let now = Instant::now();
        Self {
            devices: Buckets::new(
                settings.rate_limit_devices,
                TokenBucket::new(settings.rate_limit_per_sec, settings.rate_limit_burst, now),
            ),
            claims: Buckets::new(
                settings.rate_limit_devices,
                TokenBucket::per_period(settings.prekey_claims_per_day, CLAIM_PERIOD, now),
            ),
            registrations: Buckets::new(
                settings.max_connections,
                TokenBucket::per_period(settings.registrations_per_hour, REGISTRATION_PERIOD, now),
            ),
            unsigned: Unsigned::shared(settings.max_unsigned_per_address),
            trusted_proxies: settings.trusted_proxies.clone(),
        }
    }
}

/// Tokens a `SetProfile` costs.
pub const PROFILE_COST: u32 = 10;

/// What a signed-in device's request costs in tokens: one, but a key claim
/// one per device it names and a subscription one per user (each is a
/// look-up), and a profile [`PROFILE_COST`] (a write of up to 44 KiB).
/// An acknowledgement is free if it names only entries this
/// connection delivered and waits on (`delivered`); any other, an empty
/// one included, makes the server read the queue again and costs one.
pub fn cost(frame: &ClientFrame, delivered: impl Fn(&MessageId) -> bool) -> u32 {
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX).max(1);
    match frame {
        ClientFrame::ClaimKeys { devices, .. } => count(devices.len()),
        ClientFrame::Subscribe { users, .. } => count(users.len()),
        ClientFrame::SetProfile { .. } => PROFILE_COST,
        ClientFrame::Ack { ids } if !ids.is_empty() && ids.iter().all(&delivered) => 0,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::{Buckets, TokenBucket, cost};
    use courier_shared::ids::{DeviceId, MessageId, RequestId, UserId};
    use courier_shared::proto::ClientFrame;
    use std::time::{Duration, Instant};

    #[test]
    fn bursts_are_capped_and_tokens_refill_at_the_rate() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(10, 3, start);
        assert!((0..3).all(|_| bucket.try_take(1, start)));
        assert!(!bucket.try_take(1, start));
        assert!(bucket.try_take(1, start + Duration::from_millis(100)));
        assert!(!bucket.try_take(1, start + Duration::from_millis(100)));
        let later = start + Duration::from_secs(10);
        assert_eq!((0..5).filter(|_| bucket.try_take(1, later)).count(), 3);
    }

    #[test]
    fn a_request_takes_what_it_costs_and_never_more_than_the_burst() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(1, 10, start);
        assert!(bucket.try_take(7, start));
        assert!(!bucket.try_take(4, start), "3 left");
        assert!(bucket.try_take(3, start));
        let full = start + Duration::from_secs(10);
        assert!(bucket.try_take(500, full), "a full bucket pays any cost");
        assert!(!bucket.try_take(1, full));
    }

    #[test]
    fn a_period_budget_refills_over_its_period() {
        let start = Instant::now();
        let mut bucket = TokenBucket::per_period(4, Duration::from_secs(3_600), start);
        assert_eq!((0..10).filter(|_| bucket.try_take(1, start)).count(), 4);
        assert!(!bucket.try_take(1, start + Duration::from_secs(600)));
        assert!(bucket.try_take(1, start + Duration::from_secs(900)));
    }

    #[test]
    fn the_map_is_bounded_and_drops_refilled_buckets_first() {
        let start = Instant::now();
        let buckets: Buckets<u32> = Buckets::new(2, TokenBucket::new(1, 2, start));
        assert!(buckets.try_take(1, 2, start));
        assert!(buckets.try_take(2, 1, start + Duration::from_millis(5)));
        // A third key evicts the least recently used bucket (1, empty).
        assert!(buckets.try_take(3, 2, start + Duration::from_millis(10)));
        assert_eq!(buckets.len(), 2);
        // 2 kept its state: one token was left, it has no second.
        let soon = start + Duration::from_millis(20);
        assert!(buckets.try_take(2, 1, soon));
        assert!(!buckets.try_take(2, 1, soon));
        // Once every bucket refilled, a new key drops them rather than the state of any.
        let later = start + Duration::from_secs(60);
        assert!(buckets.try_take(4, 1, later));
        assert_eq!(buckets.len(), 1);
    }

    #[test]
    fn look_ups_cost_what_they_look_up_and_only_acks_of_delivered_entries_are_free() {
        let claim = |n: u64| ClientFrame::ClaimKeys {
            request: RequestId(1),
            devices: (0..n).map(DeviceId).collect(),
        };
        let none = |_: &MessageId| false;
        assert_eq!(cost(&claim(256), none), 256);
        assert_eq!(cost(&claim(1), none), 1);
        assert_eq!(cost(&claim(0), none), 1);
        let subscribe = ClientFrame::Subscribe {
            request: RequestId(2),
            users: (0..30).map(UserId).collect(),
        };
        assert_eq!(cost(&subscribe, none), 30);
        let id = courier_shared::ids::FixedBytes([7; 16]);
        let ack = ClientFrame::Ack { ids: vec![id] };
        assert_eq!(cost(&ack, |m| *m == id), 0);
        assert_eq!(
            cost(&ack, none),
            1,
            "an ack of nothing delivered re-reads the queue"
        );
        assert_eq!(cost(&ClientFrame::Ack { ids: vec![] }, |_| true), 1);
    }
}
