//! Argument parsing and the SplitMix64 hash shared by the salon-eval benchmark examples.

/// The value after `name` in `args`, if given.
pub fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// The value after `name` parsed as `T`, `default` when absent; a bad value names the flag and
/// repeats `usage`.
pub fn parsed<T: std::str::FromStr>(
    args: &[String],
    name: &str,
    default: T,
    usage: &str,
) -> Result<T, String> {
    match arg(args, name) {
        Some(v) => v.parse().map_err(|_| format!("bad {name} {v:?}\n{usage}")),
        None => Ok(default),
    }
}

/// SplitMix64's output for `seed + (k + 1) * gamma`, as a uniform in [0, 1).
pub fn splitmix_uniform(seed: u64, k: u64) -> f64 {
    let mut z = seed.wrapping_add((k + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}
