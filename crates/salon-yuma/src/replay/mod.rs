//! Scenario replay: apply a scenario file's steps (registrations, set_weights as the extrinsic,
//! epochs, bond resets) to an in-memory subnet and report each epoch's stored outputs as JSON.

mod chain;
mod check;
pub mod scenario;

use std::path::Path;

use serde::{Deserialize, Serialize};

pub use check::verify;
pub use scenario::*;

use chain::Subnet;

/// A subtensor error an extrinsic in a scenario was rejected with (names as in subtensor).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExtrinsicError {
    /// version_key below the subnet's weights_version_key.
    #[error("IncorrectWeightVersionKey: version_key is below the subnet's weights_version_key")]
    IncorrectWeightVersionKey,
    /// set_weights while commit-reveal is on.
    #[error(
        "CommitRevealEnabled: commit-reveal is on; use commit/reveal or turn commit_reveal off"
    )]
    CommitRevealEnabled,
    /// The caller uid is not registered.
    #[error("HotKeyNotRegisteredInSubNet: the calling uid is not registered")]
    HotKeyNotRegisteredInSubNet,
    /// Stake below the stake threshold.
    #[error("NotEnoughStakeToSetWeights: stake is below stake_threshold")]
    NotEnoughStakeToSetWeights,
    /// dests and values differ in length.
    #[error("WeightVecNotEqualSize: dests and values must have the same length")]
    WeightVecNotEqualSize,
    /// A dest appears twice.
    #[error("DuplicateUids: a destination uid appears more than once")]
    DuplicateUids,
    /// More dests than neurons.
    #[error("UidsLengthExceedUidsInSubNet: more destinations than neurons in the subnet")]
    UidsLengthExceedUidsInSubNet,
    /// Called again before weights_rate_limit blocks passed.
    #[error("SettingWeightsTooFast: wait weights_rate_limit blocks since the last weight set")]
    SettingWeightsTooFast,
    /// A dest is not a registered uid.
    #[error("UidVecContainInvalidOne: a destination uid is not registered")]
    UidVecContainInvalidOne,
    /// Fewer dests than min_allowed_weights (and not a lone self-weight).
    #[error("WeightVecLengthIsLow: fewer destinations than min_allowed_weights")]
    WeightVecLengthIsLow,
    /// Non-self weights from a uid without a validator permit.
    #[error("NeuronNoValidatorPermit: only uids with a validator permit may weight others")]
    NeuronNoValidatorPermit,
    /// reset_bonds while bonds_reset is off.
    #[error("BondsResetDisabled: set the bonds_reset hyperparameter to allow resets")]
    BondsResetDisabled,
}

/// Why a replay failed.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The scenario file could not be read.
    #[error("cannot read scenario file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The JSON is not a scenario or a list of scenarios.
    #[error("invalid scenario JSON: {0} (expected one scenario object or a list of them)")]
    Json(#[from] serde_json::Error),
    /// A step is malformed or out of order.
    #[error("scenario '{scenario}', step {step}: {message}")]
    Step {
        /// Scenario name.
        scenario: String,
        /// Step index (0-based).
        step: usize,
        /// What was wrong.
        message: String,
    },
    /// An extrinsic was rejected (or, with `expect_error`, not rejected as expected).
    #[error("scenario '{scenario}', step {step}: {error}")]
    Extrinsic {
        /// Scenario name.
        scenario: String,
        /// Step index (0-based).
        step: usize,
        /// subtensor's error.
        error: ExtrinsicError,
    },
}

/// What one scenario produced.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScenarioResult {
    /// The scenario's name.
    pub name: String,
    /// One record per epoch step, in order.
    pub epochs: Vec<EpochRecord>,
}

/// The stored outputs of one epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// Block of the epoch.
    pub block: u64,
    /// Consensus per uid (u16).
    pub consensus_u16: Vec<u16>,
    /// Incentive per uid (u16).
    pub incentive_u16: Vec<u16>,
    /// Dividends per uid (u16).
    pub dividends_u16: Vec<u16>,
    /// Validator trust per uid (u16).
    pub validator_trust_u16: Vec<u16>,
    /// New validator permits.
    pub validator_permit: Vec<bool>,
    /// Stored bonds after the epoch, dense n × n (row = validator).
    pub bonds_u16: Vec<Vec<u16>>,
    /// Combined emission per uid (rao).
    pub emission_rao: Vec<u64>,
    /// The full epoch output (not serialized; for checks on stake_weight, split emissions, ...).
    #[serde(skip)]
    pub detail: crate::EpochOutput,
}

/// Reads a scenario file (one scenario or a list), replays it and returns the result list as JSON.
pub fn replay_file(path: impl AsRef<Path>) -> Result<String, ReplayError> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|source| ReplayError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let scenarios = parse_scenarios(&text)?;
    let results = replay(&scenarios)?;
    Ok(serde_json::to_string_pretty(&results)?)
}

/// Parses one scenario object or a JSON list of them.
pub fn parse_scenarios(text: &str) -> Result<Vec<Scenario>, ReplayError> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        Many(Vec<Scenario>),
        One(Box<Scenario>),
    }
    let value: serde_json::Value = serde_json::from_str(text)?;
    Ok(match serde_json::from_value::<OneOrMany>(value.clone()) {
        Ok(OneOrMany::Many(v)) => v,
        Ok(OneOrMany::One(s)) => vec![*s],
        // Re-parse as the intended shape to surface the precise error.
        Err(_) if value.is_array() => serde_json::from_value::<Vec<Scenario>>(value)?,
        Err(_) => vec![serde_json::from_value::<Scenario>(value)?],
    })
}

/// Replays every scenario in order.
pub fn replay(scenarios: &[Scenario]) -> Result<Vec<ScenarioResult>, ReplayError> {
    scenarios.iter().map(|s| replay_one(s, None)).collect()
}

/// Replays every scenario with all epochs forced to the dense (`true`) or sparse (`false`) variant.
pub fn replay_with_variant(
    scenarios: &[Scenario],
    dense: bool,
) -> Result<Vec<ScenarioResult>, ReplayError> {
    scenarios
        .iter()
        .map(|s| replay_one(s, Some(dense)))
        .collect()
}

fn replay_one(s: &Scenario, force_dense: Option<bool>) -> Result<ScenarioResult, ReplayError> {
    let step_err = |step: usize, message: String| ReplayError::Step {
        scenario: s.name.clone(),
        step,
        message,
    };
    let mut net = Subnet {
        hp: s.hyperparameters.params.clone(),
        owner_uid: s.hyperparameters.owner_uid,
        ..Default::default()
    };
    let mut emission_per_epoch = s.hyperparameters.emission_per_epoch;
    for (k, nspec) in s.neurons.iter().enumerate() {
        let uid = net.register(
            nspec.registered_at,
            &Register {
                stake: nspec.stake,
                expect_uid: None,
            },
        );
        if nspec.uid.is_some_and(|u| u != uid) {
            return Err(step_err(
                0,
                format!(
                    "neuron {k} declares uid {:?} but registered as {uid}",
                    nspec.uid
                ),
            ));
        }
    }
    let mut epochs = Vec::new();
    let mut block = 0u64;
    for (k, step) in s.steps.iter().enumerate() {
        if step.block < block {
            return Err(step_err(
                k,
                format!(
                    "block {} is before the previous step's block {block}",
                    step.block
                ),
            ));
        }
        block = step.block;
        let n = net.n();
        let check_uid = |uid: u16| {
            if (uid as usize) < n {
                Ok(uid as usize)
            } else {
                Err(step_err(
                    k,
                    format!("uid {uid} is not registered (n = {n})"),
                ))
            }
        };
        match &step.action {
            Action::SetWeights(sw) => {
                let res = net.set_weights(block, sw);
                match (&sw.expect_error, res) {
                    (None, Ok(())) => {}
                    (None, Err(error)) => {
                        return Err(ReplayError::Extrinsic {
                            scenario: s.name.clone(),
                            step: k,
                            error,
                        })
                    }
                    (Some(want), Err(got)) if format!("{got:?}") == *want => {}
                    (Some(want), got) => {
                        return Err(step_err(
                            k,
                            format!("set_weights should fail with {want} but gave {got:?}"),
                        ))
                    }
                }
            }
            Action::Epoch(e) => {
                let input = net.epoch_input(block);
                let rao = e.rao_emission.unwrap_or(emission_per_epoch);
                let out = if force_dense.unwrap_or(e.dense) {
                    crate::epoch_dense(&net.hp, &input, rao)
                } else {
                    crate::epoch(&net.hp, &input, rao)
                };
                net.persist(&out);
                epochs.push(EpochRecord {
                    block,
                    consensus_u16: out.consensus.clone(),
                    incentive_u16: out.incentive.clone(),
                    dividends_u16: out.dividends.clone(),
                    validator_trust_u16: out.validator_trust.clone(),
                    validator_permit: out.validator_permit.clone(),
                    bonds_u16: net.dense_bonds(),
                    emission_rao: out.emission.clone(),
                    detail: out,
                });
            }
            Action::ResetBonds(a) => {
                if !net.hp.bonds_reset {
                    return Err(ReplayError::Extrinsic {
                        scenario: s.name.clone(),
                        step: k,
                        error: ExtrinsicError::BondsResetDisabled,
                    });
                }
                crate::bonds_reset(&mut net.bonds, a.uid);
            }
            Action::Register(r) => {
                let uid = net.register(block, r);
                if r.expect_uid.is_some_and(|u| u != uid) {
                    return Err(step_err(
                        k,
                        format!(
                            "registration landed on uid {uid}, expected {:?}",
                            r.expect_uid
                        ),
                    ));
                }
            }
            Action::AddStake(a) => {
                let u = check_uid(a.uid)?;
                net.stake[u] = net.stake[u].saturating_add(a.amount);
            }
            Action::SetHyperparameters(map) => {
                let mut current = serde_json::to_value(ScenarioHyperparameters {
                    params: net.hp.clone(),
                    owner_uid: net.owner_uid,
                    emission_per_epoch,
                })
                .map_err(ReplayError::Json)?;
                let obj = current
                    .as_object_mut()
                    .expect("hyperparameters serialize to an object");
                for (key, v) in map {
                    obj.insert(key.clone(), v.clone());
                }
                let hp: ScenarioHyperparameters = serde_json::from_value(current)
                    .map_err(|e| step_err(k, format!("bad hyperparameter value: {e}")))?;
                net.hp = hp.params;
                net.owner_uid = hp.owner_uid;
                emission_per_epoch = hp.emission_per_epoch;
            }
            Action::WriteWeights(w) => {
                let u = check_uid(w.uid)?;
                if w.dests.len() != w.values.len() {
                    return Err(step_err(
                        k,
                        "write_weights: dests and values differ in length".into(),
                    ));
                }
                net.weights[u] = w
                    .dests
                    .iter()
                    .copied()
                    .zip(w.values.iter().copied())
                    .collect();
            }
            Action::WriteNeuron(w) => {
                let u = check_uid(w.uid)?;
                if let Some(v) = w.last_update {
                    net.last_update[u] = v;
                }
                if let Some(v) = w.block_at_registration {
                    net.block_at_registration[u] = v;
                }
                if let Some(v) = w.validator_permit {
                    net.validator_permit[u] = v;
                }
                if let Some(v) = w.stake {
                    net.stake[u] = v;
                }
            }
            Action::Commit(a) => {
                let u = check_uid(a.uid)?;
                net.pending_commit[u].get_or_insert(block);
            }
        }
    }
    Ok(ScenarioResult {
        name: s.name.clone(),
        epochs,
    })
}
