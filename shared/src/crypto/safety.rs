//! Safety numbers: what two people compare (or scan) to know that no one sits
//! between them.
//!
//! Each side's fingerprint is computed as in Signal's numeric fingerprint:
//! SHA-512 over a version, the account identity key and the user id, then
//! iterated 5,200 times over the running hash and the key; its first 30
//! bytes read as six 5-digit groups. The safety number is both sides' 30
//! digits, the lower user id first, so both people see the same 60 digits.
//! The QR code holds the version and both fingerprints.

use crate::ids::{PublicKey, UserId};
use sha2::{Digest, Sha512};

const VERSION: u16 = 1;
const ITERATIONS: usize = 5_200;

fn fingerprint(user: UserId, account: &PublicKey) -> [u8; 30] {
    let mut hash = Sha512::new()
        .chain_update(VERSION.to_be_bytes())
        .chain_update(account.as_bytes())
        .chain_update(user.0.to_be_bytes())
        .finalize();
    for _ in 0..ITERATIONS {
        hash = Sha512::new()
            .chain_update(hash)
            .chain_update(account.as_bytes())
            .finalize();
    }
    let mut out = [0u8; 30];
    out.copy_from_slice(&hash[..30]);
    out
}

fn digits(fingerprint: &[u8; 30]) -> String {
    fingerprint
        .chunks(5)
        .map(|chunk| {
            let value = chunk.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
            format!("{:05}", value % 100_000)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The safety number of two users with their account keys: 12 groups of
/// five digits, the same on both sides.
pub fn safety_number(a: (UserId, &PublicKey), b: (UserId, &PublicKey)) -> String {
    let (first, second) = if a.0 <= b.0 { (a, b) } else { (b, a) };
    format!(
        "{} {}",
        digits(&fingerprint(first.0, first.1)),
        digits(&fingerprint(second.0, second.1))
    )
}

/// What the safety-number QR code holds, as text: version and both
/// fingerprints in hex, the lower user id first.
pub fn safety_qr_text(a: (UserId, &PublicKey), b: (UserId, &PublicKey)) -> String {
    let (first, second) = if a.0 <= b.0 { (a, b) } else { (b, a) };
    format!(
        "courier-safety:{VERSION}:{}:{}",
        crate::text_encoding::hex(&fingerprint(first.0, first.1)),
        crate::text_encoding::hex(&fingerprint(second.0, second.1))
    )
}

/// `text` as a QR code in SVG (200 px, with the standard four-module quiet
/// zone), for link codes and safety numbers. Each row's dark runs become one
/// path segment, which keeps both the markup and the code that writes it small.
/// The text is encoded as bytes in the smallest version that holds it, at
/// level M: `QrCode::new`'s search for the best mix of modes would add its
/// optimiser to the devices module (a few KB) to save a few modules.
pub fn qr_svg(text: &str) -> Option<String> {
    use qrcode::{EcLevel, QrCode, Version, bits::Bits};
    use std::fmt::Write;
    const QUIET: usize = 4;
    let code = (1..=40).find_map(|version| {
        let mut bits = Bits::new(Version::Normal(version));
        bits.push_byte_data(text.as_bytes()).ok()?;
        bits.push_terminator(EcLevel::M).ok()?;
        QrCode::with_bits(bits, EcLevel::M).ok()
    })?;
    let width = code.width();
    let size = width + 2 * QUIET;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" \
         width=\"200\" height=\"200\" shape-rendering=\"crispEdges\">\
         <rect width=\"{size}\" height=\"{size}\" fill=\"#fff\"/><path fill=\"#000\" d=\""
    );
    let colors = code.to_colors();
    for (y, row) in colors.chunks(width).enumerate() {
        let mut x = 0;
        while x < width {
            let run = row[x..]
                .iter()
                .take_while(|c| **c == qrcode::Color::Dark)
                .count();
            if run > 0 {
                let _ = write!(svg, "M{} {}h{run}v1h-{run}z", x + QUIET, y + QUIET);
            }
            x += run.max(1);
        }
    }
    svg.push_str("\"/></svg>");
    Some(svg)
}

#[cfg(test)]
mod tests {
    use super::{qr_svg, safety_number, safety_qr_text};
    use crate::ids::{PublicKey, UserId};

    #[test]
    fn both_sides_see_the_same_number_and_a_new_key_changes_it() {
        let alice = (UserId(1), PublicKey::new_const([1; 32]));
        let bob = (UserId(2), PublicKey::new_const([2; 32]));
        let mallory = PublicKey::new_const([3; 32]);
        let seen_by_alice = safety_number((alice.0, &alice.1), (bob.0, &bob.1));
        let seen_by_bob = safety_number((bob.0, &bob.1), (alice.0, &alice.1));
        assert_eq!(seen_by_alice, seen_by_bob);
        assert_eq!(seen_by_alice.split(' ').count(), 12);
        assert!(
            seen_by_alice
                .chars()
                .all(|c| c.is_ascii_digit() || c == ' ')
        );
        assert_ne!(
            seen_by_alice,
            safety_number((alice.0, &alice.1), (bob.0, &mallory))
        );
        let qr = safety_qr_text((alice.0, &alice.1), (bob.0, &bob.1));
        let svg = qr_svg(&qr).unwrap();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        #[cfg(not(target_arch = "wasm32"))]
        assert_eq!(scan(&svg), qr);
    }

    /// Rasterises the SVG's path (`M x y h n v1 h-n z` per dark run, four
    /// pixels per module) and decodes it with an independent QR reader.
    #[cfg(not(target_arch = "wasm32"))]
    fn scan(svg: &str) -> String {
        let size: usize = svg
            .split("viewBox=\"0 0 ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .expect("viewBox");
        let path = svg.split(" d=\"").nth(1).expect("path");
        let mut dark = vec![false; size * size];
        for run in path.split('M').skip(1) {
            let numbers: Vec<usize> = run
                .split(|c: char| !c.is_ascii_digit())
                .filter(|n| !n.is_empty())
                .map(|n| n.parse().expect("number"))
                .collect();
            let (x, y, len) = (numbers[0], numbers[1], numbers[2]);
            for cell in &mut dark[y * size + x..y * size + x + len] {
                *cell = true;
            }
        }
        const SCALE: usize = 4;
        let mut image =
            rqrr::PreparedImage::prepare_from_greyscale(size * SCALE, size * SCALE, |x, y| {
                if dark[(y / SCALE) * size + x / SCALE] {
                    0
                } else {
                    255
                }
            });
        let grids = image.detect_grids();
        assert_eq!(grids.len(), 1, "one QR code");
        grids[0].decode().expect("decodes").1
    }
}
