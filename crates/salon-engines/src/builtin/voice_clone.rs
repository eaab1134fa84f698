//! Built-in voice-clone engine: estimates a reference clip's voice (median pitch by
//! autocorrelation, vocal-tract scale by brightness matching, breathiness by periodicity) and
//! speaks the text in it with the formant synthesizer. Also makes reference clips for challenges.

use super::speech::{FormantSpeaker, Voice, SAMPLE_RATE};
use super::Fidelity;
use crate::{Engine, EngineError};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use salon_core::{Audio, Request, Response, Task};

/// Sentences reference clips are made from.
const SENTENCES: [&str; 12] = [
    "The morning train was late again, so we walked along the river.",
    "Please bring the green folder to the meeting on Friday.",
    "A quiet garden can hold a thousand small surprises.",
    "We painted the old boat blue and sailed it past the harbour.",
    "Every winter the birds return to the same tall tree.",
    "She told me the recipe needs more lemon and less salt.",
    "The library opens at nine and closes when the lights go out.",
    "Could you send the map before the storm arrives?",
    "My brother fixed the radio with a piece of copper wire.",
    "Bright lanterns floated slowly over the dark water.",
    "The market sells fresh bread, cheese and ripe red apples.",
    "Nobody expected the little dog to win the race.",
];

/// A reference clip for a voice-clone challenge: a random voice (from `seed`) speaking a random
/// sentence, 16 kHz mono.
pub fn reference_voice(seed: u64) -> Audio {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x00c1_0ae5);
    let voice = Voice::random(&mut rng);
    let sentence = SENTENCES.choose(&mut rng).copied().unwrap_or(SENTENCES[0]);
    FormantSpeaker::default()
        .speak(sentence, &voice, rng.gen())
        .unwrap_or_else(|_| Audio::silence(1.0, SAMPLE_RATE))
}

/// Pitch and periodicity of voiced frames: (median F0 Hz, median periodicity, brightness), where
/// brightness is the RMS of the first difference over the RMS of the signal on voiced frames.
fn voice_measures(samples: &[f32], rate: u32) -> Option<(f32, f32, f32)> {
    let frame = (0.04 * rate as f32) as usize;
    let hop = frame;
    if samples.len() < frame * 2 {
        return None;
    }
    let energies: Vec<f32> = samples
        .chunks(hop)
        .map(|c| c.iter().map(|x| x * x).sum::<f32>() / c.len().max(1) as f32)
        .collect();
    let mut sorted = energies.clone();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let loud = sorted[sorted.len() * 9 / 10] * 0.1;
    let (lag_min, lag_max) = (
        (rate as f32 / 400.0) as usize,
        (rate as f32 / 60.0) as usize,
    );
    let (mut f0s, mut pers, mut diff_e, mut sig_e) = (Vec::new(), Vec::new(), 0.0f64, 0.0f64);
    let mut start = 0;
    while start + frame <= samples.len() {
        let x = &samples[start..start + frame];
        let e = x.iter().map(|v| v * v).sum::<f32>() / frame as f32;
        if e > loud && e > 1e-8 {
            let mut best = (0usize, 0.0f32);
            let mut scores = vec![0.0f32; lag_max + 2];
            for (lag, score) in scores
                .iter_mut()
                .enumerate()
                .take(lag_max + 1)
                .skip(lag_min)
            {
                let (mut num, mut e0, mut e1) = (0.0f32, 0.0f32, 0.0f32);
                for i in 0..frame - lag {
                    num += x[i] * x[i + lag];
                    e0 += x[i] * x[i];
                    e1 += x[i + lag] * x[i + lag];
                }
                *score = if e0 > 0.0 && e1 > 0.0 {
                    num / (e0 * e1).sqrt()
                } else {
                    0.0
                };
                if *score > best.1 {
                    best = (lag, *score);
                }
            }
            // The shortest lag nearly as periodic as the best avoids octave-down errors.
            if let Some(lag) = (lag_min + 1..best.0).find(|&l| {
                scores[l] >= 0.9 * best.1
                    && scores[l] >= scores[l - 1]
                    && scores[l] >= scores[l + 1]
            }) {
                best = (lag, scores[lag]);
            }
            if best.1 > 0.5 && best.0 > 0 {
                f0s.push(rate as f32 / best.0 as f32);
                pers.push(best.1);
                for i in 1..frame {
                    diff_e += ((x[i] - x[i - 1]) as f64).powi(2);
                    sig_e += (x[i] as f64).powi(2);
                }
            }
        }
        start += hop;
    }
    if f0s.len() < 3 || sig_e <= 0.0 {
        return None;
    }
    let median = |v: &mut Vec<f32>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    Some((
        median(&mut f0s),
        median(&mut pers),
        (diff_e / sig_e).sqrt() as f32,
    ))
}

/// Estimates the voice of a speech clip; None if the clip has too little voiced speech.
pub fn estimate_voice(reference: &Audio) -> Option<Voice> {
    let audio = reference.resample_linear(SAMPLE_RATE);
    if !audio.samples.iter().all(|x| x.is_finite()) {
        return None;
    }
    let (f0, periodicity, brightness) = voice_measures(&audio.samples, SAMPLE_RATE)?;
    let breathiness = ((0.97 - periodicity) * 2.0).clamp(0.02, 0.4);
    // Vocal-tract scale: synthesize calibration speech (three of the reference sentences, so the
    // vowel mix is typical) over a grid of scales at this pitch, and take the scale whose
    // brightness matches the reference's (interpolated). The same pass corrects the pitch for the
    // intonation the synthesizer adds on top of the base pitch.
    let speaker = FormantSpeaker::default();
    let grid = [0.8f32, 1.0, 1.15, 1.3];
    let probe = format!("{} {}", SENTENCES[0], SENTENCES[4]);
    let mut pitch_ratio = 1.0;
    let curve: Vec<(f32, f32)> = grid
        .iter()
        .filter_map(|&s| {
            let v = Voice {
                pitch_hz: f0,
                formant_scale: s,
                breathiness,
                rate: 1.0,
            };
            let a = speaker.speak(&probe, &v, 7).ok()?;
            let (f0_out, _, b) = voice_measures(&a.samples, SAMPLE_RATE)?;
            if s == 1.0 {
                pitch_ratio = f0_out / f0;
            }
            Some((s, b))
        })
        .collect();
    let mut scale = 1.0;
    if let (Some(first), Some(last)) = (curve.first(), curve.last()) {
        scale = if brightness <= first.1 {
            first.0
        } else if brightness >= last.1 {
            last.0
        } else {
            curve
                .windows(2)
                .find(|w| brightness >= w[0].1 && brightness <= w[1].1)
                .map(|w| {
                    let t = (brightness - w[0].1) / (w[1].1 - w[0].1).max(1e-6);
                    w[0].0 + t * (w[1].0 - w[0].0)
                })
                .unwrap_or(1.0)
        };
    }
    let f0 = f0 / pitch_ratio.clamp(0.7, 1.4);
    Some(Voice {
        pitch_hz: f0,
        formant_scale: scale,
        breathiness,
        rate: 1.0,
    })
}

/// The built-in voice cloner for [`Task::VoiceClone`].
#[derive(Clone, Debug, Default)]
pub struct VoiceCloner {
    fidelity: Fidelity,
}

impl VoiceCloner {
    /// A cloner at the given fidelity (lower also clones the voice less faithfully).
    pub fn new(fidelity: Fidelity) -> Self {
        Self { fidelity }
    }

    /// Speaks `text` in the voice of `reference`.
    pub fn clone_voice(
        &self,
        text: &str,
        reference: &Audio,
        seed: u64,
    ) -> Result<Audio, EngineError> {
        if reference.sample_rate == 0 || reference.samples.is_empty() {
            return Err(EngineError::InvalidRequest(
                "the reference clip is empty; send a few seconds of speech".into(),
            ));
        }
        let mut voice = estimate_voice(reference).ok_or_else(|| {
            EngineError::InvalidRequest(
                "the reference clip has too little voiced speech to estimate a voice; send clean speech of 2 s or more"
                    .into(),
            )
        })?;
        // A low-fidelity cloner drifts towards the default voice.
        let d = 1.0 - self.fidelity.get();
        let base = Voice::default();
        voice.pitch_hz += d * (base.pitch_hz - voice.pitch_hz);
        voice.formant_scale += d * (base.formant_scale - voice.formant_scale);
        FormantSpeaker::new(self.fidelity).speak(text, &voice, seed)
    }
}

impl Engine for VoiceCloner {
    fn describe(&self) -> String {
        format!(
            "builtin voice cloner (formant synthesis, no model), fidelity {:.2}",
            self.fidelity.get()
        )
    }

    fn supports(&self, task: Task) -> bool {
        task == Task::VoiceClone
    }

    fn generate(&self, request: &Request) -> Result<Response, EngineError> {
        match request {
            Request::VoiceClone(r) => Ok(Response::Audio {
                audio: self.clone_voice(&r.text, &r.reference, r.seed)?,
            }),
            other => Err(EngineError::Unsupported(other.task())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_the_voice_it_was_given() {
        let mut scales = Vec::new();
        for (pitch, scale) in [(100.0, 0.9), (210.0, 1.15), (140.0, 1.0)] {
            let v = Voice {
                pitch_hz: pitch,
                formant_scale: scale,
                breathiness: 0.05,
                rate: 1.0,
            };
            let clip = FormantSpeaker::default()
                .speak(SENTENCES[3], &v, 3)
                .unwrap();
            let est = estimate_voice(&clip).unwrap();
            assert!(
                (est.pitch_hz / pitch - 1.0).abs() < 0.06,
                "pitch {pitch}: {est:?}"
            );
            // Brightness depends on the words too, so the scale is only roughly recovered.
            assert!(
                (est.formant_scale - scale).abs() < 0.15,
                "scale {scale}: {est:?}"
            );
            scales.push(est.formant_scale);
        }
        assert!(scales[0] < scales[2] && scales[2] < scales[1], "{scales:?}");
    }

    #[test]
    fn reference_clips_differ_by_seed_and_silence_is_refused() {
        let a = reference_voice(1);
        assert!(a.duration_secs() > 1.5 && a.rms() > 0.02);
        assert_eq!(a, reference_voice(1));
        assert_ne!(a, reference_voice(2));
        let c = VoiceCloner::default();
        assert!(matches!(
            c.clone_voice("hi", &Audio::silence(2.0, 16000), 1),
            Err(EngineError::InvalidRequest(_))
        ));
    }
}
