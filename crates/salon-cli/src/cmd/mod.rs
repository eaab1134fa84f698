//! The `salon` subcommands, one module each.

pub mod chain;
pub mod devnet;
pub mod eval_models;
pub mod fad;
pub mod generate;
pub mod keys_args;
pub mod miner;
pub mod score;
pub mod validator;
pub mod wallet;
pub mod yuma;
