//! sr25519 keys, SS58 addresses, mnemonics and Bittensor wallet files.
//!
//! [`Keypair`] signs with the "substrate" context as Bittensor does; [`ss58`] encodes and decodes
//! addresses. Nothing here talks to a network.

pub mod encryption;
pub mod keyfile;
pub mod keypair;
pub mod legacy;
pub mod mnemonic;
pub mod ss58;

pub use keypair::{verify, KeyError, Keypair, PublicKey};
