//! The media jobs: a photo (compressed first), voice note or file is
//! sealed and given a slot by the core, shown at once, and uploaded here
//! with progress and cancel; once done the core sends the message. Media
//! that arrives is downloaded (at once when small, else when opened),
//! checked against its hash, decrypted and shown; forwarding re-sends the
//! same reference.

use super::Device;
use crate::media::{self, image, voice};
use crate::net::transfer;
use crate::state::worker::{js_text, text};
use crate::state::{Job, MediaView};
use courier_shared::client::chat::{ChatId, Message};
use courier_shared::client::messenger::MediaFacts;
use courier_shared::ids::MessageId;
use leptos::prelude::*;

/// Sends `file` to the open chat; a photo is compressed first.
pub async fn attach(device: &mut Device, file: web_sys::File) -> Result<(), String> {
    let mime = file.type_();
    let name = file.name();
    let (bytes, facts) = if mime.starts_with("image/") && mime != "image/gif" {
        let photo = image::compress(&file).await.map_err(js_text)?;
        let facts = MediaFacts {
            mime: photo.mime.into(),
            name,
            width: photo.width,
            height: photo.height,
            thumbnail: photo.preview,
            ..MediaFacts::default()
        };
        (photo.jpeg, facts)
    } else {
        let bytes = media::bytes_of(&file).await.map_err(js_text)?;
        let mime = if mime.is_empty() {
            "application/octet-stream".into()
        } else {
            mime
        };
        let facts = MediaFacts {
            mime,
            name,
            ..MediaFacts::default()
        };
        (bytes, facts)
    };
    send(device, bytes, facts).await
}

/// Sends a recorded voice note to the open chat.
pub async fn voice(device: &mut Device, note: voice::Note) -> Result<(), String> {
    let facts = MediaFacts {
        name: voice::file_name(&note.mime).into(),
        mime: note.mime,
        duration_ms: note.duration_ms,
        waveform: note.waveform,
        ..MediaFacts::default()
    };
    send(device, note.bytes, facts).await
}

/// Seals the media (WebCrypto), drafts the message with an upload slot,
/// shows it and starts the upload; [`uploaded`] sends it once done.
async fn send(device: &mut Device, plain: Vec<u8>, facts: MediaFacts) -> Result<(), String> {
    let Some(chat) = device.ui.open.get_untracked() else {
        return Ok(());
    };
    let mime = facts.mime.clone();
    let sealed = crate::crypto::media::seal(&plain).await.map_err(js_text)?;
    let draft = device
        .core
        .draft_media(chat, sealed, facts)
        .await
        .map_err(text)?;
    let id = draft.message.id;
    // The sender sees the photo at once, from the plaintext it holds.
    if let (Some(media), Ok(local)) = (media_of(&draft.message), media::object_url(&plain, &mime)) {
        device.ui.media.update(|m| {
            m.insert(media, MediaView::Ready(local));
        });
    }
    let uploads = device.ui.uploads;
    uploads.update(|u| {
        u.insert(id, 0.0);
    });
    let progress = move |p: f64| {
        uploads.update(|u| {
            u.insert(id, p);
        });
    };
    let (handle, done) = transfer::upload(
        &draft.upload_url,
        &draft.ciphertext,
        &draft.checksum,
        progress,
    )?;
    device.uploads.insert(id, handle);
    let jobs = device.jobs.clone();
    leptos::task::spawn_local(async move {
        let outcome = done.await;
        let _ = jobs.unbounded_send(Job::Uploaded(id, chat, outcome));
    });
    Ok(())
}

/// An upload ended: the core has the server check it and sends the
/// message, or the message says why not.
pub async fn uploaded(
    device: &mut Device,
    id: MessageId,
    chat: ChatId,
    outcome: Result<(), String>,
) -> Result<(), String> {
    device.uploads.remove(&id);
    device.ui.uploads.update(|u| {
        u.remove(&id);
    });
    device
        .core
        .media_uploaded(chat, id, outcome)
        .await
        .map_err(text)
}

/// Stops the upload of message `id`'s media.
pub fn cancel(device: &mut Device, id: MessageId) {
    if let Some(transfer) = device.uploads.get(&id) {
        transfer.cancel();
    }
}

fn media_of(message: &Message) -> Option<courier_shared::ids::MediaId> {
    match &message.content {
        Some(courier_shared::crypto::content::Content::Media { media, .. }) => Some(*media),
        _ => None,
    }
}

/// Downloads and opens media message `id` of the open chat.
pub async fn fetch(device: &mut Device, id: MessageId) -> Result<(), String> {
    let Some(chat) = device.ui.open.get_untracked() else {
        return Ok(());
    };
    fetch_in(device, chat, id).await
}

/// Downloads media message `message` if the setting allows it (small
/// photos and voice notes, as they arrive).
pub async fn auto_fetch(device: &mut Device, message: Message) -> Result<(), String> {
    if device.ui.auto_download.get_untracked() {
        fetch_in(device, message.chat, message.id).await
    } else {
        Ok(())
    }
}

async fn fetch_in(device: &mut Device, chat: ChatId, id: MessageId) -> Result<(), String> {
    let shown = device.ui.media;
    let Some(message) = crate::crypto::history::message(&device.vault, chat, &id)
        .await
        .map_err(js_text)?
    else {
        return Ok(());
    };
    let Some(media) = media_of(&message) else {
        return Ok(());
    };
    if shown.with_untracked(|m| {
        matches!(
            m.get(&media),
            Some(MediaView::Ready(_) | MediaView::Loading(_))
        )
    }) {
        return Ok(());
    }
    let set = move |view: MediaView| {
        shown.update(|m| {
            m.insert(media, view);
        });
    };
    set(MediaView::Loading(0.0));
    let download = match device.core.download(chat, id).await {
        Ok(Some(download)) => download,
        Ok(None) => return Ok(()),
        Err(err) => {
            set(MediaView::Failed(format!("Cannot download: {err}")));
            return Ok(());
        }
    };
    let transfer = transfer::download(&download.url, move |p| set(MediaView::Loading(p)))?;
    leptos::task::spawn_local(async move {
        let view = match transfer.await {
            Err(reason) => MediaView::Failed(format!("Cannot download: {reason}")),
            Ok(bytes) => match crate::crypto::media::open(&download, &bytes).await {
                Err(err) => MediaView::Failed(err),
                Ok(plain) => match media::object_url(&plain, &download.mime) {
                    Ok(url) => MediaView::Ready(url),
                    Err(err) => MediaView::Failed(js_text(err)),
                },
            },
        };
        set(view);
    });
    Ok(())
}

/// Sends media message `id` of the open chat to `to` as well.
pub async fn forward(device: &mut Device, id: MessageId, to: ChatId) -> Result<(), String> {
    let Some(chat) = device.ui.open.get_untracked() else {
        return Ok(());
    };
    device.core.forward(chat, id, to).await.map_err(text)
}
