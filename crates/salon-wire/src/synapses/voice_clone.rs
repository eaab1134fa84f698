//! AudioSubnet's `VoiceClone`: `clone_input` is the reference waveform as a list (1-D, or 2-D
//! channels x samples) at `sample_rate`; `clone_output` is mono floats at the same rate.

use super::{audio_of, float_list, seed_from_text, waveform_from_json};
use crate::error::WireError;
use crate::synapse::Synapse;
use salon_core::task::VoiceCloneRequest;
use salon_core::{Audio, Request, Response};
use serde::{Deserialize, Serialize};

/// Rate assumed when a request states none (bark's).
const DEFAULT_RATE: u32 = 24_000;

/// Speech in a reference voice, as AudioSubnet's validators send it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VoiceClone {
    /// The words to speak.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_input: Option<String>,
    /// The reference voice: waveform list, 1-D or 2-D (channels x samples).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clone_input: Option<serde_json::Value>,
    /// The cloned speech: mono float samples at `sample_rate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clone_output: Option<Vec<f64>>,
    /// Sample rate of the reference and of the output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_rate: Option<i64>,
    /// Voice preset identifier (informational for Salon).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hf_voice_id: Option<String>,
    /// The model asked for (informational for Salon).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_name: Option<String>,
}

impl Synapse for VoiceClone {
    const NAME: &'static str = "VoiceClone";
}

impl VoiceClone {
    fn rate(&self) -> Result<u32, WireError> {
        match self.sample_rate {
            None => Ok(DEFAULT_RATE),
            Some(r) if (1000..=384_000).contains(&r) => Ok(r as u32),
            Some(r) => Err(WireError::Invalid {
                field: "sample_rate",
                reason: format!("{r} Hz; expected 1000..=384000"),
            }),
        }
    }

    /// The Salon request: text plus the reference voice.
    pub fn to_request(&self) -> Result<Request, WireError> {
        let text = self
            .text_input
            .clone()
            .filter(|t| !t.trim().is_empty())
            .ok_or(WireError::Missing {
                field: "text_input",
            })?;
        let input = self.clone_input.as_ref().ok_or(WireError::Missing {
            field: "clone_input",
        })?;
        let samples = waveform_from_json(input, "clone_input")?;
        if samples.is_empty() {
            return Err(WireError::Missing {
                field: "clone_input",
            });
        }
        Ok(Request::VoiceClone(VoiceCloneRequest {
            seed: seed_from_text(&text),
            text,
            reference: Audio::mono(samples, self.rate()?),
        }))
    }

    /// Puts the cloned speech in `clone_output` at `sample_rate` (24 kHz if unset) and states it.
    pub fn fill(&mut self, response: &Response) -> Result<(), WireError> {
        let audio = audio_of(response, Self::NAME)?;
        let rate = self.rate()?;
        self.clone_output = Some(float_list(audio, rate));
        self.sample_rate = Some(rate as i64);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_d_reference_is_mixed_to_mono_at_its_rate() {
        let s = VoiceClone {
            text_input: Some("hi".into()),
            clone_input: Some(serde_json::json!([[0.2, 0.4], [0.0, 0.0]])),
            sample_rate: Some(16_000),
            ..Default::default()
        };
        let Request::VoiceClone(r) = s.to_request().unwrap() else {
            panic!("wrong task")
        };
        assert_eq!(r.reference.sample_rate, 16_000);
        assert_eq!(r.reference.samples, vec![0.1, 0.2]);
        let bad = VoiceClone {
            clone_input: Some(serde_json::json!("nope")),
            ..s.clone()
        };
        assert!(matches!(
            bad.to_request(),
            Err(WireError::Invalid {
                field: "clone_input",
                ..
            })
        ));
        let mut s = s;
        s.fill(&Response::Audio {
            audio: Audio::mono(vec![0.0; 8000], 8000),
        })
        .unwrap();
        assert_eq!(s.clone_output.unwrap().len(), 16_000);
    }
}
