//! The `salon` binary.
fn main() {}
