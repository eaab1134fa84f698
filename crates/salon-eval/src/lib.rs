//! Scoring: metrics per task, reward formulas, duplicate fingerprints and aggregation.
//!
//! An [`Evaluator`] turns a (request, response) pair into an [`Evaluation`] in [0, 1]. Built-in
//! evaluators need no model weights. Aggregation over time (EMA, weights) lives in [`aggregate`].

pub mod aggregate;
pub mod audio;
pub mod bittaudio;
pub mod fad;
pub mod fingerprint;
pub mod image;
pub mod kld;
pub mod models;
pub mod text;

use salon_core::{Request, Response, Task};
use std::collections::BTreeMap;

pub use fingerprint::Fingerprint;

/// The score of one response, with the metrics that produced it.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Evaluation {
    /// Final score in [0, 1].
    pub score: f64,
    /// Named metric values, for logs and reports.
    pub metrics: BTreeMap<String, f64>,
    /// Why the score is what it is, when that is not obvious (e.g. "silent", "wrong size").
    pub note: Option<String>,
}

impl Evaluation {
    /// A zero score with a reason.
    pub fn zero(note: impl Into<String>) -> Self {
        Self {
            score: 0.0,
            metrics: BTreeMap::new(),
            note: Some(note.into()),
        }
    }
}

/// What the validator knows about a challenge that the miner must not see.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Truth {
    /// Nothing beyond the request (metrics judge the response on its own).
    #[default]
    None,
    /// The true label of a detection challenge.
    Label {
        /// True if the challenge image is AI-generated.
        generated: bool,
    },
    /// The validator's own reproduction of the request (same seed, honest settings).
    Reproduction(Response),
}

/// A request as the validator sent it, with its hidden truth.
#[derive(Clone, Debug, PartialEq)]
pub struct Challenge {
    /// What the miner was asked.
    pub request: Request,
    /// What the validator knows about the right answer.
    pub truth: Truth,
}

/// Scores responses for one or more tasks.
pub trait Evaluator: Send + Sync {
    /// Whether this evaluator scores `task`.
    fn supports(&self, task: Task) -> bool;
    /// Scores `response` as an answer to `challenge`. A response of the wrong kind, or one that is
    /// malformed (empty, NaN samples, wrong size), scores 0 with a note.
    fn evaluate(&self, challenge: &Challenge, response: &Response) -> Evaluation;
    /// A fingerprint of the response's content that survives small perturbations (noise, gain,
    /// re-encoding, small shifts), used to catch replayed answers. `None` if the task has none.
    fn fingerprint(&self, response: &Response) -> Option<Fingerprint>;
}
