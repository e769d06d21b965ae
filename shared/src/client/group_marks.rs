//! [`GroupMarks`]: how far one group message got with each member, for its
//! sender's check marks and "message info".

use crate::ids::UserId;
use crate::proto::ReceiptKind;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Each member's progress with one group message: when it reached one of
/// their devices, and when they read it (Unix ms).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupMarks {
    /// The members the message was sent to, with (delivered, read) times.
    members: BTreeMap<UserId, (Option<u64>, Option<u64>)>,
}

impl GroupMarks {
    /// A message sent to `members` (the sender's own user left out).
    pub fn new(members: impl IntoIterator<Item = UserId>) -> Self {
        // Inserting rather than `collect`ing keeps a sort routine out of the
        // web client.
        let mut all = BTreeMap::new();
        all.extend(members.into_iter().map(|m| (m, (None, None))));
        Self { members: all }
    }

    /// Takes in a receipt from `from` at `at_ms`; reading implies delivery.
    /// Receipts from non-members (the sender's own devices) change nothing.
    pub fn record(&mut self, from: UserId, kind: ReceiptKind, at_ms: u64) {
        let Some((delivered, read)) = self.members.get_mut(&from) else {
            return;
        };
        delivered.get_or_insert(at_ms);
        if kind == ReceiptKind::Read {
            read.get_or_insert(at_ms);
        }
    }

    /// The mark to show: `Read` once every member read it, `Delivered` once
    /// it reached every member, else `None` (only accepted by the server).
    pub fn state(&self) -> Option<ReceiptKind> {
        if self.members.is_empty() {
            return None;
        }
        if self.members.values().all(|(_, read)| read.is_some()) {
            Some(ReceiptKind::Read)
        } else if self
            .members
            .values()
            .all(|(delivered, _)| delivered.is_some())
        {
            Some(ReceiptKind::Delivered)
        } else {
            None
        }
    }

    /// Each member with when it was delivered to and read by them.
    pub fn info(&self) -> impl Iterator<Item = (UserId, Option<u64>, Option<u64>)> + '_ {
        self.members
            .iter()
            .map(|(user, (delivered, read))| (*user, *delivered, *read))
    }
}

#[cfg(test)]
mod tests {
    use super::GroupMarks;
    use crate::ids::UserId;
    use crate::proto::ReceiptKind::{Delivered, Read};

    #[test]
    fn marks_need_every_member_and_reading_implies_delivery() {
        let mut marks = GroupMarks::new([UserId(2), UserId(3)]);
        assert_eq!(marks.state(), None);
        marks.record(UserId(2), Read, 10);
        assert_eq!(marks.state(), None);
        marks.record(UserId(9), Read, 11);
        assert_eq!(marks.state(), None, "a non-member counts for nothing");
        marks.record(UserId(3), Delivered, 12);
        assert_eq!(marks.state(), Some(Delivered));
        marks.record(UserId(3), Read, 13);
        assert_eq!(marks.state(), Some(Read));
        let info: Vec<_> = marks.info().collect();
        assert_eq!(
            info,
            vec![
                (UserId(2), Some(10), Some(10)),
                (UserId(3), Some(12), Some(13))
            ]
        );
    }
}
