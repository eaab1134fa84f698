//! The sparse epoch (what the chain runs): masks, consensus, clipping, incentive, both bonds paths
//! and dividends over `[(col, value)]` rows.

use crate::emission::{commit_reveal_masks, finish, prelude, Prelude};
use crate::fixed::{ratio_via_i64f64, I32F32};
use crate::math::*;
use crate::{EpochInput, EpochOutput, Hyperparameters};

const Z: I32F32 = I32F32::ZERO;

/// Runs one sparse epoch (subtensor's `epoch_mechanism`) and returns what it would store.
pub fn epoch(hp: &Hyperparameters, input: &EpochInput, rao_emission: u64) -> EpochOutput {
    let p = prelude(hp, input, true);
    let n = p.n;
    let weights = masked_weights(hp, input, &p);
    let kappa = I32F32::from_u16_proportion(hp.kappa);
    let consensus = weighted_median_col_sparse(&p.active_stake, &weights, n, kappa);
    let clipped = col_clip_sparse(&weights, &consensus);
    let validator_trust = row_sum_sparse(&clipped);
    let mut incentive = matmul_sparse(&clipped, &p.active_stake, n);
    normalize(&mut incentive);
    let beta = I32F32::from_u16_proportion(hp.bonds_penalty);
    let weights_for_bonds = interpolate_sparse(&weights, &clipped, n, beta);
    drop(clipped);
    let old_bonds = stored_bonds(hp, input, &p);
    let (ema, dividends) = if hp.yuma3 {
        yuma3_bonds(
            hp,
            &p,
            &weights_for_bonds,
            old_bonds,
            &consensus,
            &incentive,
        )
    } else {
        classic_bonds(hp, &p, &weights_for_bonds, old_bonds, &incentive)
    };
    let bonds = ema
        .into_iter()
        .enumerate()
        .map(|(i, row)| if p.new_permit[i] { row } else { Vec::new() })
        .collect();
    finish(
        &p,
        rao_emission,
        &consensus,
        &incentive,
        &dividends,
        &validator_trust,
        bonds,
    )
}

/// Stored weight rows after the permit, self-weight, outdated and commit-reveal masks, row-normalised.
fn masked_weights(hp: &Hyperparameters, input: &EpochInput, p: &Prelude) -> SparseMatrix {
    let n = p.n;
    let mut w: SparseMatrix = (0..n)
        .map(|i| {
            if !p.old_permit[i] {
                return Vec::new();
            }
            let Some(row) = input.weights.get(i) else {
                return Vec::new();
            };
            let lu = p.last_update[i];
            row.iter()
                .filter(|&&(j, _)| {
                    let j = j as usize;
                    j < n
                        && (j != i || Some(i) == p.owner)
                        && lu > p.block_at_registration[j]
                        && !commit_reveal_masks(hp, input, i, p.block_at_registration[j])
                })
                .map(|&(j, v)| (j, I32F32::from_int(v as i64)))
                .collect()
        })
        .collect();
    row_normalize_sparse(&mut w);
    w
}

/// Stored bond rows as numbers (raw for classic, /65535 for Yuma3) without recently registered columns.
fn stored_bonds(hp: &Hyperparameters, input: &EpochInput, p: &Prelude) -> SparseMatrix {
    (0..p.n)
        .map(|i| {
            input
                .bonds
                .get(i)
                .map(|row| {
                    row.iter()
                        .filter(|&&(j, _)| {
                            (j as usize) < p.n && p.last_tempo > p.block_at_registration[j as usize]
                        })
                        .map(|&(j, v)| {
                            let x = if hp.yuma3 {
                                I32F32::from_u16_proportion(v)
                            } else {
                                I32F32::from_int(v as i64)
                            };
                            (j, x)
                        })
                        .collect()
                })
                .unwrap_or_default()
        })
        .collect()
}

/// The bonds EMA factor `1 − bonds_moving_average / 1e6` (divisor applied in I64F64).
pub(crate) fn ema_alpha(hp: &Hyperparameters) -> I32F32 {
    I32F32::ONE.ssub(ratio_via_i64f64(hp.bonds_moving_average, 1_000_000))
}

fn classic_bonds(
    hp: &Hyperparameters,
    p: &Prelude,
    wb: &SparseMatrix,
    mut old: SparseMatrix,
    incentive: &[I32F32],
) -> (Vec<Vec<(u16, u16)>>, Vec<I32F32>) {
    let n = p.n;
    col_normalize_sparse(&mut old, n);
    let mut delta = row_hadamard_sparse(wb, &p.active_stake);
    col_normalize_sparse(&mut delta, n);
    let mut ema = mat_ema_sparse(&delta, &old, n, ema_alpha(hp));
    col_normalize_sparse(&mut ema, n);
    let mut dividends = matmul_transpose_sparse(&ema, incentive);
    normalize(&mut dividends);
    col_max_upscale_sparse(&mut ema, n);
    (quantize(ema), dividends)
}

fn yuma3_bonds(
    hp: &Hyperparameters,
    p: &Prelude,
    wb: &SparseMatrix,
    old: SparseMatrix,
    consensus: &[I32F32],
    incentive: &[I32F32],
) -> (Vec<Vec<(u16, u16)>>, Vec<I32F32>) {
    let n = p.n;
    let ema = if hp.liquid_alpha && consensus.iter().any(|&c| c != Z) {
        let (low, high, slope) = liquid_params(hp);
        let mut scratch = vec![Z; n];
        let alphas: Vec<Vec<I32F32>> = wb
            .iter()
            .zip(&old)
            .map(|(rw, rb)| {
                for &(c, v) in rb {
                    scratch[c as usize] = v;
                }
                let a = rw
                    .iter()
                    .map(|&(c, w)| {
                        liquid_alpha(
                            consensus[c as usize],
                            w,
                            scratch[c as usize],
                            low,
                            high,
                            slope,
                        )
                    })
                    .collect();
                for &(c, _) in rb {
                    scratch[c as usize] = Z;
                }
                a
            })
            .collect();
        mat_ema_alpha_sparse(wb, &old, &alphas, n)
    } else {
        mat_ema_sparse(wb, &old, n, ema_alpha(hp))
    };
    let mut normed = ema.clone();
    col_normalize_sparse(&mut normed, n);
    let mut dividends: Vec<I32F32> = matmul_transpose_sparse(&normed, incentive)
        .into_iter()
        .zip(&p.active_stake)
        .map(|(t, a)| t.smul(*a))
        .collect();
    normalize(&mut dividends);
    (quantize(ema), dividends)
}

/// Liquid alpha bounds and sigmoid slope: (low, high, steepness / −100).
pub(crate) fn liquid_params(hp: &Hyperparameters) -> (I32F32, I32F32, I32F32) {
    let low = I32F32::from_u16_proportion(hp.alpha_low);
    let high = I32F32::from_u16_proportion(hp.alpha_high);
    let slope = I32F32::from_int(hp.alpha_sigmoid_steepness as i64).sdiv(I32F32::from_int(-100));
    (low, high, slope)
}

fn quantize(m: SparseMatrix) -> Vec<Vec<(u16, u16)>> {
    m.into_iter()
        .map(|row| {
            row.into_iter()
                .map(|(c, v)| (c, v.to_u16_proportion()))
                .collect()
        })
        .collect()
}
