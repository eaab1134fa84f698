//! Dynamic batching: concurrent music requests to one [`MusicGen`] are gathered for a short
//! window (or until the batch is full) and generated as one batch by a worker thread.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use salon_core::task::MusicRequest;
use salon_core::{Audio, Request, Response, Task};

use super::{MusicGen, MusicGenError};
use crate::{Engine, EngineError};

/// How requests are gathered into batches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchConfig {
    /// Most requests generated together.
    pub max_batch: usize,
    /// How long the first request of a batch waits for company.
    pub window: Duration,
}

impl Default for BatchConfig {
    /// Up to 8 requests, gathered for 50 ms (negligible next to a generation of seconds).
    fn default() -> Self {
        Self {
            max_batch: 8,
            window: Duration::from_millis(50),
        }
    }
}

/// Counters of the batches run so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BatchStats {
    /// Batches generated.
    pub batches: usize,
    /// Requests generated (invalid requests answered without generating are not counted).
    pub requests: usize,
    /// Largest batch so far.
    pub largest: usize,
}

#[derive(Default)]
struct Counters {
    batches: AtomicUsize,
    requests: AtomicUsize,
    largest: AtomicUsize,
}

struct Job {
    request: MusicRequest,
    reply: mpsc::Sender<Result<Audio, EngineError>>,
}

/// An [`Engine`] for text-to-music that batches concurrent requests to one model.
pub struct BatchingEngine {
    jobs: mpsc::Sender<Job>,
    describe: String,
    counters: Arc<Counters>,
}

impl BatchingEngine {
    /// Moves `model` to a worker thread that serves batches gathered as `config` says.
    pub fn new(model: MusicGen, config: BatchConfig) -> Self {
        let (jobs, rx) = mpsc::channel::<Job>();
        let counters = Arc::new(Counters::default());
        let describe = format!(
            "{} (batches of up to {} gathered for {} ms)",
            model.describe(),
            config.max_batch.max(1),
            config.window.as_millis()
        );
        let c = Arc::clone(&counters);
        std::thread::Builder::new()
            .name("musicgen-batcher".into())
            .spawn(move || serve(&model, &config, &rx, &c))
            .expect("spawning a thread only fails when the OS is out of resources");
        Self {
            jobs,
            describe,
            counters,
        }
    }

    /// Counters of the batches run so far.
    pub fn stats(&self) -> BatchStats {
        BatchStats {
            batches: self.counters.batches.load(Ordering::Relaxed),
            requests: self.counters.requests.load(Ordering::Relaxed),
            largest: self.counters.largest.load(Ordering::Relaxed),
        }
    }
}

/// The worker: wait for a first job, gather more until the window closes or the batch is full,
/// answer invalid requests at once and generate the rest together. Ends when the engine is dropped.
fn serve(model: &MusicGen, config: &BatchConfig, rx: &mpsc::Receiver<Job>, counters: &Counters) {
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        let deadline = Instant::now() + config.window;
        while jobs.len() < config.max_batch.max(1) {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let mut ready = Vec::with_capacity(jobs.len());
        for job in jobs {
            match model.prompt_for(&job.request) {
                Ok(prompt) => ready.push((job, prompt)),
                Err(e) => {
                    let _ = job.reply.send(Err(e.into()));
                }
            }
        }
        if ready.is_empty() {
            continue;
        }
        counters.batches.fetch_add(1, Ordering::Relaxed);
        counters.requests.fetch_add(ready.len(), Ordering::Relaxed);
        counters.largest.fetch_max(ready.len(), Ordering::Relaxed);
        let prompts: Vec<_> = ready.iter().map(|(_, p)| p.clone()).collect();
        let sr = model.sample_rate();
        match model.generate_batch(&prompts, model.params()) {
            Ok(clips) => {
                for ((job, _), samples) in ready.into_iter().zip(clips) {
                    let _ = job.reply.send(Ok(Audio::mono(samples, sr)));
                }
            }
            Err(e) => {
                let invalid = e.is_invalid_request();
                let msg = e.to_string();
                for (job, _) in ready {
                    let err = if invalid {
                        EngineError::InvalidRequest(msg.clone())
                    } else {
                        EngineError::Failed(msg.clone())
                    };
                    let _ = job.reply.send(Err(err));
                }
            }
        }
    }
}

impl Engine for BatchingEngine {
    fn describe(&self) -> String {
        self.describe.clone()
    }

    fn supports(&self, task: Task) -> bool {
        task == Task::TextToMusic
    }

    fn generate(&self, request: &Request) -> Result<Response, EngineError> {
        let Request::TextToMusic(r) = request else {
            return Err(EngineError::Unsupported(request.task()));
        };
        let (reply, answer) = mpsc::channel();
        let stopped = || EngineError::Failed(MusicGenError::BatcherStopped.to_string());
        self.jobs
            .send(Job {
                request: r.clone(),
                reply,
            })
            .map_err(|_| stopped())?;
        let audio = answer.recv().map_err(|_| stopped())??;
        Ok(Response::Audio { audio })
    }
}
