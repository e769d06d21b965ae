//! [`SeenIds`]: remembers recent message ids so that a redelivered message is
//! shown once.

use crate::ids::MessageId;
use std::collections::{HashSet, VecDeque};

/// The most recent `capacity` ids seen, forgetting the oldest first.
#[derive(Debug, Clone)]
pub struct SeenIds {
    capacity: usize,
    order: VecDeque<MessageId>,
    set: HashSet<MessageId>,
}

impl Default for SeenIds {
    fn default() -> Self {
        Self::with_capacity(16_384)
    }
}

impl SeenIds {
    /// A set that remembers up to `capacity` ids.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            order: VecDeque::new(),
            set: HashSet::new(),
        }
    }

    /// Records `id`; returns `true` the first time it is seen.
    pub fn insert(&mut self, id: MessageId) -> bool {
        if !self.set.insert(id) {
            return false;
        }
        self.order.push_back(id);
        if self.order.len() > self.capacity
            && let Some(oldest) = self.order.pop_front()
        {
            self.set.remove(&oldest);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::SeenIds;
    use crate::ids::MessageId;

    #[test]
    fn repeats_are_caught_within_capacity() {
        let mut seen = SeenIds::with_capacity(2);
        let id = |n: u8| MessageId::v7(1, [n; 10]);
        assert!(seen.insert(id(1)));
        assert!(!seen.insert(id(1)));
        assert!(seen.insert(id(2)));
        assert!(seen.insert(id(3)));
        assert!(seen.insert(id(1)), "the oldest id was forgotten");
    }
}
