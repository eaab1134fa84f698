//! Engine specs: the strings users pass as `--engine FAMILY=SPEC` (`builtin`,
//! `builtin:fidelity=0.5`, later `musicgen:PATH`, `remote:http://host:port`), parsed and built.

use crate::builtin::{
    detector::Detector, embedding::Embedder, image::Painter, music::Composer,
    speech::FormantSpeaker, text::MarkovWriter, voice_clone::VoiceCloner, Fidelity,
};
use crate::{Engine, EngineError};
use salon_core::Task;
use std::sync::Arc;

/// A parsed engine spec.
#[derive(Clone, Debug, PartialEq)]
pub enum EngineSpec {
    /// A built-in engine at the given fidelity.
    Builtin {
        /// Output quality in [0, 1].
        fidelity: f32,
    },
    /// MusicGen from a checkpoint folder or Hugging Face id, on a device ("cpu", "cuda", "cuda:N").
    MusicGen {
        /// Folder or model id.
        model: String,
        /// Device name.
        device: String,
    },
}

impl EngineSpec {
    /// Parses `builtin` or `builtin:fidelity=F`.
    pub fn parse(spec: &str) -> Result<EngineSpec, EngineError> {
        let (kind, rest) = spec.split_once(':').unwrap_or((spec, ""));
        match kind {
            "builtin" => {
                let mut fidelity = 1.0;
                for opt in rest.split(',').filter(|s| !s.is_empty()) {
                    match opt.split_once('=') {
                        Some(("fidelity", v)) => {
                            fidelity = v.parse::<f32>().ok().filter(|f| (0.0..=1.0).contains(f)).ok_or_else(|| {
                                EngineError::InvalidRequest(format!(
                                    "engine spec {spec:?}: fidelity must be a number in [0, 1]"
                                ))
                            })?
                        }
                        _ => {
                            return Err(EngineError::InvalidRequest(format!(
                                "engine spec {spec:?}: unknown option {opt:?} (builtin takes fidelity=F)"
                            )))
                        }
                    }
                }
                Ok(EngineSpec::Builtin { fidelity })
            }
            "musicgen" => {
                let (model, device) = match rest.rsplit_once(",device=") {
                    Some((m, d)) => (m, d),
                    None => (rest, "cpu"),
                };
                if model.is_empty() {
                    return Err(EngineError::InvalidRequest(format!(
                        "engine spec {spec:?}: give a checkpoint, e.g. musicgen:/models/musicgen-small or musicgen:facebook/musicgen-medium,device=cuda"
                    )));
                }
                Ok(EngineSpec::MusicGen { model: model.to_string(), device: device.to_string() })
            }
            "remote" | "sd" | "clip" => Err(EngineError::InvalidRequest(format!(
                "engine kind {kind:?} is not available in this build yet; use `builtin`"
            ))),
            _ => Err(EngineError::InvalidRequest(format!(
                "unknown engine spec {spec:?}; expected `builtin`, `builtin:fidelity=F` or `musicgen:PATH_OR_ID[,device=cuda]`"
            ))),
        }
    }

    /// Builds the engine serving `task` (loading model weights where the spec names a model).
    pub fn build(&self, task: Task) -> Result<Arc<dyn Engine>, EngineError> {
        match self {
            EngineSpec::Builtin { fidelity } => Ok(builtin(task, Fidelity(*fidelity))),
            EngineSpec::MusicGen { model, device } => {
                if task != Task::TextToMusic {
                    return Err(EngineError::Unsupported(task));
                }
                musicgen_engine(model, device)
            }
        }
    }
}

#[cfg(feature = "musicgen")]
fn musicgen_engine(model: &str, device: &str) -> Result<Arc<dyn Engine>, EngineError> {
    use crate::musicgen::{default_dtype, device_by_name, BatchConfig, BatchingEngine, MusicGen};
    let dev = device_by_name(device).map_err(|e| EngineError::InvalidRequest(e.to_string()))?;
    let m = MusicGen::from_pretrained(model, &dev, default_dtype(&dev))
        .map_err(|e| EngineError::InvalidRequest(format!("loading MusicGen {model:?}: {e}")))?;
    Ok(Arc::new(BatchingEngine::new(m, BatchConfig::default())))
}

#[cfg(not(feature = "musicgen"))]
fn musicgen_engine(_model: &str, _device: &str) -> Result<Arc<dyn Engine>, EngineError> {
    Err(EngineError::InvalidRequest(
        "this build has no MusicGen; rebuild with the salon-engines `musicgen` feature".into(),
    ))
}

/// The built-in engine for `task`.
pub fn builtin(task: Task, fidelity: Fidelity) -> Arc<dyn Engine> {
    match task {
        Task::TextToMusic => Arc::new(Composer::new(fidelity)),
        Task::TextToSpeech => Arc::new(FormantSpeaker::new(fidelity)),
        Task::VoiceClone => Arc::new(VoiceCloner::new(fidelity)),
        Task::TextToImage | Task::ImageToImage | Task::Inpaint | Task::Upscale => {
            Arc::new(Painter::new(fidelity))
        }
        Task::ImageEmbedding => Arc::new(Embedder::new(fidelity)),
        Task::ImageDetection => Arc::new(Detector::new(fidelity)),
        Task::TextGeneration => Arc::new(MarkovWriter::new(fidelity)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_or_explain() {
        assert_eq!(
            EngineSpec::parse("builtin").unwrap(),
            EngineSpec::Builtin { fidelity: 1.0 }
        );
        assert_eq!(
            EngineSpec::parse("builtin:fidelity=0.5").unwrap(),
            EngineSpec::Builtin { fidelity: 0.5 }
        );
        assert!(EngineSpec::parse("builtin:fidelity=2")
            .unwrap_err()
            .to_string()
            .contains("[0, 1]"));
        assert_eq!(
            EngineSpec::parse("musicgen:/m,device=cuda").unwrap(),
            EngineSpec::MusicGen {
                model: "/m".into(),
                device: "cuda".into()
            }
        );
        assert!(EngineSpec::parse("musicgen:")
            .unwrap_err()
            .to_string()
            .contains("checkpoint"));
        assert!(EngineSpec::parse("remote:http://x")
            .unwrap_err()
            .to_string()
            .contains("not available"));
        let missing = EngineSpec::parse("musicgen:/nonexistent/dir")
            .unwrap()
            .build(Task::TextToMusic);
        assert!(missing.is_err());
        assert!(EngineSpec::parse("magic")
            .unwrap_err()
            .to_string()
            .contains("unknown engine spec"));
    }

    #[test]
    fn every_task_has_a_builtin_engine() {
        for t in Task::ALL {
            assert!(builtin(t, Fidelity(1.0)).supports(t), "{t}");
        }
    }
}
