//! Built-in text-to-speech engine: a small formant synthesizer (no model) that reads English text
//! by letter rules, with word accents, sentence declination and pauses at punctuation.
//!
//! Honest about what it is: intelligible-ish robot speech, 16 kHz mono, deterministic for a seed.

mod formant;
mod phonemes;

use super::Fidelity;
use crate::{Engine, EngineError};
use formant::{render, Degradation};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use salon_core::{Audio, Request, Response, Task};

/// Output sample rate of the speaker.
pub const SAMPLE_RATE: u32 = 16_000;
/// Longest text accepted, in characters.
pub const MAX_TEXT_CHARS: usize = 2_000;

/// The voice a text is spoken in.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Voice {
    /// Mean fundamental frequency in Hz (about 85-180 for adult male, 165-255 for adult female).
    pub pitch_hz: f32,
    /// Vocal-tract scale: formant frequencies are multiplied by this (about 0.85-1.25).
    pub formant_scale: f32,
    /// Aspiration noise mixed into voicing, in [0, 1].
    pub breathiness: f32,
    /// Speaking rate: 1.0 nominal, 2.0 twice as fast.
    pub rate: f32,
}

impl Default for Voice {
    fn default() -> Self {
        Voice {
            pitch_hz: 120.0,
            formant_scale: 1.0,
            breathiness: 0.05,
            rate: 1.0,
        }
    }
}

impl Voice {
    /// A random plausible adult voice.
    pub fn random(rng: &mut impl Rng) -> Voice {
        let high = rng.gen_bool(0.5);
        let pitch_hz = if high {
            rng.gen_range(165.0..240.0)
        } else {
            rng.gen_range(85.0..150.0)
        };
        let formant_scale = if high {
            rng.gen_range(1.05..1.22)
        } else {
            rng.gen_range(0.86..1.04)
        };
        Voice {
            pitch_hz,
            formant_scale,
            breathiness: rng.gen_range(0.02..0.25),
            rate: rng.gen_range(0.9..1.1),
        }
    }
}

/// The built-in formant speaker for [`Task::TextToSpeech`].
#[derive(Clone, Debug, Default)]
pub struct FormantSpeaker {
    fidelity: Fidelity,
}

impl FormantSpeaker {
    /// A speaker at the given fidelity (1.0 = its best; lower smears formants, adds noise,
    /// flattens intonation and garbles durations).
    pub fn new(fidelity: Fidelity) -> Self {
        Self { fidelity }
    }

    /// Speaks `text` in `voice`; `seed` drives the small random variations.
    pub fn speak(&self, text: &str, voice: &Voice, seed: u64) -> Result<Audio, EngineError> {
        if text.chars().count() > MAX_TEXT_CHARS {
            return Err(EngineError::InvalidRequest(format!(
                "text is {} characters; the speaker takes at most {MAX_TEXT_CHARS}",
                text.chars().count()
            )));
        }
        let units = phonemes::text_units(text);
        if !units
            .iter()
            .any(|u| !matches!(u.phone.kind, phonemes::Kind::Pause(_)))
        {
            return Err(EngineError::InvalidRequest(
                "text has no speakable words (letters or digits); send some English text".into(),
            ));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let degradation = Degradation {
            amount: 1.0 - self.fidelity.get(),
        };
        Ok(Audio::mono(
            render(&units, voice, SAMPLE_RATE, degradation, &mut rng),
            SAMPLE_RATE,
        ))
    }

    /// The voice used for plain text-to-speech with `seed`: the default voice, slightly varied.
    pub fn voice_for_seed(seed: u64) -> Voice {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x005e_ed0f_70ce);
        let base = Voice::default();
        Voice {
            pitch_hz: base.pitch_hz * rng.gen_range(0.92..1.08),
            ..base
        }
    }
}

impl Engine for FormantSpeaker {
    fn describe(&self) -> String {
        format!(
            "builtin formant speech synthesizer (no model), fidelity {:.2}",
            self.fidelity.get()
        )
    }

    fn supports(&self, task: Task) -> bool {
        task == Task::TextToSpeech
    }

    fn generate(&self, request: &Request) -> Result<Response, EngineError> {
        match request {
            Request::TextToSpeech(r) => Ok(Response::Audio {
                audio: self.speak(&r.text, &Self::voice_for_seed(r.seed), r.seed)?,
            }),
            other => Err(EngineError::Unsupported(other.task())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speaks_deterministically_with_length_following_the_text() {
        let s = FormantSpeaker::default();
        let v = Voice::default();
        let short = s.speak("Hello there.", &v, 1).unwrap();
        let long = s
            .speak(
                "Hello there. The quick brown fox jumps over the lazy dog, twice.",
                &v,
                1,
            )
            .unwrap();
        assert_eq!(short.sample_rate, SAMPLE_RATE);
        assert!(
            short.duration_secs() > 0.4 && short.duration_secs() < 2.0,
            "{}",
            short.duration_secs()
        );
        assert!(long.duration_secs() > 3.0 * short.duration_secs());
        assert!(long.samples.iter().all(|x| x.is_finite() && x.abs() <= 1.0));
        assert!(long.rms() > 0.03);
        assert_eq!(short, s.speak("Hello there.", &v, 1).unwrap());
    }

    #[test]
    fn refuses_empty_or_huge_text_and_other_tasks() {
        let s = FormantSpeaker::default();
        assert!(matches!(
            s.speak("?!  ", &Voice::default(), 1),
            Err(EngineError::InvalidRequest(_))
        ));
        assert!(matches!(
            s.speak(&"a".repeat(3000), &Voice::default(), 1),
            Err(EngineError::InvalidRequest(_))
        ));
        assert!(!s.supports(Task::TextToMusic));
    }
}
