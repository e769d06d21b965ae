//! The Courier wire protocol, version [`PROTOCOL_VERSION`].
//!
//! One WebSocket binary message carries exactly one CBOR-encoded frame. Every
//! frame is a CBOR array whose first element is a small integer naming the frame
//! type, followed by that type's fields in a fixed order: no field-name strings
//! ever travel on the wire. The first frame of a connection is the client's
//! [`ClientFrame::Hello`], which names the protocol version it speaks; the server
//! answers [`ServerFrame::Welcome`] with the limits in force, or an
//! [`ServerFrame::Error`] and closes. Every request that has an answer
//! carries a [`crate::ids::RequestId`], echoed in its answer or in the
//! `Rejected` frame ([`Refusal`]) that refuses it. `docs/protocol.md` is the
//! reference.

pub mod auth;
mod client_frame;
mod codec;
mod error_code;
#[cfg(test)]
mod golden;
mod group;
mod receipt;
mod refusal;
mod server_frame;
mod text;
pub(crate) mod tuple;

pub use client_frame::ClientFrame;
pub use codec::{DecodeError, decode, encode};
pub use error_code::ErrorCode;
pub use group::{MAX_GROUP_MEMBERS, device_set_digest};
pub use receipt::ReceiptKind;
pub use refusal::Refusal;
pub use server_frame::ServerFrame;
pub use text::Text;

/// The protocol version this build speaks.
pub const PROTOCOL_VERSION: u16 = 2;

/// The oldest protocol version this build still accepts. Every client is
/// served by the server it talks to, so an older one is refused and reloads.
pub const MIN_PROTOCOL_VERSION: u16 = 2;

/// The largest encoded frame either side accepts, in bytes.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

/// The longest client agent string (`Hello::agent`), in bytes.
pub const MAX_AGENT_BYTES: usize = 128;

/// The longest human-readable message in an error frame, in bytes.
pub const MAX_ERROR_MESSAGE_BYTES: usize = 512;

/// The longest signed URL in a media answer, in bytes.
pub const MAX_URL_BYTES: usize = 2_048;

/// A signed URL (absolute, or a path on the Courier server itself).
pub type Url = Text<MAX_URL_BYTES>;

/// Most users one `Subscribe` may name.
pub const MAX_SUBSCRIBE: usize = 256;

/// The largest payload (ciphertext) of one message for one device, in bytes.
/// Leaves room for the frame's other fields within [`MAX_FRAME_BYTES`].
pub const MAX_PAYLOAD_BYTES: usize = 60 * 1024;

/// A message payload: opaque bytes to the server.
pub type Payload = crate::ids::Blob<MAX_PAYLOAD_BYTES>;
