//! Voice and video calls, a lazily loaded feature (`calls`, see
//! [`crate::lazy`]): the call screen ([`screen`]), the peer connection
//! ([`rtc`]) and the runner that drives the shared calls state machine
//! ([`courier_shared::client::call::Calls`]) one input at a time.
//!
//! Inputs: the user's buttons, the call signals the core hands over
//! ([`signal`], from `Effect::Call`), the peer connection's ICE state and a
//! one-second clock. Outputs: signals for the core to send
//! (`Job::CallSend`), the chat line of each call (`Job::CallLine`), and the
//! call screen's signals ([`CallUi`]).

mod rtc;
mod screen;

use crate::state::{Account, Job, sleep};
use courier_shared::client::call::{Call, Calls, Output, Phase, Role};
use courier_shared::crypto::content::{CallKind, Content};
use courier_shared::ids::{DeviceId, MessageId, UserId};
use futures_channel::mpsc::{UnboundedSender, unbounded};
use futures_util::StreamExt;
use leptos::prelude::*;
use rtc::{IceServer, Peer, Stats};
use std::cell::RefCell;
use web_sys::{MediaStream, RtcIceConnectionState};

pub use screen::FEATURE;

crate::lazy! { calls, preload_calls:
    /// Calls `peer` (with the camera on if `video`).
    pub fn start(account: Account, peer: UserId, video: bool) -> bool {
        post(&account, Input::Start { peer, video })
    }
}

crate::lazy! { calls, preload_calls_signal:
    /// A call signal arrived (`Effect::Call`).
    pub fn signal(account: Account, from_device: DeviceId, own: bool, peer: UserId, content: Content) -> bool {
        post(&account, Input::Signal { from_device, own, peer, content: Box::new(content) })
    }
}

crate::lazy! { calls, preload_calls_screen:
    /// The call screen.
    pub fn screen(account: Account) -> AnyView {
        view! { <screen::CallScreen account /> }.into_any()
    }
}

/// What the runner takes in, in order.
pub enum Input {
    /// Call this person.
    Start {
        /// Whom.
        peer: UserId,
        /// With the camera on.
        video: bool,
    },
    /// A call signal arrived.
    Signal {
        /// From which device.
        from_device: DeviceId,
        /// From another device of this user.
        own: bool,
        /// The other person of the call.
        peer: UserId,
        /// The signal.
        content: Box<Content>,
    },
    /// Take the ringing call.
    Accept,
    /// Decline the ringing call.
    Decline,
    /// Hang up.
    HangUp,
    /// Mute or unmute the microphone.
    Mute,
    /// Turn the camera on or off.
    Camera,
    /// Close the screen of an ended call (or of one on another device).
    Dismiss,
    /// A second passed.
    Tick,
    /// The peer connection's ICE state changed.
    Ice(RtcIceConnectionState),
}

/// What the call screen shows.
#[derive(Clone, Copy)]
pub struct CallUi {
    /// The call, as the state machine has it.
    pub call: RwSignal<Option<Call>>,
    /// The microphone is muted.
    pub muted: RwSignal<bool>,
    /// The camera is on.
    pub camera: RwSignal<bool>,
    /// ICE lost its path and is being restarted.
    pub reconnecting: RwSignal<bool>,
    /// What `getStats()` said last.
    pub stats: RwSignal<Stats>,
    /// The clock (Unix ms), for the duration.
    pub now: RwSignal<u64>,
    /// What went wrong, if anything.
    pub problem: RwSignal<Option<String>>,
}

thread_local! {
    static RUNNER: RefCell<Option<UnboundedSender<Input>>> = const { RefCell::new(None) };
    static UI: RefCell<Option<CallUi>> = const { RefCell::new(None) };
    static REMOTE: RefCell<Option<MediaStream>> = const { RefCell::new(None) };
}

/// The call screen's signals (made once).
pub fn call_ui() -> CallUi {
    UI.with(|ui| {
        *ui.borrow_mut().get_or_insert_with(|| CallUi {
            call: RwSignal::new(None),
            muted: RwSignal::new(false),
            camera: RwSignal::new(false),
            reconnecting: RwSignal::new(false),
            stats: RwSignal::new(Stats::default()),
            now: RwSignal::new(0),
            problem: RwSignal::new(None),
        })
    })
}

/// The peer's media arrived: played by the screen's remote element.
fn set_remote(stream: MediaStream) {
    rtc::attach(rtc::REMOTE, &stream);
    REMOTE.with(|r| *r.borrow_mut() = Some(stream));
}

/// Shows the peer's media again (the screen was drawn anew).
pub fn reattach() {
    REMOTE.with(|r| {
        if let Some(stream) = &*r.borrow() {
            rtc::attach(rtc::REMOTE, stream);
        }
    });
}

/// Hands `input` to the runner (started on first use); whether it took it.
pub fn post(account: &Account, input: Input) -> bool {
    let sender = RUNNER.with(|r| {
        r.borrow_mut()
            .get_or_insert_with(|| {
                let (sender, inputs) = unbounded();
                let runner = Runner {
                    account: account.clone(),
                    calls: None,
                    peer: None,
                    ui: call_ui(),
                    events: sender.clone(),
                    ringer: None,
                };
                leptos::task::spawn_local(runner.run(inputs));
                let clock = sender.clone();
                leptos::task::spawn_local(async move {
                    while clock.unbounded_send(Input::Tick).is_ok() {
                        sleep(1000).await;
                    }
                });
                sender
            })
            .clone()
    });
    sender.unbounded_send(input).is_ok()
}

fn now() -> u64 {
    js_sys::Date::now() as u64
}

/// A fresh message id (a UUIDv7).
fn fresh_id() -> MessageId {
    let mut random = [0u8; 10];
    if let Some(crypto) = web_sys::window().and_then(|w| w.crypto().ok()) {
        let _ = crypto.get_random_values_with_u8_array(&mut random);
    }
    MessageId::v7(now(), random)
}

/// Whether calls go through the TURN relay only (a setting kept in this
/// browser: the peer never learns this device's IP address).
pub fn relay_only() -> bool {
    web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .and_then(|s| s.get_item(RELAY_KEY).ok().flatten())
        .is_some_and(|v| v == "on")
}

/// How long an ended call's screen stays (ms).
const CLOSE_AFTER_MS: u64 = 5_000;

/// Where the relay-only setting is kept (`localStorage`).
pub const RELAY_KEY: &str = "courier-call-relay";

/// The runner: owns the state machine and the peer connection.
struct Runner {
    account: Account,
    calls: Option<Calls>,
    peer: Option<Peer>,
    ui: CallUi,
    events: UnboundedSender<Input>,
    ringer: Option<screen::Ringer>,
}

impl Runner {
    async fn run(mut self, mut inputs: futures_channel::mpsc::UnboundedReceiver<Input>) {
        while let Some(input) = inputs.next().await {
            let outcome = self.step(input).await;
            if let Err(err) = outcome {
                self.ui.problem.set(Some(crate::state::js_text(err)));
            }
            self.show();
        }
    }

    /// This device's state machine (made once the device is known).
    fn calls(&mut self) -> Option<&mut Calls> {
        if self.calls.is_none() {
            let me = self
                .account
                .ui
                .devices
                .get_untracked()
                .into_iter()
                .find(|(_, this)| *this)?
                .0;
            self.calls = Some(Calls::new(me));
        }
        self.calls.as_mut()
    }

    fn video(&self) -> bool {
        self.ui.camera.get_untracked()
    }

    async fn step(&mut self, input: Input) -> Result<(), wasm_bindgen::JsValue> {
        let now = now();
        let outputs = match input {
            Input::Start { peer, video } => {
                if self.calls().is_none_or(|c| c.busy()) {
                    return Err("You are already in a call.".into());
                }
                self.ui.problem.set(None);
                self.ui.camera.set(video);
                self.ui.muted.set(false);
                let connection = self.connect(video).await?;
                let offer = connection.offer(false).await?;
                self.peer = Some(connection);
                let calls = self.calls().ok_or("not signed in")?;
                calls
                    .start(peer, fresh_id(), &offer, video)
                    .map_err(|e| e.to_string())?
            }
            Input::Signal {
                from_device,
                own,
                peer,
                content,
            } => match self.calls() {
                Some(calls) => calls.on_signal(from_device, own, peer, &content, now),
                None => Vec::new(),
            },
            Input::Accept => {
                let Some(call) = self.calls().and_then(|c| c.call().cloned()) else {
                    return Ok(());
                };
                let Some(offer) = call.offer.clone() else {
                    return Ok(());
                };
                self.ui.camera.set(call.video);
                self.ui.muted.set(false);
                let connection = self.connect(call.video).await?;
                let answer = connection.answer(&offer).await?;
                self.peer = Some(connection);
                let calls = self.calls().ok_or("not signed in")?;
                calls
                    .accept(&answer, call.video, now)
                    .map_err(|e| e.to_string())?
            }
            Input::Decline => self
                .calls()
                .map(|c| c.decline(now).unwrap_or_default())
                .unwrap_or_default(),
            Input::HangUp => self
                .calls()
                .map(|c| c.hang_up(now).unwrap_or_default())
                .unwrap_or_default(),
            Input::Mute => {
                let muted = !self.ui.muted.get_untracked();
                self.ui.muted.set(muted);
                if let Some(peer) = &self.peer {
                    peer.set_muted(muted);
                }
                Vec::new()
            }
            Input::Camera => {
                let on = !self.video();
                self.ui.camera.set(on);
                let Some(peer) = self.peer.as_mut() else {
                    return Ok(());
                };
                if !peer.set_camera(on).await? {
                    return Ok(());
                }
                let offer = peer.offer(false).await?;
                match self.calls() {
                    Some(calls) => calls.renegotiate(&offer, on).unwrap_or_default(),
                    None => Vec::new(),
                }
            }
            Input::Dismiss => {
                if let Some(calls) = self.calls() {
                    calls.dismiss();
                    if calls.busy() {
                        // Only followed (on another device): hide it.
                        self.account.ui.call.set(false);
                        return Ok(());
                    }
                }
                Vec::new()
            }
            Input::Tick => {
                self.ui.now.set(now);
                if let Some(peer) = &self.peer {
                    self.ui.stats.set(peer.stats().await);
                }
                if let Some(ringer) = &self.ringer {
                    ringer.beat(now);
                }
                let Some(calls) = self.calls() else {
                    return Ok(());
                };
                // An ended call's screen closes by itself after a while.
                let ended = calls.call().and_then(|c| c.ended_at);
                if ended.is_some_and(|at| now.saturating_sub(at) > CLOSE_AFTER_MS) {
                    calls.dismiss();
                }
                calls.tick(now)
            }
            Input::Ice(state) => {
                let lost = Peer::lost(state);
                self.ui.reconnecting.set(lost);
                let caller = self
                    .calls
                    .as_ref()
                    .and_then(|c| c.call())
                    .is_some_and(|c| c.role == Role::Caller && c.phase == Phase::Live);
                // The caller restarts ICE (never both sides at once).
                match (&self.peer, lost && caller) {
                    (Some(peer), true) => {
                        let offer = peer.offer(true).await?;
                        let video = self.video();
                        match self.calls() {
                            Some(calls) => calls.renegotiate(&offer, video).unwrap_or_default(),
                            None => Vec::new(),
                        }
                    }
                    _ => Vec::new(),
                }
            }
        };
        self.carry_out(outputs).await
    }

    /// A peer connection with the server's TURN credentials.
    async fn connect(&self, video: bool) -> Result<Peer, wasm_bindgen::JsValue> {
        let servers = self.ice_servers().await;
        Peer::new(&servers, relay_only(), video, self.events.clone()).await
    }

    /// The TURN servers, with credentials the Courier server issued for
    /// this device.
    async fn ice_servers(&self) -> Vec<IceServer> {
        let (answer, wait) = futures_channel::oneshot::channel();
        self.account.run(Job::IceServers(answer));
        wait.await
            .unwrap_or_default()
            .into_iter()
            .map(|(urls, username, credential)| IceServer {
                urls,
                username,
                credential,
            })
            .collect()
    }

    /// Does what the state machine said, in order.
    async fn carry_out(&mut self, outputs: Vec<Output>) -> Result<(), wasm_bindgen::JsValue> {
        let mut queue: std::collections::VecDeque<Output> = outputs.into();
        while let Some(output) = queue.pop_front() {
            match output {
                Output::Send { peer, content } => {
                    let calling = self
                        .calls
                        .as_ref()
                        .and_then(|c| c.call())
                        .is_some_and(|c| matches!(c.phase, Phase::Calling { .. }));
                    let id = match &*content {
                        // The first offer's id is the call's.
                        Content::Call {
                            call,
                            kind: CallKind::Offer,
                            ..
                        } if calling => *call,
                        _ => fresh_id(),
                    };
                    self.account.run(Job::CallSend(peer, id, content));
                }
                Output::RemoteAnswer(sdp) => {
                    if let Some(peer) = &self.peer {
                        peer.remote_answer(&sdp).await?;
                    }
                }
                Output::RemoteOffer(sdp) => {
                    let Some(peer) = &self.peer else { continue };
                    let answer = peer.answer(&sdp).await?;
                    let video = self.video();
                    if let Some(calls) = self.calls() {
                        queue.extend(calls.answer_update(&answer, video).unwrap_or_default());
                    }
                }
                Output::RemoteIce(candidate) => {
                    if let Some(peer) = &self.peer {
                        peer.add_candidate(&candidate).await?;
                    }
                }
                Output::Line { peer, id, text } => {
                    self.account.run(Job::CallLine(peer, id, text));
                }
            }
        }
        Ok(())
    }

    /// Shows the call as it stands; ends the media of an ended call.
    fn show(&mut self) {
        let call = self.calls.as_ref().and_then(|c| c.call()).cloned();
        let active = call.as_ref().is_some_and(Call::active);
        if !active && let Some(peer) = self.peer.take() {
            peer.close();
            REMOTE.with(|r| *r.borrow_mut() = None);
            self.ui.stats.set(Stats::default());
        }
        let ringing = call.as_ref().is_some_and(|c| c.phase == Phase::Ringing);
        match (ringing, &self.ringer) {
            (true, None) => {
                self.ringer = screen::Ringer::start();
                let name = screen::name_of(self.account.ui, call.as_ref().map(|c| c.peer));
                crate::state::notify_message(&name, "is calling you");
            }
            (false, Some(_)) => {
                if let Some(ringer) = self.ringer.take() {
                    ringer.stop();
                }
            }
            _ => {}
        }
        // A call another device of this user has is only shown where it
        // rang (as "answered on another device").
        let shown = call
            .as_ref()
            .is_some_and(|c| !matches!(c.role, Role::Observer { .. }));
        if shown && !self.account.ui.call.get_untracked() {
            self.account.ui.call.set(true);
        }
        if call.is_none() && self.account.ui.call.get_untracked() {
            self.account.ui.call.set(false);
        }
        if self.ui.call.get_untracked() != call {
            self.ui.call.set(call);
        }
    }
}
