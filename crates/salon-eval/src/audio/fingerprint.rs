//! Audio fingerprints in the manner of Haitsma and Kalker: signs of band-energy differences across
//! frequency and time. They survive gain, moderate noise and small shifts, and differ between clips.

use super::analysis::{analysis_signal, ANALYSIS_RATE};
use crate::Fingerprint;
use rustfft::{num_complex::Complex32, FftPlanner};
use salon_core::Audio;

/// Frames per fingerprint (evenly spread over the clip, so every clip gives the same length).
pub const FRAMES: usize = 128;
/// Frequency bands per frame (one bit per adjacent pair).
pub const BANDS: usize = 17;
const FRAME_LEN: usize = 4096;
const LO_HZ: f32 = 300.0;
const HI_HZ: f32 = 3000.0;

/// The fingerprint of `audio`: (FRAMES - 1) x (BANDS - 1) bits. Silence gives all zeros.
pub fn audio_fingerprint(audio: &Audio) -> Fingerprint {
    let signal = analysis_signal(audio);
    let fft = FftPlanner::<f32>::new().plan_fft_forward(FRAME_LEN);
    let window: Vec<f32> = (0..FRAME_LEN)
        .map(|i| 0.5 - 0.5 * (std::f32::consts::TAU * i as f32 / FRAME_LEN as f32).cos())
        .collect();
    let bin = |hz: f32| (hz * FRAME_LEN as f32 / ANALYSIS_RATE as f32).round() as usize;
    let edges: Vec<usize> = (0..=BANDS)
        .map(|k| bin(LO_HZ * (HI_HZ / LO_HZ).powf(k as f32 / BANDS as f32)))
        .collect();
    let mut buf = vec![Complex32::new(0.0, 0.0); FRAME_LEN];
    let mut scratch = vec![Complex32::new(0.0, 0.0); fft.get_inplace_scratch_len()];
    let mut energies = vec![[0.0f32; BANDS]; FRAMES];
    let span = signal.len().saturating_sub(FRAME_LEN);
    for (f, e) in energies.iter_mut().enumerate() {
        let start = span * f / (FRAMES - 1);
        for (i, c) in buf.iter_mut().enumerate() {
            let x = signal.get(start + i).copied().unwrap_or(0.0);
            *c = Complex32::new(x * window[i], 0.0);
        }
        fft.process_with_scratch(&mut buf, &mut scratch);
        for (k, band) in e.iter_mut().enumerate() {
            *band = buf[edges[k]..edges[k + 1].max(edges[k] + 1)]
                .iter()
                .map(|c| c.norm_sqr())
                .sum();
        }
    }
    let bits = (1..FRAMES).flat_map(|f| {
        let (cur, prev) = (energies[f], energies[f - 1]);
        (0..BANDS - 1).map(move |m| (cur[m] - cur[m + 1]) - (prev[m] - prev[m + 1]) > 0.0)
    });
    Fingerprint::from_bools(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic melody of decaying tones with some noise texture.
    fn melody(seed: u32, secs: f32, note_secs: f32) -> Vec<f32> {
        let rate = 16000.0;
        let n = (secs * rate) as usize;
        let mut state = seed.wrapping_mul(2_654_435_761).max(1);
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as f32 / u32::MAX as f32
        };
        let mut out = vec![0.0f32; n];
        let note_len = (note_secs * rate) as usize;
        let mut start = 0;
        while start < n {
            let hz = 200.0 * 2f32.powf((next() * 24.0).floor() / 12.0);
            for i in 0..note_len.min(n - start) {
                let t = i as f32 / rate;
                let env = (-t * 6.0).exp();
                out[start + i] += env
                    * ((std::f32::consts::TAU * hz * t).sin()
                        + 0.4 * (std::f32::consts::TAU * 2.0 * hz * t).sin());
            }
            start += note_len;
        }
        out
    }

    fn noisy(x: &[f32], snr_db: f32, seed: u32) -> Vec<f32> {
        let p = x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32;
        let sigma = (p / 10f32.powf(snr_db / 10.0)).sqrt() * 3f32.sqrt();
        let mut state = seed.max(1);
        x.iter()
            .map(|v| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                v + sigma * (state as f32 / u32::MAX as f32 * 2.0 - 1.0)
            })
            .collect()
    }

    #[test]
    fn survives_noise_gain_and_shift_but_tells_clips_apart() {
        let a = melody(1, 10.0, 0.25);
        let fa = audio_fingerprint(&Audio::mono(a.clone(), 16000));
        assert_eq!(fa.len, (FRAMES - 1) * (BANDS - 1));

        let loud: Vec<f32> = a.iter().map(|v| v * 0.3).collect();
        assert!(fa.similarity(&audio_fingerprint(&Audio::mono(loud, 16000))) > 0.99);

        let with_noise = noisy(&a, 20.0, 7);
        let s_noise = fa.similarity(&audio_fingerprint(&Audio::mono(with_noise, 16000)));
        assert!(s_noise > 0.8, "noise: {s_noise}");

        let mut shifted = vec![0.0f32; 480]; // 30 ms
        shifted.extend_from_slice(&a);
        let s_shift = fa.similarity(&audio_fingerprint(&Audio::mono(shifted, 16000)));
        assert!(s_shift > 0.8, "shift: {s_shift}");

        let b = melody(2, 10.0, 0.3);
        let s_other = fa.similarity(&audio_fingerprint(&Audio::mono(b, 16000)));
        assert!(s_other < 0.65, "other clip: {s_other}");
    }
}
