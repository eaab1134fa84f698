//! salon-wire: see Cargo.toml description.
