//! The dense epoch (subtensor's `epoch_dense`): the same math on full n × n matrices, with the
//! dense variant's own owner, clipping and bond-storage rules (reference §7).

use crate::emission::{commit_reveal_masks, finish, prelude};
use crate::fixed::I32F32;
use crate::math::*;
use crate::sparse::{ema_alpha, liquid_params};
use crate::{EpochInput, EpochOutput, Hyperparameters};

const Z: I32F32 = I32F32::ZERO;

fn col_normalize(m: &mut DenseMatrix) {
    let n = m.first().map_or(0, |r| r.len());
    let mut sums = vec![Z; n];
    for row in m.iter() {
        for (s, &v) in sums.iter_mut().zip(row) {
            *s = s.sadd(v);
        }
    }
    for row in m.iter_mut() {
        for (v, &s) in row.iter_mut().zip(&sums) {
            if s != Z {
                *v = v.sdiv(s);
            }
        }
    }
}

fn col_max_upscale(m: &mut DenseMatrix) {
    let n = m.first().map_or(0, |r| r.len());
    let mut maxes = vec![Z; n];
    for row in m.iter() {
        for (mx, &v) in maxes.iter_mut().zip(row) {
            *mx = (*mx).max(v);
        }
    }
    for row in m.iter_mut() {
        for (v, &mx) in row.iter_mut().zip(&maxes) {
            if mx > Z {
                *v = v.sdiv(mx);
            }
        }
    }
}

fn matvec(m: &DenseMatrix, v: &[I32F32]) -> Vec<I32F32> {
    m.iter()
        .map(|row| row.iter().zip(v).fold(Z, |a, (&x, &y)| a.sadd(y.smul(x))))
        .collect()
}

fn ema(new: &DenseMatrix, old: &DenseMatrix, alpha: I32F32) -> DenseMatrix {
    let one_minus = I32F32::ONE.ssub(alpha);
    new.iter()
        .zip(old)
        .map(|(rn, ro)| {
            rn.iter()
                .zip(ro)
                .map(|(&a, &b)| alpha.smul(a).sadd(one_minus.smul(b)))
                .collect()
        })
        .collect()
}

/// Runs one dense epoch and returns what `epoch_dense` would store.
pub fn epoch_dense(hp: &Hyperparameters, input: &EpochInput, rao_emission: u64) -> EpochOutput {
    let p = prelude(hp, input, false);
    let n = p.n;
    let bar = &p.block_at_registration;
    let mut w: DenseMatrix = vec![vec![Z; n]; n];
    for (i, row) in w.iter_mut().enumerate() {
        if !p.old_permit[i] {
            continue;
        }
        for &(j, v) in input.weights.get(i).map(|r| r.as_slice()).unwrap_or(&[]) {
            let j = j as usize;
            if j < n
                && j != i
                && p.last_update[i] > bar[j]
                && !commit_reveal_masks(hp, input, i, bar[j])
            {
                row[j] = I32F32::from_int(v as i64);
            }
        }
    }
    for row in w.iter_mut() {
        normalize_positive(row);
    }
    let kappa = I32F32::from_u16_proportion(hp.kappa);
    let consensus = weighted_median_col(&p.active_stake, &w, kappa);
    let clipped: DenseMatrix = w
        .iter()
        .map(|row| {
            row.iter()
                .zip(&consensus)
                .map(|(&x, &c)| x.min(c))
                .collect()
        })
        .collect();
    let validator_trust: Vec<I32F32> = clipped
        .iter()
        .map(|row| row.iter().fold(Z, |a, &x| a.sadd(x)))
        .collect();
    let mut incentive = vec![Z; n];
    for (i, row) in clipped.iter().enumerate() {
        for (r, &x) in incentive.iter_mut().zip(row) {
            *r = r.sadd(p.active_stake[i].smul(x));
        }
    }
    normalize(&mut incentive);
    let beta = I32F32::from_u16_proportion(hp.bonds_penalty);
    let wb: DenseMatrix = if beta == Z {
        w.clone()
    } else if beta == I32F32::ONE {
        clipped.clone()
    } else {
        w.iter()
            .zip(&clipped)
            .map(|(rw, rc)| {
                rw.iter()
                    .zip(rc)
                    .map(|(&a, &b)| a.sadd(beta.smul(b.ssub(a))))
                    .collect()
            })
            .collect()
    };
    let mut old: DenseMatrix = vec![vec![Z; n]; n];
    for (i, row) in old.iter_mut().enumerate() {
        for &(j, v) in input.bonds.get(i).map(|r| r.as_slice()).unwrap_or(&[]) {
            let j = j as usize;
            if j < n && p.last_tempo > bar[j] {
                row[j] = if hp.yuma3 {
                    I32F32::from_u16_proportion(v)
                } else {
                    I32F32::from_int(v as i64)
                };
            }
        }
    }
    let (stored, dividends) = if hp.yuma3 {
        let new_bonds = if hp.liquid_alpha && consensus.iter().any(|&c| c != Z) {
            let (low, high, slope) = liquid_params(hp);
            let alphas: DenseMatrix = wb
                .iter()
                .zip(&old)
                .map(|(rw, rb)| {
                    (0..n)
                        .map(|j| liquid_alpha(consensus[j], rw[j], rb[j], low, high, slope))
                        .collect()
                })
                .collect();
            mat_ema_alpha(&wb, &old, &alphas)
        } else {
            ema(&wb, &old, ema_alpha(hp))
        };
        let mut normed = new_bonds.clone();
        col_normalize(&mut normed);
        let mut d: Vec<I32F32> = matvec(&normed, &incentive)
            .into_iter()
            .zip(&p.active_stake)
            .map(|(t, a)| t.smul(*a))
            .collect();
        normalize(&mut d);
        (new_bonds, d)
    } else {
        col_normalize(&mut old);
        let mut delta: DenseMatrix = wb
            .iter()
            .enumerate()
            .map(|(i, row)| row.iter().map(|&x| x.smul(p.active_stake[i])).collect())
            .collect();
        col_normalize(&mut delta);
        let mut e = ema(&delta, &old, ema_alpha(hp));
        col_normalize(&mut e);
        let mut d = matvec(&e, &incentive);
        normalize(&mut d);
        col_max_upscale(&mut e);
        (e, d)
    };
    let bonds = stored
        .into_iter()
        .enumerate()
        .map(|(i, row)| {
            if p.new_permit[i] {
                row.into_iter()
                    .enumerate()
                    .map(|(j, v)| (j as u16, v.to_u16_proportion()))
                    .collect()
            } else if p.old_permit[i] {
                Vec::new()
            } else {
                input.bonds.get(i).cloned().unwrap_or_default()
            }
        })
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

fn normalize_positive(row: &mut [I32F32]) {
    let s = row.iter().fold(Z, |a, &x| a.sadd(x));
    if s > Z {
        row.iter_mut().for_each(|x| *x = x.sdiv(s));
    }
}
