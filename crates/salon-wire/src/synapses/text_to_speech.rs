//! AudioSubnet's `TextToSpeech`: `speech_output` is mono floats at the rate the model name
//! implies (suno/bark 24 kHz, others 16 kHz), as AudioSubnet's validators assume.

use super::{audio_of, float_list, seed_from_text};
use crate::error::WireError;
use crate::synapse::Synapse;
use salon_core::task::SpeechRequest;
use salon_core::{Request, Response};
use serde::{Deserialize, Serialize};

/// Text to speech, as AudioSubnet's validators send it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TextToSpeech {
    /// The words to speak.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_input: Option<String>,
    /// The model asked for; decides the output sample rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_name: Option<String>,
    /// Optional voice-cloning parameters (unused by Salon's speech task).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clone_input: Option<serde_json::Value>,
    /// The speech: mono float samples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speech_output: Option<Vec<f64>>,
}

impl Synapse for TextToSpeech {
    const NAME: &'static str = "TextToSpeech";
}

impl TextToSpeech {
    /// The output sample rate validators infer from `model_name`.
    pub fn output_rate(&self) -> u32 {
        match &self.model_name {
            Some(m) if m.to_ascii_lowercase().contains("bark") => 24_000,
            _ => 16_000,
        }
    }

    /// The Salon request.
    pub fn to_request(&self) -> Result<Request, WireError> {
        let text = self
            .text_input
            .clone()
            .filter(|t| !t.trim().is_empty())
            .ok_or(WireError::Missing {
                field: "text_input",
            })?;
        Ok(Request::TextToSpeech(SpeechRequest {
            seed: seed_from_text(&text),
            text,
        }))
    }

    /// Puts the speech in `speech_output` at [`TextToSpeech::output_rate`].
    pub fn fill(&mut self, response: &Response) -> Result<(), WireError> {
        let audio = audio_of(response, Self::NAME)?;
        self.speech_output = Some(float_list(audio, self.output_rate()));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use salon_core::Audio;

    #[test]
    fn rate_follows_model_name() {
        let mut s = TextToSpeech {
            text_input: Some("hello".into()),
            model_name: Some("suno/bark".into()),
            ..Default::default()
        };
        assert!(matches!(s.to_request().unwrap(), Request::TextToSpeech(_)));
        s.fill(&Response::Audio {
            audio: Audio::mono(vec![0.1; 48_000], 48_000),
        })
        .unwrap();
        assert_eq!(s.speech_output.unwrap().len(), 24_000);
        let t = TextToSpeech {
            model_name: Some("facebook/mms-tts-eng".into()),
            ..Default::default()
        };
        assert_eq!(t.output_rate(), 16_000);
    }
}
