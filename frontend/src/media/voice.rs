//! Voice notes: recorded from the microphone with MediaRecorder as Opus,
//! with their length and a waveform of loudness levels computed from the
//! recording itself. Opus in Ogg (Firefox) or WebM (Chromium) is sent as
//! recorded: Chromium, Firefox and WebKit all play both. Any other
//! recording (WebKit's Opus in MP4, which Firefox cannot decode; Safari's
//! AAC) is decoded by the browser and sent as 16 kHz WAV, which every
//! browser plays. The recorder is a lazily loaded feature (`voice`, see
//! [`crate::lazy`]): [`start`] and [`Recorder::stop`] load its module.

use crate::lazy::Work;
use courier_shared::crypto::media::MAX_WAVEFORM;
use futures_channel::oneshot;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, BlobEvent, MediaRecorder, MediaStream};

/// The formats asked for, in order. Ogg comes first because Firefox's WebM
/// recording has no seek index, and Chromium refuses to play it
/// ("FFmpegDemuxer: demuxer seek failed"); Chromium records no Ogg, and
/// WebKit neither Ogg nor WebM.
const OPUS: [&str; 3] = [
    "audio/ogg;codecs=opus",
    "audio/webm;codecs=opus",
    "audio/mp4;codecs=opus",
];
/// The type of a recording converted to WAV.
const WAV: &str = "audio/wav";

/// A recorded voice note.
#[derive(Debug)]
pub struct Note {
    /// The recording.
    pub bytes: Vec<u8>,
    /// Its type.
    pub mime: String,
    /// Its length in milliseconds.
    pub duration_ms: u32,
    /// Loudness levels 0–255, evenly spaced over the note.
    pub waveform: Vec<u8>,
}

/// A recording under way.
pub struct Recorder {
    recorder: MediaRecorder,
    stream: MediaStream,
    chunks: Rc<RefCell<Vec<Blob>>>,
    started_ms: f64,
    _on_data: Closure<dyn Fn(BlobEvent)>,
}

/// Starts recording from the microphone (the browser asks for permission).
pub async fn start() -> Result<Recorder, JsValue> {
    start_in_module().await.map_err(not_loaded)?.await
}

/// A module that did not load, as the error a recording step gives.
fn not_loaded(err: crate::lazy::LoadError) -> JsValue {
    JsValue::from_str(&err.to_string())
}

crate::lazy! { voice, preload_voice:
    /// [`start`], in the voice module.
    pub(crate) fn start_in_module() -> Work<Result<Recorder, JsValue>> {
        Box::pin(start_recording())
    }
}

crate::lazy! { voice, preload_voice_stop:
    /// [`Recorder::stop`], in the voice module.
    pub(crate) fn stop_in_module(recorder: Recorder) -> Work<Result<Note, JsValue>> {
        Box::pin(recorder.finish())
    }
}

async fn start_recording() -> Result<Recorder, JsValue> {
    let window = web_sys::window().ok_or("no window")?;
    // Checked first: calling into a missing MediaRecorder would throw
    // where the bindings expect no exception.
    if js_sys::Reflect::get(&window, &"MediaRecorder".into())?.is_undefined() {
        return Err("it has no MediaRecorder".into());
    }
    let devices = window.navigator().media_devices()?;
    let constraints = web_sys::MediaStreamConstraints::new();
    constraints.set_audio(&JsValue::TRUE);
    let stream: MediaStream =
        JsFuture::from(devices.get_user_media_with_constraints(&constraints)?)
            .await?
            .dyn_into()?;
    let options = web_sys::MediaRecorderOptions::new();
    if let Some(opus) = OPUS
        .into_iter()
        .find(|t| MediaRecorder::is_type_supported(t))
    {
        options.set_mime_type(opus);
    }
    let recorder =
        MediaRecorder::new_with_media_stream_and_media_recorder_options(&stream, &options)?;
    let chunks: Rc<RefCell<Vec<Blob>>> = Rc::default();
    let sink = chunks.clone();
    let on_data = Closure::<dyn Fn(BlobEvent)>::new(move |event: BlobEvent| {
        if let Some(data) = event.data() {
            sink.borrow_mut().push(data);
        }
    });
    recorder.set_ondataavailable(Some(on_data.as_ref().unchecked_ref()));
    recorder.start()?;
    Ok(Recorder {
        recorder,
        stream,
        chunks,
        started_ms: js_sys::Date::now(),
        _on_data: on_data,
    })
}

impl Recorder {
    /// Stops recording and returns the note.
    pub async fn stop(self) -> Result<Note, JsValue> {
        stop_in_module(self).await.map_err(not_loaded)?.await
    }

    async fn finish(self) -> Result<Note, JsValue> {
        let (sender, stopped) = oneshot::channel::<()>();
        let sender = RefCell::new(Some(sender));
        let on_stop = Closure::<dyn Fn()>::new(move || {
            if let Some(sender) = sender.borrow_mut().take() {
                let _ = sender.send(());
            }
        });
        self.recorder
            .set_onstop(Some(on_stop.as_ref().unchecked_ref()));
        self.recorder.stop()?;
        let _ = stopped.await;
        let duration_ms = (js_sys::Date::now() - self.started_ms).max(0.0) as u32;
        for track in self.stream.get_tracks().iter() {
            if let Ok(track) = track.dyn_into::<web_sys::MediaStreamTrack>() {
                track.stop();
            }
        }
        let mime = self.recorder.mime_type();
        let parts = js_sys::Array::new();
        for chunk in self.chunks.borrow().iter() {
            parts.push(chunk);
        }
        let options = web_sys::BlobPropertyBag::new();
        options.set_type(&mime);
        let blob = Blob::new_with_blob_sequence_and_options(&parts, &options)?;
        let bytes = super::bytes_of(&blob).await?;
        drop(on_stop);
        let decoded = decode(&bytes).await;
        let waveform = decoded
            .as_ref()
            .map(|(samples, _)| waveform(samples))
            .unwrap_or_default();
        let (bytes, mime) = match decoded {
            // Another engine may not play this format: send it as WAV.
            Ok((samples, rate)) if !plays_everywhere(&mime) => {
                (courier_shared::wav::encode(&samples, rate), WAV.to_owned())
            }
            // Not decodable here: sent as recorded (a browser that cannot
            // play it says so).
            _ if mime.is_empty() => (bytes, OPUS[1].to_owned()),
            _ => (bytes, mime),
        };
        Ok(Note {
            bytes,
            mime,
            duration_ms,
            waveform,
        })
    }
}

/// The file name a voice note of type `mime` is saved under.
pub fn file_name(mime: &str) -> &'static str {
    let mime = mime.to_ascii_lowercase();
    if mime.starts_with("audio/ogg") {
        "voice-note.ogg"
    } else if mime.starts_with("audio/wav") {
        "voice-note.wav"
    } else if mime.starts_with("audio/mp4") {
        "voice-note.m4a"
    } else {
        "voice-note.webm"
    }
}

/// Whether a recording of type `mime` plays in Chromium, Firefox and
/// WebKit alike: Opus in Ogg or in WebM.
fn plays_everywhere(mime: &str) -> bool {
    let mime = mime.to_ascii_lowercase();
    (mime.starts_with("audio/ogg") || mime.starts_with("audio/webm")) && mime.contains("opus")
}

/// The first channel of the recording in `bytes`, decoded, and its sample
/// rate.
async fn decode(bytes: &[u8]) -> Result<(Vec<f32>, u32), JsValue> {
    let context = web_sys::AudioContext::new()?;
    let buffer = js_sys::Uint8Array::from(bytes).buffer();
    let decoded: web_sys::AudioBuffer = JsFuture::from(context.decode_audio_data(&buffer)?)
        .await?
        .dyn_into()?;
    let samples = decoded.get_channel_data(0)?;
    let _ = context.close();
    Ok((samples, decoded.sample_rate() as u32))
}

/// Loudness levels of `samples`: the peak of each of [`MAX_WAVEFORM`]
/// equal stretches, scaled to 0–255.
fn waveform(samples: &[f32]) -> Vec<u8> {
    let stretch = (samples.len() / MAX_WAVEFORM).max(1);
    let peaks: Vec<f32> = samples
        .chunks(stretch)
        .take(MAX_WAVEFORM)
        .map(|part| part.iter().fold(0.0_f32, |peak, s| peak.max(s.abs())))
        .collect();
    let loudest = peaks.iter().copied().fold(0.0_f32, f32::max).max(1e-6);
    peaks
        .iter()
        .map(|peak| (peak / loudest * 255.0) as u8)
        .collect()
}
