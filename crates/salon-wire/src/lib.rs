//! salon-wire: the Bittensor 10.x Synapse transport, byte-compatible with the Python SDK in both
//! directions: an [`Axon`] (server) with the SDK's checks as layers, a [`Dendrite`] (client),
//! btauth/1, bounded nonce stores, and the seed subnets' synapse types ([`synapses`]).
//!
//! Media codecs live in salon-core; chains, metagraphs and stake-based policies live higher up
//! and plug in through [`Admission`].

pub mod axon;
pub mod body_hash;
pub mod btauth;
pub mod dendrite;
pub mod error;
pub mod headers;
pub mod nonce;
pub mod synapse;
pub mod synapses;
pub mod terminal;

pub use axon::{
    Admission, AdmitAll, AuthScheme, Axon, AxonBuilder, AxonHandle, Caller, HandlerError,
};
pub use dendrite::{AxonTarget, Dendrite, Reply};
pub use error::WireError;
pub use synapse::{Envelope, Synapse, SDK_VERSION};
pub use terminal::TerminalInfo;
