//! The validator: challenges miners, scores what comes back and sets weights on the chain.
//!
//! One [`Validator`](validator::Validator) step picks a task by its incentive share and a group
//! of miners, sends them one fresh challenge, scores each answer (copy detection included) and
//! folds the reward into each miner's aggregate; weights are set on the profile's schedule.
//! State lives in SQLite ([`store`]), so a restart resumes.

pub mod challenge;
pub mod client;
pub mod dendrite_client;
pub mod prompts;
pub mod scorers;
pub mod selection;
pub mod store;
pub mod validator;

pub use client::{MinerClient, MinerTarget, QueryOutcome};
pub use validator::{StepReport, Validator, ValidatorError, ValidatorOptions};
