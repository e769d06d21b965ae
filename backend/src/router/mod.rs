//! [`Router`]: the path of every entry — validate, queue durably, wake the
//! recipients' sessions.
//!
//! The queue is the source of truth: a wake-up only tells a session to pull
//! from it. A message is acknowledged to its sender ("accepted") only after
//! the transaction that queued it for every recipient device committed.

pub mod expiry;
pub mod registry;
pub mod writer;

use crate::bus::{Bus, Event};
use crate::clock::now_ms;
use crate::refusal::Refusal;
use crate::store::queue::{EnqueueJob, Enqueued, EntryKind, GroupSend, NewEntry};
use crate::store::{Store, StoreError};
use courier_shared::ids::{DeviceId, MessageId, UserId};
use courier_shared::proto::{self, ErrorCode, ReceiptKind, ServerFrame};

/// Most recipient devices of one message.
pub const MAX_RECIPIENTS: usize = 1_024;
/// Most message ids in one receipt or acknowledgement.
pub const MAX_IDS: usize = 512;

/// Routes entries between devices through the queues.
#[derive(Debug, Clone)]
pub struct Router {
    store: Store,
    writer: writer::Writer,
    bus: Bus,
    ttl_ms: i64,
}

impl Router {
    /// A router over `store` that keeps undelivered entries for `ttl_ms`.
    pub fn new(store: Store, bus: Bus, ttl_ms: i64) -> Self {
        Self {
            writer: writer::Writer::start(store.clone()),
            store,
            bus,
            ttl_ms,
        }
    }

    /// Queues message `id` from `sender`: one payload per recipient device.
    /// Returns once it is durable (or was already accepted before).
    pub async fn send(
        &self,
        sender: (UserId, DeviceId),
        id: MessageId,
        to: Vec<(DeviceId, Vec<u8>)>,
    ) -> Result<(), Refusal> {
        if to.is_empty() || to.len() > MAX_RECIPIENTS {
            return Err(Refusal::invalid(format!(
                "a message needs 1 to {MAX_RECIPIENTS} recipient devices"
            )));
        }
        let entries: Vec<NewEntry> = to
            .into_iter()
            .map(|(device, payload)| NewEntry {
                device,
                id,
                kind: EntryKind::Message,
                payload,
            })
            .collect();
        let mut devices: Vec<DeviceId> = entries.iter().map(|e| e.device).collect();
        devices.sort_unstable();
        devices.dedup();
        if devices.len() != entries.len() {
            return Err(Refusal::invalid(
                "a device appears twice among the recipients",
            ));
        }
        self.enqueue(sender, entries, None, Some(id)).await
    }

    /// Queues group message `id` from `sender`: the one payload for every
    /// listed device of every member of `send.group` but the sending device.
    /// Returns once it is durable (or was already accepted before).
    pub async fn send_group(
        &self,
        sender: (UserId, DeviceId),
        id: MessageId,
        send: GroupSend,
    ) -> Result<(), Refusal> {
        self.enqueue(sender, Vec::new(), Some(send), Some(id)).await
    }

    /// Queues a delivery or read receipt from `sender` for every device of
    /// `to`, and for the sender's own other devices so that they stay in step.
    pub async fn receipt(
        &self,
        sender: (UserId, DeviceId),
        to: UserId,
        kind: ReceiptKind,
        ids: Vec<MessageId>,
    ) -> Result<(), Refusal> {
        if ids.is_empty() || ids.len() > MAX_IDS {
            return Err(Refusal::invalid(format!(
                "a receipt names 1 to {MAX_IDS} messages"
            )));
        }
        let mut devices = self.store.user_devices(to).await?;
        if devices.is_empty() {
            return Err(Refusal::not_found("user"));
        }
        if to != sender.0 {
            devices.extend(self.store.user_devices(sender.0).await?);
        }
        devices.retain(|device| *device != sender.1);
        let payload = proto::encode(&(kind.as_u8(), &ids))
            .map_err(|err| Refusal::invalid(err.to_string()))?;
        let receipt_id = new_entry_id();
        let entries: Vec<NewEntry> = devices
            .into_iter()
            .map(|device| NewEntry {
                device,
                id: receipt_id,
                kind: EntryKind::Receipt,
                payload: payload.clone(),
            })
            .collect();
        self.enqueue(sender, entries, None, None).await
    }

    async fn enqueue(
        &self,
        sender: (UserId, DeviceId),
        entries: Vec<NewEntry>,
        group: Option<GroupSend>,
        dedupe: Option<MessageId>,
    ) -> Result<(), Refusal> {
        let now = now_ms();
        let expires_at = now.saturating_add(self.ttl_ms);
        let job = EnqueueJob {
            sender,
            entries,
            // Messages (the entries with an id of the sender's) pass the
            // device check; receipts go to whatever devices exist.
            check_devices: dedupe.is_some(),
            group,
            dedupe,
            now_ms: now,
            expires_at,
        };
        match self.writer.enqueue(job).await {
            Ok(Enqueued::Queued(devices)) => {
                self.bus.wake(devices);
                Ok(())
            }
            Ok(Enqueued::Duplicate) => Ok(()),
            Ok(Enqueued::UnknownRecipient) => Err(Refusal::not_found("recipient device")),
            Ok(Enqueued::NotMember) => {
                Err(Refusal::forbidden("you are not a member of this group"))
            }
            Ok(Enqueued::DevicesDiffer(what)) => Err(Refusal::new(
                ErrorCode::StaleDevices,
                format!("{what}: fetch the device lists again, re-encrypt and retry"),
            )),
            Err(err) => Err(err.into()),
        }
    }

    /// Deletes `device`'s acknowledged entries (its own queue only), batched
    /// with other writes; returns how many there were.
    pub async fn ack(&self, device: DeviceId, ids: Vec<MessageId>) -> Result<u64, StoreError> {
        self.writer.ack(device, ids).await
    }

    /// Passes a typing indicator from `from` to the connected devices of
    /// `to`, on every node. Typing is transient: it is never queued.
    pub fn typing(&self, from: UserId, to: UserId, typing: bool) {
        self.bus.publish(Event::Typing { from, to, typing });
    }
}

/// A fresh time-ordered id for an entry the server makes (a receipt).
fn new_entry_id() -> MessageId {
    MessageId::new_const(*uuid::Uuid::now_v7().as_bytes())
}

/// Turns a queued entry into the frame that delivers it, or `None` if the
/// entry is unreadable (it is then dropped).
pub fn delivery_frame(entry: crate::store::queue::QueuedEntry) -> Option<ServerFrame> {
    match entry.kind {
        EntryKind::Message => Some(ServerFrame::Deliver {
            id: entry.id,
            from: entry.from,
            from_device: entry.from_device,
            payload: courier_shared::proto::Payload::new(entry.payload)?,
        }),
        EntryKind::Receipt => {
            let (kind, ids): (u8, Vec<MessageId>) = proto::decode(&entry.payload).ok()?;
            Some(ServerFrame::Receipt {
                id: entry.id,
                from: entry.from,
                from_device: entry.from_device,
                kind: ReceiptKind::from_u8(kind)?,
                ids,
            })
        }
    }
}
