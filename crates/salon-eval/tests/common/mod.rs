//! Helpers shared by the golden tests: the SplitMix64 hash the scripts in scripts/ draw their
//! random weights and clips from, and the tensors of a fixture's meta.json rebuilt from it.
#![allow(dead_code)]

use std::path::Path;
pub mod music;

/// Uniform in [0, 1) from SplitMix64 of (seed, k), as the scripts compute it.
pub fn splitmix_uniform(seed: u64, k: u64) -> f64 {
    let mut z = seed.wrapping_add((k + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// `n` values uniform in [-half, half).
pub fn fill(n: usize, seed: u64, half: f64) -> Vec<f32> {
    (0..n as u64)
        .map(|k| ((2.0 * splitmix_uniform(seed, k) - 1.0) * half) as f32)
        .collect()
}

/// A fixture's meta.json.
pub fn read_meta(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json")).unwrap()).unwrap()
}

/// The tensors `meta["tensors"]` lists ([name, shape] pairs), tensor `i` filled from seed
/// `meta["weights"]["seed_base"] + i` with the half width `half(name, shape)` gives.
#[cfg(feature = "models")]
pub fn hash_tensors(
    meta: &serde_json::Value,
    device: &candle_core::Device,
    half: impl Fn(&str, &[usize]) -> f64,
) -> std::collections::HashMap<String, candle_core::Tensor> {
    let base = meta["weights"]["seed_base"].as_u64().unwrap();
    let mut tensors = std::collections::HashMap::new();
    for (i, t) in meta["tensors"].as_array().unwrap().iter().enumerate() {
        let name = t[0].as_str().unwrap();
        let shape: Vec<usize> = t[1]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        let n: usize = shape.iter().product();
        let values = fill(n, base + i as u64, half(name, &shape));
        tensors.insert(
            name.to_string(),
            candle_core::Tensor::from_vec(values, shape, device).unwrap(),
        );
    }
    tensors
}

/// torchvggish's init as scripts/vggish_golden.py draws it.
pub fn vggish_half(name: &str, shape: &[usize]) -> f64 {
    let n: usize = shape.iter().product();
    if name.ends_with("weight") {
        (6.0 / (n / shape[0]) as f64).sqrt()
    } else {
        0.05
    }
}

/// PaSST's init as scripts/passt_golden.py draws it.
pub fn passt_half(name: &str, shape: &[usize]) -> f64 {
    let n: usize = shape.iter().product();
    if shape.len() >= 2 {
        (6.0 / (n / shape[0]) as f64).sqrt()
    } else if name.ends_with("weight") {
        1.0
    } else {
        0.1
    }
}
