//! Yuma Consensus as subtensor computes it: pure fixed-point math, no I/O.
//!
//! [`epoch`] takes a subnet's stored state (stake, weights, bonds, permits, blocks) and returns what
//! subtensor would store after the epoch (u16 proportions, bonds, rao emissions). The public types in
//! this file are the contract the chain builds on; the math lives in the modules below.

use serde::{Deserialize, Serialize};

mod dense;
mod emission;
pub mod fixed;
pub mod math;
pub mod replay;
mod sparse;
mod storage;

pub use dense::epoch_dense;
pub use sparse::epoch;
pub use storage::{bonds_reset, max_upscale_weights};

/// Per-subnet hyperparameters the epoch and the weight extrinsics read. Defaults are subtensor's
/// runtime defaults for a subnet created by `init_new_network` (see reference/yuma/README.md §8).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Hyperparameters {
    /// Blocks between epochs.
    pub tempo: u16,
    /// Consensus majority threshold as u16 (32767 ~ 0.5).
    pub kappa: u16,
    /// Bonds EMA factor in millionths (900_000 -> alpha 0.1).
    pub bonds_moving_average: u64,
    /// How much bonds follow clipped weights, u16 (65535 = 1).
    pub bonds_penalty: u16,
    /// Activity cutoff factor in thousandths of tempo (13_889).
    pub activity_cutoff_factor_milli: u64,
    /// Top-k stake holders that get validator permits.
    pub max_allowed_validators: u16,
    /// Subnet capacity.
    pub max_allowed_uids: u16,
    /// Minimum number of weights per set_weights call.
    pub min_allowed_weights: u16,
    /// Blocks between two set_weights of one hotkey.
    pub weights_rate_limit: u64,
    /// Blocks a new registration is protected from pruning.
    pub immunity_period: u64,
    /// Yuma3 bonds path instead of the classic one.
    pub yuma3: bool,
    /// Liquid alpha (per-entry bond EMA factor).
    pub liquid_alpha: bool,
    /// Liquid alpha lower bound, u16.
    pub alpha_low: u16,
    /// Liquid alpha upper bound, u16.
    pub alpha_high: u16,
    /// Liquid alpha sigmoid steepness.
    pub alpha_sigmoid_steepness: i16,
    /// Commit-reveal weights (hash variant) on.
    pub commit_reveal: bool,
    /// Reveal period in epochs.
    pub commit_reveal_period: u64,
    /// Bonds reset extrinsic allowed.
    pub bonds_reset: bool,
    /// Stake below this (integer part, rao) counts as zero.
    pub stake_threshold: u64,
    /// Minimum version_key accepted by set_weights.
    pub weights_version_key: u64,
    /// Activity cutoff in blocks; when set it replaces `factor × tempo / 1000`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activity_cutoff: Option<u64>,
}

impl Default for Hyperparameters {
    fn default() -> Self {
        Self {
            tempo: 360,
            kappa: 32767,
            bonds_moving_average: 900_000,
            bonds_penalty: 65535,
            activity_cutoff_factor_milli: 13_889,
            max_allowed_validators: 64,
            max_allowed_uids: 256,
            min_allowed_weights: 1,
            weights_rate_limit: 100,
            immunity_period: 5000,
            yuma3: true,
            liquid_alpha: false,
            alpha_low: 45875,
            alpha_high: 58982,
            alpha_sigmoid_steepness: 1000,
            commit_reveal: true,
            commit_reveal_period: 1,
            bonds_reset: false,
            stake_threshold: 0,
            weights_version_key: 0,
            activity_cutoff: None,
        }
    }
}

impl Hyperparameters {
    /// Blocks of inactivity after which a validator is masked: max(1, factor * tempo / 1000).
    pub fn activity_cutoff_blocks(&self) -> u64 {
        if let Some(blocks) = self.activity_cutoff {
            return blocks;
        }
        (self.activity_cutoff_factor_milli * self.tempo as u64 / 1000).max(1)
    }
}

/// The stored subnet state an epoch reads. All vectors are indexed by uid and have length n
/// (`last_update` may be shorter; it is padded with 0).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EpochInput {
    /// The block the epoch runs at.
    pub current_block: u64,
    /// Stake per uid in rao.
    pub stake: Vec<u64>,
    /// Block of each uid's last weight set.
    pub last_update: Vec<u64>,
    /// Block each uid registered at.
    pub block_at_registration: Vec<u64>,
    /// Permits stored by the previous epoch.
    pub validator_permit: Vec<bool>,
    /// Stored weight rows `[(dest, u16)]`, in the order set, explicit zeros kept.
    pub weights: Vec<Vec<(u16, u16)>>,
    /// Stored bond rows `[(uid, u16)]`.
    pub bonds: Vec<Vec<(u16, u16)>>,
    /// The subnet owner's uid, if its hotkey is registered.
    pub owner_uid: Option<u16>,
    /// Block of the last epoch run by block production (0 if none).
    pub last_mechanism_step_block: u64,
    /// With commit-reveal on: each validator's earliest unexpired pending commit block.
    pub first_pending_commit_block: Vec<Option<u64>>,
}

/// What subtensor stores after an epoch, per uid.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EpochOutput {
    /// Active flag.
    pub active: Vec<bool>,
    /// Normalised stake as u16.
    pub stake_weight: Vec<u16>,
    /// Consensus as u16.
    pub consensus: Vec<u16>,
    /// Incentive as u16.
    pub incentive: Vec<u16>,
    /// Dividends as u16.
    pub dividends: Vec<u16>,
    /// Validator trust as u16.
    pub validator_trust: Vec<u16>,
    /// New validator permits.
    pub validator_permit: Vec<bool>,
    /// New stored bond rows.
    pub bonds: Vec<Vec<(u16, u16)>>,
    /// Miner-side emission in rao.
    pub server_emission: Vec<u64>,
    /// Validator-side emission in rao.
    pub validator_emission: Vec<u64>,
    /// Combined emission in rao (what the Emission storage holds).
    pub emission: Vec<u64>,
}
