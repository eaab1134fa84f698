//! The scenario file format: hyperparameters, initial neurons and the ordered steps to replay.

use serde::{Deserialize, Serialize};

use crate::Hyperparameters;

/// One scenario: a subnet's hyperparameters, its first neurons and the steps applied in order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    /// Name echoed in the result.
    pub name: String,
    /// Hyperparameters; missing ones take subtensor's defaults.
    #[serde(default)]
    pub hyperparameters: ScenarioHyperparameters,
    /// Neurons registered (in order, as uids 0, 1, ...) before the first step.
    #[serde(default)]
    pub neurons: Vec<NeuronSpec>,
    /// Steps applied in order.
    #[serde(default)]
    pub steps: Vec<Step>,
}

/// Scenario hyperparameters: the epoch's [`Hyperparameters`] plus owner and emission per epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScenarioHyperparameters {
    /// Epoch and extrinsic hyperparameters (flattened: `tempo`, `kappa`, `yuma3`, ...).
    #[serde(flatten)]
    pub params: Hyperparameters,
    /// Uid of the subnet owner's hotkey, if registered.
    #[serde(default)]
    pub owner_uid: Option<u16>,
    /// Rao distributed by each epoch.
    #[serde(default = "default_emission")]
    pub emission_per_epoch: u64,
}

fn default_emission() -> u64 {
    1_000_000_000
}

impl Default for ScenarioHyperparameters {
    fn default() -> Self {
        Self {
            params: Hyperparameters::default(),
            owner_uid: None,
            emission_per_epoch: default_emission(),
        }
    }
}

/// A neuron present at the start of the scenario.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NeuronSpec {
    /// Expected uid (must equal its position in the list).
    #[serde(default)]
    pub uid: Option<u16>,
    /// Stake in rao.
    #[serde(default)]
    pub stake: u64,
    /// Registration block (also its initial last_update).
    #[serde(default)]
    pub registered_at: u64,
}

/// One step: the block it happens at and what happens.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// Block number of the step (blocks only move forward).
    pub block: u64,
    /// The action.
    #[serde(flatten)]
    pub action: Action,
}

/// What a step does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// The set_weights extrinsic: checks, max-upscale, last_update = block.
    SetWeights(SetWeights),
    /// Run an epoch and record its outputs.
    Epoch(EpochStep),
    /// The reset-bonds hook: removes column `uid` from every bond row (needs `bonds_reset` on).
    ResetBonds(UidArg),
    /// Register a new hotkey (append, or replace the prune candidate when the subnet is full).
    Register(Register),
    /// Add stake (rao) to a uid.
    AddStake(AddStake),
    /// Change hyperparameters (same keys as `hyperparameters`).
    SetHyperparameters(serde_json::Map<String, serde_json::Value>),
    /// Raw storage write of a weight row: no checks, no upscale, last_update untouched.
    WriteWeights(WriteWeights),
    /// Raw storage write of per-neuron fields.
    WriteNeuron(WriteNeuron),
    /// A weight commit (commit-reveal): records a pending commit at this block for the epoch's mask.
    Commit(UidArg),
}

/// Arguments of set_weights.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SetWeights {
    /// Caller's uid.
    pub uid: u16,
    /// Destination uids.
    pub dests: Vec<u16>,
    /// Weight values (u16, max-upscaled before storing).
    pub values: Vec<u16>,
    /// version_key sent with the call.
    #[serde(default)]
    pub version_key: u64,
    /// If set, the call must fail with this subtensor error name (and the replay goes on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect_error: Option<String>,
}

/// Arguments of an epoch step.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EpochStep {
    /// Use the dense variant instead of the sparse one.
    #[serde(default)]
    pub dense: bool,
    /// Rao to distribute instead of `emission_per_epoch`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rao_emission: Option<u64>,
    /// Checks on this epoch's outputs (used by `verify`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expect: Vec<Check>,
}

/// A uid argument.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UidArg {
    /// The uid.
    pub uid: u16,
}

/// Arguments of a registration.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Register {
    /// Stake of the new hotkey in rao.
    #[serde(default)]
    pub stake: u64,
    /// If set, the uid the registration must land on.
    #[serde(default)]
    pub expect_uid: Option<u16>,
}

/// Arguments of add_stake.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AddStake {
    /// Receiving uid.
    pub uid: u16,
    /// Rao added.
    pub amount: u64,
}

/// A raw weight row write.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WriteWeights {
    /// Row owner.
    pub uid: u16,
    /// Destination uids.
    pub dests: Vec<u16>,
    /// Stored values, as given.
    pub values: Vec<u16>,
}

/// Raw writes of per-neuron storage.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WriteNeuron {
    /// The uid.
    pub uid: u16,
    /// New last_update.
    #[serde(default)]
    pub last_update: Option<u64>,
    /// New block_at_registration.
    #[serde(default)]
    pub block_at_registration: Option<u64>,
    /// New stored validator permit.
    #[serde(default)]
    pub validator_permit: Option<bool>,
    /// New stake (rao).
    #[serde(default)]
    pub stake: Option<u64>,
}

/// A check on one epoch output field: whole field, or one element via `index`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// Field of the epoch record or detail (e.g. `bonds_u16`, `dividends_u16`, `server_emission_rao`).
    pub field: String,
    /// Element index path (e.g. `[0, 4]` for bonds row 0 column 4); empty = the whole field.
    #[serde(default)]
    pub index: Vec<usize>,
    /// `eq` (within `tolerance`), `lt`, `le`, `gt`, `ge`.
    #[serde(default = "default_op")]
    pub op: String,
    /// Expected value (number, bool or nested arrays of them) or, for `*_field` ops, another field.
    pub value: serde_json::Value,
    /// Absolute tolerance in the field's own units.
    #[serde(default)]
    pub tolerance: f64,
}

fn default_op() -> String {
    "eq".to_string()
}
