//! Bytes as text: lowercase hex, RFC 4648 base32 (no padding) and base64.
//!
//! A few dozen lines instead of a general-purpose encoding crate, because
//! every kilobyte counts in the web client. Decoders are strict: they refuse
//! characters outside the alphabet, impossible lengths and non-zero padding
//! bits, so one text decodes to at most one byte string.

const HEX: &[u8; 16] = b"0123456789abcdef";
const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Lowercase hex, two characters per byte.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
    out
}

/// Decodes lowercase hex; `None` for anything else.
pub fn hex_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.as_bytes();
    if !text.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| {
        HEX.iter()
            .position(|&h| h == c)
            .and_then(|d| u8::try_from(d).ok())
    };
    text.chunks_exact(2)
        .map(|pair| Some((digit(pair[0])? << 4) | digit(pair[1])?))
        .collect()
}

/// RFC 4648 base32 without padding (`A`–`Z`, `2`–`7`).
pub fn base32(bytes: &[u8]) -> String {
    encode_bits(bytes, 5, BASE32)
}

/// Decodes unpadded RFC 4648 base32 (uppercase); `None` for anything else.
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    decode_bits(text, 5, BASE32)
}

/// RFC 4648 base64 with padding, as browsers' `atob` and S3 headers expect.
pub fn base64(bytes: &[u8]) -> String {
    let mut out = encode_bits(bytes, 6, BASE64);
    while !out.len().is_multiple_of(4) {
        out.push('=');
    }
    out
}

/// Decodes padded RFC 4648 base64; `None` for anything else.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(4) {
        return None;
    }
    let data = text.trim_end_matches('=');
    if text.len() - data.len() > 2 {
        return None;
    }
    decode_bits(data, 6, BASE64)
}

/// Writes `bytes` as characters of `width` bits each, the last one padded
/// with zero bits.
fn encode_bits(bytes: &[u8], width: u32, alphabet: &[u8]) -> String {
    let mask = (1u32 << width) - 1;
    let mut out = String::with_capacity((bytes.len() * 8).div_ceil(width as usize));
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= width {
            bits -= width;
            out.push(char::from(alphabet[((acc >> bits) & mask) as usize]));
        }
        acc &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(char::from(
            alphabet[((acc << (width - bits)) & mask) as usize],
        ));
    }
    out
}

/// The inverse of [`encode_bits`], refusing leftovers that are not zero bits
/// of an incomplete byte.
fn decode_bits(text: &str, width: u32, alphabet: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * width as usize / 8);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let value = alphabet.iter().position(|&a| a == c)?;
        acc = (acc << width) | u32::try_from(value).ok()?;
        bits += width;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).ok()?);
        }
        acc &= (1 << bits) - 1;
    }
    // A whole character of leftover bits, or any set bit, is not canonical.
    (bits < width && acc == 0).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::{base32, base32_decode, base64, base64_decode, hex, hex_decode};

    // RFC 4648, section 10.
    const VECTORS: [(&str, &str, &str); 7] = [
        ("", "", ""),
        ("f", "MY", "Zg=="),
        ("fo", "MZXQ", "Zm8="),
        ("foo", "MZXW6", "Zm9v"),
        ("foob", "MZXW6YQ", "Zm9vYg=="),
        ("fooba", "MZXW6YTB", "Zm9vYmE="),
        ("foobar", "MZXW6YTBOI", "Zm9vYmFy"),
    ];

    #[test]
    fn rfc_4648_test_vectors() {
        for (plain, b32, b64) in VECTORS {
            assert_eq!(base32(plain.as_bytes()), b32);
            assert_eq!(base32_decode(b32).as_deref(), Some(plain.as_bytes()));
            assert_eq!(base64(plain.as_bytes()), b64);
            assert_eq!(base64_decode(b64).as_deref(), Some(plain.as_bytes()));
        }
    }

    #[test]
    fn hex_round_trips_and_refuses_junk() {
        let bytes: Vec<u8> = (0..=255).collect();
        assert_eq!(hex_decode(&hex(&bytes)), Some(bytes));
        assert_eq!(hex(&[0x0a, 0xff]), "0aff");
        for junk in ["0", "zz", "0g", "+1", "é0", "0AFF"] {
            assert_eq!(hex_decode(junk), None, "{junk}");
        }
    }

    #[test]
    fn base64_refuses_junk_and_stray_padding() {
        for junk in ["Zg", "Zg=", "Z===", "Zh==", "Zm9v=", "Zm 9", "Zm-v"] {
            assert_eq!(base64_decode(junk), None, "{junk}");
        }
    }

    #[test]
    fn base32_refuses_other_alphabets_lengths_and_padding_bits() {
        for junk in ["MY=", "my", "M", "MZX", "MZ", "MZXW6YTB1", "MZXW6Y"] {
            assert_eq!(base32_decode(junk), None, "{junk}");
        }
        for len in 0..40 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            assert_eq!(base32_decode(&base32(&bytes)), Some(bytes));
        }
    }
}
