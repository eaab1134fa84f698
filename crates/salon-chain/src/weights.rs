//! The weight extrinsics: set_weights with subtensor's checks in subtensor's order, and the
//! commit_weights / reveal_weights pair of the hash commit-reveal variant.

use crate::commit::{commit_hash, MAX_UNREVEALED_COMMITS};
use crate::error::ChainError;
use crate::store::{self, NeuronRow, SubnetRow};
use rusqlite::Connection;
use salon_core::NetUid;
use salon_keys::PublicKey;

/// How weights reach the checks: the set_weights extrinsic, or a successful reveal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// `set_weights`: rejected while commit-reveal is on.
    Direct,
    /// `reveal_weights`: the commit already passed the rate limit.
    Reveal,
}

fn registered(c: &Connection, netuid: u16, hotkey: &str) -> Result<NeuronRow, ChainError> {
    store::neuron_by_hotkey(c, netuid, hotkey)?.ok_or_else(|| {
        ChainError::HotKeyNotRegisteredInSubNet {
            netuid,
            hotkey: hotkey.to_string(),
        }
    })
}

/// subtensor's weights rate limit: a neuron that has not set weights since registering may set them
/// at once; otherwise `rate_limit` blocks must pass since its last set (or commit).
fn rate_limit_passed(n: &NeuronRow, rate_limit: u64, block: u64) -> bool {
    n.last_update == 0
        || n.last_update <= n.block_at_registration
        || block.saturating_sub(n.last_update) >= rate_limit
}

/// Runs the set_weights checks and stores the max-upscaled row. Check order as subtensor: commit-reveal
/// (direct calls only), equal lengths, length <= n, registered, stake threshold, version key, rate limit
/// (commit-reveal off), validator permit, duplicates, valid uids, minimum length.
#[allow(clippy::too_many_arguments)]
pub fn set_weights(
    c: &Connection,
    subnet: &SubnetRow,
    hotkey: &str,
    dests: &[u16],
    values: &[u16],
    version_key: u64,
    block: u64,
    route: Route,
) -> Result<(), ChainError> {
    let netuid = subnet.netuid;
    let hp = &subnet.hp;
    if route == Route::Direct && hp.commit_reveal {
        return Err(ChainError::CommitRevealEnabled { netuid });
    }
    if dests.len() != values.len() {
        return Err(ChainError::WeightVecNotEqualSize {
            dests: dests.len(),
            values: values.len(),
        });
    }
    let n = store::neuron_count(c, netuid)?;
    if dests.len() > n as usize {
        return Err(ChainError::UidsLengthExceedUidsInSubNet {
            netuid,
            len: dests.len(),
            n,
        });
    }
    let neuron = registered(c, netuid, hotkey)?;
    let stake = store::stake(c, netuid, hotkey)?;
    if stake < hp.stake_threshold {
        return Err(ChainError::NotEnoughStakeToSetWeights {
            hotkey: hotkey.to_string(),
            stake,
            required: hp.stake_threshold,
        });
    }
    if version_key < hp.weights_version_key {
        return Err(ChainError::IncorrectWeightVersionKey {
            given: version_key,
            required: hp.weights_version_key,
        });
    }
    if !hp.commit_reveal && !rate_limit_passed(&neuron, hp.weights_rate_limit, block) {
        return Err(ChainError::SettingWeightsTooFast {
            netuid,
            uid: neuron.uid,
            last_update: neuron.last_update,
            rate_limit: hp.weights_rate_limit,
            block,
        });
    }
    let self_weight = dests.len() == 1 && dests[0] == neuron.uid;
    if !self_weight && !neuron.validator_permit {
        return Err(ChainError::NeuronNoValidatorPermit {
            netuid,
            uid: neuron.uid,
        });
    }
    let mut seen = std::collections::HashSet::with_capacity(dests.len());
    if let Some(&uid) = dests.iter().find(|&&d| !seen.insert(d)) {
        return Err(ChainError::DuplicateUids { uid });
    }
    if let Some(&uid) = dests.iter().find(|&&d| d >= n) {
        return Err(ChainError::UidVecContainInvalidOne { uid, n });
    }
    let min = (hp.min_allowed_weights as usize).min(n as usize);
    if !self_weight && dests.len() < min {
        return Err(ChainError::WeightVecLengthIsLow {
            len: dests.len(),
            min,
        });
    }
    let upscaled = salon_yuma::max_upscale_weights(values);
    let row: Vec<(u16, u16)> = dests.iter().copied().zip(upscaled).collect();
    store::put_weights(c, netuid, neuron.uid, &row)?;
    if !hp.commit_reveal {
        store::set_last_update(c, netuid, neuron.uid, block)?;
    }
    Ok(())
}

/// The last epoch index in which a commit made in `commit_epoch` may be revealed.
fn reveal_epoch(subnet: &SubnetRow, commit_epoch: u64) -> u64 {
    commit_epoch + subnet.hp.commit_reveal_period
}

/// `commit_weights`: queues a hash to be revealed `commit_reveal_period` epochs later.
pub fn commit_weights(
    c: &Connection,
    subnet: &SubnetRow,
    hotkey: &str,
    hash: &[u8; 32],
    block: u64,
) -> Result<(), ChainError> {
    let netuid = subnet.netuid;
    if !subnet.hp.commit_reveal {
        return Err(ChainError::CommitRevealDisabled { netuid });
    }
    let neuron = registered(c, netuid, hotkey)?;
    if !rate_limit_passed(&neuron, subnet.hp.weights_rate_limit, block) {
        return Err(ChainError::CommittingWeightsTooFast {
            netuid,
            uid: neuron.uid,
            last_update: neuron.last_update,
            rate_limit: subnet.hp.weights_rate_limit,
            block,
        });
    }
    let mut pending = 0;
    for commit in store::commits(c, netuid, hotkey)? {
        if reveal_epoch(subnet, commit.commit_epoch) < subnet.epoch_index {
            store::delete_commit(c, commit.id)?;
        } else {
            pending += 1;
        }
    }
    if pending >= MAX_UNREVEALED_COMMITS {
        return Err(ChainError::TooManyUnrevealedCommits {
            hotkey: hotkey.to_string(),
            count: pending,
        });
    }
    store::insert_commit(c, netuid, hotkey, hash, block, subnet.epoch_index)?;
    store::set_last_update(c, netuid, neuron.uid, block)?;
    Ok(())
}

/// `reveal_weights`: finds the pending commit matching the revealed data, checks its window, drops it
/// and every older commit, and applies the weights through the set_weights checks.
#[allow(clippy::too_many_arguments)]
pub fn reveal_weights(
    c: &Connection,
    subnet: &SubnetRow,
    who: &PublicKey,
    uids: &[u16],
    values: &[u16],
    salt: &[u16],
    version_key: u64,
    block: u64,
) -> Result<(), ChainError> {
    let netuid = subnet.netuid;
    let hotkey = who.to_ss58();
    if !subnet.hp.commit_reveal {
        return Err(ChainError::CommitRevealDisabled { netuid });
    }
    let commits = store::commits(c, netuid, &hotkey)?;
    if commits.is_empty() {
        return Err(ChainError::NoWeightsCommitFound { netuid, hotkey });
    }
    let hash = commit_hash(who, NetUid(netuid), uids, values, salt, version_key);
    let epoch = subnet.epoch_index;
    let expired = |commit_epoch: u64| reveal_epoch(subnet, commit_epoch) < epoch;
    let Some(found) = commits
        .iter()
        .find(|x| x.hash == hash && !expired(x.commit_epoch))
    else {
        if let Some(old) = commits.iter().find(|x| x.hash == hash) {
            return Err(ChainError::ExpiredWeightCommit {
                reveal_epoch: reveal_epoch(subnet, old.commit_epoch),
                epoch,
            });
        }
        return Err(ChainError::InvalidRevealCommitHashNotMatch { hotkey });
    };
    let window = reveal_epoch(subnet, found.commit_epoch);
    if epoch < window {
        return Err(ChainError::RevealTooEarly {
            reveal_epoch: window,
            epoch,
        });
    }
    for commit in commits
        .iter()
        .filter(|x| x.id <= found.id || expired(x.commit_epoch))
    {
        store::delete_commit(c, commit.id)?;
    }
    set_weights(
        c,
        subnet,
        &hotkey,
        uids,
        values,
        version_key,
        block,
        Route::Reveal,
    )
}

/// Each uid's earliest unexpired pending commit block (the epoch's commit-reveal mask input).
pub fn first_pending_commit_blocks(
    c: &Connection,
    subnet: &SubnetRow,
    neurons: &[NeuronRow],
) -> Result<Vec<Option<u64>>, ChainError> {
    neurons
        .iter()
        .map(|n| {
            Ok(store::commits(c, subnet.netuid, &n.hotkey)?
                .iter()
                .filter(|x| reveal_epoch(subnet, x.commit_epoch) >= subnet.epoch_index)
                .map(|x| x.commit_block)
                .min())
        })
        .collect()
}
