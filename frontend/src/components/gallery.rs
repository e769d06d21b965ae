//! A chat's shared media panel: its photos and videos as tiles, its files
//! and voice notes as rows, newest first (what the core's
//! [`courier_shared::client::messenger::SharedMedia`] lists); each shows
//! its message in the conversation. Part of the lazily loaded media module.

use super::time;
use crate::media::jpeg_data_url;
use crate::state::chat::Message;
use crate::state::{Job, MediaView, Ui};
use courier_shared::client::media_type::{MediaKind, safe_type};
use courier_shared::client::messenger::media_label;
use courier_shared::crypto::content::Content;
use leptos::prelude::*;

/// Media messages shown at first, and added by "Show more".
const PAGE: usize = 60;

crate::lazy! { media, preload_media_gallery:
    /// The open chat's shared-media panel, from the media module; `close`
    /// takes it down.
    pub fn gallery_panel(ui: Ui, run: Callback<Job>, close: Callback<()>) -> AnyView {
        view! { <Gallery ui run close /> }.into_any()
    }
}

#[component]
fn Gallery(ui: Ui, run: Callback<Job>, close: Callback<()>) -> impl IntoView {
    let limit = RwSignal::new(PAGE);
    Effect::new(move |_| run.run(Job::Gallery(limit.get())));
    let show = move |message: &Message| {
        let id = message.id;
        move |_: leptos::ev::MouseEvent| {
            run.run(Job::Reveal(id));
            close.run(());
        }
    };
    let listed = move || {
        let Some(shown) = ui.gallery.get() else {
            return view! { <p class="empty">"Loading…"</p> }.into_any();
        };
        if shown.messages.is_empty() {
            return view! {
                <p class="empty" data-gallery-empty>"No photos, videos, files or voice notes in this chat yet."</p>
            }
            .into_any();
        }
        let (tiles, rows): (Vec<Message>, Vec<Message>) =
            shown.messages.into_iter().partition(is_visual);
        view! {
            <h4>"Photos and videos"</h4>
            <ul class="gallery-tiles">
                {tiles.into_iter().map(|m| view! { <li>{tile(&m, ui, show(&m))}</li> }).collect_view()}
            </ul>
            <h4>"Files and voice notes"</h4>
            <ul class="gallery-rows">
                {rows.into_iter().map(|m| view! { <li>{row(&m, show(&m))}</li> }).collect_view()}
            </ul>
            {shown.more.then(|| view! {
                <button id="gallery-more" on:click=move |_| limit.update(|l| *l += PAGE)>"Show more"</button>
            })}
        }
        .into_any()
    };
    view! {
        <aside id="shared-media" class="shared-media" aria-label="Media, files and voice notes">
            <header>
                <h3>"Media, files and voice notes"</h3>
                <button aria-label="Close shared media" on:click=move |_| close.run(())>"×"</button>
            </header>
            {listed}
        </aside>
    }
}

/// Whether `message` is a photo or video (a tile; anything else is a row).
fn is_visual(message: &Message) -> bool {
    match &message.content {
        Some(Content::Media { mime, .. }) => matches!(
            safe_type(mime.as_str()).kind,
            MediaKind::Image | MediaKind::Video
        ),
        _ => false,
    }
}

/// When `message` was sent, as the panel says it.
fn sent(message: &Message) -> String {
    let at = message.sent_at();
    format!("{} {}", time::day(at), time::clock(at))
}

/// A photo's or video's tile: the photo once downloaded, else its preview.
fn tile(message: &Message, ui: Ui, show: impl Fn(leptos::ev::MouseEvent) + 'static) -> AnyView {
    let Some(Content::Media {
        media,
        mime,
        thumbnail,
        ..
    }) = message.content.clone()
    else {
        return ().into_any();
    };
    let video = safe_type(mime.as_str()).kind == MediaKind::Video;
    let preview = (!thumbnail.as_bytes().is_empty()).then(|| jpeg_data_url(thumbnail.as_bytes()));
    let picture = move || match ui.media.with(|m| m.get(&media).cloned()) {
        Some(MediaView::Ready(url)) if !video => Some(url),
        _ => preview.clone(),
    };
    let what = if video { "Video" } else { "Photo" };
    let label = format!("{what} of {}: show it in the chat", sent(message));
    view! {
        <button class="tile" data-gallery-item data-kind=if video { "video" } else { "photo" }
            aria-label=label on:click=show>
            {move || match picture() {
                Some(src) => view! { <img src=src alt="" /> }.into_any(),
                None => view! { <span aria-hidden="true">{if video { "🎬" } else { "📷" }}</span> }.into_any(),
            }}
        </button>
    }
    .into_any()
}

/// A file's or voice note's row: what it is, its size and when.
fn row(message: &Message, show: impl Fn(leptos::ev::MouseEvent) + 'static) -> AnyView {
    let Some(content @ Content::Media { size, mime, .. }) = &message.content else {
        return ().into_any();
    };
    let kind = if safe_type(mime.as_str()).kind == MediaKind::Audio {
        "voice"
    } else {
        "file"
    };
    let what = format!("{} · {} KB", media_label(content), size.div_ceil(1_024));
    view! {
        <button class="row" data-gallery-item data-kind=kind on:click=show>
            <span>{what}</span>
            <time>{sent(message)}</time>
        </button>
    }
    .into_any()
}
