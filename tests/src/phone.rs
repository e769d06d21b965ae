//! [`Phone`]: a native device that takes calls — the shipped calls state
//! machine ([`Calls`]) over a [`SecureDevice`]'s messenger core, carrying
//! out what it says as the web client's calls module does (signals through
//! `Messenger::send_call`, lines through `Messenger::call_line`), with
//! descriptions that are only text: the signalling, not the media.

use crate::device::new_message_id;
use crate::secure::{SecureDevice, unix_ms};
use courier_shared::client::Effect;
use courier_shared::client::call::{Calls, Output, Phase};
use courier_shared::client::chat::ChatId;
use courier_shared::crypto::content::{CallKind, Content};
use courier_shared::ids::{MessageId, UserId};
use std::time::{Duration, Instant};

/// A device with its calls.
pub struct Phone {
    /// The device.
    pub dev: SecureDevice,
    /// Its calls' state machine.
    pub calls: Calls,
    /// What the machine handed to the media side (answers, offers, candidates).
    pub media: Vec<Output>,
    /// Added to this device's clock when signals arrive (a late delivery).
    pub late_ms: u64,
}

impl Phone {
    /// `dev` as a phone.
    pub fn new(dev: SecureDevice) -> Self {
        let calls = Calls::new(dev.device());
        Self {
            dev,
            calls,
            media: Vec::new(),
            late_ms: 0,
        }
    }

    /// The call's phase here.
    pub fn phase(&self) -> Option<Phase> {
        self.calls.call().map(|c| c.phase)
    }

    /// Calls `peer` with the description `sdp`; the call's id.
    pub async fn call(&mut self, peer: UserId, sdp: &str) -> MessageId {
        let id = new_message_id();
        let out = self.calls.start(peer, id, sdp, false).expect("idle");
        self.carry_out(out).await;
        id
    }

    /// Carries out what the machine said.
    pub async fn carry_out(&mut self, outputs: Vec<Output>) {
        for output in outputs {
            match output {
                Output::Send { peer, content } => {
                    let id = match (&*content, self.calls.call()) {
                        (
                            Content::Call {
                                call,
                                kind: CallKind::Offer,
                                ..
                            },
                            Some(c),
                        ) if matches!(c.phase, Phase::Calling { .. }) => *call,
                        _ => new_message_id(),
                    };
                    self.dev
                        .core
                        .send_call(peer, id, *content)
                        .await
                        .expect("sent");
                }
                Output::Line { peer, id, text } => {
                    self.dev
                        .core
                        .call_line(peer, id, text)
                        .await
                        .expect("stored");
                }
                media => self.media.push(media),
            }
        }
    }

    /// Runs the connection for a moment and hands the call signals that
    /// came to the machine.
    pub async fn pump(&mut self) {
        self.dev.run_for(Duration::from_millis(100)).await;
        let now = unix_ms() + self.late_ms;
        for effect in self.dev.core.take_effects() {
            if let Effect::Call {
                from_device,
                own,
                peer,
                content,
            } = effect
            {
                let out = self.calls.on_signal(from_device, own, peer, &content, now);
                self.carry_out(out).await;
            }
        }
        let out = self.calls.tick(now);
        self.carry_out(out).await;
    }

    /// The text of the line of call `id` in the chat with `peer`.
    pub fn line(&self, peer: UserId, id: MessageId) -> Option<String> {
        self.dev
            .core
            .store
            .messages
            .get(&(ChatId::User(peer), id))
            .and_then(|m| m.text.clone())
    }
}

/// Pumps every phone until `done` holds (at most 30 s).
pub async fn until(phones: &mut [&mut Phone], what: &str, done: impl Fn(&[&mut Phone]) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done(phones) {
        assert!(Instant::now() < deadline, "not within 30 s: {what}");
        for phone in phones.iter_mut() {
            phone.pump().await;
        }
    }
}
