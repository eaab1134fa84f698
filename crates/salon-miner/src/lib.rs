//! The miner: engines served behind an axon, with admission from the chain and the devnet's
//! behaviours.

pub mod admission;
pub mod behaviour;
pub mod miner;
pub mod serve;

pub use behaviour::Behaviour;
pub use miner::{Miner, MinerError};
