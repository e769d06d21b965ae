//! WAV (RIFF, 16-bit PCM, mono): the voice-note format every browser
//! plays. A recording the browser could only make in a format another
//! engine may not play (Safari's AAC in MP4 before Opus, say) is decoded by
//! the browser and re-encoded here. Input: samples in −1…1 at a sample
//! rate; output: the file's bytes, at most [`MAX_RATE`] samples a second.

/// The highest sample rate written: enough for speech, and a third of the
/// bytes of 48 kHz.
pub const MAX_RATE: u32 = 16_000;

/// `samples` (−1…1, at `rate` Hz) as a mono 16-bit WAV file, averaged down
/// by a whole factor to at most [`MAX_RATE`] Hz.
pub fn encode(samples: &[f32], rate: u32) -> Vec<u8> {
    let factor = (rate / MAX_RATE).max(1) as usize;
    let out_rate = (rate / factor as u32).max(1);
    let pcm: Vec<i16> = samples
        .chunks(factor)
        .map(|part| {
            let mean = part.iter().sum::<f32>() / part.len() as f32;
            (mean.clamp(-1.0, 1.0) * f32::from(i16::MAX)) as i16
        })
        .collect();
    let data_len = u32::try_from(pcm.len() * 2).unwrap_or(u32::MAX - 36);
    let mut out = Vec::with_capacity(44 + pcm.len() * 2);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&out_rate.to_le_bytes());
    out.extend_from_slice(&(out_rate * 2).to_le_bytes()); // bytes a second
    out.extend_from_slice(&2u16.to_le_bytes()); // bytes a frame
    out.extend_from_slice(&16u16.to_le_bytes()); // bits a sample
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for sample in pcm {
        out.extend_from_slice(&sample.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_samples_at_48_khz_become_one_at_16_khz_byte_for_byte() {
        let wav = encode(&[0.5, 0.5, 0.5, -1.0, -1.0, -1.0], 48_000);
        let mut want = Vec::new();
        want.extend_from_slice(b"RIFF");
        want.extend_from_slice(&40u32.to_le_bytes());
        want.extend_from_slice(b"WAVEfmt ");
        want.extend_from_slice(&[16, 0, 0, 0, 1, 0, 1, 0]);
        want.extend_from_slice(&16_000u32.to_le_bytes());
        want.extend_from_slice(&32_000u32.to_le_bytes());
        want.extend_from_slice(&[2, 0, 16, 0]);
        want.extend_from_slice(b"data");
        want.extend_from_slice(&4u32.to_le_bytes());
        want.extend_from_slice(&16_383i16.to_le_bytes());
        want.extend_from_slice(&(-32_767i16).to_le_bytes());
        assert_eq!(wav, want);
    }

    #[test]
    fn a_low_rate_is_kept_and_loud_samples_are_clipped() {
        let wav = encode(&[2.0], 8_000);
        assert_eq!(&wav[24..28], &8_000u32.to_le_bytes());
        assert_eq!(&wav[44..], &i16::MAX.to_le_bytes());
    }
}
