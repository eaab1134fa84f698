//! Built-in audio evaluation (no model weights): music, speech and voice-clone scores from
//! handcrafted features, the Frechet distance against reference statistics, and audio fingerprints.
//!
//! Each evaluator gates on the basics first (finite samples, duration, level, not noise), then
//! measures what the task asks for; every measurement is reported in `Evaluation::metrics`.

pub mod analysis;
pub mod fingerprint;
pub mod frechet;
pub mod music;
pub mod quality;
pub mod resample;
pub mod speech;

pub use fingerprint::audio_fingerprint;
pub use frechet::{frechet_distance, GaussianStats};
pub use music::{MusicEvaluator, ReferenceStats};
pub use quality::{hnr_db, hpss, normalised_quality, older_music_score, snr_db};
pub use speech::{SpeechEvaluator, VoiceCloneEvaluator};

use analysis::{all_finite, peak, rms};
use salon_core::Audio;

/// Why reference statistics could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ReferenceError {
    /// Too few usable clips.
    #[error(
        "reference statistics need at least 2 non-silent clips of at least 1 s; got {0} usable"
    )]
    TooFewClips(usize),
}

/// The fingerprint of an audio response that is usable at all (the music evaluators' copy check).
pub(crate) fn response_fingerprint(response: &salon_core::Response) -> Option<crate::Fingerprint> {
    match response {
        salon_core::Response::Audio { audio } if malformed(audio).is_none() => {
            Some(audio_fingerprint(audio))
        }
        _ => None,
    }
}

/// Checks that `audio` is usable at all; the reason why not otherwise.
pub(crate) fn malformed(audio: &Audio) -> Option<&'static str> {
    if audio.sample_rate == 0 || audio.channels == 0 {
        return Some("audio has a zero sample rate or zero channels");
    }
    if audio.samples.is_empty() {
        return Some("audio is empty");
    }
    if !all_finite(&audio.samples) {
        return Some("audio has NaN or infinite samples");
    }
    None
}

/// Duration factor: 1 within 50 ms of `asked`; shorter clips lose 3x their missing fraction (so a
/// clip at two thirds of the asked length or less scores 0: every short clip is penalised, unlike
/// BittAudio's skip under 12.5 s); clips over 110% lose the excess, 0 at 210%.
pub fn duration_factor(got_secs: f32, asked_secs: f32) -> f64 {
    if asked_secs <= 0.0 {
        return 1.0;
    }
    let ratio = got_secs as f64 / asked_secs as f64;
    if got_secs >= asked_secs - 0.05 && ratio <= 1.1 {
        1.0
    } else if ratio < 1.0 {
        (1.0 - 3.0 * (1.0 - ratio)).clamp(0.0, 1.0)
    } else {
        (1.0 - (ratio - 1.1)).clamp(0.0, 1.0)
    }
}

/// Level factor from RMS and peak (dBFS): 0 for silence and near-silence (RMS under -50 dBFS or peak
/// under -40 dBFS), 1 from -35 dBFS RMS up.
pub fn level_factor(samples: &[f32]) -> (f64, f64) {
    let r = rms(samples).max(1e-9);
    let db = 20.0 * (r as f64).log10();
    if peak(samples) < 0.01 {
        return (0.0, db);
    }
    (((db + 50.0) / 15.0).clamp(0.0, 1.0), db)
}

/// Noise factor from the median spectral flatness: 1 at or under 0.25 (tonal), 0 at or over 0.45
/// (white noise sits near 0.56).
pub fn noise_factor(median_flatness: f32) -> f64 {
    ((0.45 - median_flatness as f64) / 0.2).clamp(0.0, 1.0)
}

/// Geometric mean of two terms, each floored at 1e-4 (BittAudio's combination).
pub(crate) fn geometric(a: f64, b: f64) -> f64 {
    (a.max(1e-4) * b.max(1e-4)).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_short_clip_is_penalised() {
        assert_eq!(duration_factor(15.0, 15.0), 1.0);
        assert_eq!(duration_factor(14.97, 15.0), 1.0);
        assert!(duration_factor(14.5, 15.0) < 1.0);
        assert!(duration_factor(12.0, 15.0) < duration_factor(13.0, 15.0));
        // BittAudio skipped clips under 12.5 s: here they score 0 once at two thirds or less.
        assert_eq!(duration_factor(5.0, 15.0), 0.0);
        assert_eq!(duration_factor(10.0, 15.0), 0.0);
        assert!(duration_factor(20.0, 15.0) < 1.0);
        assert_eq!(duration_factor(40.0, 15.0), 0.0);
    }

    #[test]
    fn silence_and_whispers_have_no_level() {
        assert_eq!(level_factor(&[0.0; 1000]).0, 0.0);
        assert_eq!(level_factor(&vec![0.001; 1000]).0, 0.0);
        let tone: Vec<f32> = (0..16000).map(|i| 0.3 * (i as f32 * 0.05).sin()).collect();
        assert_eq!(level_factor(&tone).0, 1.0);
    }
}
