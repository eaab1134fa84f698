//! Built-in text-to-music engine: a procedural composer (no model) that reads the prompt's tempo,
//! key, mode, mood and instruments through [`MusicIntent`] and plays chords, melody, bass and drums.
//!
//! It is honest about what it is: synthesized tones, not a generative model. Output is 32 kHz mono,
//! exactly the requested duration, deterministic for (prompt, seed).

mod arrangement;
mod synth;

use super::Fidelity;
use crate::{Engine, EngineError};
use arrangement::{arrange, Degradation};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use salon_core::{Audio, MusicIntent, Request, Response, Task};
use synth::Synth;

/// Output sample rate of the composer (MusicGen's rate, which BittAudio assumes).
pub const SAMPLE_RATE: u32 = 32_000;
/// Longest clip the composer accepts, in seconds.
pub const MAX_DURATION_SECS: f32 = 300.0;

/// The built-in procedural composer for [`Task::TextToMusic`].
#[derive(Clone, Debug, Default)]
pub struct Composer {
    fidelity: Fidelity,
}

impl Composer {
    /// A composer at the given fidelity (1.0 = its best; lower drifts off tempo and key, adds noise
    /// and thins the arrangement).
    pub fn new(fidelity: Fidelity) -> Self {
        Self { fidelity }
    }

    /// Composes `duration_secs` of music for `prompt`; the same arguments give the same samples.
    pub fn compose(
        &self,
        prompt: &str,
        duration_secs: f32,
        seed: u64,
    ) -> Result<Audio, EngineError> {
        if !duration_secs.is_finite() || duration_secs <= 0.0 || duration_secs > MAX_DURATION_SECS {
            return Err(EngineError::InvalidRequest(format!(
                "music duration must be in (0, {MAX_DURATION_SECS}] seconds, got {duration_secs}"
            )));
        }
        let intent = MusicIntent::from_prompt(prompt);
        let total = (duration_secs * SAMPLE_RATE as f32).round() as usize;
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ prompt_hash(prompt));
        let degradation = Degradation {
            amount: 1.0 - self.fidelity.get(),
        };
        let arr = arrange(&intent, total, SAMPLE_RATE, degradation, &mut rng);

        let mut out = vec![0.0f32; total];
        let mut synth = Synth::new(SAMPLE_RATE);
        for note in &arr.notes {
            synth.note(&mut out, note, &mut rng);
        }
        let drum_gain = 0.6 + 0.5 * intent.energy;
        for &(start, drum, vel) in &arr.drums {
            synth.drum(&mut out, start, drum, vel * drum_gain, &mut rng);
        }
        master(&mut out, degradation.amount, intent.energy, &mut rng);
        Ok(Audio::mono(out, SAMPLE_RATE))
    }
}

/// Normalises, adds the low-fidelity hiss, peak-limits and fades the ends.
fn master(out: &mut [f32], degradation: f32, energy: f32, rng: &mut ChaCha8Rng) {
    let peak = out.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    if peak <= 0.0 {
        return;
    }
    let rms = (out.iter().map(|x| x * x).sum::<f32>() / out.len() as f32).sqrt();
    // Aim the loudness by energy, then soft-limit peaks.
    let target_rms = 0.12 + 0.06 * energy;
    let gain = (target_rms / rms.max(1e-6)).min(0.95 / peak * 2.0);
    let hiss = 0.25 * degradation * target_rms;
    for x in out.iter_mut() {
        let mut v = *x * gain;
        if hiss > 0.0 {
            v += hiss * (rng.gen::<f32>() * 2.0 - 1.0) * 1.7;
        }
        *x = soft_limit(v);
    }
    let fade = (0.01 * SAMPLE_RATE as f32) as usize;
    let n = out.len();
    for i in 0..fade.min(n / 2) {
        let g = i as f32 / fade as f32;
        out[i] *= g;
        out[n - 1 - i] *= g;
    }
}

/// Linear below 0.7, then a smooth knee that never exceeds 0.98.
fn soft_limit(x: f32) -> f32 {
    let a = x.abs();
    if a <= 0.7 {
        x
    } else {
        let over = (a - 0.7) / 0.28;
        x.signum() * (0.7 + 0.28 * over.tanh())
    }
}

fn prompt_hash(prompt: &str) -> u64 {
    prompt.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

impl Engine for Composer {
    fn describe(&self) -> String {
        format!(
            "builtin procedural music composer (no model), fidelity {:.2}",
            self.fidelity.get()
        )
    }

    fn supports(&self, task: Task) -> bool {
        task == Task::TextToMusic
    }

    fn generate(&self, request: &Request) -> Result<Response, EngineError> {
        match request {
            Request::TextToMusic(r) => Ok(Response::Audio {
                audio: self.compose(&r.prompt, r.duration_secs, r.seed)?,
            }),
            other => Err(EngineError::Unsupported(other.task())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use salon_core::task::MusicRequest;

    fn request(prompt: &str, secs: f32, seed: u64) -> Request {
        Request::TextToMusic(MusicRequest {
            prompt: prompt.into(),
            duration_secs: secs,
            seed,
        })
    }

    fn audio(r: Response) -> Audio {
        match r {
            Response::Audio { audio } => audio,
            _ => panic!("not audio"),
        }
    }

    #[test]
    fn exact_duration_sane_levels_and_deterministic() {
        let c = Composer::default();
        for prompt in [
            "calm piano ballad",
            "energetic techno with drums at 128 bpm",
            "sad strings in E minor",
        ] {
            let a = audio(c.generate(&request(prompt, 3.25, 9)).unwrap());
            assert_eq!(a.sample_rate, SAMPLE_RATE);
            assert_eq!(a.samples.len(), 104_000);
            let peak = a.samples.iter().fold(0.0f32, |m, x| m.max(x.abs()));
            assert!(peak <= 0.99 && peak > 0.2, "{prompt}: peak {peak}");
            assert!(a.rms() > 0.05, "{prompt}: rms {}", a.rms());
            assert!(a.samples.iter().all(|x| x.is_finite()));
            assert_eq!(a, audio(c.generate(&request(prompt, 3.25, 9)).unwrap()));
            assert_ne!(a, audio(c.generate(&request(prompt, 3.25, 10)).unwrap()));
        }
    }

    #[test]
    fn rejects_bad_durations_and_other_tasks() {
        let c = Composer::default();
        for secs in [0.0, -1.0, f32::NAN, 1e6] {
            assert!(matches!(
                c.generate(&request("x", secs, 1)),
                Err(EngineError::InvalidRequest(_))
            ));
        }
        let tts = Request::TextToSpeech(salon_core::task::SpeechRequest {
            text: "hi".into(),
            seed: 1,
        });
        assert!(matches!(
            c.generate(&tts),
            Err(EngineError::Unsupported(Task::TextToSpeech))
        ));
        assert!(c.supports(Task::TextToMusic) && !c.supports(Task::TextToSpeech));
    }
}
