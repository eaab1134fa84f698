//! Generation engines: what a miner runs to answer a request.
//!
//! An [`Engine`] answers requests for one or more tasks. Built-in engines (module [`builtin`]) need
//! no weights and are deterministic for a seed, so the devnet, the tests and first-time users run
//! offline; model engines and remote endpoints plug in behind the same trait.

pub mod builtin;
#[cfg(feature = "musicgen")]
pub mod musicgen;
pub mod spec;

use salon_core::{Request, Response, Task};

/// Why an engine could not answer.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The engine does not serve this task.
    #[error("this engine does not serve {0}")]
    Unsupported(Task),
    /// The request is outside what the engine accepts (size, length, duration...).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The engine itself failed.
    #[error("generation failed: {0}")]
    Failed(String),
}

/// A generator for one or more tasks. Implementations are cheap to share across threads; heavy
/// work happens inside [`Engine::generate`], which callers run off the async runtime.
pub trait Engine: Send + Sync {
    /// A one-line description for logs ("builtin music composer, fidelity 1.0").
    fn describe(&self) -> String;
    /// Whether this engine serves `task`.
    fn supports(&self, task: Task) -> bool;
    /// Produces the response to `request`. Must be deterministic for a given request (seed included)
    /// where the task is scored by reproduction.
    fn generate(&self, request: &Request) -> Result<Response, EngineError>;
}
