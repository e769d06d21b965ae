//! Turning frames into bytes and back, with the frame size limit enforced.
//!
//! [`decode`] checks the size before it parses anything, rejects trailing bytes,
//! and classifies every failure as a [`DecodeError`] that maps onto the
//! [`ErrorCode`] the server sends back.

use super::{ErrorCode, MAX_FRAME_BYTES, tuple::KNOWN_FRAME};
use serde::{Serialize, de::DeserializeOwned};

/// Why bytes could not be decoded into a frame.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    /// The message is larger than the protocol allows.
    #[error("frame of {len} bytes exceeds the {max}-byte limit")]
    TooLarge {
        /// The message's size.
        len: usize,
        /// The limit in force.
        max: usize,
    },
    /// The frame's type number is not known to this build.
    #[error("unknown frame type: {0}")]
    UnknownFrame(String),
    /// The bytes are not a valid frame.
    #[error("malformed frame: {0}")]
    Malformed(String),
}

impl DecodeError {
    /// The error code the server answers this failure with.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::TooLarge { .. } => ErrorCode::FrameTooLarge,
            Self::UnknownFrame(_) => ErrorCode::UnknownFrame,
            Self::Malformed(_) => ErrorCode::Malformed,
        }
    }
}

/// Why a frame could not be encoded.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    /// The encoded frame would exceed the protocol's limit.
    #[error("encoded frame of {0} bytes exceeds the {MAX_FRAME_BYTES}-byte limit")]
    TooLarge(usize),
    /// The serializer failed.
    #[error("cannot encode frame: {0}")]
    Serialize(String),
}

/// Encodes one frame as CBOR.
pub fn encode<T: Serialize>(frame: &T) -> Result<Vec<u8>, EncodeError> {
    let bytes = cbor4ii::serde::to_vec(Vec::with_capacity(64), frame)
        .map_err(|e| EncodeError::Serialize(e.to_string()))?;
    if bytes.len() > MAX_FRAME_BYTES {
        return Err(EncodeError::TooLarge(bytes.len()));
    }
    Ok(bytes)
}

/// Decodes one frame from a whole WebSocket message.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    if bytes.len() > MAX_FRAME_BYTES {
        return Err(DecodeError::TooLarge {
            len: bytes.len(),
            max: MAX_FRAME_BYTES,
        });
    }
    let mut de = cbor4ii::serde::Deserializer::new(cbor4ii::core::utils::SliceReader::new(bytes));
    let frame = T::deserialize(&mut de).map_err(|e| {
        let reason = match e {
            cbor4ii::serde::DecodeError::Custom(message) => message.into(),
            cbor4ii::serde::DecodeError::Core(cbor) => format!("{cbor:?}"),
        };
        if reason.contains(KNOWN_FRAME) {
            DecodeError::UnknownFrame(reason)
        } else {
            DecodeError::Malformed(reason)
        }
    })?;
    let mut reader = de.into_inner();
    let rest = cbor4ii::core::dec::Read::fill(&mut reader, 1).map_or(0, |r| r.as_ref().len());
    if rest > 0 {
        return Err(DecodeError::Malformed(
            "bytes after the end of the frame".into(),
        ));
    }
    Ok(frame)
}

#[cfg(test)]
mod tests {
    use super::{DecodeError, decode, encode};
    use crate::proto::{ClientFrame, ErrorCode, MAX_FRAME_BYTES};

    #[test]
    fn unknown_frame_types_are_reported_as_such() {
        let err = decode::<ClientFrame>(&[0x82, 0x18, 0x63, 0x00]).expect_err("type 99");
        assert_eq!(err.code(), ErrorCode::UnknownFrame);
    }

    #[test]
    fn garbage_missing_fields_and_trailing_bytes_are_malformed() {
        for bytes in [
            &[0xff][..],
            &[][..],
            &[0x81, 0x01][..],             // ping without its nonce
            &[0x83, 0x01, 0x07, 0x07][..], // ping with an extra field
            &[0x82, 0x01, 0x07, 0x00][..], // a byte after the frame
            &[0x82, 0x01, 0x61, 0x41][..], // nonce of the wrong type
            &[0xa1, 0x01, 0x02][..],       // a map instead of an array
        ] {
            let err = decode::<ClientFrame>(bytes).expect_err("rejected");
            assert_eq!(err.code(), ErrorCode::Malformed, "{bytes:02x?}: {err}");
        }
    }

    #[test]
    fn oversized_input_is_refused_before_parsing() {
        let bytes = vec![0u8; MAX_FRAME_BYTES + 1];
        assert_eq!(
            decode::<ClientFrame>(&bytes),
            Err(DecodeError::TooLarge {
                len: MAX_FRAME_BYTES + 1,
                max: MAX_FRAME_BYTES
            })
        );
    }

    #[test]
    fn overlong_strings_are_malformed() {
        let agent = "x".repeat(crate::proto::MAX_AGENT_BYTES + 1);
        let bytes = encode(&(0u8, 1u16, agent.as_str())).expect("encodes");
        let err = decode::<ClientFrame>(&bytes).expect_err("too long");
        assert_eq!(err.code(), ErrorCode::Malformed);
    }
}
