//! Media messages: a photo, voice note or file, sealed under its own key by
//! the driver (the browser's WebCrypto does it in native code), is given an
//! upload slot and shown at once as a draft; the driver uploads the
//! ciphertext (it owns the HTTP transfer), and once the server checked the
//! upload the message — key, hash, size, type, preview — goes out through
//! the outbox like any other. Arriving media is stored with its reference
//! and, when small, offered for download at once. Forwarding re-sends the
//! same reference: nothing is uploaded again.

use super::{Effect, Messenger, MessengerError, Result, Store};
use crate::client::api::{Api, Server};
use crate::client::chat::{ChatId, Mark, Message};
use crate::crypto::content::Content;
use crate::crypto::media as sealing;
use crate::ids::{Blob, MessageId};
use crate::proto::Text;
use crate::time::Env;

/// Photos up to this size download as soon as they arrive.
const AUTO_PHOTO_BYTES: u64 = 512 * 1024;
/// Voice notes up to this size download as soon as they arrive.
const AUTO_VOICE_BYTES: u64 = 2 * 1024 * 1024;

/// What to say about a media object, beyond its bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MediaFacts {
    /// Its type, such as `image/jpeg`.
    pub mime: String,
    /// The file's name.
    pub name: String,
    /// Width in pixels (images).
    pub width: u32,
    /// Height in pixels (images).
    pub height: u32,
    /// Length in milliseconds (voice notes).
    pub duration_ms: u32,
    /// A tiny blurred preview (images).
    pub thumbnail: Vec<u8>,
    /// Loudness levels 0–255 (voice notes).
    pub waveform: Vec<u8>,
}

/// A media message shown at once, its ciphertext still to upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaDraft {
    /// The message, stored as pending.
    pub message: Message,
    /// Where to `PUT` the ciphertext.
    pub upload_url: String,
    /// The ciphertext.
    pub ciphertext: Vec<u8>,
    /// The ciphertext's SHA-256 in base64, for the store's checksum header.
    pub checksum: String,
}

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

impl<S: Server, St: Store, E: Env> Messenger<S, St, E> {
    /// Opens an upload slot for `sealed` (the driver sealed it under a fresh
    /// key, see [`sealing::seal`]) and stores the message as a draft for
    /// `chat`; the driver uploads the ciphertext, then calls
    /// [`Messenger::media_uploaded`].
    pub async fn draft_media(
        &mut self,
        chat: ChatId,
        sealed: sealing::SealedMedia,
        facts: MediaFacts,
    ) -> Result<MediaDraft> {
        let size = sealed.ciphertext.len() as u64;
        let slot = self.server.request_upload(size, sealed.hash).await?;
        let content = Content::Media {
            media: slot.media,
            key: sealed.key,
            hash: sealed.hash,
            size,
            mime: Text::truncating(&facts.mime),
            name: Text::truncating(&facts.name),
            width: facts.width,
            height: facts.height,
            duration_ms: facts.duration_ms,
            thumbnail: Blob::new(facts.thumbnail).unwrap_or_default(),
            waveform: Blob::new(facts.waveform).unwrap_or_default(),
            caption: Text::truncating(""),
        };
        let mut message = self.outgoing(chat, label(&content));
        message.content = Some(content);
        self.store_message(&message).await?;
        Ok(MediaDraft {
            message,
            upload_url: slot.url,
            checksum: crate::text_encoding::base64(sealed.hash.as_bytes()),
            ciphertext: sealed.ciphertext,
        })
    }

    /// The upload of draft `id` of `chat` ended: once the server checked it,
    /// the message goes out; else the message says why not.
    pub async fn media_uploaded(
        &mut self,
        chat: ChatId,
        id: MessageId,
        outcome: std::result::Result<(), String>,
    ) -> Result<()> {
        let Some(mut message) = self.load(chat, &id).await? else {
            return Ok(());
        };
        let Some(Content::Media { media, .. }) = message.content else {
            return Ok(());
        };
        let checked = match outcome {
            Ok(()) => self
                .server
                .complete_upload(media)
                .await
                .map_err(|r| r.message),
            Err(reason) => Err(reason),
        };
        match checked {
            Ok(()) => self.queue(message).await,
            Err(reason) => {
                message.mark = Mark::Failed;
                message.problem = Some(format!("Not sent: the upload failed ({reason})."));
                self.store_message(&message).await
            }
        }
    }

    /// A media message as it arrived: stored with its reference (its label
    /// as text), and offered for download at once when small.
    pub(super) async fn media_arrived(
        &mut self,
        mut message: Message,
        content: Content,
    ) -> Result<()> {
        message.text = Some(label(&content));
        let small = match &content {
            Content::Media { mime, size, .. } => {
                (mime.as_str().starts_with("image/") && *size <= AUTO_PHOTO_BYTES)
                    || (mime.as_str().starts_with("audio/") && *size <= AUTO_VOICE_BYTES)
            }
            _ => false,
        };
        message.content = Some(content);
        let known = self.index.chat_of(&message.id).is_some();
        self.arrived(message.clone()).await?;
        if small && !known {
            self.show(Effect::AutoFetch(message));
        }
        Ok(())
    }

    /// Sends media message `id` of `chat` to `to` as well: the same object,
    /// key and hash, nothing uploaded again.
    pub async fn forward(&mut self, chat: ChatId, id: MessageId, to: ChatId) -> Result<()> {
        let Some(original) = self.load(chat, &id).await? else {
            return Ok(());
        };
        let Some(content @ Content::Media { .. }) = original.content else {
            return Err(MessengerError::invalid(
                "Only photos, voice notes and files can be forwarded.",
            ));
        };
        let mut copy = self.outgoing(to, label(&content));
        copy.content = Some(content);
        self.queue(copy).await?;
        let name = self
            .index
            .get(to)
            .map(|c| c.name.clone())
            .unwrap_or_default();
        self.tell(format!("Forwarded to {name}."));
        Ok(())
    }

    /// A signed URL to download media message `id` of `chat`, with what
    /// opens it.
    pub async fn download(&mut self, chat: ChatId, id: MessageId) -> Result<Option<Download>> {
        let Some(message) = self.load(chat, &id).await? else {
            return Ok(None);
        };
        let Some(Content::Media {
            media,
            key,
            hash,
            mime,
            ..
        }) = message.content
        else {
            return Ok(None);
        };
        let url = self.server.request_download(media).await?;
        Ok(Some(Download {
            media,
            url: url.url,
            key,
            hash,
            mime: mime.as_str().to_owned(),
        }))
    }
}

/// Where a media object is and how to open it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Download {
    /// The object.
    pub media: crate::ids::MediaId,
    /// The signed download URL.
    pub url: String,
    /// Its key.
    pub key: sealing::MediaKey,
    /// Its ciphertext's SHA-256, checked before decrypting.
    pub hash: sealing::MediaHash,
    /// Its type.
    pub mime: String,
}

impl Download {
    /// Checks the downloaded `ciphertext` against the hash and decrypts it.
    pub fn open(&self, ciphertext: &[u8]) -> Result<Vec<u8>> {
        Ok(sealing::open(ciphertext, &self.key, &self.hash)?)
    }
}
