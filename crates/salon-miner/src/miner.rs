//! Answering requests: dispatch to the task's engine off the async runtime, shaped by the miner's
//! behaviour.

use crate::behaviour::Behaviour;
use salon_core::{Audio, Image, Request, Response, Task};
use salon_engines::{Engine, EngineError};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Why a miner could not answer.
#[derive(Debug, thiserror::Error)]
pub enum MinerError {
    /// No engine is configured for the task.
    #[error("this miner does not serve {0}")]
    NotServed(Task),
    /// The engine refused or failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The engine task panicked.
    #[error("engine crashed: {0}")]
    Crashed(String),
}

impl MinerError {
    /// The status code a Bittensor dendrite expects for this failure.
    pub fn status(&self) -> u16 {
        match self {
            MinerError::NotServed(_) => 404,
            MinerError::Engine(EngineError::InvalidRequest(_))
            | MinerError::Engine(EngineError::Unsupported(_)) => 400,
            _ => 500,
        }
    }
}

/// A miner's engines and behaviour.
pub struct Miner {
    engines: BTreeMap<Task, Arc<dyn Engine>>,
    behaviour: Behaviour,
    replay: Mutex<HashMap<Task, Response>>,
    replays: Mutex<u64>,
}

impl Miner {
    /// A miner serving `engines` with `behaviour`.
    pub fn new(engines: BTreeMap<Task, Arc<dyn Engine>>, behaviour: Behaviour) -> Self {
        Self {
            engines,
            behaviour,
            replay: Mutex::new(HashMap::new()),
            replays: Mutex::new(0),
        }
    }

    /// The tasks served.
    pub fn tasks(&self) -> Vec<Task> {
        self.engines.keys().copied().collect()
    }

    /// The behaviour.
    pub fn behaviour(&self) -> Behaviour {
        self.behaviour
    }

    async fn generate(&self, request: Request) -> Result<Response, MinerError> {
        let task = request.task();
        let engine = self
            .engines
            .get(&task)
            .cloned()
            .ok_or(MinerError::NotServed(task))?;
        tokio::task::spawn_blocking(move || engine.generate(&request))
            .await
            .map_err(|e| MinerError::Crashed(e.to_string()))?
            .map_err(MinerError::from)
    }

    /// Answers `request` as this miner's behaviour dictates.
    pub async fn answer(&self, request: Request) -> Result<Response, MinerError> {
        let task = request.task();
        if !self.engines.contains_key(&task) {
            return Err(MinerError::NotServed(task));
        }
        match self.behaviour {
            Behaviour::Honest | Behaviour::Weak => self.generate(request).await,
            Behaviour::Slow => {
                let r = self.generate(request).await;
                tokio::time::sleep(Duration::from_secs(120)).await;
                r
            }
            Behaviour::Lazy => Ok(lazy_answer(&request)),
            Behaviour::Broken => Ok(broken_answer(task)),
            Behaviour::Copycat => {
                let cached = self
                    .replay
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get(&task)
                    .cloned();
                match cached {
                    Some(old) => {
                        let n = {
                            let mut n = self.replays.lock().unwrap_or_else(|p| p.into_inner());
                            *n += 1;
                            *n
                        };
                        Ok(disguise(old, n))
                    }
                    None => {
                        let fresh = self.generate(request).await?;
                        self.replay
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .insert(task, fresh.clone());
                        Ok(fresh)
                    }
                }
            }
        }
    }
}

/// The least effort that still has the right shape: silence, a blank image, a constant guess.
pub fn lazy_answer(request: &Request) -> Response {
    let blank = |w: u32, h: u32| Response::Image {
        image: Image::filled(w, h, [128, 128, 128]),
    };
    match request {
        Request::TextToMusic(r) => Response::Audio {
            audio: Audio::silence(r.duration_secs, 32_000),
        },
        Request::TextToSpeech(_) | Request::VoiceClone(_) => Response::Audio {
            audio: Audio::silence(3.0, 16_000),
        },
        Request::TextToImage(r) => blank(r.width, r.height),
        Request::ImageToImage(r) => blank(r.init_image.width, r.init_image.height),
        Request::Inpaint(r) => blank(r.init_image.width, r.init_image.height),
        Request::Upscale(r) => blank(r.image.width * r.scale, r.image.height * r.scale),
        Request::ImageEmbedding(r) => Response::Embeddings {
            embeddings: vec![vec![0.0; 256]; r.images.len()],
        },
        Request::ImageDetection(_) => Response::Detection { prediction: 0.5 },
        Request::TextGeneration(_) => Response::Text {
            text: String::new(),
        },
    }
}

/// A response of the wrong kind for the task (what a buggy or malicious miner sends).
pub fn broken_answer(task: Task) -> Response {
    match task {
        Task::TextGeneration => Response::Detection {
            prediction: f32::NAN,
        },
        _ => Response::Text {
            text: "\u{fffd}".repeat(8),
        },
    }
}

/// An old answer lightly altered to dodge exact-hash duplicate checks: gain and faint noise for
/// audio, a few flipped pixel values for images.
pub fn disguise(old: Response, n: u64) -> Response {
    let mut state = n.wrapping_mul(0x2545_F491_4F6C_DD1D) | 1;
    let mut noise = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    match old {
        Response::Audio { mut audio } => {
            let gain = 0.9 + 0.02 * (n % 5) as f32;
            audio
                .samples
                .iter_mut()
                .for_each(|s| *s = *s * gain + 0.002 * noise());
            Response::Audio { audio }
        }
        Response::Image { mut image } => {
            image
                .rgb
                .iter_mut()
                .for_each(|p| *p = (*p as f32 + 4.0 * noise()).clamp(0.0, 255.0) as u8);
            Response::Image { image }
        }
        other => other,
    }
}
