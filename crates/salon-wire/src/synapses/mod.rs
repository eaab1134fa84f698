//! Synapse types of the seed subnets, with their Python class and field names, plus Salon's
//! native synapse; each converts to a `salon_core::Request` and is filled from a `Response`.
//!
//! Field sets and defaults were read from the seeds' `protocol.py` files (BittAudio and
//! AudioSubnet `lib/protocol.py`, NicheImage `image_generation_subnet/protocol.py`, BitMind
//! `bitmind/protocol.py`): every field has a default and none declares `required_hash_fields`,
//! so their body hash is sha3("") and no `bt_header_input_obj_*` header is needed. Optional
//! fields that are unset are left out of the JSON so a Python class typed `List = None` keeps
//! its default instead of failing on an explicit null.

mod image_generating;
mod image_synapse;
mod music_generation;
mod salon;
mod text_to_speech;
mod voice_clone;

pub use image_generating::ImageGenerating;
pub use image_synapse::{ImageSynapse, Prediction};
pub use music_generation::{MusicGeneration, MUSICGEN_SAMPLE_RATE, MUSICGEN_TOKENS_PER_SEC};
pub use salon::SalonSynapse;
pub use text_to_speech::TextToSpeech;
pub use voice_clone::VoiceClone;

use crate::error::WireError;
use salon_core::{Audio, Response};
use sha3::{Digest, Sha3_256};

/// A stable sampling seed from prompt text, so a seed synapse without a seed field still
/// generates the same media for the same prompt.
pub(crate) fn seed_from_text(text: &str) -> u64 {
    let d = Sha3_256::digest(text.as_bytes());
    u64::from_le_bytes(d[..8].try_into().unwrap_or([0; 8]))
}

/// The audio of an audio response, or the error naming the synapse.
pub(crate) fn audio_of<'a>(
    response: &'a Response,
    synapse: &'static str,
) -> Result<&'a Audio, WireError> {
    match response {
        Response::Audio { audio } => Ok(audio),
        _ => Err(WireError::WrongResponse {
            synapse,
            expected: "audio",
        }),
    }
}

/// Mono samples at `rate` as the f64 list the seeds send.
pub(crate) fn float_list(audio: &Audio, rate: u32) -> Vec<f64> {
    audio
        .resample_linear(rate)
        .samples
        .into_iter()
        .map(f64::from)
        .collect()
}

/// A waveform from a JSON list: 1-D `[s, ...]` is mono; 2-D `[[s, ...], ...]` is channels x
/// samples (torchaudio's layout) and is averaged to mono.
pub(crate) fn waveform_from_json(
    value: &serde_json::Value,
    field: &'static str,
) -> Result<Vec<f32>, WireError> {
    let bad = |reason: &str| WireError::Invalid {
        field,
        reason: reason.to_string(),
    };
    let rows = value
        .as_array()
        .ok_or_else(|| bad("expected a list of samples"))?;
    if rows.iter().all(|v| v.is_number()) {
        return rows
            .iter()
            .map(|v| {
                v.as_f64()
                    .map(|x| x as f32)
                    .ok_or_else(|| bad("non-numeric sample"))
            })
            .collect();
    }
    let channels: Vec<&Vec<serde_json::Value>> = rows
        .iter()
        .map(|r| r.as_array().ok_or_else(|| bad("mixed 1-D and 2-D list")))
        .collect::<Result<_, _>>()?;
    let n = channels.iter().map(|c| c.len()).min().unwrap_or(0);
    let mut out = vec![0f32; n];
    for c in &channels {
        for (o, v) in out.iter_mut().zip(c.iter()) {
            *o +=
                v.as_f64().ok_or_else(|| bad("non-numeric sample"))? as f32 / channels.len() as f32;
        }
    }
    Ok(out)
}
