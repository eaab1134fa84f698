//! salon-miner: see Cargo.toml description.
