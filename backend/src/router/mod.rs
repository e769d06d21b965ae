//! [`Router`]: the path of every entry — check, deliver to a device online
//! here at once, store it for the others, wake their sessions.
//!
//! A sender hears "accepted" only once every recipient device either
//! acknowledged the entry (a device stores a message before it acknowledges
//! it) or has it durably in its queue. The queue stays the source of truth
//! for everything not acknowledged: a wake-up only tells a session to read
//! it. The work is done by the node's dispatcher ([`dispatch`]) and its queue
//! writers ([`writer`]).

mod check;
pub mod dispatch;
pub mod expiry;
pub mod job;
mod pending;
pub mod registry;
mod settle;
pub mod writer;

use crate::bus::{Bus, Event};
use crate::refusal::Refusal;
use crate::store::queue::EntryKind;
use crate::store::{Store, StoreError};
use bytes::Bytes;
use courier_shared::ids::{DeviceId, MessageId, RequestId, UserId};
use courier_shared::proto::{self, ReceiptKind, ServerFrame};
use dispatch::{Command, Dispatcher, Limits};
use job::{Done, Job, Payloads, Recipients, Reply};
use registry::Inbox;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Most recipient devices of one message.
pub const MAX_RECIPIENTS: usize = 1_024;
/// Most message ids in one receipt or acknowledgement.
pub const MAX_IDS: usize = 512;
/// Most entries sent to one device and not yet acknowledged.
pub const MAX_INFLIGHT: usize = 256;
/// Commands that may wait for the dispatcher before sessions wait too.
const BACKLOG: usize = 16_384;

/// Routes entries between devices.
#[derive(Debug, Clone)]
pub struct Router {
    commands: mpsc::Sender<Command>,
    bus: Bus,
}

/// The router's limits (see [`crate::Settings`]).
#[derive(Debug, Clone, Copy)]
pub struct RouterSettings {
    /// How long an undelivered entry is kept, in ms.
    pub ttl_ms: i64,
    /// How long a pushed entry may wait for its acknowledgement before it
    /// is stored anyway.
    pub persist_after: Duration,
    /// Most entries one device's queue may hold.
    pub queue_cap: u64,
}

impl Router {
    /// A router over `store` that reaches this node's sessions through
    /// `bus`'s registry; starts its dispatcher and queue writers.
    pub fn new(store: Store, bus: Bus, settings: RouterSettings) -> Self {
        let (commands, receiver) = mpsc::channel(BACKLOG);
        let limits = Limits {
            ttl_ms: settings.ttl_ms,
            persist_after: settings.persist_after,
            queue_cap: settings.queue_cap,
        };
        let dispatcher = Dispatcher::new(store, bus.clone(), bus.registry().clone(), limits);
        tokio::spawn(dispatch::run(dispatcher, receiver));
        Self { commands, bus }
    }

    /// Hands `job` to the dispatcher.
    pub async fn submit(&self, job: Job) {
        if let Err(mpsc::error::SendError(Command::Send(mut job))) =
            self.commands.send(Command::Send(job)).await
        {
            job.answer(Err(stopped()));
        }
    }

    async fn wait(&self, mut job: Job) -> Result<(), Refusal> {
        let (reply, outcome) = oneshot::channel();
        job.reply = Some(Reply::Wait(reply));
        self.submit(job).await;
        outcome.await.unwrap_or_else(|_| Err(stopped()))
    }

    /// Routes message `id` from `sender`: one payload per recipient device.
    /// Returns once it is accepted (or was already accepted before).
    pub async fn send(
        &self,
        sender: (UserId, DeviceId),
        id: MessageId,
        to: Vec<(DeviceId, Vec<u8>)>,
    ) -> Result<(), Refusal> {
        let mut to: Vec<(DeviceId, Bytes)> =
            to.into_iter().map(|(d, p)| (d, Bytes::from(p))).collect();
        to.sort_unstable_by_key(|(device, _)| *device);
        let devices: Vec<DeviceId> = to.iter().map(|(device, _)| *device).collect();
        self.wait(message(sender, id, devices, Payloads::PerDevice(to), None)?)
            .await
    }

    /// Routes message `id` from `sender`: one payload for every device.
    pub async fn send_fanout(
        &self,
        sender: (UserId, DeviceId),
        id: MessageId,
        mut to: Vec<DeviceId>,
        payload: Bytes,
    ) -> Result<(), Refusal> {
        to.sort_unstable();
        self.wait(message(sender, id, to, Payloads::Shared(payload), None)?)
            .await
    }

    /// Routes group message `id` from `sender`: the one payload for every
    /// listed device of every member of the group but the sending device.
    pub async fn send_group(
        &self,
        sender: (UserId, DeviceId),
        id: MessageId,
        send: crate::store::queue::GroupSend,
    ) -> Result<(), Refusal> {
        self.wait(group_message(sender, id, send, None)).await
    }

    /// Routes a delivery or read receipt from `sender` to every device of
    /// `to`, and to the sender's own other devices so that they stay in step.
    pub async fn receipt(
        &self,
        sender: (UserId, DeviceId),
        to: UserId,
        kind: ReceiptKind,
        ids: Vec<MessageId>,
    ) -> Result<(), Refusal> {
        self.wait(receipt(sender, to, kind, &ids, None)?).await
    }

    /// Tells the dispatcher that `device` acknowledged these entries (with
    /// their queue positions where known); `inbox` hears when they are gone.
    pub async fn acked(
        &self,
        device: DeviceId,
        entries: Vec<(MessageId, Option<i64>)>,
        done: Done,
    ) {
        let command = Command::Ack {
            device,
            entries,
            done,
        };
        let _ = self.commands.send(command).await;
    }

    /// Deletes `device`'s acknowledged entries (its own queue only); returns
    /// how many were stored, once the deletion committed.
    pub async fn ack(&self, device: DeviceId, ids: Vec<MessageId>) -> Result<u64, StoreError> {
        let (reply, outcome) = oneshot::channel();
        let entries = ids.into_iter().map(|id| (id, None)).collect();
        self.acked(device, entries, Done::Wait(reply)).await;
        outcome.await.unwrap_or(Ok(0))
    }

    /// Passes a typing indicator from `from` to the connected devices of
    /// `to`, on every node. Typing is transient: it is never queued.
    pub fn typing(&self, from: UserId, to: UserId, typing: bool) {
        self.bus.publish(Event::Typing { from, to, typing });
    }
}

/// A message job, checked for shape: 1 to [`MAX_RECIPIENTS`] devices, each
/// once (`to` sorted).
pub fn message(
    sender: (UserId, DeviceId),
    id: MessageId,
    to: Vec<DeviceId>,
    payloads: Payloads,
    reply: Option<Reply>,
) -> Result<Job, Refusal> {
    if to.is_empty() || to.len() > MAX_RECIPIENTS {
        return Err(Refusal::invalid(format!(
            "a message needs 1 to {MAX_RECIPIENTS} recipient devices"
        )));
    }
    if to.windows(2).any(|pair| pair[0] == pair[1]) {
        return Err(Refusal::invalid(
            "a device appears twice among the recipients",
        ));
    }
    Ok(Job {
        sender,
        id,
        kind: EntryKind::Message,
        to: Recipients::Devices(to),
        payloads,
        dedupe: true,
        reply,
    })
}

/// A group message job.
pub fn group_message(
    sender: (UserId, DeviceId),
    id: MessageId,
    send: crate::store::queue::GroupSend,
    reply: Option<Reply>,
) -> Job {
    Job {
        sender,
        id,
        kind: EntryKind::Message,
        to: Recipients::Group(send.group, send.devices),
        payloads: Payloads::Shared(Bytes::from(send.payload)),
        dedupe: true,
        reply,
    }
}

/// A receipt job for 1 to [`MAX_IDS`] messages, with a fresh id.
pub fn receipt(
    sender: (UserId, DeviceId),
    to: UserId,
    kind: ReceiptKind,
    ids: &[MessageId],
    reply: Option<Reply>,
) -> Result<Job, Refusal> {
    if ids.is_empty() || ids.len() > MAX_IDS {
        return Err(Refusal::invalid(format!(
            "a receipt names 1 to {MAX_IDS} messages"
        )));
    }
    let payload =
        proto::encode(&(kind.as_u8(), ids)).map_err(|err| Refusal::invalid(err.to_string()))?;
    Ok(Job {
        sender,
        id: new_entry_id(),
        kind: EntryKind::Receipt,
        to: Recipients::Users(to),
        payloads: Payloads::Shared(Bytes::from(payload)),
        dedupe: false,
        reply,
    })
}

/// Where a session's job outcome goes: its inbox, as the answer to
/// `request`.
pub fn to_session(inbox: &Arc<Inbox>, request: RequestId) -> Option<Reply> {
    Some(Reply::Session(inbox.clone(), request))
}

/// The refusal of a job the dispatcher could not take or answer (the node
/// is shutting down).
fn stopped() -> Refusal {
    crate::refusal::internal(&"the router stopped")
}

/// A fresh time-ordered id for an entry the server makes (a receipt).
fn new_entry_id() -> MessageId {
    MessageId::new_const(*uuid::Uuid::now_v7().as_bytes())
}

/// The frame that delivers an entry, or `None` if the entry is unreadable
/// (it is then dropped).
pub fn delivery_frame(
    id: MessageId,
    kind: EntryKind,
    from: UserId,
    from_device: DeviceId,
    payload: &[u8],
) -> Option<ServerFrame> {
    match kind {
        EntryKind::Message => Some(ServerFrame::Deliver {
            id,
            from,
            from_device,
            payload: courier_shared::proto::Payload::new(payload.to_vec())?,
        }),
        EntryKind::Receipt => {
            let (kind, ids): (u8, Vec<MessageId>) = proto::decode(payload).ok()?;
            Some(ServerFrame::Receipt {
                id,
                from,
                from_device,
                kind: ReceiptKind::from_u8(kind)?,
                ids,
            })
        }
    }
}
