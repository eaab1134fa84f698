//! Image scoring without model weights: reproduce-and-match for generated images
//! ([`ReproductionEvaluator`]), embedding agreement ([`EmbeddingEvaluator`]), detection accuracy and
//! MCC ([`detection`]), and perceptual fingerprints that survive re-encoding.

pub mod detection;
pub mod embedding;
pub mod hash;
pub mod reproduction;
pub mod ssim;

pub use detection::{DetectionEvaluator, DetectionStats};
pub use embedding::EmbeddingEvaluator;
pub use reproduction::{compare, Comparison, ReproductionEvaluator};

use crate::Fingerprint;
use salon_core::Image;

/// A fingerprint of an image: the signs of its low DCT frequencies (a 12x12 pHash without the DC
/// term, 143 bits) relative to their median. Survives JPEG re-encoding, mild noise and resizing;
/// unrelated images agree on about half the bits.
pub fn image_fingerprint(img: &Image) -> Fingerprint {
    Fingerprint::from_bools(hash::phash(img, 12))
}

#[cfg(test)]
mod tests;
