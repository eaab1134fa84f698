//! VGGish's input: log-mel examples exactly as torchvggish's `waveform_to_examples` computes them
//! at 16 kHz (25 ms periodic-Hann frames every 10 ms, 512-point FFT magnitudes, 64 HTK mel bands
//! 125-7500 Hz with the DC bin excluded, log(mel + 0.01), non-overlapping 96-frame examples), in f64.

use rayon::prelude::*;
use rustfft::{num_complex::Complex64, FftPlanner};
use salon_core::Audio;

/// Sample rate VGGish expects.
pub const SAMPLE_RATE: u32 = 16_000;
/// Frames per example (0.96 s).
pub const NUM_FRAMES: usize = 96;
/// Mel bands per frame.
pub const NUM_BANDS: usize = 64;
const WINDOW: usize = 400;
const HOP: usize = 160;
const FFT: usize = 512;
const BINS: usize = FFT / 2 + 1;
const MEL_LO_HZ: f64 = 125.0;
const MEL_HI_HZ: f64 = 7500.0;
const LOG_OFFSET: f64 = 0.01;

/// Log-mel examples: `count` patches of [NUM_FRAMES, NUM_BANDS], row-major, one after another.
#[derive(Clone, Debug, PartialEq)]
pub struct Examples {
    /// Number of examples (0.96 s each).
    pub count: usize,
    /// count * NUM_FRAMES * NUM_BANDS values.
    pub data: Vec<f32>,
}

fn hz_to_mel(hz: f64) -> f64 {
    1127.0 * (1.0 + hz / 700.0).ln()
}

/// numpy's linspace(start, stop, n): start + i * step, the last value exactly `stop`.
fn linspace(start: f64, stop: f64, n: usize) -> Vec<f64> {
    let step = (stop - start) / (n - 1) as f64;
    (0..n)
        .map(|i| {
            if i == n - 1 {
                stop
            } else {
                i as f64 * step + start
            }
        })
        .collect()
}

/// The [BINS, NUM_BANDS] matrix of triangular mel weights (row-major), DC row zero.
fn mel_matrix() -> Vec<f64> {
    let bins_mel: Vec<f64> = linspace(0.0, SAMPLE_RATE as f64 / 2.0, BINS)
        .into_iter()
        .map(hz_to_mel)
        .collect();
    let edges = linspace(hz_to_mel(MEL_LO_HZ), hz_to_mel(MEL_HI_HZ), NUM_BANDS + 2);
    let mut m = vec![0.0; BINS * NUM_BANDS];
    for band in 0..NUM_BANDS {
        let (lo, mid, hi) = (edges[band], edges[band + 1], edges[band + 2]);
        for (bin, &mel) in bins_mel.iter().enumerate().skip(1) {
            let lower = (mel - lo) / (mid - lo);
            let upper = (hi - mel) / (hi - mid);
            m[bin * NUM_BANDS + band] = lower.min(upper).max(0.0);
        }
    }
    m
}

/// What every frame needs, built once per process: the periodic Hann window, the FFT plan, and
/// the mel weights kept as each bin's non-zero (band, weight) pairs (the triangles overlap in
/// pairs, so a bin feeds at most two bands; summing only those is what makes a frame cheap).
struct Frontend {
    window: Vec<f64>,
    fft: std::sync::Arc<dyn rustfft::Fft<f64>>,
    /// For bins 0..BINS: the bands it feeds, ascending, with their weights.
    bin_bands: Vec<Vec<(usize, f64)>>,
}

fn frontend() -> &'static Frontend {
    static FRONTEND: std::sync::OnceLock<Frontend> = std::sync::OnceLock::new();
    FRONTEND.get_or_init(|| {
        let mel = mel_matrix();
        Frontend {
            window: (0..WINDOW)
                .map(|i| 0.5 - 0.5 * (2.0 * std::f64::consts::PI / WINDOW as f64 * i as f64).cos())
                .collect(),
            fft: FftPlanner::<f64>::new().plan_fft_forward(FFT),
            bin_bands: (0..BINS)
                .map(|bin| {
                    (0..NUM_BANDS)
                        .map(|band| (band, mel[bin * NUM_BANDS + band]))
                        .filter(|&(_, w)| w != 0.0)
                        .collect()
                })
                .collect(),
        }
    })
}

/// Log-mel frames of a 16 kHz mono signal: [frames, NUM_BANDS] in f64.
pub fn log_mel(samples: &[f32]) -> Vec<[f64; NUM_BANDS]> {
    if samples.len() < WINDOW {
        return Vec::new();
    }
    let frames = 1 + (samples.len() - WINDOW) / HOP;
    let fe = frontend();
    let windowed = |f: usize, i: usize| -> f64 {
        match (f < frames, i < WINDOW) {
            (true, true) => samples[f * HOP + i] as f64 * fe.window[i],
            _ => 0.0,
        }
    };
    let to_row = |magnitude: &dyn Fn(usize) -> f64| -> [f64; NUM_BANDS] {
        let mut row = [0.0f64; NUM_BANDS];
        for (bin, bands) in fe.bin_bands.iter().enumerate() {
            let a = magnitude(bin);
            for &(band, w) in bands {
                row[band] += a * w;
            }
        }
        row.map(|r| (r + LOG_OFFSET).ln())
    };
    // Two real frames share one complex FFT (frame f as the real part, f + 1 as the imaginary
    // part), separated by the spectrum's conjugate symmetry. Pairs are shared out across threads.
    let pair = |buf: &mut Vec<Complex64>, p: usize| -> [[f64; NUM_BANDS]; 2] {
        let (f, g) = (2 * p, 2 * p + 1);
        for (i, c) in buf.iter_mut().enumerate() {
            *c = Complex64::new(windowed(f, i), windowed(g, i));
        }
        fe.fft.process(buf);
        let z = &*buf;
        let split = |k: usize| {
            let (zk, zc) = (z[k], z[(FFT - k) % FFT].conj());
            ((zk + zc) * 0.5, (zk - zc) * Complex64::new(0.0, -0.5))
        };
        [
            to_row(&|k| split(k).0.norm_sqr().sqrt()),
            to_row(&|k| split(k).1.norm_sqr().sqrt()),
        ]
    };
    let mut rows: Vec<[f64; NUM_BANDS]> = (0..frames.div_ceil(2))
        .into_par_iter()
        .with_min_len(64)
        .map_init(|| vec![Complex64::new(0.0, 0.0); FFT], pair)
        .flat_map_iter(|rows| rows.into_iter())
        .collect();
    rows.truncate(frames);
    rows
}

/// Non-overlapping 96-frame log-mel examples of a 16 kHz mono signal (a tail under 0.96 s is
/// dropped, as torchvggish does).
pub fn waveform_to_examples(samples_16k: &[f32]) -> Examples {
    let frames = log_mel(samples_16k);
    let count = frames.len() / NUM_FRAMES;
    let data = frames[..count * NUM_FRAMES]
        .iter()
        .flat_map(|row| row.iter().map(|&v| v as f32))
        .collect();
    Examples { count, data }
}

/// Examples of any clip: mixed to mono and resampled to 16 kHz (linear interpolation, where the
/// peers use resampy; identical for 16 kHz input).
pub fn audio_to_examples(audio: &Audio) -> Examples {
    if audio.sample_rate == SAMPLE_RATE {
        waveform_to_examples(&audio.mono_samples())
    } else {
        waveform_to_examples(&audio.resample_linear(SAMPLE_RATE).samples)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_frames_and_examples_as_torchvggish() {
        // 2 s: 1 + (32000 - 400) / 160 = 198 frames, 2 examples.
        let two = waveform_to_examples(&vec![0.1; 32000]);
        assert_eq!(two.count, 2);
        assert_eq!(two.data.len(), 2 * NUM_FRAMES * NUM_BANDS);
        assert_eq!(log_mel(&vec![0.0; 32000]).len(), 198);
        assert_eq!(waveform_to_examples(&[0.0; 300]).count, 0);
        // Silence: log(0 + 0.01) everywhere.
        let silent = waveform_to_examples(&vec![0.0; 16000]);
        assert!(silent
            .data
            .iter()
            .all(|&v| (v as f64 - 0.01f64.ln()).abs() < 1e-6));
    }

    #[test]
    fn a_tone_lands_in_its_mel_band() {
        let tone: Vec<f32> = (0..16000)
            .map(|i| (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / 16000.0).sin())
            .collect();
        let frames = log_mel(&tone);
        let row = frames[50];
        let best = (0..NUM_BANDS)
            .max_by(|&a, &b| row[a].total_cmp(&row[b]))
            .unwrap();
        // 1 kHz sits near mel 1000: band centres are evenly spaced in mel from 125 to 7500 Hz.
        let edges = linspace(hz_to_mel(MEL_LO_HZ), hz_to_mel(MEL_HI_HZ), NUM_BANDS + 2);
        let centre_hz = 700.0 * ((edges[best + 1] / 1127.0).exp() - 1.0);
        assert!(
            (centre_hz - 1000.0).abs() < 60.0,
            "band {best} centred at {centre_hz} Hz"
        );
    }
}
