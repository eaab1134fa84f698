//! What the chain reports: axon endpoints, neurons and the metagraph.

use salon_core::{Hotkey, NetUid, Uid};
use salon_yuma::Hyperparameters;
use serde::{Deserialize, Serialize};

/// Where a neuron's axon listens, as `serve_axon` publishes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AxonInfo {
    /// IPv4 or IPv6 address, as text.
    pub ip: String,
    /// TCP port.
    pub port: u16,
    /// 4 or 6.
    pub ip_type: u8,
    /// Protocol id (4 = HTTP, as the SDK).
    pub protocol: u8,
    /// The serving software's version (major*10^6 + minor*10^3 + patch).
    pub version: u64,
}

impl AxonInfo {
    /// `http://ip:port`.
    pub fn url(&self) -> String {
        if self.ip_type == 6 || self.ip.contains(':') {
            format!("http://[{}]:{}", self.ip, self.port)
        } else {
            format!("http://{}:{}", self.ip, self.port)
        }
    }
}

/// One neuron of a subnet, with every field the SDK's metagraph has. Proportions are the raw u16
/// the chain stores (divide by 65535 for a fraction); stake and emission are in rao.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NeuronInfo {
    /// Position in the subnet.
    pub uid: Uid,
    /// The neuron's hotkey.
    pub hotkey: Hotkey,
    /// The owning coldkey (SS58).
    pub coldkey: String,
    /// Whether it set weights recently enough.
    pub active: bool,
    /// Stake in rao.
    pub stake: u64,
    /// Emission of the last epoch in rao.
    pub emission: u64,
    /// Incentive (u16 proportion).
    pub incentive: u16,
    /// Consensus (u16 proportion).
    pub consensus: u16,
    /// Validator trust (u16 proportion).
    pub validator_trust: u16,
    /// Dividends (u16 proportion).
    pub dividends: u16,
    /// Block of the last weight set.
    pub last_update: u64,
    /// Block of registration.
    pub block_at_registration: u64,
    /// Holds a validator permit.
    pub validator_permit: bool,
    /// Stored weights `[(dest uid, u16)]`.
    pub weights: Vec<(u16, u16)>,
    /// Stored bonds `[(uid, u16)]`.
    pub bonds: Vec<(u16, u16)>,
    /// Published axon, if any.
    pub axon: Option<AxonInfo>,
}

/// A u16 proportion as a fraction in [0, 1].
pub fn u16_to_fraction(x: u16) -> f64 {
    x as f64 / 65535.0
}

/// A subnet as of one block.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metagraph {
    /// The subnet.
    pub netuid: NetUid,
    /// The block this snapshot was read at.
    pub block: u64,
    /// The subnet's hyperparameters.
    pub hyperparameters: Hyperparameters,
    /// The subnet owner's coldkey (SS58).
    pub owner_coldkey: String,
    /// Neurons by uid.
    pub neurons: Vec<NeuronInfo>,
}

impl Metagraph {
    /// The neuron with this hotkey, if registered.
    pub fn neuron_by_hotkey(&self, hotkey: &str) -> Option<&NeuronInfo> {
        self.neurons.iter().find(|n| n.hotkey.0 == hotkey)
    }
}

/// A subnet as `subnets` lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SubnetInfo {
    /// The subnet.
    pub netuid: NetUid,
    /// The owner's coldkey (SS58).
    pub owner_coldkey: String,
    /// The owner's hotkey (SS58), if one was registered at creation.
    pub owner_hotkey: Option<String>,
    /// Registered neurons.
    pub n: u16,
    /// Block the subnet was created at.
    pub created_block: u64,
    /// Block of the last epoch (creation block before the first).
    pub last_epoch_block: u64,
    /// Epochs run so far (the commit-reveal epoch index).
    pub epoch_index: u64,
    /// The subnet's hyperparameters.
    pub hyperparameters: Hyperparameters,
}

/// One uid's outputs in one epoch, as the epoch history keeps them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochNeuron {
    /// The uid.
    pub uid: u16,
    /// The hotkey holding the uid at that epoch (SS58).
    pub hotkey: String,
    /// Stake in rao the epoch used.
    pub stake: u64,
    /// Incentive (u16 proportion).
    pub incentive: u16,
    /// Dividends (u16 proportion).
    pub dividends: u16,
    /// Consensus (u16 proportion).
    pub consensus: u16,
    /// Validator trust (u16 proportion).
    pub validator_trust: u16,
    /// Emission in rao.
    pub emission: u64,
    /// Validator permit after the epoch.
    pub validator_permit: bool,
    /// Active flag.
    pub active: bool,
}

/// One epoch of one subnet.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochReport {
    /// The subnet.
    pub netuid: NetUid,
    /// The block the epoch ran at.
    pub block: u64,
    /// Rao distributed by the epoch (emission per block x blocks since the previous epoch).
    pub rao_emission: u64,
    /// Per-uid outputs by uid.
    pub neurons: Vec<EpochNeuron>,
}
