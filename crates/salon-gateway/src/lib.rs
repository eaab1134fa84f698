//! salon-gateway: see Cargo.toml description.
