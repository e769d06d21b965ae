//! [`Outbox`]: messages written but not yet accepted by the server.
//!
//! Every send goes through it; it is re-sent on every sign-in until the server
//! answers `Accepted` (or refuses it for good). Because the message id is fixed
//! when the message is written, a re-send never creates a second message.

use crate::ids::MessageId;
use crate::proto::{self, ClientFrame, DecodeError};
use std::collections::VecDeque;

/// Pending sends, oldest first.
#[derive(Debug, Default, Clone)]
pub struct Outbox {
    pending: VecDeque<(MessageId, ClientFrame)>,
}

impl Outbox {
    /// Adds a `Send`, `SendFanout` or `SendGroup` frame; returns its id, or
    /// `None` for any other frame. A frame whose id is already pending replaces nothing.
    pub fn push(&mut self, frame: ClientFrame) -> Option<MessageId> {
        let id = match &frame {
            ClientFrame::Send { id, .. }
            | ClientFrame::SendFanout { id, .. }
            | ClientFrame::SendGroup { id, .. } => *id,
            _ => return None,
        };
        if !self.contains(&id) {
            self.pending.push_back((id, frame));
        }
        Some(id)
    }

    /// Whether `id` is still waiting.
    pub fn contains(&self, id: &MessageId) -> bool {
        self.pending.iter().any(|(pending, _)| pending == id)
    }

    /// Forgets `id` (accepted, or refused for good). Returns whether it was pending.
    pub fn remove(&mut self, id: &MessageId) -> bool {
        let before = self.pending.len();
        self.pending.retain(|(pending, _)| pending != id);
        self.pending.len() != before
    }

    /// The pending frames, oldest first.
    pub fn frames(&self) -> impl Iterator<Item = &ClientFrame> {
        self.pending.iter().map(|(_, frame)| frame)
    }

    /// How many sends are waiting.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// The pending frames as encoded bytes, for the device's own storage.
    pub fn snapshot(&self) -> Vec<Vec<u8>> {
        self.frames()
            .filter_map(|frame| proto::encode(frame).ok())
            .collect()
    }

    /// An outbox holding the frames of an earlier [`Outbox::snapshot`].
    pub fn restore(snapshot: &[Vec<u8>]) -> Result<Self, DecodeError> {
        let mut outbox = Self::default();
        for bytes in snapshot {
            outbox.push(proto::decode(bytes)?);
        }
        Ok(outbox)
    }
}

#[cfg(test)]
mod tests {
    use super::Outbox;
    use crate::ids::{DeviceId, MessageId};
    use crate::proto::{ClientFrame, Payload};

    fn send(n: u8) -> ClientFrame {
        ClientFrame::SendFanout {
            id: MessageId::v7(u64::from(n), [n; 10]),
            to: vec![DeviceId(1)],
            payload: Payload::new(vec![n]).expect("small"),
        }
    }

    #[test]
    fn keeps_order_ignores_duplicates_and_survives_a_snapshot() {
        let mut outbox = Outbox::default();
        let first = outbox.push(send(1)).expect("a send");
        outbox.push(send(2));
        outbox.push(send(1));
        assert_eq!(outbox.len(), 2);
        assert_eq!(outbox.push(ClientFrame::Ping { nonce: 1 }), None);

        let restored = Outbox::restore(&outbox.snapshot()).expect("restores");
        assert_eq!(
            restored.frames().collect::<Vec<_>>(),
            outbox.frames().collect::<Vec<_>>()
        );

        assert!(outbox.remove(&first));
        assert!(!outbox.remove(&first));
        assert_eq!(outbox.frames().next(), Some(&send(2)));
    }
}
