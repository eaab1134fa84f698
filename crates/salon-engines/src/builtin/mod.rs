//! Built-in engines: no weights, deterministic for a seed, honest about what they are.
//!
//! Every built-in engine takes a [`Fidelity`]: 1.0 is its best output; lower values degrade it in
//! the ways the built-in metrics measure (the devnet's `weak` miners use this).

pub mod detector;
pub mod embedding;
pub mod image;
pub mod music;
pub mod speech;
pub mod text;
pub mod voice_clone;

/// Output quality knob of a built-in engine, in [0, 1]; 1.0 is the engine's best.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fidelity(pub f32);

impl Default for Fidelity {
    fn default() -> Self {
        Fidelity(1.0)
    }
}

impl Fidelity {
    /// The value clamped to [0, 1].
    pub fn get(self) -> f32 {
        self.0.clamp(0.0, 1.0)
    }
}
