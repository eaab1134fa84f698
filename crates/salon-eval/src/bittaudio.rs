//! BittAudio's text-to-music reward with its bugs fixed: nKLD and nFAD as the subnet normalises
//! them, q = g(nKLD, nFAD), score = g(q, clap) if clap > 0.1 else 0 (g: geometric mean, terms
//! floored at 1e-4); a duration penalty for EVERY short clip; FAD against a reference SET; copies
//! of a reference clip and duplicates caught by audio fingerprints, with a penalty that sticks.
//!
//! [`reward`] takes the metrics from any models (VGGish/PaSST/CLAP or the built-in stand-ins of
//! [`BuiltinMusicMetrics`], which need no weights).
//!
//! Copies: a miner that returns a reference clip (or one with noise added) would win on KLD and
//! FAD. The reward therefore takes the best fingerprint similarity of the response to the
//! reference clips the validator holds (the paired clip and the set); at or above
//! [`RewardOptions::copy_similarity`] the response scores 0. The fingerprint survives noise, gain
//! and small shifts, so light disguises do not help.

use crate::audio::analysis::key_correlation;
use crate::audio::music::{key_score, median_flatness, music_features, tempo_score, MusicFeatures};
use crate::audio::{audio_fingerprint, geometric, level_factor, malformed, ReferenceStats};
use crate::kld::{kld, Kld};
use crate::{Evaluation, Fingerprint};
use salon_core::{Audio, MusicIntent};
use std::collections::BTreeMap;

pub use crate::audio::music::normalised_fad;

/// BittAudio's KLD normalisation: 1 - k on [0, 1], 0.5 (2 - k) on (1, 2], else 0.
pub fn normalised_kld(k: f64) -> f64 {
    if k.is_nan() {
        return 0.0;
    }
    // A hair below 0 (audiocraft's epsilon) means identical distributions: 1.
    if k <= 1.0 {
        (1.0 - k).min(1.0)
    } else if k <= 2.0 {
        0.5 * (2.0 - k)
    } else {
        0.0
    }
}

/// Median spectral flatness at which a clip counts as noise (white noise: about 0.56; music,
/// even noisy genres, stays well under 0.3).
pub const NOISE_FLATNESS: f32 = 0.45;

/// Slack for frame rounding (one EnCodec frame at 50 Hz is 20 ms).
const DURATION_SLACK_SECS: f32 = 0.02;

/// Duration factor, BittAudio's steps scaled to the asked duration (at 15 s: [14.5, 15) x0.9,
/// [14, 14.5) x0.8, [13.5, 14) x0.7, [13, 13.5) x0.6) and, the fix, 0 for EVERY shorter clip
/// (BittAudio skipped clips under 12.5 s). Within 20 ms of the asked length counts as full.
pub fn duration_penalty(got_secs: f32, asked_secs: f32) -> f64 {
    if asked_secs <= 0.0 || got_secs >= asked_secs - DURATION_SLACK_SECS {
        return 1.0;
    }
    let r = got_secs as f64 / asked_secs as f64;
    let step = |secs: f64| secs / 15.0;
    if r >= step(14.5) {
        0.9
    } else if r >= step(14.0) {
        0.8
    } else if r >= step(13.5) {
        0.7
    } else if r >= step(13.0) {
        0.6
    } else {
        0.0
    }
}

/// Thresholds of [`reward`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RewardOptions {
    /// CLAP (text consistency) at or under which the score is 0 (BittAudio: 0.1).
    pub clap_gate: f64,
    /// Fingerprint similarity to a reference clip at which the response counts as a copy.
    pub copy_similarity: f64,
    /// Fingerprint similarity to another response at which it counts as a duplicate.
    pub duplicate_similarity: f64,
}

impl Default for RewardOptions {
    fn default() -> Self {
        Self {
            clap_gate: 0.1,
            copy_similarity: 0.8,
            duplicate_similarity: 0.9,
        }
    }
}

/// What the reward needs to know about one response.
#[derive(Clone, Debug, PartialEq)]
pub struct RewardInputs {
    /// KL(p||q) + KL(q||p) of the class probabilities against the paired reference (kld_both).
    pub kld_both: f64,
    /// Frechet distance of the response's embeddings to the reference SET's statistics.
    pub fad: f64,
    /// Text consistency (CLAP cosine, or a stand-in in [0, 1]).
    pub clap: f64,
    /// Duration of the response.
    pub duration_secs: f32,
    /// Duration asked for.
    pub asked_secs: f32,
    /// Best fingerprint similarity to the validator's reference clips (None: not checked).
    pub reference_similarity: Option<f64>,
    /// Best fingerprint similarity to other responses (None: not checked).
    pub duplicate_similarity: Option<f64>,
    /// The miner was caught duplicating before (persisted by the caller): the penalty sticks.
    pub known_duplicate: bool,
}

/// The reward and whether the response is a duplicate the caller must remember.
#[derive(Clone, Debug, PartialEq)]
pub struct Reward {
    /// Score, metrics and the reason for a zero.
    pub evaluation: Evaluation,
    /// True when this response copied a reference clip or another response (or the miner was
    /// known to): the caller persists it and keeps the zero, whatever later scoring says.
    pub duplicate: bool,
}

/// BittAudio's reward, fixed (see the module doc). Copies and duplicates are decided last, so
/// nothing can overwrite their zero.
pub fn reward(inputs: &RewardInputs, opts: &RewardOptions) -> Reward {
    let mut m = BTreeMap::new();
    let nkld = normalised_kld(inputs.kld_both);
    let nfad = if inputs.fad.is_finite() {
        normalised_fad(inputs.fad)
    } else {
        0.0
    };
    let q = geometric(nkld, nfad);
    let clap_ok = inputs.clap > opts.clap_gate;
    let base = if clap_ok {
        geometric(q, inputs.clap)
    } else {
        0.0
    };
    let duration = duration_penalty(inputs.duration_secs, inputs.asked_secs);
    m.insert("kld_both".into(), inputs.kld_both);
    m.insert("nkld".into(), nkld);
    m.insert("fad".into(), inputs.fad);
    m.insert("nfad".into(), nfad);
    m.insert("quality".into(), q);
    m.insert("clap".into(), inputs.clap);
    m.insert("duration_secs".into(), inputs.duration_secs as f64);
    m.insert("duration_factor".into(), duration);
    let mut note = None;
    if !clap_ok {
        note = Some(format!(
            "clap {:.3} at or under {}",
            inputs.clap, opts.clap_gate
        ));
    } else if duration < 1.0 {
        note = Some(format!(
            "duration {:.2} s for {:.2} s asked",
            inputs.duration_secs, inputs.asked_secs
        ));
    }
    let mut score = (base * duration).clamp(0.0, 1.0);
    if let Some(s) = inputs.reference_similarity {
        m.insert("reference_similarity".into(), s);
    }
    if let Some(s) = inputs.duplicate_similarity {
        m.insert("duplicate_similarity".into(), s);
    }
    let copy = inputs
        .reference_similarity
        .is_some_and(|s| s >= opts.copy_similarity);
    let dup = inputs
        .duplicate_similarity
        .is_some_and(|s| s >= opts.duplicate_similarity);
    let duplicate = copy || dup || inputs.known_duplicate;
    if duplicate {
        score = 0.0;
        note = Some(
            if copy {
                "copy of a reference clip"
            } else if dup {
                "duplicate of another response"
            } else {
                "miner previously caught duplicating"
            }
            .into(),
        );
    }
    m.insert("duplicate".into(), if duplicate { 1.0 } else { 0.0 });
    Reward {
        evaluation: Evaluation {
            score,
            metrics: m,
            note,
        },
        duplicate,
    }
}

/// Number of classes of the built-in classifier: 12 major and 12 minor keys.
pub const BUILTIN_CLASSES: usize = 24;
/// Softmax temperature over the key correlations.
const KEY_TEMPERATURE: f64 = 0.5;

/// The built-in stand-in for a class-probability model: a softmax over the 24 key-profile
/// correlations of the clip's mean chroma (majors first, tonic C..B).
pub fn builtin_class_probabilities(feats: &MusicFeatures) -> Vec<f64> {
    let logits: Vec<f64> = [false, true]
        .iter()
        .flat_map(|&minor| {
            (0..12u8)
                .map(move |t| key_correlation(&feats.chroma, t, minor) as f64 / KEY_TEMPERATURE)
        })
        .map(|v| if v.is_finite() { v } else { 0.0 })
        .collect();
    let max = logits.iter().cloned().fold(f64::MIN, f64::max);
    let exps: Vec<f64> = logits.iter().map(|v| (v - max).exp()).collect();
    let sum: f64 = exps.iter().sum();
    exps.iter().map(|e| e / sum).collect()
}

/// The built-in stand-in for CLAP text consistency, in [0, 1]: agreement of the clip's tempo and
/// key with what the prompt asks (MusicIntent), half each.
pub fn builtin_text_consistency(feats: &MusicFeatures, prompt: &str) -> f64 {
    let intent = MusicIntent::from_prompt(prompt);
    let (bpm, _) = feats.tempo;
    let (tonic, minor, _) = crate::audio::analysis::estimate_key(&feats.chroma);
    0.5 * tempo_score(bpm, intent.tempo_bpm)
        + 0.5 * key_score((tonic, minor), (intent.key, intent.minor))
}

/// The metrics of one response, before the reward.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct MusicMetrics {
    /// FAD against the reference set (for the built-in model: relative to a typical reference
    /// clip's distance, so about 1 means "like the reference").
    pub fad: f64,
    /// KLD of class probabilities against the paired reference (or the set's mean).
    pub kld: Kld,
    /// Text consistency.
    pub clap: f64,
    /// Duration in seconds.
    pub duration_secs: f32,
    /// Best fingerprint similarity to a reference clip.
    pub reference_similarity: f64,
    /// Why the clip cannot be scored at all (malformed, silent), if so.
    pub unusable: Option<String>,
}

/// Which of the FAD, KLD and CLAP terms to measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Terms {
    /// Frechet distance to the reference set.
    pub fad: bool,
    /// Class-distribution divergence.
    pub kld: bool,
    /// Text consistency.
    pub clap: bool,
}

impl Terms {
    /// All three terms.
    pub const ALL: Self = Self {
        fad: true,
        kld: true,
        clap: true,
    };
    /// None of them (screening only).
    pub const NONE: Self = Self {
        fad: false,
        kld: false,
        clap: false,
    };
}

/// Built-in FAD, KLD and text-consistency stand-ins over a reference set (no model weights):
/// handcrafted frame features for FAD, a key-profile classifier for KLD, tempo and key agreement
/// with the prompt for CLAP. Build once per reference set; [`BuiltinMusicMetrics::measure`] is
/// then cheap per clip.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct BuiltinMusicMetrics {
    reference: ReferenceStats,
    mean_classes: Vec<f64>,
    fingerprints: Vec<Fingerprint>,
}

impl BuiltinMusicMetrics {
    /// The models' name in reports.
    pub const MODEL: &'static str = "builtin";

    /// Builds the reference statistics, the set's mean class distribution and the clips'
    /// fingerprints.
    pub fn from_reference(clips: &[Audio]) -> Result<Self, crate::audio::ReferenceError> {
        let reference = ReferenceStats::from_clips(clips)?;
        Ok(Self::with_stats(reference, clips))
    }

    /// As [`BuiltinMusicMetrics::from_reference`], with reference statistics already computed
    /// (e.g. read from a [`crate::fad::StatsCache`]).
    pub fn with_stats(reference: ReferenceStats, clips: &[Audio]) -> Self {
        let mut mean_classes = vec![0.0; BUILTIN_CLASSES];
        let mut used = 0usize;
        let mut fingerprints = Vec::new();
        for clip in clips.iter().filter(|c| malformed(c).is_none()) {
            fingerprints.push(audio_fingerprint(clip));
            if level_factor(&clip.mono_samples()).0 > 0.0 {
                let p = builtin_class_probabilities(&music_features(clip));
                mean_classes.iter_mut().zip(&p).for_each(|(m, v)| *m += v);
                used += 1;
            }
        }
        let n = used.max(1) as f64;
        mean_classes.iter_mut().for_each(|m| *m /= n);
        Self {
            reference,
            mean_classes,
            fingerprints,
        }
    }

    /// The reference statistics.
    pub fn reference(&self) -> &ReferenceStats {
        &self.reference
    }

    /// Number of reference clips fingerprinted.
    pub fn reference_clips(&self) -> usize {
        self.fingerprints.len()
    }

    /// Measures `audio` for `prompt`; `paired` is the reference clip for this prompt, the KLD
    /// target (None: the set's mean class distribution).
    pub fn measure(&self, prompt: &str, audio: &Audio, paired: Option<&Audio>) -> MusicMetrics {
        self.measure_terms(prompt, audio, paired, Terms::ALL)
    }

    /// As [`BuiltinMusicMetrics::measure`], measuring only the `terms` asked for; the others
    /// stay at their worst values for a model to fill.
    pub fn measure_terms(
        &self,
        prompt: &str,
        audio: &Audio,
        paired: Option<&Audio>,
        terms: Terms,
    ) -> MusicMetrics {
        let mut m = self.screen(audio, paired);
        if m.unusable.is_some() || terms == Terms::NONE {
            return m;
        }
        let feats = music_features(audio);
        if terms.fad {
            m.fad = self
                .reference
                .relative_distance(&feats.frames)
                .unwrap_or(f64::INFINITY);
        }
        if terms.kld {
            let pred = builtin_class_probabilities(&feats);
            let target = match paired.filter(|p| malformed(p).is_none()) {
                Some(p) => builtin_class_probabilities(&music_features(p)),
                None => self.mean_classes.clone(),
            };
            m.kld = kld(&pred, &target).expect("both are softmax outputs over the same classes");
        }
        if terms.clap {
            m.clap = builtin_text_consistency(&feats, prompt);
        }
        m
    }

    /// Whether a clip passes the screen's cheap checks (well-formed and not silent), i.e. is
    /// worth running the models on.
    pub fn audible(audio: &Audio) -> bool {
        inaudible(audio).is_none()
    }

    /// The checks every scorer needs: malformed, silent and noise-like clips are marked unusable,
    /// and the best fingerprint similarity to the reference clips (and `paired`) is measured.
    /// FAD, KLD and CLAP are left at their worst values for the caller to fill.
    pub fn screen(&self, audio: &Audio, paired: Option<&Audio>) -> MusicMetrics {
        let mut m = MusicMetrics {
            fad: f64::INFINITY,
            kld: Kld {
                kld: f64::INFINITY,
                kld_qp: f64::INFINITY,
                kld_both: f64::INFINITY,
            },
            clap: 0.0,
            duration_secs: audio.duration_secs(),
            reference_similarity: 0.0,
            unusable: None,
        };
        if let Some(why) = inaudible(audio) {
            m.unusable = Some(why);
            return m;
        }
        // Noise is no answer, whatever the models make of it (a FAD over the dozen rows of one
        // clip is easily fooled). The fingerprint is taken alongside (wasted only on noise).
        let (flatness, fp) = rayon::join(|| median_flatness(audio), || audio_fingerprint(audio));
        if flatness >= NOISE_FLATNESS {
            m.unusable = Some(format!(
                "broadband noise, not music (median spectral flatness {flatness:.2})"
            ));
            return m;
        }
        let paired_fp = paired
            .filter(|p| malformed(p).is_none())
            .map(audio_fingerprint);
        m.reference_similarity = self
            .fingerprints
            .iter()
            .chain(paired_fp.as_ref())
            .map(|r| r.similarity(&fp))
            .fold(0.0, f64::max);
        m
    }
}

/// Why a clip cannot be scored at all (malformed, or silent), or `None`.
fn inaudible(audio: &Audio) -> Option<String> {
    if let Some(why) = malformed(audio) {
        return Some(why.to_string());
    }
    (level_factor(&audio.mono_samples()).0 == 0.0).then(|| "silent or near-silent".to_string())
}

/// The reward of measured metrics (an unusable clip scores 0 with its reason).
pub fn reward_metrics(
    metrics: &MusicMetrics,
    asked_secs: f32,
    duplicate_similarity: Option<f64>,
    known_duplicate: bool,
    opts: &RewardOptions,
) -> Reward {
    let inputs = RewardInputs {
        kld_both: metrics.kld.kld_both,
        fad: metrics.fad,
        clap: metrics.clap,
        duration_secs: metrics.duration_secs,
        asked_secs,
        reference_similarity: Some(metrics.reference_similarity),
        duplicate_similarity,
        known_duplicate,
    };
    let mut r = reward(&inputs, opts);
    if let Some(why) = &metrics.unusable {
        r.evaluation.score = 0.0;
        if !r.duplicate {
            r.evaluation.note = Some(why.clone());
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisations_follow_the_reference_page() {
        assert_eq!(normalised_kld(0.0), 1.0);
        assert!((normalised_kld(0.25) - 0.75).abs() < 1e-12);
        assert!((normalised_kld(1.5) - 0.25).abs() < 1e-12);
        assert_eq!(normalised_kld(2.5), 0.0);
        assert_eq!(normalised_kld(f64::NAN), 0.0);
        assert!((normalised_fad(7.5) - 0.25).abs() < 1e-12);
    }

    #[test]
    fn every_short_clip_is_penalised() {
        assert_eq!(duration_penalty(15.0, 15.0), 1.0);
        assert_eq!(duration_penalty(14.99, 15.0), 1.0);
        assert_eq!(duration_penalty(14.7, 15.0), 0.9);
        assert_eq!(duration_penalty(14.2, 15.0), 0.8);
        assert_eq!(duration_penalty(13.7, 15.0), 0.7);
        assert_eq!(duration_penalty(13.2, 15.0), 0.6);
        assert_eq!(duration_penalty(12.7, 15.0), 0.0);
        // BittAudio's bug: these were not penalised at all.
        assert_eq!(duration_penalty(12.0, 15.0), 0.0);
        assert_eq!(duration_penalty(5.0, 15.0), 0.0);
        assert_eq!(duration_penalty(0.5, 15.0), 0.0);
        // Scaled for 30 s requests.
        assert_eq!(duration_penalty(29.4, 30.0), 0.9);
        assert_eq!(duration_penalty(20.0, 30.0), 0.0);
    }

    fn inputs() -> RewardInputs {
        RewardInputs {
            kld_both: 0.5,
            fad: 2.5,
            clap: 0.36,
            duration_secs: 15.0,
            asked_secs: 15.0,
            reference_similarity: Some(0.55),
            duplicate_similarity: Some(0.6),
            known_duplicate: false,
        }
    }

    #[test]
    fn combines_as_bittaudio() {
        let r = reward(&inputs(), &RewardOptions::default());
        // (nKLD nFAD)^(1/4) clap^(1/2) = (0.5 * 0.5)^(1/4) * 0.6.
        let expect = 0.25f64.powf(0.25) * 0.6;
        assert!((r.evaluation.score - expect).abs() < 1e-12, "{r:?}");
        assert!(!r.duplicate);
        // Floors: a zero nFAD still leaves 1e-4 inside the mean.
        let r = reward(
            &RewardInputs {
                fad: 50.0,
                ..inputs()
            },
            &RewardOptions::default(),
        );
        let expect = (0.5f64 * 1e-4).powf(0.25) * 0.6;
        assert!((r.evaluation.score - expect).abs() < 1e-12);
        // The CLAP gate.
        let r = reward(
            &RewardInputs {
                clap: 0.1,
                ..inputs()
            },
            &RewardOptions::default(),
        );
        assert_eq!(r.evaluation.score, 0.0);
        // A 14.7 s clip keeps 90%.
        let full = reward(&inputs(), &RewardOptions::default())
            .evaluation
            .score;
        let short = reward(
            &RewardInputs {
                duration_secs: 14.7,
                ..inputs()
            },
            &RewardOptions::default(),
        );
        assert!((short.evaluation.score - 0.9 * full).abs() < 1e-12);
    }

    #[test]
    fn copies_and_duplicates_score_zero_and_the_penalty_sticks() {
        let opts = RewardOptions::default();
        let copy = reward(
            &RewardInputs {
                reference_similarity: Some(0.85),
                ..inputs()
            },
            &opts,
        );
        assert_eq!(copy.evaluation.score, 0.0);
        assert!(copy.duplicate);
        assert_eq!(
            copy.evaluation.note.as_deref(),
            Some("copy of a reference clip")
        );
        let dup = reward(
            &RewardInputs {
                duplicate_similarity: Some(0.95),
                ..inputs()
            },
            &opts,
        );
        assert_eq!(dup.evaluation.score, 0.0);
        assert!(dup.duplicate);
        // Caught before: even a perfect clip now scores 0 (BittAudio overwrote the punishment).
        let perfect = RewardInputs {
            kld_both: 0.0,
            fad: 0.0,
            clap: 1.0,
            known_duplicate: true,
            ..inputs()
        };
        let r = reward(&perfect, &opts);
        assert_eq!(r.evaluation.score, 0.0);
        assert!(r.duplicate);
        assert_eq!(r.evaluation.metrics["duplicate"], 1.0);
    }
}
