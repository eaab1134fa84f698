//! Which evaluator scores which task, and which engine reproduces answers for the tasks scored
//! by reproduction.

use salon_core::{Response, Task};
use salon_engines::Engine;
use salon_eval::{Challenge, Evaluation, Evaluator, Fingerprint};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The validator's scoring setup.
#[derive(Default, Clone)]
pub struct Scorers {
    /// Evaluator per task.
    pub evaluators: BTreeMap<Task, Arc<dyn Evaluator>>,
    /// Reproduction engine per task (image, embedding and text tasks).
    pub reproducers: BTreeMap<Task, Arc<dyn Engine>>,
}

impl Scorers {
    /// Scores `response` to `challenge`; a task without an evaluator scores 0 with a note.
    pub fn evaluate(&self, challenge: &Challenge, response: &Response) -> Evaluation {
        let task = challenge.request.task();
        if !response.answers(task) {
            return Evaluation::zero(format!("answered {task} with the wrong kind of response"));
        }
        match self.evaluators.get(&task) {
            Some(e) => {
                let mut ev = e.evaluate(challenge, response);
                if !ev.score.is_finite() {
                    ev = Evaluation::zero("evaluator produced a non-finite score");
                }
                ev.score = ev.score.clamp(0.0, 1.0);
                ev
            }
            None => Evaluation::zero(format!("this validator has no evaluator for {task}")),
        }
    }

    /// The content fingerprint of `response` for copy detection, if the task has one.
    pub fn fingerprint(&self, task: Task, response: &Response) -> Option<Fingerprint> {
        if !response.answers(task) {
            return None;
        }
        self.evaluators
            .get(&task)
            .and_then(|e| e.fingerprint(response))
    }
}

/// Clips in the built-in music reference set.
const REFERENCE_CLIPS: u64 = 12;

/// The built-in music reference clips: the honest built-in composer on prompts from the corpus
/// (fixed seeds, so every validator builds the same set).
pub fn builtin_music_clips() -> Vec<salon_core::Audio> {
    use rand::SeedableRng;
    let prompts = crate::prompts::PromptGenerator::builtin(crate::prompts::PromptKind::Music);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0x5a10_0001);
    let composer =
        salon_engines::builtin::music::Composer::new(salon_engines::builtin::Fidelity(1.0));
    (0..REFERENCE_CLIPS)
        .filter_map(|i| {
            let req = salon_core::Request::TextToMusic(salon_core::task::MusicRequest {
                prompt: prompts.generate(&mut rng),
                duration_secs: 6.0,
                seed: 1_000_000 + i,
            });
            match composer.generate(&req) {
                Ok(Response::Audio { audio }) => Some(audio),
                _ => None,
            }
        })
        .collect()
}

/// Reference statistics for music over [`builtin_music_clips`].
pub fn builtin_music_reference() -> Option<salon_eval::audio::ReferenceStats> {
    match salon_eval::audio::ReferenceStats::from_clips(&builtin_music_clips()) {
        Ok(r) => Some(r),
        Err(e) => {
            tracing::warn!("no music reference set ({e}); FAD term disabled");
            None
        }
    }
}

impl Scorers {
    /// Built-in evaluators (no weights) and built-in reproduction engines for every task of
    /// `profile`. Builds the music reference set when the profile has music (a few hundred ms).
    pub fn builtin(profile: &salon_core::Profile) -> Scorers {
        use salon_eval::{audio, image, text};
        let mut s = Scorers::default();
        for t in &profile.tasks {
            let task = t.task;
            let e: Arc<dyn Evaluator> = match task {
                Task::TextToMusic => {
                    Arc::new(audio::MusicEvaluator::new(builtin_music_reference()))
                }
                Task::TextToSpeech => Arc::new(audio::SpeechEvaluator),
                Task::VoiceClone => Arc::new(audio::VoiceCloneEvaluator),
                Task::TextToImage | Task::ImageToImage | Task::Inpaint | Task::Upscale => {
                    Arc::new(image::ReproductionEvaluator)
                }
                Task::ImageEmbedding => Arc::new(image::EmbeddingEvaluator),
                Task::ImageDetection => Arc::new(image::DetectionEvaluator),
                Task::TextGeneration => Arc::new(text::TextEvaluator),
            };
            s.evaluators.insert(task, e);
            if crate::challenge::scored_by_reproduction(task) {
                s.reproducers.insert(
                    task,
                    salon_engines::spec::builtin(task, salon_engines::builtin::Fidelity(1.0)),
                );
            }
        }
        tracing::info!(
            tasks = s.evaluators.len(),
            "validator uses the built-in metrics (no model weights configured)"
        );
        s
    }
}

impl Scorers {
    /// Scores text-to-music with the released models (BittAudio's reward, fixed) over
    /// `reference` clips (None: the built-in composer's set), if the profile has music; other
    /// tasks keep their evaluators.
    pub fn with_music_models(
        mut self,
        profile: &salon_core::Profile,
        models: Arc<salon_eval::models::music::MusicModels>,
        reference: Option<Vec<salon_core::Audio>>,
    ) -> Result<Scorers, salon_eval::models::ModelError> {
        use salon_eval::models::music::{ModelMusicEvaluator, ModelMusicMetrics};
        if !profile.tasks.iter().any(|t| t.task == Task::TextToMusic) {
            return Ok(self);
        }
        let (clips, source) = match reference {
            Some(clips) => (clips, "given reference set"),
            None => (builtin_music_clips(), "built-in composer's reference set"),
        };
        let metrics = ModelMusicMetrics::from_reference(models, &clips)?;
        let evaluator = ModelMusicEvaluator::new(metrics);
        tracing::info!(
            models = %evaluator.describe(),
            reference_clips = clips.len(),
            "music is scored with the released models over the {source}"
        );
        self.evaluators
            .insert(Task::TextToMusic, Arc::new(evaluator));
        Ok(self)
    }
}
