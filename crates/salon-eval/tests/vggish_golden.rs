//! VGGish against torchvggish 0.2 (scripts/vggish_golden.py): the log-mel frontend and the network
//! (random weights regenerated from the same SplitMix64 hash, final ReLU off) on 2 s of noise.

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use salon_eval::fad::npy;
use salon_eval::models::vggish::Vggish;
use salon_eval::models::vggish_input::{waveform_to_examples, NUM_BANDS, NUM_FRAMES};
use std::collections::HashMap;
use std::path::PathBuf;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vggish")
}

fn splitmix_uniform(seed: u64, k: u64) -> f64 {
    let mut z = seed.wrapping_add((k + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

fn fill(n: usize, seed: u64, half: f64) -> Vec<f32> {
    (0..n as u64)
        .map(|k| ((2.0 * splitmix_uniform(seed, k) - 1.0) * half) as f32)
        .collect()
}

fn meta() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(fixtures().join("meta.json")).unwrap()).unwrap()
}

fn wav() -> Vec<f32> {
    fill(32000, 7, 0.5)
}

#[test]
fn frontend_matches_torchvggish() {
    let want = npy::read_embeddings(&fixtures().join("examples.npy")).unwrap();
    let got = waveform_to_examples(&wav());
    assert_eq!(got.count, 2);
    assert_eq!(want.rows * want.dim, got.data.len());
    let worst = want
        .data
        .iter()
        .zip(&got.data)
        .map(|(w, g)| (w - *g as f64).abs())
        .fold(0.0, f64::max);
    assert!(worst < 1e-5, "log-mel differs by {worst}");
}

#[test]
fn network_matches_torchvggish() {
    let device = Device::Cpu;
    let meta = meta();
    let base = meta["weights"]["seed_base"].as_u64().unwrap();
    let mut tensors = HashMap::new();
    for (i, t) in meta["tensors"].as_array().unwrap().iter().enumerate() {
        let name = t[0].as_str().unwrap();
        let shape: Vec<usize> = t[1]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        let n: usize = shape.iter().product();
        let half = if name.ends_with("weight") {
            (6.0 / (n / shape[0]) as f64).sqrt()
        } else {
            0.05
        };
        let values = fill(n, base + i as u64, half);
        let tensor = Tensor::from_vec(values, shape, &device).unwrap();
        tensors.insert(name.to_string(), tensor);
    }
    let model = Vggish::new(VarBuilder::from_tensors(tensors, DType::F32, &device)).unwrap();

    let examples = npy::read_embeddings(&fixtures().join("examples.npy")).unwrap();
    let data: Vec<f32> = examples.data.iter().map(|&v| v as f32).collect();
    let count = examples.rows / NUM_FRAMES;
    let x = Tensor::from_vec(data, (count, NUM_FRAMES, NUM_BANDS), &device).unwrap();
    let got: Vec<Vec<f32>> = model.forward(&x).unwrap().to_vec2().unwrap();
    let want = npy::read_embeddings(&fixtures().join("embeddings.npy")).unwrap();
    assert_eq!((want.rows, want.dim), (2, 128));
    let scale = want.data.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let worst = want
        .data
        .iter()
        .zip(got.iter().flatten())
        .map(|(w, g)| (w - *g as f64).abs())
        .fold(0.0, f64::max);
    assert!(
        worst < 1e-4 * scale,
        "embeddings differ by {worst} (scale {scale})"
    );

    // The whole path from audio: frontend + network in batches of 1.
    let e = model
        .embed(&waveform_to_examples(&wav()), &device, 1)
        .unwrap();
    let worst = want
        .data
        .iter()
        .zip(&e.data)
        .map(|(w, g)| (w - g).abs())
        .fold(0.0, f64::max);
    assert!(worst < 1e-3 * scale, "end to end differs by {worst}");
}
