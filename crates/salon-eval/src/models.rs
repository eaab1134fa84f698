//! Embedding models for the audio metrics. The VGGish log-mel frontend is plain Rust and always
//! built; the networks run on candle behind the `models` feature.

pub mod checkpoints;
#[cfg(feature = "models")]
pub mod clap;
#[cfg(feature = "models")]
pub mod clap_audio;
pub mod clap_input;
#[cfg(feature = "models")]
pub mod clap_text;
#[cfg(feature = "models")]
pub mod fused;
#[cfg(feature = "cuda")]
mod fused_cuda;
#[cfg(feature = "models")]
pub mod music;
#[cfg(feature = "models")]
pub mod passt;
pub mod passt_input;
#[cfg(feature = "models")]
pub mod vggish;
pub mod vggish_input;

/// Why a model could not be loaded or run.
#[cfg(feature = "models")]
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// candle failed (missing tensor, wrong shape, device error).
    #[error("{context}: {source}")]
    Candle {
        /// What was being done.
        context: String,
        /// The underlying error.
        source: candle_core::Error,
    },
    /// A reference set the metrics cannot be built from (too few usable clips, bad shapes).
    #[error("reference set: {0}")]
    Reference(String),
    /// The CLAP checkpoint could not be loaded or run.
    #[error(transparent)]
    Clap(Box<clap::ClapError>),
}

#[cfg(feature = "models")]
pub(crate) trait CandleContext<T> {
    fn context(self, what: &str) -> Result<T, ModelError>;
}

#[cfg(feature = "models")]
impl<T> CandleContext<T> for candle_core::Result<T> {
    fn context(self, what: &str) -> Result<T, ModelError> {
        self.map_err(|source| ModelError::Candle {
            context: what.to_string(),
            source,
        })
    }
}
