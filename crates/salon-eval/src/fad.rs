//! Frechet Audio Distance over any embeddings: Gaussian statistics of an [n, d] array, the Frechet
//! distance computed with faer (f64, symmetric eigendecompositions, the peers' eps retry), FAD-inf,
//! reference-set statistics cached on disk, and a reader for NumPy `.npy` embedding files.
//!
//! No embedding model lives here: callers bring embeddings (VGGish, CLAP, EnCodec or the built-in
//! handcrafted frame features of [`crate::audio::music`]).

pub mod cache;
pub mod frechet;
pub mod inf;
pub mod npy;
pub mod stats;

pub use cache::{set_key, Cached, StatsCache};
pub use frechet::{frechet_distance, frechet_report, FrechetReport, DEFAULT_EPS};
pub use inf::{fad_inf, FadInf, FadInfOptions};
pub use stats::{Embeddings, GaussianStats};

/// Why a Frechet distance, its statistics or a cached reference could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum FadError {
    /// The two sides have different embedding dimensions.
    #[error("embedding dimensions differ ({0} vs {1}): compare embeddings of the same model")]
    DimensionMismatch(usize, usize),
    /// Statistics need at least two rows.
    #[error("statistics need at least 2 embedding rows, got {0}: give more audio or more frames")]
    TooFewRows(usize),
    /// The data holds NaN or infinite values.
    #[error("embeddings contain NaN or infinite values: check the model's input audio")]
    NotFinite,
    /// A buffer does not have rows x dim values.
    #[error("expected {rows} x {dim} = {} values, got {got}", rows * dim)]
    Shape {
        /// Rows asked for.
        rows: usize,
        /// Columns asked for.
        dim: usize,
        /// Values present.
        got: usize,
    },
    /// The symmetric eigen-solver did not converge.
    #[error(
        "the symmetric eigendecomposition did not converge (covariance has NaN or huge values?)"
    )]
    NoConvergence,
    /// A `.npy` file could not be read.
    #[error("{path}: {why}")]
    Npy {
        /// The file.
        path: String,
        /// What was wrong with it.
        why: String,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl FadError {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        FadError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}
