//! Text-to-speech and voice-clone scoring: level and noise guards, duration and syllable count
//! against the text, voicing, pitch range and movement, periodicity and formant contrast; voice
//! similarity (pitch and mel-envelope cosine) for clones, weighted 0.4 / 0.6 as in AudioSubnet.

use super::analysis::{analysis_signal, frame_pitch, median, MelBank, Spectrogram, ANALYSIS_RATE};
use super::{level_factor, malformed, noise_factor};
use crate::{Challenge, Evaluation, Evaluator, Fingerprint};
use salon_core::{Audio, Request, Response, Task};
use std::collections::BTreeMap;

/// Syllables in `text`, estimated from vowel groups (silent final e dropped; digits 1 each).
pub fn expected_syllables(text: &str) -> usize {
    let mut total = 0;
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let w = word.to_lowercase();
        let b = w.as_bytes();
        let digits = b.iter().filter(|c| c.is_ascii_digit()).count();
        let vowel = |c: u8| matches!(c, b'a' | b'e' | b'i' | b'o' | b'u' | b'y');
        let mut groups = 0;
        let mut prev = false;
        for &c in b {
            let v = vowel(c);
            if v && !prev {
                groups += 1;
            }
            prev = v;
        }
        if b.len() > 2 && b[b.len() - 1] == b'e' && !vowel(b[b.len() - 2]) && groups > 1 {
            groups -= 1;
        }
        total += if digits > 0 { digits } else { groups.max(1) };
    }
    total
}

/// What the speech analysis found.
pub struct SpeechFeatures {
    /// Length in seconds.
    pub duration_secs: f32,
    /// Syllable-like peaks of the energy envelope.
    pub syllable_peaks: usize,
    /// Fraction of active frames that are voiced.
    pub voiced_fraction: f32,
    /// Median F0 of voiced frames (Hz).
    pub f0_median: f32,
    /// Standard deviation of F0 in semitones.
    pub f0_spread: f32,
    /// Median periodicity of voiced frames.
    pub periodicity: f32,
    /// Median formant contrast (dB, peak to valley of the mel envelope) of voiced frames.
    pub formant_contrast: f32,
    /// Median spectral flatness of active frames.
    pub flatness: f32,
    /// Mean mel envelope of voiced frames, z-scored across bands (a voice timbre vector).
    pub timbre: Vec<f32>,
}

/// Analyses a speech clip.
pub fn speech_features(audio: &Audio) -> SpeechFeatures {
    let signal = analysis_signal(audio);
    let spec = Spectrogram::new(&signal, ANALYSIS_RATE, 512, 160);
    let mel = MelBank::new(&spec, 24, 100.0, 6000.0);
    let energy: Vec<f32> = {
        let (lo, hi) = (spec.hz_bin(300.0), spec.hz_bin(3000.0));
        (0..spec.frames)
            .map(|f| spec.frame(f)[lo..=hi].iter().sum::<f32>())
            .collect()
    };
    let db: Vec<f32> = energy.iter().map(|e| 10.0 * (e + 1e-10).log10()).collect();
    let top = db.iter().fold(f32::MIN, |m, &x| m.max(x));
    let active: Vec<bool> = db.iter().map(|&d| d > top - 35.0).collect();
    // Syllables: peaks of the smoothed dB envelope standing 4 dB above the valleys around them.
    let k = 5usize;
    let smooth: Vec<f32> = (0..db.len())
        .map(|i| {
            let (a, b) = (i.saturating_sub(k), (i + k + 1).min(db.len()));
            db[a..b].iter().map(|&x| x.max(top - 50.0)).sum::<f32>() / (b - a) as f32
        })
        .collect();
    let mut peaks = 0;
    let mut valley = f32::MAX;
    let mut candidate: Option<f32> = None;
    for &v in &smooth {
        match candidate {
            None => {
                valley = valley.min(v);
                if v > valley + 4.0 && v > top - 30.0 {
                    candidate = Some(v);
                }
            }
            Some(peak) => {
                if v > peak {
                    candidate = Some(v);
                } else if v < peak - 4.0 {
                    peaks += 1;
                    candidate = None;
                    valley = v;
                }
            }
        }
    }
    if candidate.is_some() {
        peaks += 1;
    }
    // Pitch on 40 ms frames every 20 ms at 8 kHz.
    let half: Vec<f32> = signal
        .chunks_exact(2)
        .map(|c| 0.5 * (c[0] + c[1]))
        .collect();
    let (frame, hop) = (320usize, 160usize);
    let (mut f0s, mut pers, mut active_n, mut voiced_n) = (Vec::new(), Vec::new(), 0usize, 0usize);
    let mut timbre_sum = vec![0.0f32; mel.len()];
    let mut contrasts = Vec::new();
    let mut log_mel = vec![0.0f32; mel.len()];
    let mut start = 0;
    while start + frame <= half.len() {
        let spec_frame = ((start * 2 + frame) / 160).min(spec.frames - 1);
        if active[spec_frame] {
            active_n += 1;
            let (f0, p) = frame_pitch(&half[start..start + frame], 8000.0, 60.0, 400.0);
            if p > 0.5 {
                voiced_n += 1;
                f0s.push(f0);
                pers.push(p);
                mel.log_energies(spec.frame(spec_frame), &mut log_mel);
                let mean = log_mel.iter().sum::<f32>() / log_mel.len() as f32;
                let sd = (log_mel.iter().map(|x| (x - mean).powi(2)).sum::<f32>()
                    / log_mel.len() as f32)
                    .sqrt();
                for (t, x) in timbre_sum.iter_mut().zip(&log_mel) {
                    *t += (x - mean) / sd.max(1e-3);
                }
                let (lo, hi) = log_mel[2..18]
                    .iter()
                    .fold((f32::MAX, f32::MIN), |(l, h), &x| (l.min(x), h.max(x)));
                contrasts.push((hi - lo) * 10.0 / std::f32::consts::LN_10);
            }
        }
        start += hop;
    }
    let f0_median = median(&f0s);
    let f0_spread = if f0s.len() > 1 {
        let st: Vec<f32> = f0s
            .iter()
            .map(|f| 12.0 * (f / f0_median.max(1.0)).log2())
            .collect();
        let m = st.iter().sum::<f32>() / st.len() as f32;
        (st.iter().map(|x| (x - m).powi(2)).sum::<f32>() / st.len() as f32).sqrt()
    } else {
        0.0
    };
    let flat = spec.flatness(100.0, 6000.0);
    let active_flat: Vec<f32> = flat
        .iter()
        .zip(&active)
        .filter(|(_, &a)| a)
        .map(|(&f, _)| f)
        .collect();
    let n_voiced = voiced_n.max(1) as f32;
    SpeechFeatures {
        duration_secs: audio.duration_secs(),
        syllable_peaks: peaks,
        voiced_fraction: voiced_n as f32 / active_n.max(1) as f32,
        f0_median,
        f0_spread,
        periodicity: median(&pers),
        formant_contrast: median(&contrasts),
        flatness: median(&active_flat),
        timbre: timbre_sum.iter().map(|t| t / n_voiced).collect(),
    }
}

/// A ramp: 0 at `zero`, 1 at `one` (either order).
fn ramp(x: f32, zero: f32, one: f32) -> f64 {
    ((x - zero) / (one - zero)).clamp(0.0, 1.0) as f64
}

/// Scores `audio` as speech of `text`.
pub fn score_speech(text: &str, audio: &Audio) -> Evaluation {
    if let Some(why) = malformed(audio) {
        return Evaluation::zero(why);
    }
    let mut m = BTreeMap::new();
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
    let f = speech_features(audio);
    let syllables = expected_syllables(text).max(1) as f32;
    let pauses = text.matches([',', ';', ':']).count() as f32 * 0.18
        + text.matches(['.', '!', '?']).count() as f32 * 0.38;
    let expected_secs = syllables * 0.2 + pauses;
    let ratio = f.duration_secs / expected_secs.max(0.3);
    let duration = if ratio < 0.6 {
        ramp(ratio, 0.25, 0.6)
    } else {
        ramp(ratio, 3.0, 1.8)
    };
    let syllable =
        (1.0 - (f.syllable_peaks as f32 - syllables).abs() / syllables).clamp(0.0, 1.0) as f64;
    let voiced = ramp(f.voiced_fraction, 0.1, 0.35).min(ramp(f.voiced_fraction, 1.01, 0.95));
    let pitch_range = if (70.0..=350.0).contains(&f.f0_median) {
        1.0
    } else {
        0.0
    };
    let intonation = ramp(f.f0_spread, 0.3, 1.2);
    let periodicity = ramp(f.periodicity, 0.6, 0.9);
    let formant = ramp(f.formant_contrast, 30.0, 45.0);
    // Clean speech is far from flat; hiss between words raises the median flatness.
    let clean = ramp((f.flatness + 1e-6).log10(), -1.0, -3.0);
    let noise = noise_factor(f.flatness);
    let quality = 0.15 * duration
        + 0.2 * syllable
        + 0.1 * voiced
        + 0.05 * pitch_range
        + 0.15 * intonation
        + 0.15 * clean
        + 0.2 * formant;
    let gate = level * noise * if duration == 0.0 { 0.0 } else { 1.0 };
    for (k, v) in [
        ("duration_secs", f.duration_secs as f64),
        ("expected_secs", expected_secs as f64),
        ("duration_score", duration),
        ("syllables_expected", syllables as f64),
        ("syllable_peaks", f.syllable_peaks as f64),
        ("syllable_score", syllable),
        ("voiced_fraction", f.voiced_fraction as f64),
        ("f0_median", f.f0_median as f64),
        ("f0_spread_semitones", f.f0_spread as f64),
        ("intonation_score", intonation),
        ("periodicity", f.periodicity as f64),
        ("periodicity_score", periodicity),
        ("clean_score", clean),
        ("formant_contrast_db", f.formant_contrast as f64),
        ("formant_score", formant),
        ("flatness", f.flatness as f64),
        ("noise_factor", noise),
    ] {
        m.insert(k.to_string(), v);
    }
    let note = if noise < 0.5 {
        Some("sounds like noise".to_string())
    } else {
        None
    };
    Evaluation {
        score: (gate * quality).clamp(0.0, 1.0),
        metrics: m,
        note,
    }
}

/// Similarity in [0, 1] of the voices in two clips: half pitch closeness (1 at equal median F0,
/// 0 at 6 semitones apart), half the cosine of their z-scored mel envelopes (negative = 0).
pub fn voice_similarity(a: &Audio, b: &Audio) -> f64 {
    let (fa, fb) = (speech_features(a), speech_features(b));
    if fa.f0_median <= 0.0 || fb.f0_median <= 0.0 {
        return 0.0;
    }
    let semitones = (12.0 * (fa.f0_median / fb.f0_median).log2()).abs();
    let pitch = (1.0 - semitones / 6.0).clamp(0.0, 1.0) as f64;
    let dot: f32 = fa.timbre.iter().zip(&fb.timbre).map(|(x, y)| x * y).sum();
    let na = fa.timbre.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb = fb.timbre.iter().map(|x| x * x).sum::<f32>().sqrt();
    let cos = if na > 0.0 && nb > 0.0 {
        (dot / (na * nb)).max(0.0) as f64
    } else {
        0.0
    };
    0.5 * pitch + 0.5 * cos
}

fn audio_fingerprint_of(response: &Response) -> Option<Fingerprint> {
    match response {
        Response::Audio { audio } if malformed(audio).is_none() => {
            Some(super::audio_fingerprint(audio))
        }
        _ => None,
    }
}

/// Scores text-to-speech responses.
#[derive(Clone, Debug, Default)]
pub struct SpeechEvaluator;

impl Evaluator for SpeechEvaluator {
    fn supports(&self, task: Task) -> bool {
        task == Task::TextToSpeech
    }

    fn evaluate(&self, challenge: &Challenge, response: &Response) -> Evaluation {
        let Request::TextToSpeech(req) = &challenge.request else {
            return Evaluation::zero(format!(
                "speech evaluator got a {} challenge",
                challenge.request.task()
            ));
        };
        match response {
            Response::Audio { audio } => score_speech(&req.text, audio),
            _ => Evaluation::zero("response is not audio"),
        }
    }

    fn fingerprint(&self, response: &Response) -> Option<Fingerprint> {
        audio_fingerprint_of(response)
    }
}

/// Scores voice-clone responses: 0.4 x voice similarity to the reference + 0.6 x speech score.
#[derive(Clone, Debug, Default)]
pub struct VoiceCloneEvaluator;

impl Evaluator for VoiceCloneEvaluator {
    fn supports(&self, task: Task) -> bool {
        task == Task::VoiceClone
    }

    fn evaluate(&self, challenge: &Challenge, response: &Response) -> Evaluation {
        let Request::VoiceClone(req) = &challenge.request else {
            return Evaluation::zero(format!(
                "voice-clone evaluator got a {} challenge",
                challenge.request.task()
            ));
        };
        let Response::Audio { audio } = response else {
            return Evaluation::zero("response is not audio");
        };
        let mut speech = score_speech(&req.text, audio);
        if speech.score == 0.0 {
            return speech;
        }
        let similarity = if malformed(&req.reference).is_none() {
            voice_similarity(audio, &req.reference)
        } else {
            0.0
        };
        speech
            .metrics
            .insert("speech_score".to_string(), speech.score);
        speech
            .metrics
            .insert("voice_similarity".to_string(), similarity);
        speech.score = (0.4 * similarity + 0.6 * speech.score).clamp(0.0, 1.0);
        speech
    }

    fn fingerprint(&self, response: &Response) -> Option<Fingerprint> {
        audio_fingerprint_of(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syllables_of_plain_words() {
        assert_eq!(expected_syllables("Hello world"), 3);
        assert_eq!(expected_syllables("make a cake"), 3);
        assert_eq!(expected_syllables("beautiful"), 3);
        assert_eq!(expected_syllables("room 42"), 3);
    }
}
