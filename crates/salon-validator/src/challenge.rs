//! Building challenges: a fresh request per step for the chosen task, with random parameters in
//! the profile's ranges, a seed from this validator's own seed range (so a miner cannot relay one
//! validator's work to another), and the hidden truth used to score it.

use crate::prompts::{PromptGenerator, PromptKind};
use rand::Rng;
use salon_core::profile::{ChallengeParams, Range};
use salon_core::task::*;
use salon_core::{Image, Request, Response, Task};
use salon_engines::builtin::{detector, voice_clone};
use salon_engines::Engine;
use salon_eval::{Challenge, Truth};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Why a challenge could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ChallengeError {
    /// The validator has no engine to reproduce this task's answers.
    #[error("no reproduction engine for {0}; configure one with --engine")]
    NoReproducer(Task),
    /// The reproduction engine failed.
    #[error("reproducing {task} failed: {source}")]
    Reproduction {
        /// Task.
        task: Task,
        /// Engine error.
        source: salon_engines::EngineError,
    },
}

/// Makes challenges for every task of a profile.
pub struct ChallengeMaker {
    music: PromptGenerator,
    images: PromptGenerator,
    speech: PromptGenerator,
    reproducers: BTreeMap<Task, Arc<dyn Engine>>,
    seed_base: u64,
    seed_stride: u64,
}

fn draw_f32(rng: &mut impl Rng, r: Option<Range<f32>>, default: Range<f32>) -> f32 {
    let [lo, hi] = r.unwrap_or(default);
    if hi > lo {
        rng.gen_range(lo..=hi)
    } else {
        lo
    }
}

fn draw_u32(rng: &mut impl Rng, r: Option<Range<u32>>, default: Range<u32>) -> u32 {
    let [lo, hi] = r.unwrap_or(default);
    if hi > lo {
        rng.gen_range(lo..=hi)
    } else {
        lo
    }
}

fn draw_dim(rng: &mut impl Rng, r: Option<Range<u32>>) -> u32 {
    let v = draw_u32(rng, r, [256, 384]);
    (v / 64).max(1) * 64
}

/// Whether `task` is scored by comparing with the validator's own reproduction.
pub fn scored_by_reproduction(task: Task) -> bool {
    matches!(
        task,
        Task::TextToImage
            | Task::ImageToImage
            | Task::Inpaint
            | Task::Upscale
            | Task::ImageEmbedding
            | Task::TextGeneration
    )
}

impl ChallengeMaker {
    /// A maker for validator `validator_uid`, with engines to reproduce answers for the tasks
    /// scored by reproduction.
    pub fn new(
        validator_uid: u16,
        seed_stride: u64,
        reproducers: BTreeMap<Task, Arc<dyn Engine>>,
    ) -> Self {
        Self {
            music: PromptGenerator::builtin(PromptKind::Music),
            images: PromptGenerator::builtin(PromptKind::Image),
            speech: PromptGenerator::builtin(PromptKind::Speech),
            reproducers,
            seed_base: validator_uid as u64 * seed_stride,
            seed_stride: seed_stride.max(1),
        }
    }

    fn seed(&self, rng: &mut impl Rng) -> u64 {
        self.seed_base + rng.gen_range(0..self.seed_stride)
    }

    fn source_image(&self, rng: &mut impl Rng, w: u32, h: u32) -> Image {
        let img = detector::challenge_image(self.seed(rng), rng.gen_bool(0.5));
        img.resized(w, h).unwrap_or(img)
    }

    /// Builds the request for `task`. Heavy truth (reproduction) is made by [`Self::truth`].
    pub fn request(
        &self,
        task: Task,
        params: &ChallengeParams,
        rng: &mut impl Rng,
    ) -> (Request, Truth) {
        let seed = self.seed(rng);
        fn steps(rng: &mut impl Rng, p: &ChallengeParams) -> u32 {
            draw_u32(rng, p.steps, [10, 30])
        }
        fn cfg(rng: &mut impl Rng, p: &ChallengeParams) -> f32 {
            draw_f32(rng, p.cfg_scale, [3.0, 8.0])
        }
        match task {
            Task::TextToMusic => (
                Request::TextToMusic(MusicRequest {
                    prompt: self.music.generate(rng),
                    duration_secs: (draw_f32(rng, params.duration_secs, [5.0, 10.0]) * 10.0)
                        .round()
                        / 10.0,
                    seed,
                }),
                Truth::None,
            ),
            Task::TextToSpeech => (
                Request::TextToSpeech(SpeechRequest {
                    text: self.speech.generate(rng),
                    seed,
                }),
                Truth::None,
            ),
            Task::VoiceClone => (
                Request::VoiceClone(VoiceCloneRequest {
                    text: self.speech.generate(rng),
                    reference: voice_clone::reference_voice(self.seed(rng)),
                    seed,
                }),
                Truth::None,
            ),
            Task::TextToImage => {
                let (width, height) = (draw_dim(rng, params.width), draw_dim(rng, params.height));
                let (steps, cfg_scale) = (steps(rng, params), cfg(rng, params));
                let prompt = self.images.generate(rng);
                (
                    Request::TextToImage(ImageRequest {
                        prompt,
                        width,
                        height,
                        steps,
                        cfg_scale,
                        seed,
                    }),
                    Truth::None,
                )
            }
            Task::ImageToImage => {
                let (w, h) = (draw_dim(rng, params.width), draw_dim(rng, params.height));
                let init_image = self.source_image(rng, w, h);
                let strength = draw_f32(rng, params.strength, [0.2, 0.75]);
                let (steps, cfg_scale) = (steps(rng, params), cfg(rng, params));
                let prompt = self.images.generate(rng);
                (
                    Request::ImageToImage(ImageToImageRequest {
                        prompt,
                        init_image,
                        strength,
                        steps,
                        cfg_scale,
                        seed,
                    }),
                    Truth::None,
                )
            }
            Task::Inpaint => {
                let (w, h) = (draw_dim(rng, params.width), draw_dim(rng, params.height));
                let init_image = self.source_image(rng, w, h);
                let mask_image = circle_mask(rng, w, h);
                let (steps, cfg_scale) = (steps(rng, params), cfg(rng, params));
                let prompt = self.images.generate(rng);
                (
                    Request::Inpaint(InpaintRequest {
                        prompt,
                        init_image,
                        mask_image,
                        steps,
                        cfg_scale,
                        seed,
                    }),
                    Truth::None,
                )
            }
            Task::Upscale => {
                let side = draw_u32(rng, params.width, [128, 192]);
                let image = self.source_image(rng, side, side);
                (
                    Request::Upscale(UpscaleRequest { image, scale: 2 }),
                    Truth::None,
                )
            }
            Task::ImageEmbedding => {
                let n = rng.gen_range(1..=3);
                let images = (0..n).map(|_| self.source_image(rng, 128, 128)).collect();
                (
                    Request::ImageEmbedding(EmbeddingRequest { images }),
                    Truth::None,
                )
            }
            Task::ImageDetection => {
                let generated = rng.gen_bool(0.5);
                let image = detector::challenge_image(seed, generated);
                (
                    Request::ImageDetection(DetectionRequest { image }),
                    Truth::Label { generated },
                )
            }
            Task::TextGeneration => {
                let sentence = self.speech.generate(rng);
                let prompt: String = sentence
                    .split_whitespace()
                    .take(3)
                    .collect::<Vec<_>>()
                    .join(" ");
                let max_tokens = draw_u32(rng, params.max_tokens, [20, 60]);
                (
                    Request::TextGeneration(TextRequest {
                        prompt,
                        max_tokens,
                        seed,
                    }),
                    Truth::None,
                )
            }
        }
    }

    /// The finished challenge: for tasks scored by reproduction, the validator generates the
    /// answer itself with its reproduction engine (blocking; run it off the async runtime).
    pub fn finish(&self, request: Request, truth: Truth) -> Result<Challenge, ChallengeError> {
        let task = request.task();
        let truth = if scored_by_reproduction(task) {
            let engine = self
                .reproducers
                .get(&task)
                .ok_or(ChallengeError::NoReproducer(task))?;
            let r: Response = engine
                .generate(&request)
                .map_err(|source| ChallengeError::Reproduction { task, source })?;
            Truth::Reproduction(r)
        } else {
            truth
        };
        Ok(Challenge { request, truth })
    }
}

/// A white filled circle (radius 20-100 px, clipped to the image) on black: Vision's inpaint mask.
pub fn circle_mask(rng: &mut impl Rng, w: u32, h: u32) -> Image {
    let r = rng.gen_range(20..=100).min(w.min(h) / 2) as i64;
    let cx = rng.gen_range(0..w) as i64;
    let cy = rng.gen_range(0..h) as i64;
    let mut img = Image::filled(w, h, [0, 0, 0]);
    for y in 0..h as i64 {
        for x in 0..w as i64 {
            if (x - cx).pow(2) + (y - cy).pow(2) <= r * r {
                let i = ((y * w as i64 + x) * 3) as usize;
                img.rgb[i..i + 3].copy_from_slice(&[255, 255, 255]);
            }
        }
    }
    img
}

/// A short stable key for a request (prompt/seed), used to tell "same content for a different
/// request" (a copy) from "same content for the same request" (honest agreement).
pub fn request_key(request: &Request) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    serde_json::to_string(request)
        .unwrap_or_default()
        .hash(&mut h);
    format!("{:016x}", h.finish())
}
