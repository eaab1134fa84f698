//! The seed validators' older audio-quality metrics, as librosa computed them: SNR against a
//! pre-emphasised copy, HNR from harmonic/percussive separation (HPSS), and the older music score
//! that combined both with a CLAP similarity. No model weights; see scripts/quality_golden.py.

use rustfft::{num_complex::Complex32, Fft, FftPlanner};
use std::sync::Arc;

use super::geometric;

/// Pre-emphasis coefficient (librosa.effects.preemphasis's default).
pub const PREEMPHASIS_COEF: f32 = 0.97;
/// STFT size of the separation (librosa.effects.hpss's default).
pub const HPSS_N_FFT: usize = 2048;
/// STFT hop of the separation (librosa's default, n_fft / 4).
pub const HPSS_HOP: usize = 512;
/// Median-filter length of the separation, along time (harmonic) and frequency (percussive).
pub const HPSS_KERNEL: usize = 31;

const HALF: usize = HPSS_KERNEL / 2;
const BINS: usize = HPSS_N_FFT / 2 + 1;

/// The seeds' only guard: SNR and HNR are 0 for non-finite, near-silent (peak under 1e-4) or
/// near-constant (variance under 1e-2) input.
pub fn quality_guarded(samples: &[f32]) -> bool {
    if samples.is_empty() || !samples.iter().all(|v| v.is_finite()) {
        return true;
    }
    let peak = samples.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let n = samples.len() as f64;
    let mean = samples.iter().map(|&v| v as f64).sum::<f64>() / n;
    let var = samples
        .iter()
        .map(|&v| (v as f64 - mean).powi(2))
        .sum::<f64>()
        / n;
    peak < 1e-4 || var < 1e-2
}

/// librosa.effects.preemphasis: y[n] = x[n] - 0.97 x[n-1], its first output 3 x[0] - x[1] (librosa
/// passes its extrapolated zi = 2 x[0] - x[1] as the filter state); a single sample extends as x[0].
pub fn preemphasis(samples: &[f32]) -> Vec<f32> {
    let Some(&first) = samples.first() else {
        return Vec::new();
    };
    let second = samples.get(1).copied().unwrap_or(first);
    let zi = 2.0 * first - second;
    let mut out = Vec::with_capacity(samples.len());
    out.push(first + zi);
    out.extend(
        samples
            .windows(2)
            .map(|w| w[1] + (-PREEMPHASIS_COEF) * w[0]),
    );
    out
}

/// Older SNR in dB: 10 log10(mean(x^2) / mean(preemphasis(x)^2)); 0 when [`quality_guarded`].
pub fn snr_db(samples: &[f32]) -> f64 {
    if quality_guarded(samples) {
        return 0.0;
    }
    let ratio = mean_square(samples) / mean_square(&preemphasis(samples));
    if ratio.is_finite() && ratio > 0.0 {
        10.0 * ratio.log10()
    } else {
        0.0
    }
}

/// Older HNR in dB: 10 log10(mean(H^2) / max(mean(P^2), 1e-10)) with (H, P) = [`hpss`]; 0 when
/// [`quality_guarded`].
pub fn hnr_db(samples: &[f32]) -> f64 {
    if quality_guarded(samples) {
        return 0.0;
    }
    let (harmonic, percussive) = hpss(samples);
    let ratio = mean_square(&harmonic) / mean_square(&percussive).max(1e-10);
    if ratio.is_finite() && ratio > 0.0 {
        10.0 * ratio.log10()
    } else {
        0.0
    }
}

/// Older quality normalisation: the logistic 1 / (1 + exp(-(q_db - 20) / 10)) (0.5 at 20 dB).
pub fn normalised_quality(q_db: f64) -> f64 {
    1.0 / (1.0 + (-(q_db - 20.0) / 10.0).exp())
}

/// Older CLAP normalisation: (c + 1) / 2 for a positive cosine similarity c, else 0.
pub fn normalised_clap(clap: f64) -> f64 {
    if clap > 0.0 {
        (clap + 1.0) / 2.0
    } else {
        0.0
    }
}

/// Older music score: g(g(nQ(snr), nQ(hnr)), nCLAP) if clap > 0.2, else 0 (g: geometric mean, each
/// term floored at 1e-4). A guarded clip's 0 dB still normalises to nQ(0) = 0.119, as in the seeds.
pub fn older_music_score(snr_db: f64, hnr_db: f64, clap: f64) -> f64 {
    // NaN compares false too: no score without a usable CLAP similarity.
    let usable = clap > 0.2;
    if !usable {
        return 0.0;
    }
    let quality = geometric(normalised_quality(snr_db), normalised_quality(hnr_db));
    geometric(quality, normalised_clap(clap))
}

/// librosa.effects.hpss with its defaults: the harmonic and percussive waveforms, each as long as the
/// input (centred zero-padded STFT, n_fft 2048, hop 512, periodic Hann; median filters of 31 in
/// 'reflect' mode; soft masks of power 2, margin 1; window-sum-normalised inverse STFT).
pub fn hpss(samples: &[f32]) -> (Vec<f32>, Vec<f32>) {
    if samples.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let transforms = Transforms::new();
    let frames = 1 + samples.len() / HPSS_HOP;
    let spectrum = stft(samples, frames, &transforms);
    let magnitude: Vec<f32> = spectrum.iter().map(|c| c.norm()).collect();
    let (harmonic_mag, percussive_mag) = median_filtered(&magnitude, frames);
    istft_masked(
        &spectrum,
        &harmonic_mag,
        &percussive_mag,
        samples.len(),
        &transforms,
    )
}

fn mean_square(samples: &[f32]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    samples
        .iter()
        .map(|&v| (v as f64) * (v as f64))
        .sum::<f64>()
        / samples.len() as f64
}

/// Forward and inverse plans and the periodic Hann window, made once per call.
struct Transforms {
    forward: Arc<dyn Fft<f32>>,
    inverse: Arc<dyn Fft<f32>>,
    window: Vec<f32>,
}

impl Transforms {
    fn new() -> Self {
        let mut planner = FftPlanner::new();
        let window = (0..HPSS_N_FFT)
            .map(|k| {
                let phase = 2.0 * std::f64::consts::PI * k as f64 / HPSS_N_FFT as f64;
                (0.5 - 0.5 * phase.cos()) as f32
            })
            .collect();
        Self {
            forward: planner.plan_fft_forward(HPSS_N_FFT),
            inverse: planner.plan_fft_inverse(HPSS_N_FFT),
            window,
        }
    }
}

/// Centred STFT (n_fft / 2 zeros each side), frame-major: `frames` x `BINS`. Two real frames share
/// one complex FFT (the first as the real part, the second as the imaginary part).
fn stft(samples: &[f32], frames: usize, transforms: &Transforms) -> Vec<Complex32> {
    let pad = HPSS_N_FFT / 2;
    let padded = |m: usize| -> f32 {
        m.checked_sub(pad)
            .and_then(|j| samples.get(j))
            .copied()
            .unwrap_or(0.0)
    };
    let mut spectrum = vec![Complex32::new(0.0, 0.0); frames * BINS];
    let mut buffer = vec![Complex32::new(0.0, 0.0); HPSS_N_FFT];
    let mut scratch = vec![Complex32::new(0.0, 0.0); transforms.forward.get_inplace_scratch_len()];
    for first in (0..frames).step_by(2) {
        let second = (first + 1 < frames).then_some(first + 1);
        for (n, slot) in buffer.iter_mut().enumerate() {
            let w = transforms.window[n];
            let re = w * padded(first * HPSS_HOP + n);
            let im = second.map_or(0.0, |s| w * padded(s * HPSS_HOP + n));
            *slot = Complex32::new(re, im);
        }
        transforms
            .forward
            .process_with_scratch(&mut buffer, &mut scratch);
        for k in 0..BINS {
            let z = buffer[k];
            let mirror = buffer[(HPSS_N_FFT - k) % HPSS_N_FFT].conj();
            spectrum[first * BINS + k] = (z + mirror) * 0.5;
            if let Some(s) = second {
                // (z - mirror) / 2i
                let d = (z - mirror) * 0.5;
                spectrum[s * BINS + k] = Complex32::new(d.im, -d.re);
            }
        }
    }
    spectrum
}

/// Median filters of the frame-major magnitude: along time per bin (harmonic) and along frequency
/// per frame (percussive), both returned frame-major like the input. The two run on two threads.
fn median_filtered(magnitude: &[f32], frames: usize) -> (Vec<f32>, Vec<f32>) {
    std::thread::scope(|scope| {
        let harmonic = scope.spawn(|| median_along_time(magnitude, frames));
        let percussive = median_along_frequency(magnitude, frames);
        let harmonic = harmonic
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (harmonic, percussive)
    })
}

/// The harmonic median filter: along time, for each frequency bin.
fn median_along_time(magnitude: &[f32], frames: usize) -> Vec<f32> {
    // Bins are gathered into time lines a block at a time, so each frame's row is read in whole
    // cache lines rather than one strided value per bin.
    const BLOCK: usize = 16;
    let mut filter = MedianFilter::default();
    let mut lines = vec![0.0f32; BLOCK * frames];
    let mut filtered = vec![0.0f32; BLOCK * frames];
    let mut harmonic = vec![0.0f32; frames * BINS];
    for k0 in (0..BINS).step_by(BLOCK) {
        let width = BLOCK.min(BINS - k0);
        for t in 0..frames {
            for b in 0..width {
                lines[b * frames + t] = magnitude[t * BINS + k0 + b];
            }
        }
        for b in 0..width {
            let range = b * frames..(b + 1) * frames;
            filter.apply(&lines[range.clone()], &mut filtered[range]);
        }
        for t in 0..frames {
            for b in 0..width {
                harmonic[t * BINS + k0 + b] = filtered[b * frames + t];
            }
        }
    }
    harmonic
}

/// The percussive median filter: along frequency, for each frame.
fn median_along_frequency(magnitude: &[f32], frames: usize) -> Vec<f32> {
    let mut filter = MedianFilter::default();
    let mut percussive = vec![0.0f32; frames * BINS];
    for t in 0..frames {
        let range = t * BINS..(t + 1) * BINS;
        filter.apply(&magnitude[range.clone()], &mut percussive[range]);
    }
    percussive
}

/// librosa.util.softmask with power 2 and split zeros (margin 1): (H^2, P^2) / (H^2 + P^2), scaled
/// by max(H, P) first; 0.5 each where both are below the smallest normal f32.
fn soft_masks(harmonic: f32, percussive: f32) -> (f32, f32) {
    let z = harmonic.max(percussive);
    if z < f32::MIN_POSITIVE {
        return (0.5, 0.5);
    }
    let h = (harmonic / z).powi(2);
    let p = (percussive / z).powi(2);
    (h / (h + p), p / (p + h))
}

/// A running median of `HPSS_KERNEL` values over a line extended at both ends in scipy.ndimage's
/// 'reflect' mode (d c b a | a b c d | d c b a, repeated for lines shorter than the half-window).
/// The window is kept sorted; each step replaces the value that leaves with the one that enters.
#[derive(Default)]
struct MedianFilter {
    extended: Vec<f32>,
}

/// Sorted window slots: the kernel's values, then +inf padding to a multiple of 8 lanes.
const SLOTS: usize = 32;

impl MedianFilter {
    fn apply(&mut self, line: &[f32], out: &mut [f32]) {
        let n = line.len();
        if n == 0 {
            return;
        }
        self.extended.clear();
        if n >= HALF {
            self.extended.extend(line[..HALF].iter().rev());
            self.extended.extend_from_slice(line);
            self.extended.extend(line[n - HALF..].iter().rev());
        } else {
            self.extended.extend((0..n + 2 * HALF).map(|i| {
                let m = (i as isize - HALF as isize).rem_euclid(2 * n as isize) as usize;
                line[if m < n { m } else { 2 * n - 1 - m }]
            }));
        }
        let ext = &self.extended;
        let mut window = [f32::INFINITY; SLOTS];
        window[..HPSS_KERNEL].copy_from_slice(&ext[..HPSS_KERNEL]);
        window[..HPSS_KERNEL].sort_unstable_by(f32::total_cmp);
        out[0] = window[HALF];
        for i in 1..n {
            replace_sorted(&mut window, ext[i - 1], ext[i + 2 * HALF]);
            out[i] = window[HALF];
        }
    }
}

/// How many of the window's slots hold a value below `v` (branch-free, so it vectorises).
#[inline(always)]
fn rank(window: &[f32; SLOTS], v: f32) -> usize {
    window.iter().map(|&x| u32::from(x < v)).sum::<u32>() as usize
}

/// Replaces one occurrence of `old` in the sorted window's first `HPSS_KERNEL` slots by `new`,
/// keeping them sorted: the values between the two ranks shift by one slot.
#[inline(always)]
fn replace_sorted(window: &mut [f32; SLOTS], old: f32, new: f32) {
    let p = rank(window, old).min(HPSS_KERNEL - 1);
    let q = rank(window, new).min(HPSS_KERNEL);
    if q > p {
        window.copy_within(p + 1..q, p);
        window[q - 1] = new;
    } else {
        window.copy_within(q..p, q + 1);
        window[q] = new;
    }
}

/// Inverse STFTs of the spectrum under the harmonic and percussive soft masks, both in one pass
/// (the harmonic part as the real output of each complex inverse FFT, the percussive as the
/// imaginary): windowed overlap-add divided by the summed squared window where that exceeds f32's
/// smallest normal, centre padding trimmed, `len` samples long.
fn istft_masked(
    spectrum: &[Complex32],
    harmonic_mag: &[f32],
    percussive_mag: &[f32],
    len: usize,
    transforms: &Transforms,
) -> (Vec<f32>, Vec<f32>) {
    let frames = spectrum.len() / BINS;
    let total = HPSS_N_FFT + HPSS_HOP * (frames - 1);
    let mut sum_harmonic = vec![0.0f32; total];
    let mut sum_percussive = vec![0.0f32; total];
    let mut window_sum = vec![0.0f32; total];
    let mut buffer = vec![Complex32::new(0.0, 0.0); HPSS_N_FFT];
    let mut scratch = vec![Complex32::new(0.0, 0.0); transforms.inverse.get_inplace_scratch_len()];
    let scale = 1.0 / HPSS_N_FFT as f32;
    for t in 0..frames {
        for k in 0..BINS {
            let i = t * BINS + k;
            let (mask_h, mask_p) = soft_masks(harmonic_mag[i], percussive_mag[i]);
            let mut d = spectrum[i];
            if k == 0 || k == BINS - 1 {
                // irfft ignores the imaginary parts of the DC and Nyquist bins.
                d.im = 0.0;
            }
            let (h, p) = (d * mask_h, d * mask_p);
            // h + i p, and at the mirrored bin conj(h) + i conj(p).
            buffer[k] = Complex32::new(h.re - p.im, h.im + p.re);
            if k != 0 && k != BINS - 1 {
                buffer[HPSS_N_FFT - k] = Complex32::new(h.re + p.im, p.re - h.im);
            }
        }
        transforms
            .inverse
            .process_with_scratch(&mut buffer, &mut scratch);
        let start = t * HPSS_HOP;
        for (n, z) in buffer.iter().enumerate() {
            let w = transforms.window[n];
            sum_harmonic[start + n] += w * z.re * scale;
            sum_percussive[start + n] += w * z.im * scale;
            window_sum[start + n] += w * w;
        }
    }
    let offset = HPSS_N_FFT / 2;
    let normalise = |sum: &[f32]| -> Vec<f32> {
        (offset..offset + len)
            .map(|m| {
                let ws = window_sum[m];
                if ws > f32::MIN_POSITIVE {
                    sum[m] / ws
                } else {
                    sum[m]
                }
            })
            .collect()
    };
    (normalise(&sum_harmonic), normalise(&sum_percussive))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_median_matches_a_sorted_window() {
        let mut filter = MedianFilter::default();
        for n in [1usize, 2, 7, 15, 16, 40] {
            let line: Vec<f32> = (0..n).map(|i| ((i * 37 + 11) % 13) as f32).collect();
            let mut out = vec![0.0; n];
            filter.apply(&line, &mut out);
            for (i, got) in out.iter().enumerate() {
                let mut window: Vec<f32> = (0..HPSS_KERNEL)
                    .map(|j| {
                        let m = (i as isize + j as isize - HALF as isize).rem_euclid(2 * n as isize)
                            as usize;
                        line[if m < n { m } else { 2 * n - 1 - m }]
                    })
                    .collect();
                window.sort_by(f32::total_cmp);
                assert_eq!(*got, window[HALF], "n = {n}, i = {i}");
            }
        }
    }

    #[test]
    fn preemphasis_follows_librosa() {
        // librosa.effects.preemphasis([2, 1, 3, 5]) = [5, -0.94, 2.03, 2.09]
        let y = preemphasis(&[2.0, 1.0, 3.0, 5.0]);
        let want = [5.0, -0.94, 2.03, 2.09];
        for (a, b) in y.iter().zip(want) {
            assert!((a - b).abs() < 1e-6, "{y:?}");
        }
    }
}
