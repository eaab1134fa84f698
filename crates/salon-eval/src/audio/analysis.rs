//! Signal analysis shared by the audio metrics: a 16 kHz mono view, the power spectrogram, mel
//! bands and MFCC-like coefficients, chroma, onset strength, tempo, key and pitch estimates.

use rayon::prelude::*;
use rustfft::{num_complex::Complex32, FftPlanner};
use salon_core::Audio;

/// Rate every analysis runs at.
pub const ANALYSIS_RATE: u32 = 16_000;

/// The audio as mono samples at [`ANALYSIS_RATE`], with a box low-pass when decimating by an integer.
pub fn analysis_signal(audio: &Audio) -> Vec<f32> {
    let rate = audio.sample_rate;
    if rate == ANALYSIS_RATE {
        return audio.mono_samples().into_owned();
    }
    if rate > ANALYSIS_RATE && rate.is_multiple_of(ANALYSIS_RATE) {
        let k = (rate / ANALYSIS_RATE) as usize;
        return audio
            .mono_samples()
            .chunks_exact(k)
            .map(|c| c.iter().sum::<f32>() / k as f32)
            .collect();
    }
    audio.resample_linear(ANALYSIS_RATE).samples
}

/// Whether every sample is a finite number.
pub fn all_finite(samples: &[f32]) -> bool {
    samples.iter().all(|x| x.is_finite())
}

/// Power spectrogram: `frames` rows of `bins` values (n_fft / 2 + 1), Hann-windowed.
pub struct Spectrogram {
    /// Power per (frame, bin), row-major.
    pub power: Vec<f32>,
    /// Number of frames.
    pub frames: usize,
    /// Bins per frame.
    pub bins: usize,
    /// FFT size.
    pub n_fft: usize,
    /// Hop in samples.
    pub hop: usize,
    /// Sample rate of the analysed signal.
    pub rate: f32,
}

impl Spectrogram {
    /// The spectrogram of `signal` at `rate` (frames start at 0 and step by `hop`; the last partial
    /// frame is zero-padded; a signal shorter than one frame gives one padded frame).
    pub fn new(signal: &[f32], rate: u32, n_fft: usize, hop: usize) -> Self {
        let bins = n_fft / 2 + 1;
        let frames = if signal.len() <= n_fft {
            1
        } else {
            1 + (signal.len() - n_fft).div_ceil(hop)
        };
        let window: Vec<f32> = (0..n_fft)
            .map(|i| 0.5 - 0.5 * (std::f32::consts::TAU * i as f32 / n_fft as f32).cos())
            .collect();
        let fft = FftPlanner::<f32>::new().plan_fft_forward(n_fft);
        // Frames are independent: shared out across threads (a 15 s clip has about 900).
        let mut power = vec![0.0f32; frames * bins];
        power
            .par_chunks_mut(bins)
            .enumerate()
            .with_min_len(32)
            .for_each_init(
                || {
                    let zero = Complex32::new(0.0, 0.0);
                    (vec![zero; n_fft], vec![zero; fft.get_inplace_scratch_len()])
                },
                |(buf, scratch), (f, out)| {
                    let start = f * hop;
                    for (i, c) in buf.iter_mut().enumerate() {
                        let x = signal.get(start + i).copied().unwrap_or(0.0);
                        *c = Complex32::new(x * window[i], 0.0);
                    }
                    fft.process_with_scratch(buf, scratch);
                    for (p, c) in out.iter_mut().zip(&buf[..bins]) {
                        *p = c.norm_sqr();
                    }
                },
            );
        Self {
            power,
            frames,
            bins,
            n_fft,
            hop,
            rate: rate as f32,
        }
    }

    /// One frame's power bins.
    pub fn frame(&self, f: usize) -> &[f32] {
        &self.power[f * self.bins..(f + 1) * self.bins]
    }

    /// Centre frequency of bin `b` in Hz.
    pub fn bin_hz(&self, b: usize) -> f32 {
        b as f32 * self.rate / self.n_fft as f32
    }

    /// The bin nearest `hz`.
    pub fn hz_bin(&self, hz: f32) -> usize {
        ((hz * self.n_fft as f32 / self.rate).round() as usize).min(self.bins - 1)
    }

    /// Seconds per hop.
    pub fn hop_secs(&self) -> f32 {
        self.hop as f32 / self.rate
    }

    /// Mean power of each frame.
    pub fn frame_energy(&self) -> Vec<f32> {
        (0..self.frames)
            .map(|f| self.frame(f).iter().sum::<f32>() / self.bins as f32)
            .collect()
    }

    /// Spectral flatness (geometric / arithmetic mean of power, bins from `lo_hz` to `hi_hz`) per
    /// frame; frames with no energy get 0.
    pub fn flatness(&self, lo_hz: f32, hi_hz: f32) -> Vec<f32> {
        let (lo, hi) = (self.hz_bin(lo_hz).max(1), self.hz_bin(hi_hz));
        (0..self.frames)
            .into_par_iter()
            .with_min_len(64)
            .map(|f| {
                let bins = &self.frame(f)[lo..=hi];
                let mean = bins.iter().sum::<f32>() / bins.len() as f32;
                if mean <= 1e-12 {
                    return 0.0;
                }
                let log_mean =
                    bins.iter().map(|p| (p + 1e-12).ln()).sum::<f32>() / bins.len() as f32;
                (log_mean.exp() / mean).min(1.0)
            })
            .collect()
    }

    /// Magnitude spectral flux (sum of positive changes up to 6 kHz) per frame; frame 0 gets 0.
    /// Linear in magnitude, so accented beats stay stronger than off-beats.
    pub fn onset_strength(&self) -> Vec<f32> {
        let hi = self.hz_bin(6000.0);
        let mut prev: Vec<f32> = vec![0.0; hi];
        let mut out = Vec::with_capacity(self.frames);
        for f in 0..self.frames {
            let frame = self.frame(f);
            let mut flux = 0.0;
            for (b, p) in prev.iter_mut().enumerate() {
                let v = frame[b + 1].sqrt();
                if f > 0 {
                    flux += (v - *p).max(0.0);
                }
                *p = v;
            }
            out.push(flux);
        }
        out
    }

    /// Spectral centroid in Hz per frame (0 for silent frames).
    pub fn centroid(&self) -> Vec<f32> {
        (0..self.frames)
            .map(|f| {
                let fr = self.frame(f);
                let total: f32 = fr.iter().sum();
                if total <= 1e-12 {
                    return 0.0;
                }
                fr.iter()
                    .enumerate()
                    .map(|(b, p)| self.bin_hz(b) * p)
                    .sum::<f32>()
                    / total
            })
            .collect()
    }
}

/// Triangular mel filters over a spectrogram's bins.
pub struct MelBank {
    /// Per band: (first bin, weights).
    bands: Vec<(usize, Vec<f32>)>,
}

fn hz_to_mel(hz: f32) -> f32 {
    2595.0 * (1.0 + hz / 700.0).log10()
}

fn mel_to_hz(mel: f32) -> f32 {
    700.0 * (10f32.powf(mel / 2595.0) - 1.0)
}

impl MelBank {
    /// `n` bands between `lo_hz` and `hi_hz` for `spec`'s bin layout.
    pub fn new(spec: &Spectrogram, n: usize, lo_hz: f32, hi_hz: f32) -> Self {
        let (mlo, mhi) = (hz_to_mel(lo_hz), hz_to_mel(hi_hz));
        let edges: Vec<f32> = (0..n + 2)
            .map(|i| mel_to_hz(mlo + (mhi - mlo) * i as f32 / (n + 1) as f32))
            .collect();
        let bands = (0..n)
            .map(|k| {
                let (l, c, r) = (edges[k], edges[k + 1], edges[k + 2]);
                let first = (l * spec.n_fft as f32 / spec.rate).floor() as usize;
                let last = ((r * spec.n_fft as f32 / spec.rate).ceil() as usize).min(spec.bins - 1);
                let weights = (first..=last)
                    .map(|b| {
                        let hz = spec.bin_hz(b);
                        if hz <= c {
                            ((hz - l) / (c - l).max(1e-6)).max(0.0)
                        } else {
                            ((r - hz) / (r - c).max(1e-6)).max(0.0)
                        }
                    })
                    .collect();
                (first, weights)
            })
            .collect();
        Self { bands }
    }

    /// Number of bands.
    pub fn len(&self) -> usize {
        self.bands.len()
    }

    /// Whether the bank has no bands.
    pub fn is_empty(&self) -> bool {
        self.bands.is_empty()
    }

    /// Natural-log band energies of one power frame into `out`.
    pub fn log_energies(&self, frame: &[f32], out: &mut [f32]) {
        for ((first, w), o) in self.bands.iter().zip(out.iter_mut()) {
            let e: f32 = w.iter().zip(&frame[*first..]).map(|(a, b)| a * b).sum();
            *o = (e + 1e-10).ln();
        }
    }
}

/// DCT-II of `input` into `out` (orthonormal scaling), the cepstral step of MFCCs.
pub fn dct(input: &[f32], out: &mut [f32]) {
    let n = input.len() as f32;
    for (k, o) in out.iter_mut().enumerate() {
        let s: f32 = input
            .iter()
            .enumerate()
            .map(|(i, x)| x * (std::f32::consts::PI * k as f32 * (i as f32 + 0.5) / n).cos())
            .sum();
        *o = s
            * (2.0 / n).sqrt()
            * if k == 0 {
                std::f32::consts::FRAC_1_SQRT_2
            } else {
                1.0
            };
    }
}

/// Mean chroma (12 pitch classes, C = 0) from magnitude between 80 Hz and 5 kHz, normalised to sum 1.
pub fn chroma(spec: &Spectrogram) -> [f32; 12] {
    let (lo, hi) = (spec.hz_bin(80.0).max(1), spec.hz_bin(5000.0));
    let pcs: Vec<usize> = (lo..=hi)
        .map(|b| {
            let midi = 69.0 + 12.0 * (spec.bin_hz(b) / 440.0).log2();
            (midi.round() as i64).rem_euclid(12) as usize
        })
        .collect();
    let mut acc = [0.0f32; 12];
    for f in 0..spec.frames {
        let frame = spec.frame(f);
        let mut c = [0.0f32; 12];
        for (b, &pc) in (lo..=hi).zip(&pcs) {
            c[pc] += frame[b].sqrt();
        }
        let s: f32 = c.iter().sum();
        if s > 1e-9 {
            for (a, v) in acc.iter_mut().zip(c) {
                *a += v / s;
            }
        }
    }
    let s: f32 = acc.iter().sum();
    if s > 0.0 {
        acc.iter_mut().for_each(|a| *a /= s);
    }
    acc
}

/// Krumhansl-Kessler major-key profile (probe-tone ratings, C major).
pub const KK_MAJOR: [f32; 12] = [
    6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88,
];
/// Krumhansl-Kessler minor-key profile (probe-tone ratings, C minor).
pub const KK_MINOR: [f32; 12] = [
    6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17,
];

fn pearson(a: &[f32; 12], b: &[f32; 12]) -> f32 {
    let ma = a.iter().sum::<f32>() / 12.0;
    let mb = b.iter().sum::<f32>() / 12.0;
    let (mut num, mut da, mut db) = (0.0, 0.0, 0.0);
    for i in 0..12 {
        num += (a[i] - ma) * (b[i] - mb);
        da += (a[i] - ma).powi(2);
        db += (b[i] - mb).powi(2);
    }
    if da <= 0.0 || db <= 0.0 {
        0.0
    } else {
        num / (da * db).sqrt()
    }
}

/// Correlation of `chroma` with the Krumhansl-Kessler profile of key (`tonic`, `minor`).
pub fn key_correlation(chroma: &[f32; 12], tonic: u8, minor: bool) -> f32 {
    let profile = if minor { &KK_MINOR } else { &KK_MAJOR };
    let mut rotated = [0.0f32; 12];
    for (i, r) in rotated.iter_mut().enumerate() {
        *r = profile[(i + 12 - tonic as usize % 12) % 12];
    }
    pearson(chroma, &rotated)
}

/// The best-correlating key: (tonic pitch class, minor, correlation).
pub fn estimate_key(chroma: &[f32; 12]) -> (u8, bool, f32) {
    let mut best = (0u8, false, f32::MIN);
    for tonic in 0..12u8 {
        for minor in [false, true] {
            let r = key_correlation(chroma, tonic, minor);
            if r > best.2 {
                best = (tonic, minor, r);
            }
        }
    }
    best
}

/// Tempo in BPM from an onset-strength envelope sampled every `hop_secs`, by autocorrelation over
/// 50..220 BPM; among strong peaks the fastest whose strength is near the best is taken, so a beat
/// is not mistaken for a bar. Returns (bpm, peak strength in [0, 1]); (0, 0) when there is no pulse.
pub fn estimate_tempo(onset: &[f32], hop_secs: f32) -> (f32, f32) {
    let n = onset.len();
    if n < 16 {
        return (0.0, 0.0);
    }
    // Remove the slowly varying part (local mean over ~1 s) and rectify.
    let win = ((1.0 / hop_secs) as usize).max(3);
    let mut prefix = vec![0.0f64; n + 1];
    for i in 0..n {
        prefix[i + 1] = prefix[i] + onset[i] as f64;
    }
    let env: Vec<f32> = (0..n)
        .map(|i| {
            let (a, b) = (i.saturating_sub(win / 2), (i + win / 2 + 1).min(n));
            let mean = ((prefix[b] - prefix[a]) / (b - a) as f64) as f32;
            (onset[i] - mean).max(0.0)
        })
        .collect();
    // Smooth a little so a beat that falls between frames still lines up with itself.
    let env: Vec<f32> = (0..n)
        .map(|i| {
            let at = |k: isize| env[(i as isize + k).clamp(0, n as isize - 1) as usize];
            0.1 * at(-2) + 0.2 * at(-1) + 0.4 * at(0) + 0.2 * at(1) + 0.1 * at(2)
        })
        .collect();
    let energy: f32 = env.iter().map(|x| x * x).sum();
    if energy <= 1e-12 {
        return (0.0, 0.0);
    }
    let lag_min = (60.0 / 220.0 / hop_secs).floor().max(1.0) as usize;
    let lag_max = ((60.0 / 50.0 / hop_secs).ceil() as usize).min(n - 1);
    if lag_min + 2 >= lag_max {
        return (0.0, 0.0);
    }
    let acf: Vec<f32> = (0..=lag_max + 1)
        .map(|lag| {
            if lag >= n {
                return 0.0;
            }
            let s: f32 = env[..n - lag]
                .iter()
                .zip(&env[lag..])
                .map(|(a, b)| a * b)
                .sum();
            s / (n - lag) as f32 * n as f32 / energy
        })
        .collect();
    // Peaks: the largest value within 3 lags on either side (a shoulder is not a peak).
    let peaks: Vec<usize> = (lag_min.max(1)..=lag_max)
        .filter(|&l| {
            let (a, b) = (l.saturating_sub(3).max(1), (l + 3).min(acf.len() - 1));
            acf[l] > 0.0 && (a..=b).all(|k| k == l || acf[l] >= acf[k])
        })
        .collect();
    let Some(&best) = peaks.iter().max_by(|&&a, &&b| acf[a].total_cmp(&acf[b])) else {
        return (0.0, 0.0);
    };
    let chosen = peaks
        .iter()
        .copied()
        .find(|&l| acf[l] >= 0.7 * acf[best])
        .unwrap_or(best);
    // Parabolic refinement of the lag.
    let (a, b, c) = (acf[chosen - 1], acf[chosen], acf[chosen + 1]);
    let denom = a - 2.0 * b + c;
    let shift = if denom.abs() > 1e-9 {
        (0.5 * (a - c) / denom).clamp(-0.5, 0.5)
    } else {
        0.0
    };
    let lag = chosen as f32 + shift;
    (60.0 / (lag * hop_secs), acf[chosen].clamp(0.0, 1.0))
}

/// Fundamental frequency of one frame by normalised autocorrelation between `lo_hz` and `hi_hz`:
/// (f0 Hz, periodicity in [0, 1]); periodicity near 1 is strongly voiced.
pub fn frame_pitch(frame: &[f32], rate: f32, lo_hz: f32, hi_hz: f32) -> (f32, f32) {
    let n = frame.len();
    let lag_min = (rate / hi_hz).floor() as usize;
    let lag_max = ((rate / lo_hz).ceil() as usize).min(n / 2);
    if lag_min < 2 || lag_min >= lag_max {
        return (0.0, 0.0);
    }
    let mean = frame.iter().sum::<f32>() / n as f32;
    let (mut best_lag, mut best) = (0usize, 0.0f32);
    let mut scores = vec![0.0f32; lag_max + 2];
    for lag in lag_min..=lag_max + 1 {
        if lag >= n {
            break;
        }
        let (mut num, mut e0, mut e1) = (0.0f32, 0.0f32, 0.0f32);
        for i in 0..n - lag {
            let (a, b) = (frame[i] - mean, frame[i + lag] - mean);
            num += a * b;
            e0 += a * a;
            e1 += b * b;
        }
        let r = if e0 > 1e-12 && e1 > 1e-12 {
            num / (e0 * e1).sqrt()
        } else {
            0.0
        };
        scores[lag] = r;
    }
    for (lag, &score) in scores.iter().enumerate().take(lag_max + 1).skip(lag_min) {
        if score > best {
            best = score;
            best_lag = lag;
        }
    }
    if best_lag == 0 {
        return (0.0, 0.0);
    }
    // Prefer the shortest lag nearly as periodic as the best (avoids octave-down errors).
    let near = (lag_min..best_lag).find(|&lag| {
        scores[lag] >= 0.9 * best
            && scores[lag] >= scores[lag - 1]
            && scores[lag] >= scores[lag + 1]
    });
    if let Some(lag) = near {
        best_lag = lag;
        best = scores[lag];
    }
    (rate / best_lag as f32, best.clamp(0.0, 1.0))
}

/// Median of a slice (0 for an empty one).
pub fn median(values: &[f32]) -> f32 {
    if values.is_empty() {
        return 0.0;
    }
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Root-mean-square of a slice.
pub fn rms(samples: &[f32]) -> f32 {
    if samples.is_empty() {
        return 0.0;
    }
    (samples.iter().map(|x| x * x).sum::<f32>() / samples.len() as f32).sqrt()
}

/// Largest absolute sample.
pub fn peak(samples: &[f32]) -> f32 {
    samples.iter().fold(0.0f32, |m, x| m.max(x.abs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(hz: f32, secs: f32) -> Vec<f32> {
        (0..(secs * 16000.0) as usize)
            .map(|i| (std::f32::consts::TAU * hz * i as f32 / 16000.0).sin())
            .collect()
    }

    #[test]
    fn pitch_of_a_pulse_train() {
        // 150 Hz harmonic-rich tone.
        let x: Vec<f32> = (0..640)
            .map(|i| ((i as f32 * 150.0 / 16000.0).fract() - 0.5) * 2.0)
            .collect();
        let (f0, p) = frame_pitch(&x, 16000.0, 60.0, 400.0);
        assert!((f0 - 150.0).abs() < 4.0, "{f0}");
        assert!(p > 0.9);
    }

    #[test]
    fn key_profiles_recognise_a_triad_mix() {
        // A minor: A C E with a G# leading tone, weighted like a cadence.
        let mut x = vec![0.0f32; 32000];
        for (hz, w) in [
            (220.0, 1.0),
            (261.63, 0.8),
            (329.63, 0.9),
            (415.3, 0.4),
            (293.66, 0.3),
        ] {
            for (s, t) in x.iter_mut().zip(tone(hz, 2.0)) {
                *s += w * t;
            }
        }
        let spec = Spectrogram::new(&x, 16000, 2048, 512);
        let (tonic, minor, _) = estimate_key(&chroma(&spec));
        assert_eq!((tonic, minor), (9, true));
    }

    #[test]
    fn tempo_of_a_click_track() {
        // Clicks at 100 BPM, with weaker off-beat clicks.
        let mut x = vec![0.0f32; 16000 * 12];
        let beat = (0.6 * 16000.0) as usize;
        let mut i = 0;
        while i < x.len() {
            for k in 0..80 {
                if i + k < x.len() {
                    x[i + k] += ((k * 7919) % 13) as f32 / 13.0 - 0.5;
                }
                if i + beat / 2 + k < x.len() {
                    x[i + beat / 2 + k] += 0.4 * (((k * 7919) % 13) as f32 / 13.0 - 0.5);
                }
            }
            i += beat;
        }
        let spec = Spectrogram::new(&x, 16000, 1024, 256);
        let (bpm, strength) = estimate_tempo(&spec.onset_strength(), spec.hop_secs());
        assert!((bpm - 100.0).abs() < 3.0, "{bpm}");
        assert!(strength > 0.1);
    }
}
