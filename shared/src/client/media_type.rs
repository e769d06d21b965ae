//! Which media types a client shows from a `blob:` URL, which lives on the
//! app's own origin. The type of a received object is whatever its sender
//! wrote, so only an allow-list of passive image, audio and video types is
//! shown as such; anything else — notably `image/svg+xml` and `text/html`,
//! which would run script as the app if opened — becomes
//! `application/octet-stream` and is offered as a download.

/// The type every object outside the allow-list is given.
pub const OCTET_STREAM: &str = "application/octet-stream";

/// How a client shows a media object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    /// A photo, shown in an `<img>`.
    Image,
    /// A voice note or other sound, in an `<audio>` player.
    Audio,
    /// A video, in a `<video>` player.
    Video,
    /// Anything else: saved, never rendered.
    File,
}

/// The types shown as what they are. `audio/wav` is here because the web
/// client itself sends voice notes as WAV where a browser records no Opus.
const RENDERED: [(&str, MediaKind); 11] = [
    ("image/jpeg", MediaKind::Image),
    ("image/png", MediaKind::Image),
    ("image/webp", MediaKind::Image),
    ("image/gif", MediaKind::Image),
    ("audio/ogg", MediaKind::Audio),
    ("audio/webm", MediaKind::Audio),
    ("audio/mp4", MediaKind::Audio),
    ("audio/mpeg", MediaKind::Audio),
    ("audio/wav", MediaKind::Audio),
    ("video/mp4", MediaKind::Video),
    ("video/webm", MediaKind::Video),
];

/// A declared type made safe: the type to give the object's `Blob`, and how
/// to show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SafeType {
    /// The `Blob`'s type: an allowed type without parameters, or
    /// [`OCTET_STREAM`].
    pub mime: &'static str,
    /// How to show it.
    pub kind: MediaKind,
}

/// What a sender's `declared` type may be shown as: its type (parameters
/// such as `codecs` dropped, case ignored) if it is on the allow-list,
/// else [`OCTET_STREAM`], a file to save.
pub fn safe_type(declared: &str) -> SafeType {
    let essence = declared.split(';').next().unwrap_or_default().trim();
    RENDERED
        .iter()
        .find(|(mime, _)| mime.eq_ignore_ascii_case(essence))
        .map_or(
            SafeType {
                mime: OCTET_STREAM,
                kind: MediaKind::File,
            },
            |&(mime, kind)| SafeType { mime, kind },
        )
}

#[cfg(test)]
mod tests {
    use super::{MediaKind, OCTET_STREAM, safe_type};

    #[test]
    fn allowed_types_are_shown_as_themselves_without_parameters() {
        let photo = safe_type("image/jpeg");
        assert_eq!((photo.mime, photo.kind), ("image/jpeg", MediaKind::Image));
        let voice = safe_type("Audio/WebM; codecs=opus");
        assert_eq!((voice.mime, voice.kind), ("audio/webm", MediaKind::Audio));
        assert_eq!(safe_type("video/mp4").kind, MediaKind::Video);
        assert_eq!(safe_type(" image/gif ").mime, "image/gif");
    }

    #[test]
    fn active_and_unknown_types_become_downloads() {
        for declared in [
            "image/svg+xml",
            "text/html",
            "text/html; charset=utf-8",
            "application/xhtml+xml",
            "text/xml",
            "application/pdf",
            "image/jpeg-but-not",
            "image/jpeg,text/html",
            "",
        ] {
            let safe = safe_type(declared);
            assert_eq!(
                (safe.mime, safe.kind),
                (OCTET_STREAM, MediaKind::File),
                "{declared}"
            );
        }
    }
}
