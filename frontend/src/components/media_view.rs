//! The media part of a message bubble: a photo's blurred preview until the
//! photo is downloaded (or its "Open" button), a voice note's waveform,
//! length and player, a video's player, a file's name and "Save" link (any
//! type off the allow-list of [`courier_shared::client::media_type`]); upload and download
//! progress, cancel, errors (a failed hash check shows here), and forward.
//! A lazily loaded feature (`media`, see [`crate::lazy`]): bubbles show it
//! through [`block`].

use crate::media::jpeg_data_url;
use crate::state::chat::{ChatId, Message};
use crate::state::{Job, MediaView, Ui};
use courier_shared::client::media_type::{MediaKind, safe_type};
use courier_shared::crypto::content::Content;
use leptos::prelude::*;

crate::lazy! { media, preload_media:
    /// The media block of `message`, from the media module.
    pub fn block(message: Message, ui: Ui, run: Callback<Job>) -> AnyView {
        media_block(&message, ui, run).unwrap_or_else(|| ().into_any())
    }
}

/// What the progress line calls this feature.
pub const FEATURE: crate::lazy::Feature = crate::lazy::Feature {
    id: "media",
    label: "the media viewer",
};

/// The media block of `message`, if it carries media.
fn media_block(message: &Message, ui: Ui, run: Callback<Job>) -> Option<AnyView> {
    let Some(Content::Media {
        media,
        mime,
        name,
        size,
        width,
        height,
        duration_ms,
        thumbnail,
        waveform,
        ..
    }) = message.content.clone()
    else {
        return None;
    };
    let id = message.id;
    let here = message.chat;
    let state = move || ui.media.with(|m| m.get(&media).cloned());
    let open = move |_| run.run(Job::Fetch(id));
    let name = name.as_str().to_owned();
    let progress = move |p: f64| view! { <progress data-download value=p max="1"></progress> };
    // Shown as the sender says only for allowed passive types; anything
    // else is a file to save (its blob is `application/octet-stream`).
    let safe = safe_type(mime.as_str());
    let body = if safe.kind == MediaKind::Image {
        let preview =
            (!thumbnail.as_bytes().is_empty()).then(|| jpeg_data_url(thumbnail.as_bytes()));
        let ratio = format!("aspect-ratio: {} / {}", width.max(1), height.max(1));
        view! {
            <div class="photo" data-photo style=ratio>
                {preview.map(|src| view! { <img class="preview" data-preview src=src alt="" /> })}
                {move || match state() {
                    Some(MediaView::Ready(url)) => view! { <img class="full" data-full src=url alt="Photo" /> }.into_any(),
                    Some(MediaView::Loading(p)) => progress(p).into_any(),
                    Some(MediaView::Failed(why)) => view! { <p class="warning" data-media-error role="alert">{why}</p> }.into_any(),
                    None => view! { <button class="open" data-open-media on:click=open>"Open photo"</button> }.into_any(),
                }}
            </div>
        }
        .into_any()
    } else if safe.kind == MediaKind::Audio {
        let kind = safe.mime.to_owned();
        let playable = crate::media::can_play(&kind);
        let seconds = duration_ms / 1_000;
        let length = format!("{}:{:02}", seconds / 60, seconds % 60);
        let bars = waveform
            .as_bytes()
            .iter()
            .map(|level| {
                let height = format!("height: {}%", 10 + u32::from(*level) * 90 / 255);
                view! { <i style=height></i> }
            })
            .collect_view();
        view! {
            <div class="voice" data-voice>
                <span class="wave" aria-hidden="true">{bars}</span>
                <span class="duration" data-duration>{length}</span>
                {move || match state() {
                    Some(MediaView::Ready(_)) if !playable => view! {
                        <p class="warning" data-media-error role="alert">
                            "This browser cannot play this voice note (" {kind.clone()} "). Open the chat in another browser to hear it."
                        </p>
                    }.into_any(),
                    Some(MediaView::Ready(url)) => view! { <audio controls data-audio src=url></audio> }.into_any(),
                    Some(MediaView::Loading(p)) => progress(p).into_any(),
                    Some(MediaView::Failed(why)) => view! { <p class="warning" data-media-error role="alert">{why}</p> }.into_any(),
                    None => view! { <button class="open" data-open-media on:click=open aria-label="Play voice note">"▶"</button> }.into_any(),
                }}
            </div>
        }
        .into_any()
    } else if safe.kind == MediaKind::Video {
        view! {
            <div class="video" data-video>
                {move || match state() {
                    Some(MediaView::Ready(url)) => view! { <video controls data-video-player src=url></video> }.into_any(),
                    Some(MediaView::Loading(p)) => progress(p).into_any(),
                    Some(MediaView::Failed(why)) => view! { <p class="warning" data-media-error role="alert">{why}</p> }.into_any(),
                    None => view! { <button class="open" data-open-media on:click=open>"Open video"</button> }.into_any(),
                }}
            </div>
        }
        .into_any()
    } else {
        let kilobytes = format!("{} KB", size.div_ceil(1_024));
        let file = name.clone();
        view! {
            <div class="file" data-file>
                <span>"📄 " {name.clone()} " · " {kilobytes}</span>
                {move || match state() {
                    Some(MediaView::Ready(url)) => view! { <a data-save href=url download=file.clone()>"Save"</a> }.into_any(),
                    Some(MediaView::Loading(p)) => progress(p).into_any(),
                    Some(MediaView::Failed(why)) => view! { <p class="warning" data-media-error role="alert">{why}</p> }.into_any(),
                    None => view! { <button class="open" data-open-media on:click=open>"Download"</button> }.into_any(),
                }}
            </div>
        }
        .into_any()
    };
    let uploading = move || ui.uploads.with(|u| u.get(&id).copied());
    let targets = move || {
        ui.chats.with(|chats| {
            chats
                .iter()
                .filter(|c| c.chat != here)
                .map(|c| (c.chat, c.name.clone()))
                .collect::<Vec<(ChatId, String)>>()
        })
    };
    Some(
        view! {
            {body}
            {move || uploading().map(|p| view! {
                <div class="uploading">
                    <progress data-upload value=p max="1"></progress>
                    <button data-cancel on:click=move |_| run.run(Job::CancelUpload(id))>"Cancel"</button>
                </div>
            })}
            <details class="forward">
                <summary>"Forward"</summary>
                <ul>
                    {move || targets().into_iter().map(|(chat, name)| view! {
                        <li><button data-forward-to=name.clone() on:click=move |_| run.run(Job::Forward(id, chat))>{name.clone()}</button></li>
                    }).collect_view()}
                </ul>
            </details>
        }
        .into_any(),
    )
}
