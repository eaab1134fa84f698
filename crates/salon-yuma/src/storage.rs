//! Storage-side helpers of the weight and bond extrinsics: set_weights' max-upscale and bonds reset.

use crate::fixed::I32F32;
use crate::math::vec_max_upscale_to_u16;

/// Max-upscales set_weights values so the largest becomes 65535 (round half away from zero);
/// an all-zero vector stays zero.
pub fn max_upscale_weights(values: &[u16]) -> Vec<u16> {
    let fixed: Vec<I32F32> = values.iter().map(|&v| I32F32::from_int(v as i64)).collect();
    vec_max_upscale_to_u16(&fixed)
}

/// Removes column `uid` from every stored bond row (subtensor's `do_reset_bonds`).
pub fn bonds_reset(bonds: &mut [Vec<(u16, u16)>], uid: u16) {
    for row in bonds.iter_mut() {
        row.retain(|&(j, _)| j != uid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upscale_matches_set_weights_examples() {
        assert_eq!(max_upscale_weights(&[43690, 21845]), vec![65535, 32768]);
        assert_eq!(max_upscale_weights(&[32767, 32767]), vec![65535, 65535]);
        assert_eq!(max_upscale_weights(&[0, 0]), vec![0, 0]);
    }

    #[test]
    fn bonds_reset_removes_only_that_column() {
        let mut bonds = vec![vec![(1, 10), (2, 20)], vec![], vec![(2, 5)]];
        bonds_reset(&mut bonds, 2);
        assert_eq!(bonds, vec![vec![(1, 10)], vec![], vec![]]);
    }
}
