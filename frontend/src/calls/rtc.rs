//! The media of a call: one `RTCPeerConnection` with the microphone (and
//! the camera, when on), DTLS-SRTP as WebRTC mandates, Opus for audio.
//! Descriptions are exchanged whole, with every ICE candidate in them (the
//! connection waits for gathering to end), so a call needs one offer and
//! one answer; an ICE restart or a camera turned on is a new offer.
//!
//! Inputs: the ICE servers (the Courier server's TURN credentials) and the
//! remote descriptions; outputs: local descriptions, and what `getStats()`
//! says ([`Stats`]).

use super::Input;
use crate::state::sleep;
use futures_channel::mpsc::UnboundedSender;
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    MediaStream, MediaStreamConstraints, MediaStreamTrack, RtcConfiguration, RtcIceConnectionState,
    RtcIceGatheringState, RtcIceTransportPolicy, RtcOfferOptions, RtcPeerConnection, RtcRtpSender,
    RtcSdpType, RtcSessionDescriptionInit, RtcTrackEvent,
};

/// The id of the element that plays the peer's media.
pub const REMOTE: &str = "call-remote";
/// The id of the element that shows this user's camera.
pub const LOCAL: &str = "call-local";

/// A TURN (or STUN) server and its credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IceServer {
    /// `turn:host:port?transport=udp` and the like.
    pub urls: Vec<String>,
    /// The TURN REST API user name (`expiry:device`).
    pub username: String,
    /// Its HMAC.
    pub credential: String,
}

/// What `getStats()` said last.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    /// Audio bytes received so far.
    pub audio_bytes: f64,
    /// The peer's audio level now (0–1).
    pub audio_level: f64,
    /// Video frames decoded so far.
    pub video_frames: f64,
    /// Round-trip time in seconds.
    pub rtt: f64,
    /// Share of packets lost (0–1).
    pub loss: f64,
    /// The local candidate type of the pair in use (`host`, `relay`, …).
    pub path: String,
}

/// One call's peer connection.
pub struct Peer {
    pc: RtcPeerConnection,
    local: MediaStream,
    video: Option<RtcRtpSender>,
    _on_track: Closure<dyn FnMut(RtcTrackEvent)>,
    _on_state: Closure<dyn FnMut(JsValue)>,
}

/// Sets `key` of `target` (a dictionary being built).
fn set(target: &JsValue, key: &str, value: &JsValue) {
    let _ = Reflect::set(target, &key.into(), value);
}

fn get(target: &JsValue, key: &str) -> JsValue {
    Reflect::get(target, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

fn number(target: &JsValue, key: &str) -> f64 {
    get(target, key).as_f64().unwrap_or(0.0)
}

/// The microphone, and the camera if `video`.
async fn capture(audio: bool, video: bool) -> Result<MediaStream, JsValue> {
    let window = web_sys::window().ok_or("no window")?;
    let devices = window.navigator().media_devices()?;
    let constraints = MediaStreamConstraints::new();
    constraints.set_audio(&JsValue::from_bool(audio));
    constraints.set_video(&JsValue::from_bool(video));
    JsFuture::from(devices.get_user_media_with_constraints(&constraints)?)
        .await?
        .dyn_into()
}

/// Shows `stream` in the element `id`, if it is on the page.
pub fn attach(id: &str, stream: &MediaStream) {
    let element = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id))
        .and_then(|e| e.dyn_into::<web_sys::HtmlMediaElement>().ok());
    if let Some(element) = element {
        element.set_src_object(Some(stream));
        let _ = element.play();
    }
}

impl Peer {
    /// A peer connection over `servers` (relayed only when `relay`), with
    /// the microphone (and camera when `video`) on it.
    pub async fn new(
        servers: &[IceServer],
        relay: bool,
        video: bool,
        events: UnboundedSender<Input>,
    ) -> Result<Self, JsValue> {
        let config = RtcConfiguration::new();
        let list = Array::new();
        for server in servers {
            let entry = Object::new();
            let urls: Array = server.urls.iter().map(|u| JsValue::from_str(u)).collect();
            set(&entry, "urls", &urls);
            set(&entry, "username", &server.username.as_str().into());
            set(&entry, "credential", &server.credential.as_str().into());
            list.push(&entry);
        }
        config.set_ice_servers(&list);
        if relay {
            config.set_ice_transport_policy(RtcIceTransportPolicy::Relay);
        }
        let pc = RtcPeerConnection::new_with_configuration(&config)?;
        let local = capture(true, video).await?;
        let mut video_sender = None;
        for track in local.get_tracks().iter() {
            let track: MediaStreamTrack = track.dyn_into()?;
            let sender = pc.add_track_0(&track, &local);
            if track.kind() == "video" {
                video_sender = Some(sender);
            }
        }
        attach(LOCAL, &local);
        let on_track = Closure::<dyn FnMut(RtcTrackEvent)>::new(move |event: RtcTrackEvent| {
            if let Ok(stream) = event.streams().get(0).dyn_into::<MediaStream>() {
                super::set_remote(stream);
            }
        });
        pc.set_ontrack(Some(on_track.as_ref().unchecked_ref()));
        let watched = pc.clone();
        let on_state = Closure::<dyn FnMut(JsValue)>::new(move |_| {
            let state = watched.ice_connection_state();
            let _ = events.unbounded_send(Input::Ice(state));
        });
        pc.set_oniceconnectionstatechange(Some(on_state.as_ref().unchecked_ref()));
        Ok(Self {
            pc,
            local,
            video: video_sender,
            _on_track: on_track,
            _on_state: on_state,
        })
    }

    /// A local offer with its candidates (`restart`: new ICE credentials,
    /// after a network change).
    pub async fn offer(&self, restart: bool) -> Result<String, JsValue> {
        let options = RtcOfferOptions::new();
        options.set_ice_restart(restart);
        let offer = JsFuture::from(self.pc.create_offer_with_rtc_offer_options(&options)).await?;
        self.settle_local(RtcSdpType::Offer, &offer).await
    }

    /// Takes the peer's offer `sdp` and gives the local answer.
    pub async fn answer(&self, sdp: &str) -> Result<String, JsValue> {
        self.remote(RtcSdpType::Offer, sdp).await?;
        let answer = JsFuture::from(self.pc.create_answer()).await?;
        self.settle_local(RtcSdpType::Answer, &answer).await
    }

    /// Takes the peer's answer `sdp`.
    pub async fn remote_answer(&self, sdp: &str) -> Result<(), JsValue> {
        self.remote(RtcSdpType::Answer, sdp).await
    }

    /// Adds one ICE candidate of the peer (JSON of an `RTCIceCandidateInit`).
    pub async fn add_candidate(&self, candidate: &str) -> Result<(), JsValue> {
        let init = js_sys::JSON::parse(candidate)?;
        let init: web_sys::RtcIceCandidateInit = init.unchecked_into();
        JsFuture::from(
            self.pc
                .add_ice_candidate_with_opt_rtc_ice_candidate_init(Some(&init)),
        )
        .await
        .map(|_| ())
    }

    async fn remote(&self, kind: RtcSdpType, sdp: &str) -> Result<(), JsValue> {
        let init = RtcSessionDescriptionInit::new(kind);
        init.set_sdp(sdp);
        JsFuture::from(self.pc.set_remote_description(&init))
            .await
            .map(|_| ())
    }

    /// Sets the local description and waits (at most 5 s) for ICE
    /// gathering; the description with every candidate found.
    async fn settle_local(&self, kind: RtcSdpType, made: &JsValue) -> Result<String, JsValue> {
        let init = RtcSessionDescriptionInit::new(kind);
        init.set_sdp(&get(made, "sdp").as_string().unwrap_or_default());
        JsFuture::from(self.pc.set_local_description(&init)).await?;
        for _ in 0..100 {
            if self.pc.ice_gathering_state() == RtcIceGatheringState::Complete {
                break;
            }
            sleep(50).await;
        }
        self.pc
            .local_description()
            .map(|d| d.sdp())
            .ok_or_else(|| "no local description".into())
    }

    /// Mutes or unmutes the microphone.
    pub fn set_muted(&self, muted: bool) {
        for track in self.local.get_audio_tracks().iter() {
            if let Ok(track) = track.dyn_into::<MediaStreamTrack>() {
                track.set_enabled(!muted);
            }
        }
    }

    /// Turns the camera on or off; `true` if the peer must be sent a new
    /// offer (the call had no video yet).
    pub async fn set_camera(&mut self, on: bool) -> Result<bool, JsValue> {
        if let Some(sender) = &self.video {
            if let Some(track) = sender.track() {
                track.set_enabled(on);
            }
            return Ok(false);
        }
        if !on {
            return Ok(false);
        }
        let camera = capture(false, true).await?;
        let Some(track) = camera
            .get_video_tracks()
            .get(0)
            .dyn_into::<MediaStreamTrack>()
            .ok()
        else {
            return Err("no camera".into());
        };
        self.local.add_track(&track);
        self.video = Some(self.pc.add_track_0(&track, &self.local));
        attach(LOCAL, &self.local);
        Ok(true)
    }

    /// Whether ICE lost the path (a network change): time to restart it.
    pub fn lost(state: RtcIceConnectionState) -> bool {
        matches!(
            state,
            RtcIceConnectionState::Disconnected | RtcIceConnectionState::Failed
        )
    }

    /// What `getStats()` says now.
    pub async fn stats(&self) -> Stats {
        let mut stats = Stats::default();
        let Ok(report) = JsFuture::from(self.pc.get_stats()).await else {
            return stats;
        };
        let values = Reflect::get(&report, &"values".into())
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
            .and_then(|f| f.call0(&report).ok());
        let Some(Ok(entries)) = values.map(|v| js_sys::try_iter(&v)) else {
            return stats;
        };
        let mut local_candidate = String::new();
        let mut candidates = Vec::new();
        let (mut lost, mut received) = (0.0, 0.0);
        for entry in entries.into_iter().flatten().flatten() {
            let kind = get(&entry, "type").as_string().unwrap_or_default();
            match kind.as_str() {
                "inbound-rtp" => {
                    lost += number(&entry, "packetsLost");
                    received += number(&entry, "packetsReceived");
                    if get(&entry, "kind").as_string().as_deref() == Some("audio") {
                        stats.audio_bytes += number(&entry, "bytesReceived");
                        stats.audio_level = stats.audio_level.max(number(&entry, "audioLevel"));
                    } else {
                        stats.video_frames += number(&entry, "framesDecoded");
                    }
                }
                "candidate-pair"
                    if get(&entry, "nominated").as_bool() == Some(true)
                        && get(&entry, "state").as_string().as_deref() == Some("succeeded") =>
                {
                    stats.rtt = number(&entry, "currentRoundTripTime");
                    local_candidate = get(&entry, "localCandidateId")
                        .as_string()
                        .unwrap_or_default();
                }
                "local-candidate" => candidates.push(entry),
                _ => {}
            }
        }
        if let Some(candidate) = candidates
            .iter()
            .find(|c| get(c, "id").as_string().as_deref() == Some(local_candidate.as_str()))
        {
            stats.path = get(candidate, "candidateType")
                .as_string()
                .unwrap_or_default();
        }
        if lost + received > 0.0 {
            stats.loss = lost / (lost + received);
        }
        stats
    }

    /// Ends the connection and releases the microphone and camera.
    pub fn close(&self) {
        for track in self.local.get_tracks().iter() {
            if let Ok(track) = track.dyn_into::<MediaStreamTrack>() {
                track.stop();
            }
        }
        self.pc.close();
    }
}
