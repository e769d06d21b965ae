//! The call screen: who, where the call stands, its duration and a
//! connection-quality hint, the peer's video, and the buttons (accept,
//! decline; mute, camera, hang up; close). Keyboard and screen-reader
//! usable: real buttons with labels and pressed states, the status in a
//! live region, the first button focused when it rings. And the ring tone.

use super::{Input, call_ui, post, rtc};
use crate::state::{Account, Ui};
use courier_shared::client::call::{Call, End, Phase, Role, duration};
use courier_shared::ids::UserId;
use leptos::prelude::*;

/// What the progress line calls this feature.
pub const FEATURE: crate::lazy::Feature = crate::lazy::Feature {
    id: "calls",
    label: "calls",
};

/// The name of `peer` as the chat list has it.
pub fn name_of(ui: Ui, peer: Option<UserId>) -> String {
    let Some(peer) = peer else {
        return String::new();
    };
    let chat = courier_shared::client::chat::ChatId::User(peer);
    ui.chats
        .get_untracked()
        .iter()
        .find(|c| c.chat == chat)
        .map(|c| c.name.clone())
        .or_else(|| ui.names.get_untracked().get(&peer).cloned())
        .unwrap_or_else(|| format!("user {}", peer.0))
}

/// The call's phase, for `data-call-phase` (styles and tests).
fn phase_label(call: &Call) -> &'static str {
    match (call.phase, call.role) {
        (Phase::Live, Role::Observer { .. }) => "elsewhere",
        (_, Role::Observer { .. }) if call.active() => "elsewhere",
        (Phase::Calling { .. }, _) => "calling",
        (Phase::Ringing, _) => "ringing",
        (Phase::Live, _) => "live",
        (Phase::Ended(_), _) => "ended",
    }
}

/// What the status line says.
fn status(call: &Call, reconnecting: bool) -> String {
    match (call.phase, call.role) {
        (Phase::Live, Role::Observer { outgoing: false }) => "Answered on another device".into(),
        (_, Role::Observer { .. }) if call.active() => "On a call on another device".into(),
        (Phase::Calling { ringing: false }, _) => "Calling…".into(),
        (Phase::Calling { ringing: true }, _) => "Ringing…".into(),
        (Phase::Ringing, _) if call.video => "Incoming video call".into(),
        (Phase::Ringing, _) => "Incoming call".into(),
        (Phase::Live, _) if reconnecting => "Reconnecting…".into(),
        (Phase::Live, _) => "Connected".into(),
        (Phase::Ended(End::Declined), _) => "Declined".into(),
        (Phase::Ended(End::Busy), _) => "Busy: in another call".into(),
        (Phase::Ended(End::NoAnswer), _) => "No answer".into(),
        (Phase::Ended(End::Missed), _) => "Missed call".into(),
        (Phase::Ended(End::HungUp), _) => "Call ended".into(),
    }
}

/// A hint from round-trip time and loss.
fn quality(stats: &rtc::Stats) -> &'static str {
    if stats.rtt == 0.0 && stats.audio_bytes == 0.0 {
        ""
    } else if stats.rtt > 0.4 || stats.loss > 0.05 {
        "Poor connection"
    } else if stats.rtt > 0.15 || stats.loss > 0.01 {
        "Fair connection"
    } else {
        "Good connection"
    }
}

/// The call screen.
#[component]
pub fn CallScreen(account: Account) -> impl IntoView {
    let ui = call_ui();
    let page = account.ui;
    let run = Callback::new(move |input: Input| {
        post(&account, input);
    });
    let name = move || name_of(page, ui.call.get().map(|c| c.peer));
    let call = move || ui.call.get();
    let phase = move || call().map(|c| phase_label(&c)).unwrap_or("none");
    let said = move || {
        call()
            .map(|c| status(&c, ui.reconnecting.get()))
            .unwrap_or_default()
    };
    let lasted = move || {
        call()
            .filter(|c| c.answered_at.is_some() && !matches!(c.role, Role::Observer { .. }))
            .map(|c| duration(c.duration_ms(ui.now.get())))
            .unwrap_or_default()
    };
    let stats = move || ui.stats.get();
    let ringing = move || phase() == "ringing";
    let going = move || matches!(phase(), "calling" | "live");
    let done = move || matches!(phase(), "ended" | "elsewhere");
    let focus = NodeRef::<leptos::html::Button>::new();
    Effect::new(move |_| {
        if ringing()
            && let Some(button) = focus.get()
        {
            let _ = button.focus();
        }
    });
    Effect::new(move |_| super::reattach());
    view! {
        <section id="call" class="call" role="dialog" aria-modal="false"
            aria-label=move || format!("Call with {}", name())
            data-call-phase=phase
            data-video=move || ui.camera.get().to_string()
            data-audio-bytes=move || stats().audio_bytes.to_string()
            data-audio-level=move || stats().audio_level.to_string()
            data-video-frames=move || stats().video_frames.to_string()
            data-path=move || stats().path>
            <h2 class="call-peer">{name}</h2>
            <p class="call-status" role="status" aria-live="polite" data-call-status>{said}</p>
            <p class="call-duration"><time data-call-duration>{lasted}</time></p>
            <p class="call-quality" data-quality>{move || quality(&stats())}</p>
            {move || ui.problem.get().map(|p| view! { <p class="warning" role="alert">{p}</p> })}
            <div class="call-media">
                <video id=rtc::REMOTE autoplay playsinline aria-label="Their video"></video>
                <video id=rtc::LOCAL autoplay playsinline prop:muted=true aria-label="Your video"
                    class:off=move || !ui.camera.get()></video>
            </div>
            <div class="call-actions">
                <Show when=ringing>
                    <button data-call="accept" class="accept" node_ref=focus
                        on:click=move |_| run.run(Input::Accept)>"Accept"</button>
                    <button data-call="decline" class="decline"
                        on:click=move |_| run.run(Input::Decline)>"Decline"</button>
                </Show>
                <Show when=going>
                    <button data-call="mute" aria-pressed=move || ui.muted.get().to_string()
                        on:click=move |_| run.run(Input::Mute)>
                        {move || if ui.muted.get() { "Unmute" } else { "Mute" }}
                    </button>
                    <button data-call="camera" aria-pressed=move || ui.camera.get().to_string()
                        on:click=move |_| run.run(Input::Camera)>
                        {move || if ui.camera.get() { "Camera off" } else { "Camera on" }}
                    </button>
                    <button data-call="hangup" class="decline"
                        on:click=move |_| run.run(Input::HangUp)>"Hang up"</button>
                </Show>
                <Show when=done>
                    <button data-call="close"
                        on:click=move |_| run.run(Input::Dismiss)>"Close"</button>
                </Show>
            </div>
        </section>
    }
}

/// The ring tone: a 440/480 Hz pair, two seconds on, four off.
pub struct Ringer {
    context: web_sys::AudioContext,
    gain: web_sys::GainNode,
}

impl Ringer {
    /// Starts ringing (silent where the page may not play sound).
    pub fn start() -> Option<Self> {
        let context = web_sys::AudioContext::new().ok()?;
        let gain = context.create_gain().ok()?;
        gain.gain().set_value(0.0);
        gain.connect_with_audio_node(&context.destination()).ok()?;
        for hz in [440.0, 480.0] {
            let tone = context.create_oscillator().ok()?;
            tone.frequency().set_value(hz);
            tone.connect_with_audio_node(&gain).ok()?;
            tone.start().ok()?;
        }
        Some(Self { context, gain })
    }

    /// Sounds or pauses, by the clock `now` (Unix ms).
    pub fn beat(&self, now: u64) {
        let on = now / 1000 % 6 < 2;
        self.gain.gain().set_value(if on { 0.1 } else { 0.0 });
    }

    /// Stops ringing.
    pub fn stop(self) {
        let _ = self.context.close();
    }
}
