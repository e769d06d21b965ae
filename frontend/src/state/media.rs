//! The worker's media half: seal a photo, voice note or file under its own
//! key, upload the ciphertext through a signed URL (progress, cancel), then
//! send the message that carries key, hash and preview; download, check and
//! decrypt what arrives (at once for small photos and voice notes, else when
//! opened); forward without uploading again.

use super::chat::{ChatId, Mark, Message};
use super::worker::{Device, js_text, text};
use super::{Job, MediaView};
use crate::crypto::history;
use crate::crypto::vault::random_bytes;
use crate::media::{self, image, voice};
use crate::net::transfer;
use courier_shared::client::Api;
use courier_shared::crypto::content::Content;
use courier_shared::crypto::media as sealing;
use courier_shared::ids::{Blob, MessageId};
use courier_shared::proto::Text;
use leptos::prelude::*;

/// Photos up to this size download as soon as they arrive.
const AUTO_PHOTO_BYTES: u64 = 512 * 1024;
/// Voice notes up to this size download as soon as they arrive.
const AUTO_VOICE_BYTES: u64 = 2 * 1024 * 1024;

/// What a media message says in the chat list and as its text.
pub fn label(content: &Content) -> String {
    let Content::Media {
        mime,
        name,
        duration_ms,
        caption,
        ..
    } = content
    else {
        return String::new();
    };
    if !caption.as_str().is_empty() {
        caption.as_str().to_owned()
    } else if mime.as_str().starts_with("image/") {
        "📷 Photo".into()
    } else if mime.as_str().starts_with("audio/") {
        let seconds = duration_ms / 1_000;
        format!("🎤 Voice note ({}:{:02})", seconds / 60, seconds % 60)
    } else {
        format!("📄 {}", name.as_str())
    }
}

/// What to say about the file being sent, beyond its bytes.
struct Described {
    mime: String,
    name: String,
    width: u32,
    height: u32,
    duration_ms: u32,
    thumbnail: Vec<u8>,
    waveform: Vec<u8>,
}

impl Device {
    /// Sends `file` to the open chat; a photo is compressed first.
    pub(super) async fn attach(&mut self, file: web_sys::File) -> Result<(), String> {
        let mime = file.type_();
        let name = file.name();
        let (bytes, described) = if mime.starts_with("image/") && mime != "image/gif" {
            let photo = image::compress(&file).await.map_err(js_text)?;
            let described = Described {
                mime: "image/jpeg".into(),
                name,
                width: photo.width,
                height: photo.height,
                duration_ms: 0,
                thumbnail: photo.preview,
                waveform: Vec::new(),
            };
            (photo.jpeg, described)
        } else {
            let bytes = media::bytes_of(&file).await.map_err(js_text)?;
            let mime = if mime.is_empty() {
                "application/octet-stream".into()
            } else {
                mime
            };
            let described = Described {
                mime,
                name,
                width: 0,
                height: 0,
                duration_ms: 0,
                thumbnail: Vec::new(),
                waveform: Vec::new(),
            };
            (bytes, described)
        };
        self.send_media(bytes, described).await
    }

    /// Sends a recorded voice note to the open chat.
    pub(super) async fn send_voice(&mut self, note: voice::Note) -> Result<(), String> {
        let described = Described {
            mime: note.mime,
            name: "voice-note.webm".into(),
            width: 0,
            height: 0,
            duration_ms: note.duration_ms,
            thumbnail: Vec::new(),
            waveform: note.waveform,
        };
        self.send_media(note.bytes, described).await
    }

    /// Seals `plain`, opens an upload slot, shows the message and starts the
    /// upload; [`Device::uploaded`] sends the message once it is done.
    async fn send_media(&mut self, plain: Vec<u8>, described: Described) -> Result<(), String> {
        let Some(chat) = self.ui.open.get_untracked() else {
            return Ok(());
        };
        let key = random_bytes::<32>().map_err(js_text)?;
        let nonce = random_bytes::<12>().map_err(js_text)?;
        let sealed = sealing::seal(&plain, key, nonce);
        let size = sealed.ciphertext.len() as u64;
        let slot = self
            .server()
            .request_upload(size, sealed.hash)
            .await
            .map_err(text)?;
        let (media, url) = (slot.media, slot.url);
        let content = Content::Media {
            media,
            key: sealed.key,
            hash: sealed.hash,
            size,
            mime: Text::truncating(&described.mime),
            name: Text::truncating(&described.name),
            width: described.width,
            height: described.height,
            duration_ms: described.duration_ms,
            thumbnail: Blob::new(described.thumbnail).unwrap_or_default(),
            waveform: Blob::new(described.waveform).unwrap_or_default(),
            caption: Text::truncating(""),
        };
        let mut message = self.outgoing(chat, label(&content))?;
        message.content = Some(content);
        let id = message.id;
        self.store(&message).await?;
        // The sender sees the photo at once, from the plaintext it holds.
        if let Ok(local) = media::object_url(&plain, &described.mime) {
            self.ui.media.update(|m| {
                m.insert(media, MediaView::Ready(local));
            });
        }
        let uploads = self.ui.uploads;
        uploads.update(|u| {
            u.insert(id, 0.0);
        });
        let checksum = courier_shared::text_encoding::base64(sealed.hash.as_bytes());
        let progress = move |p: f64| {
            uploads.update(|u| {
                u.insert(id, p);
            });
        };
        let (handle, done) = transfer::upload(&url, &sealed.ciphertext, &checksum, progress)?;
        self.uploads.insert(id, handle);
        let jobs = self.jobs.clone();
        leptos::task::spawn_local(async move {
            let outcome = done.await;
            let _ = jobs.unbounded_send(Job::Uploaded(id, chat, outcome));
        });
        Ok(())
    }

    /// An upload ended: the server checks it and the message goes out, or
    /// the message says why not.
    pub(super) async fn uploaded(
        &mut self,
        id: MessageId,
        chat: ChatId,
        outcome: Result<(), String>,
    ) -> Result<(), String> {
        self.uploads.remove(&id);
        self.ui.uploads.update(|u| {
            u.remove(&id);
        });
        let Some(mut message) = history::message(&self.vault, chat, &id)
            .await
            .map_err(js_text)?
        else {
            return Ok(());
        };
        let Some(Content::Media { media, .. }) = message.content else {
            return Ok(());
        };
        let checked = match outcome {
            Ok(()) => self.server().complete_upload(media).await.map_err(text),
            Err(reason) => Err(reason),
        };
        match checked {
            Ok(()) => self.queue(message).await,
            Err(reason) => {
                message.mark = Mark::Failed;
                message.problem = Some(format!("Not sent: the upload failed ({reason})."));
                self.store(&message).await
            }
        }
    }

    /// A media message as it arrived: its label as text, the media kept to
    /// download (now, if it is a small photo or a voice note).
    pub(super) fn media_arrived(&self, message: &mut Message, content: Content) {
        message.text = Some(label(&content));
        message.content = Some(content);
    }

    /// Downloads media messages that should not wait to be opened (small
    /// photos and voice notes, unless the setting is off).
    pub(super) async fn auto_fetch(&mut self, message: &Message) -> Result<(), String> {
        let Some(Content::Media { mime, size, .. }) = &message.content else {
            return Ok(());
        };
        if !self.ui.auto_download.get_untracked() {
            return Ok(());
        }
        let small = (mime.as_str().starts_with("image/") && *size <= AUTO_PHOTO_BYTES)
            || (mime.as_str().starts_with("audio/") && *size <= AUTO_VOICE_BYTES);
        if small {
            self.fetch_message(message.clone()).await
        } else {
            Ok(())
        }
    }

    /// Downloads and opens media message `id` of the open chat.
    pub(super) async fn fetch(&mut self, id: MessageId) -> Result<(), String> {
        let Some(chat) = self.ui.open.get_untracked() else {
            return Ok(());
        };
        match history::message(&self.vault, chat, &id)
            .await
            .map_err(js_text)?
        {
            Some(message) => self.fetch_message(message).await,
            None => Ok(()),
        }
    }

    async fn fetch_message(&mut self, message: Message) -> Result<(), String> {
        let Some(Content::Media {
            media,
            key,
            hash,
            mime,
            ..
        }) = message.content
        else {
            return Ok(());
        };
        let shown = self.ui.media;
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
        let url = match self.server().request_download(media).await {
            Ok(download) => download.url,
            Err(err) => {
                set(MediaView::Failed(format!("Cannot download: {err}")));
                return Ok(());
            }
        };
        let download = transfer::download(&url, move |p| set(MediaView::Loading(p)))?;
        leptos::task::spawn_local(async move {
            let view = match download.await {
                Err(reason) => MediaView::Failed(format!("Cannot download: {reason}")),
                Ok(bytes) => match sealing::open(&bytes, &key, &hash) {
                    Err(err) => MediaView::Failed(err.to_string()),
                    Ok(plain) => match media::object_url(&plain, mime.as_str()) {
                        Ok(url) => MediaView::Ready(url),
                        Err(err) => MediaView::Failed(js_text(err)),
                    },
                },
            };
            set(view);
        });
        Ok(())
    }

    /// Sends media message `id` of the open chat to `to` as well: the same
    /// object, key and hash, nothing uploaded again.
    pub(super) async fn forward(&mut self, id: MessageId, to: ChatId) -> Result<(), String> {
        let Some(chat) = self.ui.open.get_untracked() else {
            return Ok(());
        };
        let Some(original) = history::message(&self.vault, chat, &id)
            .await
            .map_err(js_text)?
        else {
            return Ok(());
        };
        let Some(content @ Content::Media { .. }) = original.content else {
            return Err("Only photos, voice notes and files can be forwarded.".into());
        };
        let mut copy = self.outgoing(to, label(&content))?;
        copy.content = Some(content);
        self.queue(copy).await?;
        let name = self
            .index
            .get(to)
            .map(|c| c.name.clone())
            .unwrap_or_default();
        self.ui.notice.set(Some(format!("Forwarded to {name}.")));
        Ok(())
    }
}
