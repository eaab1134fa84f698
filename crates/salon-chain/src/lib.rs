//! The chain seam: the [`Chain`] trait that miners, validators and the devnet use, and
//! [`LocalChain`](local::LocalChain), the embedded, persistent devnet chain that runs Yuma Consensus.
//!
//! Nothing above this crate may assume the local chain: the real Bittensor chain and the HTTP
//! client of `salon chain serve` implement the same trait.

pub mod commit;
pub mod error;
pub mod extrinsic;
pub mod fixed;
pub mod hyperparams;
pub mod local;
mod production;
mod registration;
pub mod remote;
pub mod service;
mod store;
pub mod types;
mod weights;

pub use error::ChainError;
pub use fixed::FixedChain;
pub use local::LocalChain;
pub use remote::RemoteChain;
pub use salon_yuma::Hyperparameters;

/// Subtensor's defaults with a profile's network settings applied (what a devnet subnet or
/// `salon chain create-subnet --profile` creates).
pub fn hyperparameters_for(n: &salon_core::profile::NetworkSettings) -> Hyperparameters {
    Hyperparameters {
        tempo: n.tempo,
        weights_rate_limit: n.weights_rate_limit,
        yuma3: n.yuma3,
        liquid_alpha: n.liquid_alpha,
        commit_reveal: n.commit_reveal,
        ..Hyperparameters::default()
    }
}
pub use types::{AxonInfo, EpochNeuron, EpochReport, Metagraph, NeuronInfo, SubnetInfo};

use salon_core::{Hotkey, NetUid, Uid};
use salon_keys::{Keypair, PublicKey};

/// A chain Salon can run on. Extrinsics take the signing key pair: a remote chain signs with it;
/// the local chain uses it to know who is calling.
#[async_trait::async_trait]
pub trait Chain: Send + Sync {
    /// The current block height.
    async fn block(&self) -> Result<u64, ChainError>;
    /// Creates a subnet owned by `owner_coldkey`, with `owner_hotkey` registered as uid 0 when
    /// given; returns its id.
    async fn create_subnet(
        &self,
        owner_coldkey: &Keypair,
        owner_hotkey: Option<&Keypair>,
        hyperparameters: Hyperparameters,
    ) -> Result<NetUid, ChainError>;
    /// Registers `hotkey` (owned by `coldkey`) on `netuid`; returns its uid. Replaces the
    /// lowest-emission non-immune neuron when the subnet is full.
    async fn register(
        &self,
        netuid: NetUid,
        hotkey: &Keypair,
        coldkey: &PublicKey,
    ) -> Result<Uid, ChainError>;
    /// Adds `amount_rao` of stake from `coldkey` to `hotkey` on `netuid`.
    async fn add_stake(
        &self,
        coldkey: &Keypair,
        hotkey: &Hotkey,
        netuid: NetUid,
        amount_rao: u64,
    ) -> Result<(), ChainError>;
    /// Publishes where `hotkey`'s axon listens.
    async fn serve_axon(
        &self,
        hotkey: &Keypair,
        netuid: NetUid,
        axon: AxonInfo,
    ) -> Result<(), ChainError>;
    /// Sets `hotkey`'s weights with subtensor's checks; values are max-upscaled to u16.
    async fn set_weights(
        &self,
        hotkey: &Keypair,
        netuid: NetUid,
        dests: &[u16],
        values: &[u16],
        version_key: u64,
    ) -> Result<(), ChainError>;
    /// The subnet's neurons and hyperparameters as of now.
    async fn metagraph(&self, netuid: NetUid) -> Result<Metagraph, ChainError>;

    /// Commits a weights hash ([`commit::commit_hash`]) to reveal `commit_reveal_period` epochs later.
    async fn commit_weights(
        &self,
        hotkey: &Keypair,
        netuid: NetUid,
        hash: [u8; 32],
    ) -> Result<(), ChainError> {
        let _ = (hotkey, netuid, hash);
        Err(ChainError::Unsupported {
            operation: "commit_weights".into(),
        })
    }

    /// Reveals committed weights; they then go through set_weights' checks and are stored.
    async fn reveal_weights(
        &self,
        hotkey: &Keypair,
        netuid: NetUid,
        uids: &[u16],
        values: &[u16],
        salt: &[u16],
        version_key: u64,
    ) -> Result<(), ChainError> {
        let _ = (hotkey, netuid, uids, values, salt, version_key);
        Err(ChainError::Unsupported {
            operation: "reveal_weights".into(),
        })
    }

    /// Sets one hyperparameter by name (value as text: "10", "true"); only the subnet owner may.
    /// Returns the subnet's hyperparameters after the change.
    async fn set_hyperparameter(
        &self,
        owner_coldkey: &Keypair,
        netuid: NetUid,
        name: &str,
        value: &str,
    ) -> Result<Hyperparameters, ChainError> {
        let _ = (owner_coldkey, netuid, name, value);
        Err(ChainError::Unsupported {
            operation: "set_hyperparameter".into(),
        })
    }

    /// The subnet's hyperparameters.
    async fn hyperparameters(&self, netuid: NetUid) -> Result<Hyperparameters, ChainError> {
        Ok(self.metagraph(netuid).await?.hyperparameters)
    }

    /// Every subnet.
    async fn subnets(&self) -> Result<Vec<SubnetInfo>, ChainError> {
        Err(ChainError::Unsupported {
            operation: "subnets".into(),
        })
    }

    /// The subnet's epoch history (per epoch, per uid outputs), oldest first.
    async fn epoch_history(&self, netuid: NetUid) -> Result<Vec<EpochReport>, ChainError> {
        let _ = netuid;
        Err(ChainError::Unsupported {
            operation: "epoch_history".into(),
        })
    }

    /// Waits until the chain reaches `block`; returns the height reached. Polls by default.
    async fn wait_for_block(&self, block: u64) -> Result<u64, ChainError> {
        loop {
            let now = self.block().await?;
            if now >= block {
                return Ok(now);
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
    }
}
