//! What the router is asked to do: a [`Job`] (a message or a receipt, with
//! its recipients and payloads) and where its outcome goes ([`Reply`]).

use super::registry::{Arrival, Inbox};
use crate::refusal::Refusal;
use crate::store::queue::EntryKind;
use bytes::Bytes;
use courier_shared::ids::{DeviceId, DeviceSetDigest, GroupId, MessageId, RequestId, UserId};
use courier_shared::proto::ServerFrame;
use std::sync::Arc;
use tokio::sync::oneshot;

/// Who an entry goes to, before the router checks it.
#[derive(Debug, Clone)]
pub enum Recipients {
    /// These devices (sorted, no repeats), which must be exactly the listed
    /// devices of the users they belong to, the sending device aside (the
    /// device check).
    Devices(Vec<DeviceId>),
    /// Every listed device of the group's members but the sending device;
    /// the sender must be a member and `digest` must match those devices.
    Group(GroupId, DeviceSetDigest),
    /// Every device of `to` and, unless `to` is the sender, of the sender's
    /// user, but the sending device (receipts).
    Users(UserId),
}

/// What the recipients get.
#[derive(Debug, Clone)]
pub enum Payloads {
    /// One payload for every recipient (stored once).
    Shared(Bytes),
    /// Each device its own payload (sorted by device).
    PerDevice(Vec<(DeviceId, Bytes)>),
}

impl Payloads {
    /// The payload for `device`.
    pub fn of(&self, device: DeviceId) -> Option<&Bytes> {
        match self {
            Self::Shared(payload) => Some(payload),
            Self::PerDevice(payloads) => payloads
                .binary_search_by_key(&device, |(d, _)| *d)
                .ok()
                .map(|n| &payloads[n].1),
        }
    }
}

/// One message or receipt to route.
#[derive(Debug)]
pub struct Job {
    /// The sending user and device.
    pub sender: (UserId, DeviceId),
    /// The entry's id (the sender's message id, or a new id for a receipt).
    pub id: MessageId,
    /// Message or receipt.
    pub kind: EntryKind,
    /// Who it goes to.
    pub to: Recipients,
    /// What they get.
    pub payloads: Payloads,
    /// Whether a repeat of `(sender device, id)` is recognised (messages).
    pub dedupe: bool,
    /// Where the outcome goes (taken once it is sent).
    pub reply: Option<Reply>,
}

impl Job {
    /// Sends the job's outcome, once.
    pub fn answer(&mut self, outcome: Result<(), Refusal>) {
        if let Some(reply) = self.reply.take() {
            reply.send(outcome);
        }
    }
}

/// Where a job's outcome goes.
#[derive(Debug)]
pub enum Reply {
    /// To the sending session, as the frame that answers its request:
    /// `Accepted`, or `Rejected` with the refusal.
    Session(Arc<Inbox>, RequestId),
    /// To a task that waits for it.
    Wait(oneshot::Sender<Result<(), Refusal>>),
}

impl Reply {
    /// Sends the outcome of the job.
    pub fn send(self, outcome: Result<(), Refusal>) {
        match self {
            Self::Wait(reply) => {
                let _ = reply.send(outcome);
            }
            Self::Session(inbox, request) => {
                let frame = match outcome {
                    Ok(()) => ServerFrame::Accepted { request },
                    Err(refusal) => refusal.frame(request),
                };
                inbox.post(Arrival::Answer(frame));
            }
        }
    }
}

/// Where the news that acknowledged entries are gone goes.
#[derive(Debug)]
pub enum Done {
    /// To the device's session, which keeps them in its window until then.
    Session(Arc<Inbox>),
    /// To a task that waits for the count.
    Wait(oneshot::Sender<Result<u64, crate::store::StoreError>>),
    /// Nowhere.
    Nobody,
}
