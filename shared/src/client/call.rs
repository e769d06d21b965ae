//! One-to-one calls: the signalling state machine, with no I/O.
//!
//! Inputs: the user's actions ([`Calls::start`], [`Calls::accept`],
//! [`Calls::decline`], [`Calls::hang_up`], new descriptions during the
//! call), the [`Content::Call`] signals that arrive ([`Calls::on_signal`],
//! from the peer's devices and this user's other devices, end-to-end
//! encrypted like messages) and the clock ([`Calls::tick`]). Outputs:
//! [`Output`]s — signals to send (the host hands them to
//! `Messenger::send_call`, which encrypts them for every device of the peer
//! and this user's other devices), descriptions and candidates for the
//! peer connection, and the chat line each call leaves — and the call as
//! it stands ([`Calls::call`]) for the call screen.
//!
//! The rules: every device of the callee rings; the first to answer takes
//! the call, and the others, which see that answer through their own
//! account's copy, stop ringing ("answered on another device"); a decline
//! on one stops all. An offer older than [`RING_MS`] (it waited in the
//! queue while the callee was offline, or the server replayed it) never
//! rings: it is a missed call. A device already in a call answers a new
//! offer with `Busy`. The caller's other devices follow the call as
//! observers, and every device writes the same chat line, under the call's
//! id (so a line is stored once, and a redelivered offer is known).

use crate::crypto::content::{CallKind, Content, MAX_SDP_BYTES};
use crate::ids::{DeviceId, MessageId, UserId};
use crate::proto::Text;

/// How long a call rings before it is missed (45 s).
pub const RING_MS: u64 = 45_000;

/// This device's side of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// This device called.
    Caller,
    /// This device was called.
    Callee,
    /// Another device of this user takes part; this one only follows.
    Observer {
        /// This user called (else was called).
        outgoing: bool,
    },
}

/// Where a call stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Calling out, no answer yet (`ringing`: a callee's device rings).
    Calling {
        /// A device of the callee said it rings.
        ringing: bool,
    },
    /// Ringing here: accept or decline.
    Ringing,
    /// Answered: media flows (or is being set up).
    Live,
    /// Over.
    Ended(End),
}

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// Someone hung up after it was answered.
    HungUp,
    /// The callee declined.
    Declined,
    /// The callee was in another call.
    Busy,
    /// Not answered here (rang out, called off, or arrived too late).
    Missed,
    /// The callee did not answer in time.
    NoAnswer,
}

/// One call as this device sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The call's id: its offer's message id.
    pub id: MessageId,
    /// The other person.
    pub peer: UserId,
    /// This device's side.
    pub role: Role,
    /// Where it stands.
    pub phase: Phase,
    /// The offer asked for video.
    pub video: bool,
    /// The peer's device this one talks with, once known.
    pub peer_device: Option<DeviceId>,
    /// When it was answered (Unix ms).
    pub answered_at: Option<u64>,
    /// When it ended (Unix ms).
    pub ended_at: Option<u64>,
    /// The offer to answer (callee, while ringing).
    pub offer: Option<String>,
}

impl Call {
    /// How long it has been (or was) answered, in milliseconds.
    pub fn duration_ms(&self, now: u64) -> u64 {
        match self.answered_at {
            Some(at) => self.ended_at.unwrap_or(now).saturating_sub(at),
            None => 0,
        }
    }

    /// Still going (not ended).
    pub fn active(&self) -> bool {
        !matches!(self.phase, Phase::Ended(_))
    }

    /// Ends it as `end`; its chat line.
    fn finish(&mut self, end: End, now: u64) -> Output {
        self.phase = Phase::Ended(end);
        self.ended_at = Some(now);
        self.offer = None;
        Output::Line {
            peer: self.peer,
            id: self.id,
            text: self.line(now),
        }
    }

    /// The line it leaves in the chat.
    fn line(&self, now: u64) -> String {
        let kind = if self.video { "video call" } else { "call" };
        let outgoing = matches!(self.role, Role::Caller | Role::Observer { outgoing: true });
        let how = match (self.phase, self.answered_at) {
            (_, Some(_)) => duration(self.duration_ms(now)),
            (Phase::Ended(End::Declined), _) if !outgoing => return format!("Declined {kind}"),
            (Phase::Ended(End::Declined), _) => "declined".into(),
            (Phase::Ended(End::Busy), _) => "busy".into(),
            _ if !outgoing => return format!("Missed {kind}"),
            _ => "no answer".into(),
        };
        let direction = if outgoing { "Outgoing" } else { "Incoming" };
        format!("{direction} {kind} · {how}")
    }
}

/// `ms` as `m:ss` (or `h:mm:ss`).
pub fn duration(ms: u64) -> String {
    let secs = ms / 1000;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// What the host should do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Send `content` (a [`Content::Call`]) in the chat with `peer`.
    Send {
        /// The other person.
        peer: UserId,
        /// The signal.
        content: Box<Content>,
    },
    /// The peer's answer: give it to the peer connection.
    RemoteAnswer(String),
    /// A new offer from the peer during the call: answer it
    /// ([`Calls::answer_update`]).
    RemoteOffer(String),
    /// An ICE candidate of the peer.
    RemoteIce(String),
    /// Store this line in the chat with `peer` (under the call's id).
    Line {
        /// The chat.
        peer: UserId,
        /// The call's id, the line's id.
        id: MessageId,
        /// What it says.
        text: String,
    },
}

/// A refused user action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// A call is already going on.
    #[error("You are already in a call.")]
    Busy,
    /// There is no call to do that with.
    #[error("There is no call to do that with.")]
    NoCall,
}

/// This device's calls: at most one at a time.
#[derive(Debug, Clone)]
pub struct Calls {
    device: DeviceId,
    call: Option<Call>,
}

impl Calls {
    /// The calls of device `device`.
    pub fn new(device: DeviceId) -> Self {
        Self { device, call: None }
    }

    /// The current (or last, until dismissed) call.
    pub fn call(&self) -> Option<&Call> {
        self.call.as_ref()
    }

    /// Whether this device (or, as far as it knows, another of this user's)
    /// is in a call.
    pub fn busy(&self) -> bool {
        self.call.as_ref().is_some_and(Call::active)
    }

    /// Forgets an ended call (the screen closed).
    pub fn dismiss(&mut self) {
        if !self.busy() {
            self.call = None;
        }
    }

    /// Calls `peer` with the local offer `sdp`; `id` is a fresh message id
    /// (it is the call's id and the offer's).
    pub fn start(
        &mut self,
        peer: UserId,
        id: MessageId,
        sdp: &str,
        video: bool,
    ) -> Result<Vec<Output>, CallError> {
        if self.busy() {
            return Err(CallError::Busy);
        }
        self.call = Some(Call {
            id,
            peer,
            role: Role::Caller,
            phase: Phase::Calling { ringing: false },
            video,
            peer_device: None,
            answered_at: None,
            ended_at: None,
            offer: None,
        });
        Ok(self.signal(CallKind::Offer, sdp, video))
    }

    /// Takes the ringing call, with the local answer `sdp`.
    pub fn accept(&mut self, sdp: &str, video: bool, now: u64) -> Result<Vec<Output>, CallError> {
        let call = self.ringing()?;
        call.phase = Phase::Live;
        call.answered_at = Some(now);
        call.offer = None;
        Ok(self.signal(CallKind::Answer, sdp, video))
    }

    /// Declines the ringing call (every device of this user stops).
    pub fn decline(&mut self, now: u64) -> Result<Vec<Output>, CallError> {
        self.ringing()?;
        let mut out = self.signal(CallKind::Decline, "", false);
        out.extend(self.end(End::Declined, now));
        Ok(out)
    }

    /// Hangs up (or calls off a call not yet answered; or declines one
    /// ringing here).
    pub fn hang_up(&mut self, now: u64) -> Result<Vec<Output>, CallError> {
        let call = self.call.as_ref().filter(|c| c.active());
        let (phase, role) = call.map(|c| (c.phase, c.role)).ok_or(CallError::NoCall)?;
        match (phase, role) {
            (Phase::Ringing, _) => self.decline(now),
            (_, Role::Observer { .. }) => Err(CallError::NoCall),
            (Phase::Calling { .. }, _) => Ok(self.signal_and_end(End::NoAnswer, now)),
            _ => Ok(self.signal_and_end(End::HungUp, now)),
        }
    }

    /// A new local offer during the call (camera switched, ICE restart).
    pub fn renegotiate(&mut self, sdp: &str, video: bool) -> Result<Vec<Output>, CallError> {
        self.live()?;
        Ok(self.signal(CallKind::Offer, sdp, video))
    }

    /// The local answer to the peer's new offer during the call.
    pub fn answer_update(&mut self, sdp: &str, video: bool) -> Result<Vec<Output>, CallError> {
        self.live()?;
        Ok(self.signal(CallKind::Answer, sdp, video))
    }

    /// A local ICE candidate, for the peer.
    pub fn candidate(&mut self, candidate: &str) -> Result<Vec<Output>, CallError> {
        match &self.call {
            Some(call) if call.active() && !matches!(call.role, Role::Observer { .. }) => {
                Ok(self.signal(CallKind::Ice, candidate, false))
            }
            _ => Err(CallError::NoCall),
        }
    }

    /// Time passed: a call ringing (here or out) past [`RING_MS`] ends.
    pub fn tick(&mut self, now: u64) -> Vec<Output> {
        let Some(call) = self.call.as_ref().filter(|c| c.active()) else {
            return Vec::new();
        };
        if now.saturating_sub(call.id.unix_ms()) <= RING_MS {
            return Vec::new();
        }
        match (call.phase, call.role) {
            (Phase::Ringing, _) => self.end(End::Missed, now),
            (Phase::Calling { .. }, Role::Caller) => self.signal_and_end(End::NoAnswer, now),
            // An observer that never heard the end of an unanswered call.
            (Phase::Calling { .. }, _) if now - call.id.unix_ms() > 2 * RING_MS => {
                self.end(End::NoAnswer, now)
            }
            _ => Vec::new(),
        }
    }

    /// Signal `content` arrived in the chat with `peer`, from `from`'s
    /// device `from_device`; `own`: from another device of this user.
    pub fn on_signal(
        &mut self,
        from_device: DeviceId,
        own: bool,
        peer: UserId,
        content: &Content,
        now: u64,
    ) -> Vec<Output> {
        let Content::Call {
            call: id,
            kind,
            device,
            video,
            body,
        } = content
        else {
            return Vec::new();
        };
        let (id, kind, body) = (*id, *kind, body.as_str());
        if from_device == self.device {
            return Vec::new();
        }
        if kind == CallKind::Offer && self.call.as_ref().is_none_or(|c| c.id != id) {
            return self.on_offer(from_device, own, peer, id, *video, body, now);
        }
        let Some(call) = self.call.as_mut().filter(|c| c.id == id && c.active()) else {
            return Vec::new();
        };
        if own {
            // This user's other device acted on a call this one rings for
            // or follows.
            return match (kind, call.phase) {
                (CallKind::Answer, Phase::Ringing) => {
                    // Followed as "answered on another device" until its
                    // hang-up, which writes the line.
                    call.role = Role::Observer { outgoing: false };
                    call.phase = Phase::Live;
                    call.answered_at = Some(now);
                    call.offer = None;
                    Vec::new()
                }
                (CallKind::Decline, Phase::Ringing) => self.end(End::Declined, now),
                (CallKind::HangUp, _) if matches!(call.role, Role::Observer { .. }) => {
                    self.end(End::HungUp, now)
                }
                _ => Vec::new(),
            };
        }
        if let Role::Observer { .. } = call.role {
            return self.observe(kind, now);
        }
        let from_partner = call.peer_device.is_none_or(|d| d == from_device);
        let for_me = device.is_none_or(|d| d == self.device);
        if call.peer != peer || !for_me {
            return Vec::new();
        }
        match (kind, call.phase) {
            (CallKind::Ringing, Phase::Calling { .. }) => {
                call.phase = Phase::Calling { ringing: true };
                Vec::new()
            }
            (CallKind::Answer, Phase::Calling { .. }) => {
                call.phase = Phase::Live;
                call.peer_device = Some(from_device);
                call.answered_at = Some(now);
                vec![Output::RemoteAnswer(body.to_owned())]
            }
            (CallKind::Answer, Phase::Live) if from_partner => {
                vec![Output::RemoteAnswer(body.to_owned())]
            }
            // A second device answered too late: the first one has it.
            (CallKind::Answer, Phase::Live) => vec![Output::Send {
                peer,
                content: Box::new(signal(id, CallKind::HangUp, Some(from_device), false, "")),
            }],
            (CallKind::Offer, Phase::Live) if from_partner => {
                vec![Output::RemoteOffer(body.to_owned())]
            }
            (CallKind::Ice, _) if from_partner => vec![Output::RemoteIce(body.to_owned())],
            (CallKind::Decline, Phase::Calling { .. }) => self.end(End::Declined, now),
            (CallKind::Busy, Phase::Calling { .. }) => self.end(End::Busy, now),
            (CallKind::HangUp, Phase::Ringing) => self.end(End::Missed, now),
            (CallKind::HangUp, _) if from_partner => self.end(End::HungUp, now),
            _ => Vec::new(),
        }
    }

    /// An offer of a call this device does not know yet.
    #[allow(clippy::too_many_arguments)]
    fn on_offer(
        &mut self,
        from_device: DeviceId,
        own: bool,
        peer: UserId,
        id: MessageId,
        video: bool,
        sdp: &str,
        now: u64,
    ) -> Vec<Output> {
        let fresh = now.saturating_sub(id.unix_ms()) <= RING_MS;
        let mut call = Call {
            id,
            peer,
            role: Role::Callee,
            phase: Phase::Ringing,
            video,
            peer_device: Some(from_device),
            answered_at: None,
            ended_at: None,
            offer: Some(sdp.to_owned()),
        };
        if own {
            // This user called from another device: follow it.
            if !fresh || self.busy() {
                return Vec::new();
            }
            call.role = Role::Observer { outgoing: true };
            call.phase = Phase::Calling { ringing: false };
            call.offer = None;
            call.peer_device = None;
            self.call = Some(call);
            return Vec::new();
        }
        if !fresh || self.busy() {
            call.phase = Phase::Ended(End::Missed);
            call.ended_at = Some(now);
            let line = Output::Line {
                peer,
                id,
                text: call.line(now),
            };
            let taking_part = self
                .call
                .as_ref()
                .is_some_and(|c| c.active() && !matches!(c.role, Role::Observer { .. }));
            if fresh && taking_part {
                let busy = Box::new(signal(id, CallKind::Busy, Some(from_device), false, ""));
                return vec![
                    Output::Send {
                        peer,
                        content: busy,
                    },
                    line,
                ];
            }
            return vec![line];
        }
        self.call = Some(call);
        self.signal(CallKind::Ringing, "", false)
    }

    /// A signal of the peer about a call another device of this user has.
    fn observe(&mut self, kind: CallKind, now: u64) -> Vec<Output> {
        let Some(call) = self.call.as_mut() else {
            return Vec::new();
        };
        match kind {
            CallKind::Answer if call.answered_at.is_none() => {
                call.answered_at = Some(now);
                call.phase = Phase::Live;
                Vec::new()
            }
            CallKind::Decline => self.end(End::Declined, now),
            CallKind::Busy => self.end(End::Busy, now),
            CallKind::HangUp => self.end(End::HungUp, now),
            _ => Vec::new(),
        }
    }

    /// Tells the peer the call is over and ends it as `end`.
    fn signal_and_end(&mut self, end: End, now: u64) -> Vec<Output> {
        let mut out = self.signal(CallKind::HangUp, "", false);
        out.extend(self.end(end, now));
        out
    }

    fn ringing(&mut self) -> Result<&mut Call, CallError> {
        self.call
            .as_mut()
            .filter(|c| c.phase == Phase::Ringing)
            .ok_or(CallError::NoCall)
    }

    fn live(&self) -> Result<(), CallError> {
        match &self.call {
            Some(c) if c.phase == Phase::Live && !matches!(c.role, Role::Observer { .. }) => Ok(()),
            _ => Err(CallError::NoCall),
        }
    }

    /// Ends the call as `end`; its chat line.
    fn end(&mut self, end: End, now: u64) -> Vec<Output> {
        self.call.iter_mut().map(|c| c.finish(end, now)).collect()
    }

    /// A signal of `kind` about the current call, to the peer.
    fn signal(&self, kind: CallKind, body: &str, video: bool) -> Vec<Output> {
        self.call
            .iter()
            .map(|c| Output::Send {
                peer: c.peer,
                content: Box::new(signal(c.id, kind, c.peer_device, video, body)),
            })
            .collect()
    }
}

/// A [`Content::Call`].
pub fn signal(
    call: MessageId,
    kind: CallKind,
    device: Option<DeviceId>,
    video: bool,
    body: &str,
) -> Content {
    Content::Call {
        call,
        kind,
        device,
        video,
        body: Text::<MAX_SDP_BYTES>::truncating(body),
    }
}

#[cfg(test)]
mod tests;
