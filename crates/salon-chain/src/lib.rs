//! The chain seam: the [`Chain`] trait that miners, validators and the devnet use, and
//! [`LocalChain`](local::LocalChain), the embedded, persistent devnet chain that runs Yuma Consensus.
//!
//! Nothing above this crate may assume the local chain: the real Bittensor chain and the HTTP
//! client of `salon chain serve` implement the same trait.

pub mod error;
pub mod local;
pub mod types;

pub use error::ChainError;
pub use salon_yuma::Hyperparameters;
pub use types::{AxonInfo, Metagraph, NeuronInfo};

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
    async fn register(&self, netuid: NetUid, hotkey: &Keypair, coldkey: &PublicKey) -> Result<Uid, ChainError>;
    /// Adds `amount_rao` of stake from `coldkey` to `hotkey` on `netuid`.
    async fn add_stake(&self, coldkey: &Keypair, hotkey: &Hotkey, netuid: NetUid, amount_rao: u64) -> Result<(), ChainError>;
    /// Publishes where `hotkey`'s axon listens.
    async fn serve_axon(&self, hotkey: &Keypair, netuid: NetUid, axon: AxonInfo) -> Result<(), ChainError>;
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
}
