//! VGGish against torchvggish 0.2 (scripts/vggish_golden.py): the log-mel frontend and the network
//! (random weights regenerated from the same SplitMix64 hash, final ReLU off) on 2 s of noise.

mod common;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use salon_eval::fad::npy;
use salon_eval::models::vggish::Vggish;
use salon_eval::models::vggish_input::{waveform_to_examples, NUM_BANDS, NUM_FRAMES};
use std::path::PathBuf;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vggish")
}

fn meta() -> serde_json::Value {
    common::read_meta(&fixtures())
}

fn wav() -> Vec<f32> {
    common::fill(32000, 7, 0.5)
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
    let tensors = common::hash_tensors(&meta, &device, common::vggish_half);
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
