//! Exponential back-off with jitter for reconnect attempts.

/// Delays between reconnect attempts: doubling from `base_ms` up to `max_ms`,
/// each drawn at random from the upper half of its window so that clients
/// dropped together do not return together.
#[derive(Debug, Clone)]
pub struct Backoff {
    base_ms: u32,
    max_ms: u32,
    attempt: u32,
}

impl Default for Backoff {
    /// Half a second, doubling up to thirty seconds.
    fn default() -> Self {
        Self::new(500, 30_000)
    }
}

impl Backoff {
    /// A back-off starting at `base_ms` and never exceeding `max_ms`.
    pub fn new(base_ms: u32, max_ms: u32) -> Self {
        Self {
            base_ms: base_ms.max(1),
            max_ms: max_ms.max(base_ms),
            attempt: 0,
        }
    }

    /// How many delays have been handed out since the last [`Backoff::reset`].
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The next delay in milliseconds. `random` is a sample from `[0, 1)`,
    /// passed in so that this type stays deterministic under test.
    pub fn next_delay_ms(&mut self, random: f64) -> u32 {
        let window = self
            .base_ms
            .saturating_mul(1u32 << self.attempt.min(16))
            .min(self.max_ms);
        self.attempt = self.attempt.saturating_add(1);
        let half = window / 2;
        let jitter = (f64::from(window - half) * random.clamp(0.0, 1.0)) as u32;
        (half + jitter).min(window)
    }

    /// Starts again from the shortest delay, after a successful connection.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::Backoff;

    #[test]
    fn delays_double_up_to_the_cap_and_reset() {
        let mut backoff = Backoff::new(500, 4_000);
        let highs: Vec<u32> = (0..6).map(|_| backoff.next_delay_ms(0.999_999)).collect();
        assert_eq!(highs, vec![499, 999, 1_999, 3_999, 3_999, 3_999]);
        backoff.reset();
        assert_eq!(backoff.next_delay_ms(0.0), 250);
        assert_eq!(backoff.next_delay_ms(0.0), 500);
    }

    #[test]
    fn many_attempts_never_overflow() {
        let mut backoff = Backoff::default();
        for _ in 0..1_000 {
            assert!(backoff.next_delay_ms(1.0) <= 30_000);
        }
    }
}
