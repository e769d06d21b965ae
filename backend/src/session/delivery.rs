//! A session's side of delivery: what its device was sent and has not yet
//! seen gone (the [`Window`]), reading the device's queue, entries the
//! router pushes, and handing the device's sends and acknowledgements to the
//! router without waiting for them — answers come back through the inbox.

use super::commands::Me;
use super::end::End;
use crate::metrics::metrics;
use crate::router::job::{Done, Payloads};
use crate::router::registry::{Inbox, Pushed};
use crate::router::{self, MAX_IDS, MAX_INFLIGHT, delivery_frame};
use crate::state::AppState;
use crate::store::queue::{EntryKind, GroupSend};
use axum::extract::ws::Message;
use bytes::Bytes;
use courier_shared::ids::{DeviceId, MessageId};
use courier_shared::proto::{ClientFrame, ServerFrame};
use futures_util::Sink;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Sends a session may have handed to the router and not heard back about;
/// past it, the session reads no more frames until answers come.
pub const MAX_OUTSTANDING: usize = 256;

/// What the device has been sent and not yet seen gone, and what it asked.
#[derive(Debug, Default)]
pub struct Window {
    /// Entries sent (or pushed) and not gone: id → queue position, if the
    /// entry was read from the queue.
    inflight: HashMap<MessageId, Option<i64>>,
    /// Whether the queue may hold entries not yet read.
    backlog: bool,
    /// Sends and receipts handed to the router and not yet answered.
    pub outstanding: usize,
}

impl Window {
    /// Whether the session may read another frame from the device.
    pub fn reading(&self) -> bool {
        self.outstanding < MAX_OUTSTANDING
    }

    /// Whether `id` was delivered on this connection and is not yet acked.
    pub fn delivered(&self, id: &MessageId) -> bool {
        self.inflight.contains_key(id)
    }

    /// The device's queue has new entries: read it.
    pub async fn woken<S>(
        &mut self,
        socket: &mut S,
        state: &AppState,
        me: Me,
        inbox: &Inbox,
    ) -> Result<(), End>
    where
        S: Sink<Message> + Unpin,
    {
        self.backlog = true;
        // Boxed, here and in `gone`: reading the queue is a database query
        // whose future is large, and inline it would make every boxed
        // arrival (one or two per message) as large (see `task::arrive`).
        Box::pin(self.refill(socket, state, me.1, inbox)).await
    }

    /// Sends the entries waiting in the device's queue that are not already
    /// out, as far as the window allows; notes when the queue is read to its
    /// end, so that the router may push new entries straight away.
    async fn refill<S>(
        &mut self,
        socket: &mut S,
        state: &AppState,
        device: DeviceId,
        inbox: &Inbox,
    ) -> Result<(), End>
    where
        S: Sink<Message> + Unpin,
    {
        let room = MAX_INFLIGHT.saturating_sub(inbox.window.load(Ordering::Acquire));
        if !self.backlog || room == 0 {
            return Ok(());
        }
        // The head of the queue may hold entries already out: read past them.
        let limit = (self.inflight.len() + room).min(2 * MAX_INFLIGHT);
        let now = crate::clock::now_ms();
        let entries = match state.store.pending(device, limit as u32, now).await {
            Ok(entries) => entries,
            Err(err) => {
                tracing::warn!(%err, "cannot read the queue; will retry on the next wake-up");
                return Ok(());
            }
        };
        let mut caught_up = entries.len() < limit;
        let mut unreadable = Vec::new();
        for entry in entries {
            if let Some(seq) = self.inflight.get_mut(&entry.id) {
                *seq = Some(entry.seq);
                continue;
            }
            if !inbox.reserve(MAX_INFLIGHT) {
                caught_up = false;
                break;
            }
            let age_ms = now.saturating_sub(i64::try_from(entry.created_at).unwrap_or(0));
            let frame = delivery_frame(
                entry.id,
                entry.kind,
                entry.from,
                entry.from_device,
                &entry.payload,
            );
            match frame {
                Some(frame) => {
                    if entry.kind == EntryKind::Message {
                        metrics()
                            .delivery_latency
                            .observe(age_ms.max(0) as f64 / 1_000.0);
                    }
                    self.inflight.insert(entry.id, Some(entry.seq));
                    super::task::send(socket, &frame).await?;
                }
                None => {
                    inbox.window.fetch_sub(1, Ordering::AcqRel);
                    unreadable.push((entry.id, Some(entry.seq)));
                }
            }
        }
        if caught_up {
            self.backlog = false;
            inbox.caught_up.store(true, Ordering::Release);
        }
        if !unreadable.is_empty() {
            tracing::warn!(
                count = unreadable.len(),
                "dropping unreadable queue entries"
            );
            state.router.acked(device, unreadable, Done::Nobody).await;
        }
        Ok(())
    }

    /// Sends an entry the router pushed (its window room is already taken).
    pub async fn pushed<S>(
        &mut self,
        socket: &mut S,
        inbox: &Inbox,
        pushed: &Pushed,
    ) -> Result<(), End>
    where
        S: Sink<Message> + Unpin,
    {
        if self.inflight.contains_key(&pushed.id) {
            // Already out (a repeat): the device has it.
            inbox.window.fetch_sub(1, Ordering::AcqRel);
            return Ok(());
        }
        self.inflight.insert(pushed.id, None);
        match delivery_frame(
            pushed.id,
            pushed.kind,
            pushed.from,
            pushed.from_device,
            &pushed.payload,
        ) {
            Some(frame) => super::task::send(socket, &frame).await,
            None => Ok(()),
        }
    }

    /// Acknowledged entries are gone: their room is free again, and the
    /// queue is read on if it holds more.
    pub async fn gone<S>(
        &mut self,
        socket: &mut S,
        state: &AppState,
        me: Me,
        inbox: &Inbox,
        ids: &[MessageId],
    ) -> Result<(), End>
    where
        S: Sink<Message> + Unpin,
    {
        for id in ids {
            if self.inflight.remove(id).is_some() {
                inbox.window.fetch_sub(1, Ordering::AcqRel);
            }
        }
        if self.inflight.is_empty() {
            self.inflight.shrink_to_fit();
        }
        if self.backlog && self.inflight.len() <= MAX_INFLIGHT / 2 {
            Box::pin(self.refill(socket, state, me.1, inbox)).await?;
        }
        Ok(())
    }

    /// Notes the answer to one of the device's sends or receipts (the
    /// router answers nothing else through the inbox).
    pub fn answered(&mut self, frame: &ServerFrame) {
        if matches!(
            frame,
            ServerFrame::Accepted { .. } | ServerFrame::Rejected { .. }
        ) {
            self.outstanding = self.outstanding.saturating_sub(1);
        }
    }

    /// Hands a send, receipt or acknowledgement to the router without
    /// waiting; `Err(frame)` if it is refused at once, `Ok(None)` if it was
    /// handed on, and `Ok(Some(frame))` (given back) if it is not one of those.
    pub async fn hand_on(
        &mut self,
        state: &AppState,
        me: Me,
        inbox: &Arc<Inbox>,
        frame: ClientFrame,
    ) -> Result<Option<ClientFrame>, ServerFrame> {
        let request = frame.request().unwrap_or_default();
        let reply = router::to_session(inbox, request);
        let job = match frame {
            ClientFrame::Send { id, to, .. } => {
                let mut to: Vec<(DeviceId, Bytes)> = to
                    .into_iter()
                    .map(|(d, p)| (d, Bytes::from(p.into_bytes())))
                    .collect();
                to.sort_unstable_by_key(|(device, _)| *device);
                let devices = to.iter().map(|(device, _)| *device).collect();
                router::message(me, id, devices, Payloads::PerDevice(to), reply)
            }
            ClientFrame::SendFanout {
                id,
                mut to,
                payload,
                ..
            } => {
                to.sort_unstable();
                let payload = Payloads::Shared(Bytes::from(payload.into_bytes()));
                router::message(me, id, to, payload, reply)
            }
            ClientFrame::SendGroup {
                id,
                group,
                devices,
                payload,
                ..
            } => {
                let send = GroupSend {
                    group,
                    devices,
                    payload: payload.into_bytes(),
                };
                Ok(router::group_message(me, id, send, reply))
            }
            ClientFrame::Receipt { to, kind, ids, .. } => {
                router::receipt(me, to, kind, &ids, reply)
            }
            ClientFrame::Ack { ids } => {
                if ids.len() > MAX_IDS {
                    // Never answered: the entries are delivered again.
                    tracing::info!(
                        count = ids.len(),
                        "ignoring an ack of more than {MAX_IDS} entries"
                    );
                    return Ok(None);
                }
                let entries = ids
                    .into_iter()
                    .map(|id| (id, self.inflight.get(&id).copied().flatten()))
                    .collect();
                state
                    .router
                    .acked(me.1, entries, Done::Session(inbox.clone()))
                    .await;
                return Ok(None);
            }
            other => return Ok(Some(other)),
        };
        match job {
            Ok(job) => {
                self.outstanding += 1;
                state.router.submit(job).await;
                Ok(None)
            }
            Err(refusal) => Err(refusal.frame(request)),
        }
    }
}
