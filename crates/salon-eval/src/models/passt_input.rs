//! PaSST's input: hear21passt's `AugmentMelSTFT` in eval mode at 32 kHz (pre-emphasis 0.97, centred
//! reflect-padded 1024-point STFT of an 800-sample symmetric Hann every 320 samples, power, 128
//! Kaldi mel bands 0-15000 Hz, (ln(mel + 1e-5) + 4.5) / 5), in f64; and audiocraft's 10 s segmenting.

use rayon::prelude::*;
use rustfft::{num_complex::Complex64, Fft, FftPlanner};
use salon_core::Audio;
use std::sync::Arc;

/// Sample rate PaSST expects.
pub const SAMPLE_RATE: u32 = 32_000;
/// Mel bands per frame (the image height).
pub const MEL_BINS: usize = 128;
/// Longest segment the classifier sees: 10 s (audiocraft's `max_input_frames`).
pub const SEGMENT_SAMPLES: usize = 320_000;
/// Segments of at most this many samples (0.15 s) are dropped, as audiocraft does.
pub const MIN_SEGMENT_SAMPLES: usize = 4_800;
const WINDOW: usize = 800;
const HOP: usize = 320;
const FFT: usize = 1024;
const BINS: usize = FFT / 2 + 1;
const PREEMPHASIS: f64 = 0.97;
/// Eval-mode upper mel edge: sr / 2 - fmax_aug_range / 2 = 16000 - 1000.
const MEL_HI_HZ: f64 = 15_000.0;
const LOG_OFFSET: f64 = 1e-5;

/// Normalised log-mel spectrogram of one segment: [MEL_BINS, frames], row-major (band-major).
#[derive(Clone, Debug, PartialEq)]
pub struct LogMel {
    /// Number of STFT frames (columns).
    pub frames: usize,
    /// MEL_BINS * frames values; band `m`, frame `t` at `m * frames + t`.
    pub data: Vec<f32>,
}

/// The triangular Kaldi mel weights of one band: the first FFT bin it covers and the weights from
/// there on (the rest are zero).
#[derive(Clone, Debug)]
struct Band {
    first: usize,
    weights: Vec<f64>,
}

fn kaldi_mel(hz: f64) -> f64 {
    1127.0 * (1.0 + hz / 700.0).ln()
}

/// torchaudio's `kaldi.get_mel_banks(128, 1024, 32000, 0, 15000, ...)` without VTLN warping, with
/// the Nyquist column zero as hear21passt pads it.
fn mel_bands() -> Vec<Band> {
    let bin_hz = SAMPLE_RATE as f64 / FFT as f64;
    let (lo, hi) = (kaldi_mel(0.0), kaldi_mel(MEL_HI_HZ));
    let delta = (hi - lo) / (MEL_BINS + 1) as f64;
    let bin_mel: Vec<f64> = (0..FFT / 2).map(|k| kaldi_mel(bin_hz * k as f64)).collect();
    (0..MEL_BINS)
        .map(|b| {
            let left = lo + b as f64 * delta;
            let centre = lo + (b + 1) as f64 * delta;
            let right = lo + (b + 2) as f64 * delta;
            let all: Vec<f64> = bin_mel
                .iter()
                .map(|&m| {
                    let up = (m - left) / (centre - left);
                    let down = (right - m) / (right - centre);
                    up.min(down).max(0.0)
                })
                .collect();
            let first = all.iter().position(|&w| w > 0.0).unwrap_or(0);
            let last = all.iter().rposition(|&w| w > 0.0).map_or(first, |l| l + 1);
            Band {
                first,
                weights: all[first..last].to_vec(),
            }
        })
        .collect()
}

/// STFT frames of `samples` after pre-emphasis and centring: 1 + (len - 1) / 320.
pub fn frame_count(samples: usize) -> usize {
    if samples < 2 {
        0
    } else {
        1 + (samples - 1) / HOP
    }
}

/// Shortest input `log_mel` accepts: torch's reflect padding of 512 needs more than 512 samples
/// after pre-emphasis.
pub const MIN_SAMPLES: usize = FFT / 2 + 2;

/// Everything one STFT worker needs, shared read-only.
struct Stft {
    signal: Vec<f64>,
    window: Vec<f64>,
    bands: Vec<Band>,
    fft: Arc<dyn Fft<f64>>,
}

impl Stft {
    /// Sample `j` of the reflect-padded signal (pad FFT / 2 each side).
    fn padded(&self, j: usize) -> f64 {
        let n = self.signal.len() as isize;
        let mut i = j as isize - (FFT / 2) as isize;
        if i < 0 {
            i = -i;
        }
        if i >= n {
            i = 2 * (n - 1) - i;
        }
        self.signal[i as usize]
    }

    /// Log-mel columns for frames `range`, two frames per complex FFT (one real, one imaginary).
    fn columns(&self, range: std::ops::Range<usize>, out: &mut [[f32; MEL_BINS]]) {
        let mut buf = vec![Complex64::new(0.0, 0.0); FFT];
        let mut scratch = vec![Complex64::new(0.0, 0.0); self.fft.get_inplace_scratch_len()];
        let (mut pa, mut pb) = ([0.0f64; BINS], [0.0f64; BINS]);
        let mut f = range.start;
        while f < range.end {
            let pair = f + 1 < range.end;
            for (i, c) in buf.iter_mut().enumerate() {
                let w = self.window[i];
                let re = if w != 0.0 {
                    self.padded(f * HOP + i) * w
                } else {
                    0.0
                };
                let im = if pair && w != 0.0 {
                    self.padded((f + 1) * HOP + i) * w
                } else {
                    0.0
                };
                *c = Complex64::new(re, im);
            }
            self.fft.process_with_scratch(&mut buf, &mut scratch);
            // Z = A + iB with A, B real: A[k] = (Z[k] + conj Z[N-k]) / 2, B[k] = (Z[k] - conj Z[N-k]) / 2i.
            for k in 0..BINS {
                let z = buf[k];
                let zc = buf[(FFT - k) % FFT].conj();
                pa[k] = ((z + zc) * 0.5).norm_sqr();
                pb[k] = ((z - zc) * 0.5).norm_sqr();
            }
            out[f - range.start] = self.mel_column(&pa);
            if pair {
                out[f + 1 - range.start] = self.mel_column(&pb);
            }
            f += if pair { 2 } else { 1 };
        }
    }

    fn mel_column(&self, power: &[f64; BINS]) -> [f32; MEL_BINS] {
        let mut col = [0.0f32; MEL_BINS];
        for (c, band) in col.iter_mut().zip(&self.bands) {
            let p = &power[band.first..band.first + band.weights.len()];
            let mel: f64 = p.iter().zip(&band.weights).map(|(a, w)| a * w).sum();
            *c = (((mel + LOG_OFFSET).ln() + 4.5) / 5.0) as f32;
        }
        col
    }
}

/// The normalised log-mel spectrogram of a 32 kHz mono segment, exactly as hear21passt's
/// `AugmentMelSTFT` in eval mode; `None` when shorter than [`MIN_SAMPLES`] (torch refuses those).
pub fn log_mel(samples: &[f32]) -> Option<LogMel> {
    if samples.len() < MIN_SAMPLES {
        return None;
    }
    let signal: Vec<f64> = samples
        .windows(2)
        .map(|w| w[1] as f64 - PREEMPHASIS * w[0] as f64)
        .collect();
    // Symmetric Hann of 800, centred in the 1024-point frame as torch.stft pads it.
    let offset = (FFT - WINDOW) / 2;
    let mut window = vec![0.0f64; FFT];
    for i in 0..WINDOW {
        window[offset + i] =
            0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / (WINDOW - 1) as f64).cos();
    }
    let stft = Stft {
        signal,
        window,
        bands: mel_bands(),
        fft: FftPlanner::<f64>::new().plan_fft_forward(FFT),
    };
    let frames = frame_count(samples.len());
    let mut columns = vec![[0.0f32; MEL_BINS]; frames];
    // Chunks of 64 frames (even, so frame pairs stay inside one) shared out by rayon, which
    // also balances them against other segments' chunks when a batch runs segments in parallel.
    const CHUNK: usize = 64;
    columns
        .par_chunks_mut(CHUNK)
        .enumerate()
        .for_each(|(c, out)| stft.columns(c * CHUNK..c * CHUNK + out.len(), out));
    let mut data = vec![0.0f32; MEL_BINS * frames];
    for (t, col) in columns.iter().enumerate() {
        for (m, &v) in col.iter().enumerate() {
            data[m * frames + t] = v;
        }
    }
    Some(LogMel { frames, data })
}

/// audiocraft's segments of a 32 kHz clip: consecutive 10 s pieces, the last one shorter and not
/// padded, pieces of at most 0.15 s dropped.
pub fn segments(samples: &[f32]) -> Vec<&[f32]> {
    samples
        .chunks(SEGMENT_SAMPLES)
        .filter(|s| s.len() > MIN_SEGMENT_SAMPLES)
        .collect()
}

/// A clip mixed to mono and resampled to 32 kHz (linear interpolation, where audiocraft uses
/// julius; identical for 32 kHz input).
pub fn audio_to_32k(audio: &Audio) -> Vec<f32> {
    if audio.sample_rate == SAMPLE_RATE {
        audio.mono_samples().into_owned()
    } else {
        audio.resample_linear(SAMPLE_RATE).samples
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_and_segments_follow_hear21passt_and_audiocraft() {
        // 10 s: 319999 pre-emphasised samples -> 1 + 319999 / 320 = 1000 frames.
        assert_eq!(frame_count(SEGMENT_SAMPLES), 1000);
        let mel = log_mel(&vec![0.0; 32_000]).unwrap();
        assert_eq!((mel.frames, mel.data.len()), (100, 100 * MEL_BINS));
        // Silence: (ln 1e-5 + 4.5) / 5 everywhere.
        let floor = ((1e-5f64.ln() + 4.5) / 5.0) as f32;
        assert!(mel.data.iter().all(|&v| (v - floor).abs() < 1e-6));
        assert!(log_mel(&[0.1; 400]).is_none());

        let clip = vec![0.0f32; SEGMENT_SAMPLES * 2 + MIN_SEGMENT_SAMPLES];
        assert_eq!(
            segments(&clip).iter().map(|s| s.len()).collect::<Vec<_>>(),
            vec![SEGMENT_SAMPLES, SEGMENT_SAMPLES]
        );
        let clip = vec![0.0f32; SEGMENT_SAMPLES + MIN_SEGMENT_SAMPLES + 1];
        assert_eq!(segments(&clip).len(), 2);
        assert!(segments(&[0.0; MIN_SEGMENT_SAMPLES]).is_empty());
    }

    #[test]
    fn a_tone_lands_in_its_mel_band() {
        let tone: Vec<f32> = (0..32_000)
            .map(|i| (2.0 * std::f32::consts::PI * 3000.0 * i as f32 / 32_000.0).sin())
            .collect();
        let mel = log_mel(&tone).unwrap();
        let t = 50;
        let best = (0..MEL_BINS)
            .max_by(|&a, &b| mel.data[a * mel.frames + t].total_cmp(&mel.data[b * mel.frames + t]))
            .unwrap();
        let delta = kaldi_mel(MEL_HI_HZ) / (MEL_BINS + 1) as f64;
        let centre_hz = 700.0 * (((best + 1) as f64 * delta / 1127.0).exp() - 1.0);
        assert!(
            (centre_hz - 3000.0).abs() < 100.0,
            "band {best} centred at {centre_hz} Hz"
        );
    }
}
