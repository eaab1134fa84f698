//! Engine specs: the strings users pass as `--engine FAMILY=SPEC` (`builtin`,
//! `builtin:fidelity=0.5`, later `musicgen:PATH`, `remote:http://host:port`), parsed and built.

use crate::builtin::{
    detector::Detector, embedding::Embedder, image::Painter, music::Composer, speech::FormantSpeaker,
    text::MarkovWriter, voice_clone::VoiceCloner, Fidelity,
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
            "musicgen" | "remote" | "sd" | "clip" => Err(EngineError::InvalidRequest(format!(
                "engine kind {kind:?} is not available in this build yet; use `builtin`"
            ))),
            _ => Err(EngineError::InvalidRequest(format!(
                "unknown engine spec {spec:?}; expected `builtin` or `builtin:fidelity=F`"
            ))),
        }
    }

    /// Builds the engine serving `task`.
    pub fn build(&self, task: Task) -> Arc<dyn Engine> {
        match self {
            EngineSpec::Builtin { fidelity } => builtin(task, Fidelity(*fidelity)),
        }
    }
}

/// The built-in engine for `task`.
pub fn builtin(task: Task, fidelity: Fidelity) -> Arc<dyn Engine> {
    match task {
        Task::TextToMusic => Arc::new(Composer::new(fidelity)),
        Task::TextToSpeech => Arc::new(FormantSpeaker::new(fidelity)),
        Task::VoiceClone => Arc::new(VoiceCloner::new(fidelity)),
        Task::TextToImage | Task::ImageToImage | Task::Inpaint | Task::Upscale => Arc::new(Painter::new(fidelity)),
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
        assert_eq!(EngineSpec::parse("builtin").unwrap(), EngineSpec::Builtin { fidelity: 1.0 });
        assert_eq!(EngineSpec::parse("builtin:fidelity=0.5").unwrap(), EngineSpec::Builtin { fidelity: 0.5 });
        assert!(EngineSpec::parse("builtin:fidelity=2").unwrap_err().to_string().contains("[0, 1]"));
        assert!(EngineSpec::parse("musicgen:/x").unwrap_err().to_string().contains("not available"));
        assert!(EngineSpec::parse("magic").unwrap_err().to_string().contains("unknown engine spec"));
    }

    #[test]
    fn every_task_has_a_builtin_engine() {
        for t in Task::ALL {
            assert!(builtin(t, Fidelity(1.0)).supports(t), "{t}");
        }
    }
}
