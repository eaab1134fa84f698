//! The shared front and back of the epoch: activity, stake, permits, the emission split and the
//! conversion of every output to the u16 / rao forms subtensor stores.

use crate::fixed::{normalize_u64_via_i64f64, proportion_to_rao, sum, I32F32};
use crate::math::{is_topk_nonzero, is_zero, normalize, normalize_using_sum};
use crate::{EpochInput, Hyperparameters};

/// Per-uid facts both epoch variants derive before touching weights.
pub(crate) struct Prelude {
    pub n: usize,
    pub last_update: Vec<u64>,
    pub block_at_registration: Vec<u64>,
    pub inactive: Vec<bool>,
    pub stake: Vec<I32F32>,
    pub old_permit: Vec<bool>,
    pub new_permit: Vec<bool>,
    pub active_stake: Vec<I32F32>,
    pub owner: Option<usize>,
    pub last_tempo: u64,
}

fn pad<T: Copy>(v: &[T], n: usize, fill: T) -> Vec<T> {
    (0..n).map(|i| v.get(i).copied().unwrap_or(fill)).collect()
}

/// Activity, stake (threshold, I64F64 normalisation), old/new permits and active stake.
/// `owner_privileges` is the sparse variant's owner exemption (threshold, forced permits).
pub(crate) fn prelude(hp: &Hyperparameters, input: &EpochInput, owner_privileges: bool) -> Prelude {
    let n = input.stake.len();
    let cb = input.current_block;
    let cutoff = hp.activity_cutoff_blocks();
    let last_update = pad(&input.last_update, n, 0);
    let block_at_registration = pad(&input.block_at_registration, n, 0);
    let inactive: Vec<bool> = last_update
        .iter()
        .map(|&lu| lu.saturating_add(cutoff) < cb)
        .collect();
    let owner = input.owner_uid.map(|o| o as usize).filter(|&o| o < n);
    let exempt = |i: usize| owner_privileges && Some(i) == owner;
    let raw: Vec<u64> = input
        .stake
        .iter()
        .enumerate()
        .map(|(i, &s)| {
            if s < hp.stake_threshold && !exempt(i) {
                0
            } else {
                s
            }
        })
        .collect();
    let stake = normalize_u64_via_i64f64(&raw);
    let mut old_permit = pad(&input.validator_permit, n, false);
    let mut new_permit = is_topk_nonzero(&stake, hp.max_allowed_validators as usize);
    if let (Some(o), true) = (owner, owner_privileges) {
        old_permit[o] = true;
        new_permit[o] = true;
    }
    let mut active_stake = stake.clone();
    for i in 0..n {
        if inactive[i] || !old_permit[i] {
            active_stake[i] = I32F32::ZERO;
        }
    }
    normalize(&mut active_stake);
    let last_tempo = if input.last_mechanism_step_block == 0 {
        cb.saturating_sub(hp.tempo as u64)
    } else {
        input.last_mechanism_step_block + 1
    };
    Prelude {
        n,
        last_update,
        block_at_registration,
        inactive,
        stake,
        old_permit,
        new_permit,
        active_stake,
        owner,
        last_tempo,
    }
}

/// Whether weight (i → j) is dropped by the commit-reveal mask.
pub(crate) fn commit_reveal_masks(
    hp: &Hyperparameters,
    input: &EpochInput,
    i: usize,
    bar_j: u64,
) -> bool {
    hp.commit_reveal
        && matches!(input.first_pending_commit_block.get(i), Some(Some(b)) if *b < bar_j)
}

/// Splits incentive and dividends into server / validator / combined rao and fills the output.
#[allow(clippy::too_many_arguments)]
pub(crate) fn finish(
    p: &Prelude,
    rao_emission: u64,
    consensus: &[I32F32],
    incentive: &[I32F32],
    dividends: &[I32F32],
    validator_trust: &[I32F32],
    bonds: Vec<Vec<(u16, u16)>>,
) -> crate::EpochOutput {
    let combined: Vec<I32F32> = incentive
        .iter()
        .zip(dividends)
        .map(|(a, b)| a.sadd(*b))
        .collect();
    let total = sum(&combined);
    let mut server = incentive.to_vec();
    let mut validator = dividends.to_vec();
    let mut comb = combined;
    normalize_using_sum(&mut server, total);
    normalize_using_sum(&mut validator, total);
    normalize(&mut comb);
    if total == I32F32::ZERO {
        let source = if is_zero(&p.active_stake) {
            &p.stake
        } else {
            &p.active_stake
        };
        validator = source.clone();
        comb = source.clone();
    }
    let rao = |v: &[I32F32]| {
        v.iter()
            .map(|&x| proportion_to_rao(x, rao_emission))
            .collect::<Vec<u64>>()
    };
    let u16s = |v: &[I32F32]| {
        v.iter()
            .map(|x| x.to_u16_proportion())
            .collect::<Vec<u16>>()
    };
    crate::EpochOutput {
        active: p.inactive.iter().map(|x| !x).collect(),
        stake_weight: u16s(&p.stake),
        consensus: u16s(consensus),
        incentive: u16s(incentive),
        dividends: u16s(dividends),
        validator_trust: u16s(validator_trust),
        validator_permit: p.new_permit.clone(),
        bonds,
        server_emission: rao(&server),
        validator_emission: rao(&validator),
        emission: rao(&comb),
    }
}
