//! A minimal in-memory subnet that applies scenario steps the way subtensor's pallet does:
//! registration (append or prune-and-replace), stake, the set_weights extrinsic and epochs.

use crate::replay::scenario::{Register, SetWeights};
use crate::replay::ExtrinsicError;
use crate::{max_upscale_weights, EpochInput, EpochOutput, Hyperparameters};

/// One subnet's stored state.
#[derive(Clone, Debug, Default)]
pub(crate) struct Subnet {
    pub hp: Hyperparameters,
    pub owner_uid: Option<u16>,
    pub stake: Vec<u64>,
    pub last_update: Vec<u64>,
    pub block_at_registration: Vec<u64>,
    pub validator_permit: Vec<bool>,
    pub weights: Vec<Vec<(u16, u16)>>,
    pub bonds: Vec<Vec<(u16, u16)>>,
    pub emission: Vec<u64>,
    pub pending_commit: Vec<Option<u64>>,
}

impl Subnet {
    pub fn n(&self) -> usize {
        self.stake.len()
    }

    /// Registers a hotkey at `block`; returns its uid.
    pub fn register(&mut self, block: u64, r: &Register) -> u16 {
        let n = self.n();
        if n < self.hp.max_allowed_uids as usize {
            self.stake.push(r.stake);
            self.last_update.push(block);
            self.block_at_registration.push(block);
            self.validator_permit.push(false);
            self.weights.push(Vec::new());
            self.bonds.push(Vec::new());
            self.emission.push(0);
            self.pending_commit.push(None);
            return n as u16;
        }
        let uid = self.prune_candidate(block);
        let u = uid as usize;
        self.stake[u] = r.stake;
        self.last_update[u] = block;
        self.block_at_registration[u] = block;
        self.validator_permit[u] = false;
        self.weights[u].clear();
        self.bonds[u].clear();
        self.emission[u] = 0;
        self.pending_commit[u] = None;
        for row in self.weights.iter_mut() {
            for e in row.iter_mut() {
                if e.0 == uid {
                    e.1 = 0;
                }
            }
        }
        uid
    }

    /// Lowest stored emission; ties to the earlier registration, then the lower uid; immune uids
    /// (registered less than `immunity_period` blocks ago) only when no other uid remains.
    fn prune_candidate(&self, block: u64) -> u16 {
        let n = self.n();
        let eligible = |i: usize| Some(i as u16) != self.owner_uid || n == 1;
        let immune = |i: usize| {
            block.saturating_sub(self.block_at_registration[i]) < self.hp.immunity_period
        };
        let pick = |want_immune: Option<bool>| {
            (0..n)
                .filter(|&i| eligible(i) && want_immune.is_none_or(|w| immune(i) == w))
                .min_by_key(|&i| (self.emission[i], self.block_at_registration[i], i))
        };
        pick(Some(false)).or_else(|| pick(None)).unwrap_or(0) as u16
    }

    /// The set_weights extrinsic with the checks subtensor can make without a chain.
    pub fn set_weights(&mut self, block: u64, s: &SetWeights) -> Result<(), ExtrinsicError> {
        let n = self.n();
        let uid = s.uid as usize;
        if s.version_key < self.hp.weights_version_key {
            return Err(ExtrinsicError::IncorrectWeightVersionKey);
        }
        if self.hp.commit_reveal {
            return Err(ExtrinsicError::CommitRevealEnabled);
        }
        if uid >= n {
            return Err(ExtrinsicError::HotKeyNotRegisteredInSubNet);
        }
        if self.stake[uid] < self.hp.stake_threshold {
            return Err(ExtrinsicError::NotEnoughStakeToSetWeights);
        }
        if s.dests.len() != s.values.len() {
            return Err(ExtrinsicError::WeightVecNotEqualSize);
        }
        let mut seen = vec![false; 65536];
        for &d in &s.dests {
            if std::mem::replace(&mut seen[d as usize], true) {
                return Err(ExtrinsicError::DuplicateUids);
            }
        }
        if s.dests.len() > n {
            return Err(ExtrinsicError::UidsLengthExceedUidsInSubNet);
        }
        let last = self.last_update[uid];
        if last != 0 && block.saturating_sub(last) < self.hp.weights_rate_limit {
            return Err(ExtrinsicError::SettingWeightsTooFast);
        }
        if s.dests.iter().any(|&d| d as usize >= n) {
            return Err(ExtrinsicError::UidVecContainInvalidOne);
        }
        let self_weight = s.dests.len() == 1 && s.dests[0] == s.uid;
        if !self_weight && s.dests.len() < self.hp.min_allowed_weights as usize {
            return Err(ExtrinsicError::WeightVecLengthIsLow);
        }
        if !self_weight && !self.validator_permit[uid] {
            return Err(ExtrinsicError::NeuronNoValidatorPermit);
        }
        let values = max_upscale_weights(&s.values);
        self.weights[uid] = s.dests.iter().copied().zip(values).collect();
        self.last_update[uid] = block;
        Ok(())
    }

    /// The epoch's view of storage at `block`.
    pub fn epoch_input(&self, block: u64) -> EpochInput {
        let reveal = self.hp.commit_reveal_period;
        let tempo = self.hp.tempo as u64;
        let epoch_index = |b: u64| b / (tempo + 1);
        let first_pending_commit_block = self
            .pending_commit
            .iter()
            .map(|c| c.filter(|&b| epoch_index(block) <= epoch_index(b) + reveal))
            .collect();
        EpochInput {
            current_block: block,
            stake: self.stake.clone(),
            last_update: self.last_update.clone(),
            block_at_registration: self.block_at_registration.clone(),
            validator_permit: self.validator_permit.clone(),
            weights: self.weights.clone(),
            bonds: self.bonds.clone(),
            owner_uid: self.owner_uid,
            last_mechanism_step_block: 0,
            first_pending_commit_block,
        }
    }

    /// Persists an epoch's outputs.
    pub fn persist(&mut self, out: &EpochOutput) {
        self.validator_permit = out.validator_permit.clone();
        self.bonds = out.bonds.clone();
        self.emission = out.emission.clone();
    }

    /// Stored bonds as a dense n × n matrix.
    pub fn dense_bonds(&self) -> Vec<Vec<u16>> {
        let n = self.n();
        self.bonds
            .iter()
            .map(|row| {
                let mut d = vec![0u16; n];
                for &(j, v) in row {
                    if (j as usize) < n {
                        d[j as usize] = v;
                    }
                }
                d
            })
            .collect()
    }
}
