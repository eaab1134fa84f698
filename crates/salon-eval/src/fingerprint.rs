//! Perturbation-tolerant content fingerprints, compared by bit agreement.

use serde::{Deserialize, Serialize};

/// A bit string summarising media content; similar content gives mostly equal bits.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Fingerprint {
    /// The bits, 64 per word.
    pub bits: Vec<u64>,
    /// How many bits of `bits` are meaningful.
    pub len: usize,
}

impl Fingerprint {
    /// Fraction of agreeing bits in [0, 1]; 0 when the lengths differ or are zero.
    pub fn similarity(&self, other: &Fingerprint) -> f64 {
        if self.len == 0 || self.len != other.len {
            return 0.0;
        }
        let differing: u32 = self
            .bits
            .iter()
            .zip(&other.bits)
            .map(|(a, b)| (a ^ b).count_ones())
            .sum();
        1.0 - differing as f64 / self.len as f64
    }

    /// Builds a fingerprint from booleans.
    pub fn from_bools(bools: impl IntoIterator<Item = bool>) -> Self {
        let mut bits = Vec::new();
        let mut len = 0;
        for (i, b) in bools.into_iter().enumerate() {
            if i % 64 == 0 {
                bits.push(0);
            }
            if b {
                bits[i / 64] |= 1 << (i % 64);
            }
            len += 1;
        }
        Self { bits, len }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similarity_counts_agreeing_bits() {
        let a = Fingerprint::from_bools((0..100).map(|i| i % 3 == 0));
        let mut b = a.clone();
        assert_eq!(a.similarity(&b), 1.0);
        b.bits[0] ^= 0b1111;
        assert!((a.similarity(&b) - 0.96).abs() < 1e-12);
        assert_eq!(a.similarity(&Fingerprint::from_bools([true])), 0.0);
    }
}
