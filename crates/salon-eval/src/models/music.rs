//! The released music-evaluation models behind one handle, loaded once per process, and the
//! BittAudio reward computed with them: VGGish embeddings for FAD against a reference SET.
//! Terms whose model is not configured use the built-in stand-ins of
//! [`BuiltinMusicMetrics`], and the handle says which models it runs.

use super::checkpoints::{self, VGGISH_FILE};
use super::vggish::Vggish;
use super::vggish_input::{waveform_to_examples, SAMPLE_RATE as VGGISH_RATE};
use super::ModelError;
use crate::audio::malformed;
use crate::audio::resample::resample;
use crate::bittaudio::{reward_metrics, BuiltinMusicMetrics, MusicMetrics, RewardOptions};
use crate::fad::{frechet_report, Embeddings, GaussianStats, DEFAULT_EPS};
use crate::{Challenge, Evaluation, Evaluator, Fingerprint};
use candle_core::Device;
use salon_core::{Audio, Request, Response, Task};
use std::path::PathBuf;
use std::sync::Arc;

/// Examples per VGGish forward pass.
const VGGISH_BATCH: usize = 64;

/// Checkpoint files of the evaluation models; `None` = not configured.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModelPaths {
    /// torchvggish weights (`.pth`) or the same tensors as `.safetensors`.
    pub vggish: Option<PathBuf>,
}

impl ModelPaths {
    /// The checkpoints found in `$SALON_MODELS_DIR` and the Python tools' caches
    /// (see [`checkpoints`]).
    pub fn discover() -> Self {
        Self {
            vggish: checkpoints::find_file(VGGISH_FILE),
        }
    }

    /// True when no model is configured.
    pub fn is_empty(&self) -> bool {
        self.vggish.is_none()
    }
}

/// The loaded models and the device they run on.
pub struct MusicModels {
    device: Device,
    vggish: Option<Vggish>,
}

impl MusicModels {
    /// Loads every configured model onto `device`.
    pub fn load(paths: &ModelPaths, device: &Device) -> Result<Self, ModelError> {
        let vggish = paths
            .vggish
            .as_deref()
            .map(|p| Vggish::load(p, device))
            .transpose()?;
        Ok(Self {
            device: device.clone(),
            vggish,
        })
    }

    /// Names of the loaded models, e.g. `["vggish"]`.
    pub fn loaded(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.vggish.is_some() {
            v.push("vggish");
        }
        v
    }

    /// VGGish embeddings [n, 128] of `audio` (mixed to mono, resampled to 16 kHz, 0.96 s
    /// examples), or `None` without VGGish.
    pub fn vggish_embeddings(&self, audio: &Audio) -> Option<Result<Embeddings, ModelError>> {
        let model = self.vggish.as_ref()?;
        let mono = audio.to_mono();
        let samples = resample(&mono.samples, mono.sample_rate, VGGISH_RATE);
        let examples = waveform_to_examples(&samples);
        Some(model.embed(&examples, &self.device, VGGISH_BATCH))
    }
}

fn fad_error(e: crate::fad::FadError) -> ModelError {
    ModelError::Reference(e.to_string())
}

/// BittAudio's metrics measured with the loaded models over a reference set; built once per
/// set, then [`ModelMusicMetrics::measure`] per clip.
pub struct ModelMusicMetrics {
    models: Arc<MusicModels>,
    vggish_reference: Option<GaussianStats>,
    builtin: BuiltinMusicMetrics,
}

impl ModelMusicMetrics {
    /// Embeds the reference `clips` with every loaded model and builds the stand-ins for the
    /// rest. Needs at least 2 usable clips.
    pub fn from_reference(models: Arc<MusicModels>, clips: &[Audio]) -> Result<Self, ModelError> {
        let builtin = BuiltinMusicMetrics::from_reference(clips)
            .map_err(|e| ModelError::Reference(e.to_string()))?;
        let vggish_reference = if models.vggish.is_some() {
            let mut all: Option<Embeddings> = None;
            for clip in clips.iter().filter(|c| malformed(c).is_none()) {
                let Some(e) = models.vggish_embeddings(clip) else {
                    break;
                };
                let e = e?;
                match &mut all {
                    Some(a) => a.extend(&e).map_err(fad_error)?,
                    None => all = Some(e),
                }
            }
            let all = all.ok_or_else(|| {
                ModelError::Reference("no usable reference clip for VGGish".into())
            })?;
            Some(all.stats().map_err(fad_error)?)
        } else {
            None
        };
        Ok(Self {
            models,
            vggish_reference,
            builtin,
        })
    }

    /// The models behind each term, e.g. `"fad=vggish kld=builtin clap=builtin"`.
    pub fn describe(&self) -> String {
        let fad = if self.vggish_reference.is_some() {
            "vggish"
        } else {
            "builtin"
        };
        format!("fad={fad} kld=builtin clap=builtin")
    }

    /// Measures `audio` for `prompt` (`paired`: the reference clip for this prompt, the KLD
    /// target; None: the set's mean).
    pub fn measure(&self, prompt: &str, audio: &Audio, paired: Option<&Audio>) -> MusicMetrics {
        let mut m = self.builtin.measure(prompt, audio, paired);
        if m.unusable.is_some() {
            return m;
        }
        if let Some(reference) = &self.vggish_reference {
            m.fad = match self.models.vggish_embeddings(audio) {
                Some(Ok(e)) => e
                    .stats()
                    .and_then(|s| frechet_report(reference, &s, DEFAULT_EPS))
                    .map(|r| r.distance)
                    .unwrap_or(f64::INFINITY),
                _ => f64::INFINITY,
            };
        }
        m
    }
}

/// The BittAudio text-to-music evaluator on the loaded models (fixed reward, see
/// [`crate::bittaudio`]).
pub struct ModelMusicEvaluator {
    metrics: ModelMusicMetrics,
    opts: RewardOptions,
}

impl ModelMusicEvaluator {
    /// An evaluator over `metrics` with BittAudio's thresholds.
    pub fn new(metrics: ModelMusicMetrics) -> Self {
        Self {
            metrics,
            opts: RewardOptions::default(),
        }
    }

    /// The models behind each term.
    pub fn describe(&self) -> String {
        self.metrics.describe()
    }
}

impl Evaluator for ModelMusicEvaluator {
    fn supports(&self, task: Task) -> bool {
        task == Task::TextToMusic
    }

    fn evaluate(&self, challenge: &Challenge, response: &Response) -> Evaluation {
        let Request::TextToMusic(req) = &challenge.request else {
            return Evaluation::zero(format!(
                "music evaluator got a {} challenge",
                challenge.request.task()
            ));
        };
        let Response::Audio { audio } = response else {
            return Evaluation::zero("response is not audio");
        };
        let metrics = self.metrics.measure(&req.prompt, audio, None);
        reward_metrics(&metrics, req.duration_secs, None, false, &self.opts).evaluation
    }

    fn fingerprint(&self, response: &Response) -> Option<Fingerprint> {
        crate::audio::response_fingerprint(response)
    }
}
