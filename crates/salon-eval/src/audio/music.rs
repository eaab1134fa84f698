//! Text-to-music scoring: duration, level and noise guards, prompt adherence (tempo and key against
//! [`MusicIntent`]) and a Frechet distance over handcrafted frame features against [`ReferenceStats`].

use super::analysis::{
    analysis_signal, chroma, dct, estimate_key, estimate_tempo, key_correlation, median, MelBank,
    Spectrogram, ANALYSIS_RATE,
};
use super::frechet::{frechet_distance, GaussianStats};
use super::{duration_factor, geometric, level_factor, malformed, noise_factor, ReferenceError};
use crate::{Challenge, Evaluation, Evaluator, Fingerprint};
use salon_core::{Audio, MusicIntent, Request, Response, Task};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const N_FFT: usize = 2048;
const HOP: usize = 256;
const MEL_BANDS: usize = 40;
const N_MFCC: usize = 12;
/// Features per frame: 12 MFCCs (c1..c12), log centroid, log flatness, relative level, onset.
pub const FEATURE_DIM: usize = N_MFCC + 4;

/// What the music analysis found in one clip.
pub struct MusicFeatures {
    /// Frame feature rows, FEATURE_DIM each.
    pub frames: Vec<[f32; FEATURE_DIM]>,
    /// Estimated tempo (BPM) and pulse strength.
    pub tempo: (f32, f32),
    /// Mean chroma.
    pub chroma: [f32; 12],
    /// Median spectral flatness.
    pub flatness: f32,
}

/// Median spectral flatness (100 Hz to 6 kHz) of a clip: white noise sits near 0.56, music far
/// below 0.3.
pub fn median_flatness(audio: &Audio) -> f32 {
    let signal = analysis_signal(audio);
    let spec = Spectrogram::new(&signal, ANALYSIS_RATE, N_FFT, HOP);
    median(&spec.flatness(100.0, 6000.0))
}

/// Analyses a clip: one spectrogram feeds every feature.
pub fn music_features(audio: &Audio) -> MusicFeatures {
    let signal = analysis_signal(audio);
    let spec = Spectrogram::new(&signal, ANALYSIS_RATE, N_FFT, HOP);
    let mel = MelBank::new(&spec, MEL_BANDS, 40.0, 7600.0);
    let onset = spec.onset_strength();
    let flat = spec.flatness(100.0, 6000.0);
    let centroid = spec.centroid();
    let energy = spec.frame_energy();
    let level_ref = median(&energy).max(1e-10);
    let onset_ref = (onset.iter().sum::<f32>() / onset.len().max(1) as f32).max(1e-6);
    let mut log_mel = vec![0.0f32; MEL_BANDS];
    let mut cep = vec![0.0f32; N_MFCC + 1];
    let frames = (0..spec.frames)
        .map(|f| {
            mel.log_energies(spec.frame(f), &mut log_mel);
            dct(&log_mel, &mut cep);
            let mut row = [0.0f32; FEATURE_DIM];
            row[..N_MFCC].copy_from_slice(&cep[1..]);
            row[N_MFCC] = (centroid[f].max(20.0)).log2();
            row[N_MFCC + 1] = (flat[f] + 1e-4).log10();
            row[N_MFCC + 2] =
                10.0 * ((energy[f] + 1e-10) / level_ref).log10().clamp(-60.0, 30.0) / 10.0;
            row[N_MFCC + 3] = (onset[f] / onset_ref).min(10.0);
            row
        })
        .collect();
    MusicFeatures {
        frames,
        tempo: estimate_tempo(&onset, spec.hop_secs()),
        chroma: chroma(&spec),
        flatness: median(&flat),
    }
}

/// Reference statistics for the Frechet metric: the pooled frame features of a reference set,
/// standardised per dimension, with the typical distance of a reference clip for calibration.
/// Build once (e.g. from the honest built-in composer on a prompt corpus), serialize, cache.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReferenceStats {
    /// Per-dimension mean used for standardisation.
    pub center: Vec<f64>,
    /// Per-dimension standard deviation used for standardisation.
    pub scale: Vec<f64>,
    /// Statistics of the standardised pooled frames.
    pub stats: GaussianStats,
    /// Median Frechet distance of the reference clips themselves to the pool.
    pub typical: f64,
    /// Number of clips.
    pub clips: usize,
}

impl ReferenceStats {
    /// Builds statistics from reference clips (each at least 1 s and not silent).
    pub fn from_clips(clips: &[Audio]) -> Result<Self, ReferenceError> {
        let feats: Vec<Vec<[f32; FEATURE_DIM]>> = clips
            .iter()
            .filter(|a| {
                malformed(a).is_none()
                    && a.duration_secs() >= 1.0
                    && level_factor(&a.samples).0 > 0.0
            })
            .map(|a| music_features(a).frames)
            .collect();
        if feats.len() < 2 {
            return Err(ReferenceError::TooFewClips(feats.len()));
        }
        let raw = GaussianStats::from_rows(feats.iter().flatten().map(|r| &r[..]), FEATURE_DIM)
            .ok_or(ReferenceError::TooFewClips(feats.len()))?;
        let center = raw.mean.clone();
        let scale: Vec<f64> = (0..FEATURE_DIM)
            .map(|i| raw.cov[i * FEATURE_DIM + i].sqrt().max(1e-6))
            .collect();
        let mut reference = ReferenceStats {
            stats: raw,
            center,
            scale,
            typical: 1.0,
            clips: feats.len(),
        };
        let standardised: Vec<Vec<[f32; FEATURE_DIM]>> =
            feats.iter().map(|f| reference.standardise(f)).collect();
        reference.stats =
            GaussianStats::from_rows(standardised.iter().flatten().map(|r| &r[..]), FEATURE_DIM)
                .ok_or(ReferenceError::TooFewClips(feats.len()))?;
        let distances: Vec<f32> = standardised
            .iter()
            .filter_map(|f| GaussianStats::from_rows(f.iter().map(|r| &r[..]), FEATURE_DIM))
            .map(|s| frechet_distance(&s, &reference.stats) as f32)
            .collect();
        reference.typical = (median(&distances) as f64).max(1e-3);
        Ok(reference)
    }

    fn standardise(&self, frames: &[[f32; FEATURE_DIM]]) -> Vec<[f32; FEATURE_DIM]> {
        frames
            .iter()
            .map(|r| {
                let mut o = [0.0f32; FEATURE_DIM];
                for i in 0..FEATURE_DIM {
                    o[i] = ((r[i] as f64 - self.center[i]) / self.scale[i]) as f32;
                }
                o
            })
            .collect()
    }

    /// Frechet distance of a clip's frame features to the reference, divided by the typical
    /// distance of a reference clip (so about 1 means "like the reference"); None if too short.
    pub fn relative_distance(&self, frames: &[[f32; FEATURE_DIM]]) -> Option<f64> {
        let s =
            GaussianStats::from_rows(self.standardise(frames).iter().map(|r| &r[..]), FEATURE_DIM)?;
        Some(frechet_distance(&s, &self.stats) / self.typical)
    }
}

/// BittAudio's FAD normalisation: (5 - f) / 5 on [0, 5], 0.5 (10 - f) / 5 on (5, 10], else 0.
pub fn normalised_fad(f: f64) -> f64 {
    if f <= 5.0 {
        ((5.0 - f) / 5.0).clamp(0.0, 1.0)
    } else if f <= 10.0 {
        0.5 * (10.0 - f) / 5.0
    } else {
        0.0
    }
}

/// Tempo agreement in [0, 1]: 1 within 2%, 0 beyond about 9% off; half credit for an octave error.
pub fn tempo_score(estimated: f32, intended: f32) -> f64 {
    if estimated <= 0.0 || intended <= 0.0 {
        return 0.0;
    }
    let closeness = |target: f32| {
        let err = (estimated as f64 / target as f64).log2().abs();
        (1.0 - (err - 0.03) / 0.1).clamp(0.0, 1.0)
    };
    closeness(intended)
        .max(0.5 * closeness(intended * 2.0))
        .max(0.5 * closeness(intended / 2.0))
}

/// Key agreement in [0, 1]: 1 for the intended key; 0.5 for its relative or parallel key; 0.25
/// for a fifth away in the same mode; else 0.
pub fn key_score(estimated: (u8, bool), intended: (u8, bool)) -> f64 {
    let (et, em) = estimated;
    let (it, im) = intended;
    if (et, em) == (it, im) {
        return 1.0;
    }
    let relative = if im { (it + 3) % 12 } else { (it + 9) % 12 };
    if em != im && (et == relative || et == it) {
        return 0.5;
    }
    if em == im && (et == (it + 7) % 12 || et == (it + 5) % 12) {
        return 0.25;
    }
    0.0
}

/// Scores text-to-music responses. With reference statistics the score is
/// guards x geometric(adherence, nFAD); without, guards x adherence.
#[derive(Clone, Debug, Default)]
pub struct MusicEvaluator {
    reference: Option<ReferenceStats>,
}

impl MusicEvaluator {
    /// An evaluator comparing against `reference` (None: no Frechet term).
    pub fn new(reference: Option<ReferenceStats>) -> Self {
        Self { reference }
    }

    /// Scores `audio` as music for `prompt` asked at `asked_secs`.
    pub fn score(&self, prompt: &str, asked_secs: f32, audio: &Audio) -> Evaluation {
        if let Some(why) = malformed(audio) {
            return Evaluation::zero(why);
        }
        let mut m = BTreeMap::new();
        let got = audio.duration_secs();
        let dur = duration_factor(got, asked_secs);
        m.insert("duration_secs".to_string(), got as f64);
        m.insert("duration_factor".to_string(), dur);
        let (level, rms_db) = level_factor(&audio.mono_samples());
        m.insert("rms_db".to_string(), rms_db);
        m.insert("level_factor".to_string(), level);
        if level == 0.0 {
            return Evaluation {
                score: 0.0,
                metrics: m,
                note: Some("silent or near-silent".into()),
            };
        }
        let feats = music_features(audio);
        let noise = noise_factor(feats.flatness);
        m.insert("flatness".to_string(), feats.flatness as f64);
        m.insert("noise_factor".to_string(), noise);

        let intent = MusicIntent::from_prompt(prompt);
        let (bpm, pulse) = feats.tempo;
        let t_score = tempo_score(bpm, intent.tempo_bpm);
        let (tonic, minor, r) = estimate_key(&feats.chroma);
        let k_score = key_score((tonic, minor), (intent.key, intent.minor));
        let adherence = 0.5 * t_score + 0.5 * k_score;
        m.insert("tempo_bpm".to_string(), bpm as f64);
        m.insert("tempo_pulse".to_string(), pulse as f64);
        m.insert("tempo_intended".to_string(), intent.tempo_bpm as f64);
        m.insert("tempo_score".to_string(), t_score);
        m.insert(
            "key_estimated".to_string(),
            (tonic as f64) + if minor { 12.0 } else { 0.0 },
        );
        m.insert(
            "key_intended".to_string(),
            (intent.key as f64) + if intent.minor { 12.0 } else { 0.0 },
        );
        m.insert("key_correlation".to_string(), r as f64);
        m.insert(
            "key_intended_correlation".to_string(),
            key_correlation(&feats.chroma, intent.key, intent.minor) as f64,
        );
        m.insert("key_score".to_string(), k_score);
        m.insert("adherence".to_string(), adherence);

        let gates = dur * level * noise;
        let score = match &self.reference {
            Some(reference) => {
                let f = reference
                    .relative_distance(&feats.frames)
                    .unwrap_or(f64::INFINITY);
                let nfad = normalised_fad(f);
                m.insert("frechet".to_string(), f);
                m.insert("nfad".to_string(), nfad);
                gates * geometric(adherence, nfad)
            }
            None => gates * adherence,
        };
        let note = if dur < 1.0 {
            Some(format!("duration {got:.2} s for {asked_secs:.2} s asked"))
        } else if noise < 0.5 {
            Some("sounds like noise".to_string())
        } else {
            None
        };
        Evaluation {
            score: score.clamp(0.0, 1.0),
            metrics: m,
            note,
        }
    }
}

impl Evaluator for MusicEvaluator {
    fn supports(&self, task: Task) -> bool {
        task == Task::TextToMusic
    }

    fn evaluate(&self, challenge: &Challenge, response: &Response) -> Evaluation {
        let Request::TextToMusic(req) = &challenge.request else {
            return Evaluation::zero(format!(
                "music evaluator got a {} challenge",
                challenge.request.task()
            ));
        };
        match response {
            Response::Audio { audio } => self.score(&req.prompt, req.duration_secs, audio),
            _ => Evaluation::zero("response is not audio"),
        }
    }

    fn fingerprint(&self, response: &Response) -> Option<Fingerprint> {
        super::response_fingerprint(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisations_follow_bittaudio() {
        assert_eq!(normalised_fad(0.0), 1.0);
        assert!((normalised_fad(2.5) - 0.5).abs() < 1e-12);
        assert!((normalised_fad(7.5) - 0.25).abs() < 1e-12);
        assert_eq!(normalised_fad(12.0), 0.0);
        assert_eq!(tempo_score(120.0, 120.0), 1.0);
        assert_eq!(tempo_score(140.0, 120.0), 0.0);
        assert!((tempo_score(240.0, 120.0) - 0.5).abs() < 1e-9);
        assert_eq!(key_score((2, true), (2, true)), 1.0);
        assert_eq!(key_score((5, false), (2, true)), 0.5); // F major is D minor's relative.
        assert_eq!(key_score((2, false), (2, true)), 0.5);
        assert_eq!(key_score((8, true), (2, true)), 0.0);
    }
}
