//! salon-validator: see Cargo.toml description.
