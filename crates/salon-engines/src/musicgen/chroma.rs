//! Chroma features of a reference melody for MusicGen Melody, as transformers'
//! `MusicgenMelodyFeatureExtractor` computes them: power STFT (16384-point Hann, hop 4096,
//! centred), librosa's chroma filter bank, and the dominant pitch class per frame as a one-hot.

use std::sync::Arc;

use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};

/// Turns 32 kHz mono audio into one-hot chroma frames.
#[derive(Clone)]
pub struct ChromaExtractor {
    n_fft: usize,
    hop: usize,
    max_samples: usize,
    num_chroma: usize,
    /// (num_chroma, n_fft / 2 + 1), row-major.
    filters: Vec<f64>,
    window: Vec<f64>,
    fft: Arc<dyn Fft<f64>>,
}

impl std::fmt::Debug for ChromaExtractor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChromaExtractor")
            .field("n_fft", &self.n_fft)
            .field("hop", &self.hop)
            .finish()
    }
}

impl ChromaExtractor {
    /// MusicGen Melody's extractor: 16384-point FFT, hop 4096, at most 30 s of audio.
    pub fn new(sample_rate: u32, num_chroma: usize) -> Self {
        let n_fft = 16384;
        let window = (0..n_fft)
            .map(|n| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * n as f64 / n_fft as f64).cos())
            .collect();
        Self {
            n_fft,
            hop: 4096,
            max_samples: 30 * sample_rate as usize,
            num_chroma,
            filters: chroma_filter_bank(n_fft, num_chroma, sample_rate as f64),
            window,
            fft: FftPlanner::new().plan_fft_forward(n_fft),
        }
    }

    /// One-hot chroma frames (frames, num_chroma) of `wav`; 1 + len / 4096 frames.
    pub fn one_hot(&self, wav: &[f32]) -> Vec<Vec<f32>> {
        let mut x: Vec<f64> = wav
            .iter()
            .take(self.max_samples)
            .map(|s| *s as f64)
            .collect();
        if x.len() < self.n_fft {
            let pad = self.n_fft - x.len();
            let mut padded = vec![0.0; pad / 2];
            padded.extend(&x);
            padded.extend(std::iter::repeat_n(0.0, pad / 2 + pad % 2));
            x = padded;
        }
        // Centre the frames: reflect-pad n_fft / 2 on both sides.
        let half = self.n_fft / 2;
        let n = x.len();
        let mut padded = Vec::with_capacity(n + 2 * half);
        padded.extend((1..=half).rev().map(|i| x[i]));
        padded.extend(&x);
        padded.extend((0..half).map(|i| x[n - 2 - i]));
        let frames = 1 + n / self.hop;
        let bins = self.n_fft / 2 + 1;
        let mut buf = vec![Complex::new(0.0, 0.0); self.n_fft];
        let mut out = Vec::with_capacity(frames);
        for f in 0..frames {
            let start = f * self.hop;
            for (i, b) in buf.iter_mut().enumerate() {
                *b = Complex::new(padded[start + i] * self.window[i], 0.0);
            }
            self.fft.process(&mut buf);
            let power: Vec<f64> = buf[..bins].iter().map(|c| c.norm_sqr()).collect();
            let mut best = (0, f64::NEG_INFINITY);
            for c in 0..self.num_chroma {
                let row = &self.filters[c * bins..(c + 1) * bins];
                let v: f64 = row.iter().zip(&power).map(|(w, p)| w * p).sum();
                if v > best.1 {
                    best = (c, v);
                }
            }
            let mut one_hot = vec![0f32; self.num_chroma];
            one_hot[best.0] = 1.0;
            out.push(one_hot);
        }
        out
    }
}

/// librosa's chroma filter bank (as transformers' `chroma_filter_bank` with tuning 0, power 2,
/// weighting (5, 2), starting at C): (num_chroma, n_fft / 2 + 1), row-major.
fn chroma_filter_bank(n_fft: usize, num_chroma: usize, sample_rate: f64) -> Vec<f64> {
    let nc = num_chroma as f64;
    // Octave number of each FFT bin (A440 / 16 = octave 0), bin 0 made up 1.5 octaves below bin 1.
    let mut freq_bins: Vec<f64> = (1..n_fft)
        .map(|i| nc * (i as f64 * sample_rate / n_fft as f64 / (440.0 / 16.0)).log2())
        .collect();
    freq_bins.insert(0, freq_bins[0] - 1.5 * nc);
    let mut widths: Vec<f64> = freq_bins
        .windows(2)
        .map(|w| (w[1] - w[0]).max(1.0))
        .collect();
    widths.push(1.0);
    let half = (nc / 2.0).round();
    let mut filters = vec![0.0; num_chroma * n_fft];
    for (j, (fb, width)) in freq_bins.iter().zip(&widths).enumerate() {
        for c in 0..num_chroma {
            let d = (fb - c as f64 + half + 10.0 * nc).rem_euclid(nc) - half;
            filters[c * n_fft + j] = (-0.5 * (2.0 * d / width).powi(2)).exp();
        }
        let norm = (0..num_chroma)
            .map(|c| filters[c * n_fft + j].powi(2))
            .sum::<f64>()
            .sqrt();
        let weight = (-0.5 * ((fb / nc - 5.0) / 2.0).powi(2)).exp();
        for c in 0..num_chroma {
            filters[c * n_fft + j] = filters[c * n_fft + j] / norm * weight;
        }
    }
    // Start at C (roll by -3 rows) and keep the non-negative frequencies.
    let bins = n_fft / 2 + 1;
    let shift = 3 * (num_chroma / 12);
    let mut out = Vec::with_capacity(num_chroma * bins);
    for c in 0..num_chroma {
        let src = (c + shift) % num_chroma;
        out.extend_from_slice(&filters[src * n_fft..src * n_fft + bins]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(freq: f64, secs: f64) -> Vec<f32> {
        (0..(secs * 32000.0) as usize)
            .map(|i| (2.0 * std::f64::consts::PI * freq * i as f64 / 32000.0).sin() as f32 * 0.5)
            .collect()
    }

    #[test]
    fn pure_tones_land_on_their_pitch_class() {
        let ex = ChromaExtractor::new(32000, 12);
        // C4, E4, G4, A4 -> classes 0, 4, 7, 9 (the bank starts at C).
        for (freq, class) in [(261.63, 0), (329.63, 4), (392.0, 7), (440.0, 9)] {
            let frames = ex.one_hot(&tone(freq, 1.0));
            assert_eq!(frames.len(), 1 + 32000 / 4096);
            for f in &frames {
                assert_eq!(f.iter().position(|v| *v == 1.0), Some(class), "{freq} Hz");
                assert_eq!(f.iter().sum::<f32>(), 1.0);
            }
        }
    }
}
