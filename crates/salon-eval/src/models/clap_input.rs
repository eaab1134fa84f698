//! CLAP's audio frontend in plain Rust, as transformers' `ClapFeatureExtractor` computes it for
//! unfused checkpoints (truncation "rand_trunc"): 48 kHz mono, 10 s windows, log-mel (dB) with a
//! slaney mel bank, `[frames, mel bins]` out.

use rayon::prelude::*;
use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};
use serde::Deserialize;
use std::path::Path;
use std::sync::Arc;

/// Why features could not be computed or configured.
#[derive(Debug, thiserror::Error)]
pub enum FeatureError {
    /// A clip holds no samples.
    #[error("clip {index} is empty: CLAP needs at least one sample of 48 kHz audio")]
    EmptyClip {
        /// Its position in the batch.
        index: usize,
    },
    /// `preprocessor_config.json` is unreadable or asks for something unsupported.
    #[error("bad CLAP preprocessor config {path}: {reason}")]
    Config {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

/// How clips shorter than the window are filled (`padding` in `preprocessor_config.json`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Padding {
    /// Repeat the clip a whole number of times, then pad with zeros (the default).
    Repeatpad,
    /// Repeat the clip and cut it at the window length.
    Repeat,
    /// Pad with zeros.
    Pad,
}

/// The extractor's settings, named as in a checkpoint's `preprocessor_config.json`; defaults are
/// `ClapFeatureExtractor()`'s.
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct FeatureParams {
    /// Mel bins (`feature_size`).
    pub feature_size: usize,
    /// Sample rate the model expects.
    pub sampling_rate: usize,
    /// STFT hop in samples.
    pub hop_length: usize,
    /// Window length in seconds.
    pub max_length_s: usize,
    /// FFT size (= Hann window length).
    pub fft_window_size: usize,
    /// Lowest mel frequency in Hz.
    pub frequency_min: f64,
    /// Highest mel frequency in Hz.
    pub frequency_max: f64,
    /// Filling of short clips.
    pub padding: Padding,
}

impl Default for FeatureParams {
    fn default() -> Self {
        Self {
            feature_size: 64,
            sampling_rate: 48_000,
            hop_length: 480,
            max_length_s: 10,
            fft_window_size: 1024,
            frequency_min: 0.0,
            frequency_max: 14_000.0,
            padding: Padding::Repeatpad,
        }
    }
}

impl FeatureParams {
    /// Reads `preprocessor_config.json` (unknown keys ignored, missing ones defaulted).
    pub fn from_file(path: &Path) -> Result<Self, FeatureError> {
        let bad = |reason: String| FeatureError::Config {
            path: path.display().to_string(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
        let p: Self = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        if p.hop_length == 0
            || p.fft_window_size < 2
            || p.feature_size == 0
            || p.max_length_s == 0
            || p.frequency_min > p.frequency_max
        {
            return Err(bad(format!("unusable settings {p:?}")));
        }
        Ok(p)
    }
}

/// One mel filter: its first FFT bin and its weights from there.
#[derive(Clone, Debug)]
struct Filter {
    start: usize,
    weights: Vec<f64>,
}

/// The CLAP log-mel extractor: `[frames, mel bins]` row-major per clip.
///
/// Clips longer than the window are cut to their FIRST `max_length_s` seconds. transformers'
/// "rand_trunc" takes a random window instead; ours is deterministic so that a validator scores
/// the same clip the same way every time (pass a clip of at most 10 s, or its first 10 s, to the
/// reference to compare). Shorter clips are filled as `padding` says ("repeatpad" by default).
#[derive(Clone)]
pub struct ClapFeatureExtractor {
    params: FeatureParams,
    window: Vec<f64>,
    filters: Vec<Filter>,
    fft: Arc<dyn Fft<f64>>,
}

impl std::fmt::Debug for ClapFeatureExtractor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClapFeatureExtractor")
            .field("params", &self.params)
            .finish()
    }
}

/// Hz to mel on the slaney scale (linear below 1 kHz, logarithmic above).
fn hz_to_mel(hz: f64) -> f64 {
    if hz >= 1000.0 {
        15.0 + (hz / 1000.0).ln() * (27.0 / 6.4f64.ln())
    } else {
        3.0 * hz / 200.0
    }
}

/// Mel to Hz on the slaney scale.
fn mel_to_hz(mel: f64) -> f64 {
    if mel >= 15.0 {
        1000.0 * ((6.4f64.ln() / 27.0) * (mel - 15.0)).exp()
    } else {
        200.0 * mel / 3.0
    }
}

/// Evenly spaced values from `a` to `b` inclusive, as numpy's linspace computes them.
fn linspace(a: f64, b: f64, n: usize) -> Vec<f64> {
    if n == 1 {
        return vec![a];
    }
    let step = (b - a) / (n - 1) as f64;
    let mut v: Vec<f64> = (0..n).map(|i| a + i as f64 * step).collect();
    v[n - 1] = b;
    v
}

impl ClapFeatureExtractor {
    /// Builds the extractor: periodic Hann window, slaney-normalised slaney-scale mel bank.
    pub fn new(params: FeatureParams) -> Self {
        let n_fft = params.fft_window_size;
        let bins = n_fft / 2 + 1;
        let window = (0..n_fft)
            .map(|i| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n_fft as f64).cos())
            .collect();
        let n_mels = params.feature_size;
        let mels = linspace(
            hz_to_mel(params.frequency_min),
            hz_to_mel(params.frequency_max),
            n_mels + 2,
        );
        let centers: Vec<f64> = mels.iter().map(|&m| mel_to_hz(m)).collect();
        let fft_freqs = linspace(0.0, (params.sampling_rate / 2) as f64, bins);
        let filters = (0..n_mels)
            .map(|m| {
                let (lo, mid, hi) = (centers[m], centers[m + 1], centers[m + 2]);
                let enorm = 2.0 / (hi - lo);
                let w: Vec<f64> = fft_freqs
                    .iter()
                    .map(|&f| {
                        let down = (f - lo) / (mid - lo);
                        let up = (hi - f) / (hi - mid);
                        down.min(up).max(0.0) * enorm
                    })
                    .collect();
                let start = w.iter().position(|&v| v != 0.0).unwrap_or(0);
                let end = w.iter().rposition(|&v| v != 0.0).map_or(start, |e| e + 1);
                Filter {
                    start,
                    weights: w[start..end].to_vec(),
                }
            })
            .collect();
        let fft = FftPlanner::new().plan_fft_forward(n_fft);
        Self {
            params,
            window,
            filters,
            fft,
        }
    }

    /// The settings in use.
    pub fn params(&self) -> &FeatureParams {
        &self.params
    }

    /// Samples in one window (480 000 at 48 kHz and 10 s).
    pub fn max_samples(&self) -> usize {
        self.params.max_length_s * self.params.sampling_rate
    }

    /// Frames per clip (1001 for the defaults).
    pub fn frames(&self) -> usize {
        self.max_samples() / self.params.hop_length + 1
    }

    /// Mel bins per frame.
    pub fn mel_bins(&self) -> usize {
        self.params.feature_size
    }

    /// The clip cut or filled to exactly one window, in f64.
    fn fit(&self, clip: &[f32]) -> Vec<f64> {
        let max = self.max_samples();
        let mut out: Vec<f64> = Vec::with_capacity(max);
        if clip.len() >= max {
            out.extend(clip[..max].iter().map(|&v| v as f64));
            return out;
        }
        match self.params.padding {
            Padding::Repeatpad => {
                for _ in 0..max / clip.len() {
                    out.extend(clip.iter().map(|&v| v as f64));
                }
            }
            Padding::Repeat => {
                while out.len() < max {
                    let take = clip.len().min(max - out.len());
                    out.extend(clip[..take].iter().map(|&v| v as f64));
                }
            }
            Padding::Pad => out.extend(clip.iter().map(|&v| v as f64)),
        }
        out.resize(max, 0.0);
        out
    }

    /// Log-mel features `[frames * mel bins]` (row-major, frame by frame) of one 48 kHz clip.
    pub fn extract(&self, clip: &[f32]) -> Result<Vec<f32>, FeatureError> {
        if clip.is_empty() {
            return Err(FeatureError::EmptyClip { index: 0 });
        }
        let wave = self.fit(clip);
        let n_fft = self.params.fft_window_size;
        let half = n_fft / 2;
        // Centre padding by reflection (the edge sample itself is not repeated).
        let n = wave.len();
        let reflect = |i: isize| -> f64 {
            let mut j = i;
            let last = n as isize - 1;
            if last == 0 {
                return wave[0];
            }
            loop {
                if j < 0 {
                    j = -j;
                } else if j > last {
                    j = 2 * last - j;
                } else {
                    return wave[j as usize];
                }
            }
        };
        let frames = self.frames();
        let hop = self.params.hop_length;
        let n_mels = self.mel_bins();
        let mut out = vec![0.0f32; frames * n_mels];
        let scratch_len = self.fft.get_inplace_scratch_len();
        let buffers = || {
            (
                vec![Complex::new(0.0f64, 0.0); n_fft],
                vec![Complex::new(0.0f64, 0.0); scratch_len],
                vec![0.0f64; half + 1],
            )
        };
        // Frames are independent: a 10 s window's 1,001 are shared out across threads.
        out.par_chunks_mut(n_mels)
            .enumerate()
            .with_min_len(64)
            .for_each_init(buffers, |(buf, scratch, power), (t, row)| {
                let origin = (t * hop) as isize - half as isize;
                for (k, b) in buf.iter_mut().enumerate() {
                    *b = Complex::new(reflect(origin + k as isize) * self.window[k], 0.0);
                }
                self.fft.process_with_scratch(buf, scratch);
                for (p, c) in power.iter_mut().zip(buf.iter()) {
                    // numpy keeps the spectrum as complex64 before squaring its magnitude.
                    let (re, im) = (c.re as f32 as f64, c.im as f32 as f64);
                    *p = re * re + im * im;
                }
                for (f, y) in self.filters.iter().zip(row.iter_mut()) {
                    let mel: f64 = f
                        .weights
                        .iter()
                        .zip(&power[f.start..])
                        .map(|(w, p)| w * p)
                        .sum();
                    *y = (10.0 * mel.max(1e-10).log10()) as f32;
                }
            });
        Ok(out)
    }

    /// Features of several clips, `[clips * frames * mel bins]`, clips and frames in parallel.
    pub fn extract_batch(&self, clips: &[&[f32]]) -> Result<Vec<f32>, FeatureError> {
        if let Some(index) = clips.iter().position(|c| c.is_empty()) {
            return Err(FeatureError::EmptyClip { index });
        }
        let per = self.frames() * self.mel_bins();
        let mut out = vec![0.0f32; clips.len() * per];
        out.par_chunks_mut(per)
            .zip(clips.par_iter())
            .try_for_each(|(dst, clip)| {
                dst.copy_from_slice(&self.extract(clip)?);
                Ok(())
            })?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_clips_are_repeated_then_zero_padded() {
        let fe = ClapFeatureExtractor::new(FeatureParams {
            max_length_s: 1,
            sampling_rate: 10,
            ..Default::default()
        });
        let got = fe.fit(&[1.0, 2.0, 3.0]);
        assert_eq!(got, vec![1.0, 2.0, 3.0, 1.0, 2.0, 3.0, 1.0, 2.0, 3.0, 0.0]);
        let long: Vec<f32> = (0..25).map(|v| v as f32).collect();
        assert_eq!(fe.fit(&long), (0..10).map(|v| v as f64).collect::<Vec<_>>());
    }

    #[test]
    fn empty_clip_is_an_error() {
        let fe = ClapFeatureExtractor::new(FeatureParams::default());
        let err = fe.extract_batch(&[&[0.1f32; 10], &[]]).unwrap_err();
        assert!(matches!(err, FeatureError::EmptyClip { index: 1 }), "{err}");
    }
}
