//! BittAudio's `MusicGeneration`: `duration` is MusicGen `max_new_tokens` (50 per second:
//! 755 = 15.1 s) and `music_output` is mono 32 kHz floats.

use super::{audio_of, float_list, seed_from_text};
use crate::error::WireError;
use crate::synapse::Synapse;
use salon_core::task::MusicRequest;
use salon_core::{Request, Response};
use serde::{Deserialize, Serialize};

/// MusicGen's audio frame rate: tokens per second of audio.
pub const MUSICGEN_TOKENS_PER_SEC: f64 = 50.0;
/// The sample rate BittAudio validators assume for `music_output`.
pub const MUSICGEN_SAMPLE_RATE: u32 = 32_000;
/// Token count used when a request states none (15 s).
const DEFAULT_TOKENS: i64 = 755;
/// Longest accepted request (60 s).
const MAX_TOKENS: i64 = 3000;

/// Text to music, as BittAudio's validators send it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MusicGeneration {
    /// The prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_input: Option<String>,
    /// The model asked for (facebook/musicgen-medium, -large); informational for Salon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_name: Option<String>,
    /// The generated music: mono samples at 32 kHz.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub music_output: Option<Vec<f64>>,
    /// MusicGen `max_new_tokens` (755 = 15 s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<i64>,
}

impl Synapse for MusicGeneration {
    const NAME: &'static str = "MusicGeneration";
}

impl MusicGeneration {
    /// The Salon request: prompt, duration = tokens / 50 s, seed from the prompt.
    pub fn to_request(&self) -> Result<Request, WireError> {
        let prompt = self
            .text_input
            .clone()
            .filter(|t| !t.trim().is_empty())
            .ok_or(WireError::Missing {
                field: "text_input",
            })?;
        let tokens = self.duration.unwrap_or(DEFAULT_TOKENS);
        if !(1..=MAX_TOKENS).contains(&tokens) {
            return Err(WireError::Invalid {
                field: "duration",
                reason: format!("{tokens} tokens; expected 1..={MAX_TOKENS} (MusicGen max_new_tokens, 50 per second)"),
            });
        }
        Ok(Request::TextToMusic(MusicRequest {
            seed: seed_from_text(&prompt),
            prompt,
            duration_secs: (tokens as f64 / MUSICGEN_TOKENS_PER_SEC) as f32,
        }))
    }

    /// Puts the generated audio in `music_output`, resampled to 32 kHz mono.
    pub fn fill(&mut self, response: &Response) -> Result<(), WireError> {
        let audio = audio_of(response, Self::NAME)?;
        self.music_output = Some(float_list(audio, MUSICGEN_SAMPLE_RATE));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use salon_core::Audio;

    #[test]
    fn tokens_become_seconds_and_output_is_32k_mono() {
        let s = MusicGeneration {
            text_input: Some("calm piano".into()),
            duration: Some(755),
            ..Default::default()
        };
        let Request::TextToMusic(r) = s.to_request().unwrap() else {
            panic!("wrong task")
        };
        assert!((r.duration_secs - 15.1).abs() < 1e-4);
        let mut s = s;
        let stereo = Audio {
            samples: vec![0.5; 2 * 16_000],
            sample_rate: 16_000,
            channels: 2,
        };
        s.fill(&Response::Audio { audio: stereo }).unwrap();
        assert_eq!(s.music_output.as_ref().unwrap().len(), 32_000);
        assert!(s.fill(&Response::Text { text: "x".into() }).is_err());
    }

    #[test]
    fn missing_prompt_and_absurd_durations_are_refused() {
        assert!(matches!(
            MusicGeneration::default().to_request(),
            Err(WireError::Missing {
                field: "text_input"
            })
        ));
        let s = MusicGeneration {
            text_input: Some("x".into()),
            duration: Some(-5),
            ..Default::default()
        };
        assert!(matches!(
            s.to_request(),
            Err(WireError::Invalid {
                field: "duration",
                ..
            })
        ));
    }

    #[test]
    fn unset_fields_are_omitted_not_null() {
        let v = serde_json::to_value(MusicGeneration {
            text_input: Some("a".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(v, serde_json::json!({"text_input": "a"}));
    }
}
