//! PaSST against hear21passt 0.0.26 (scripts/passt_golden.py): the eval-mode mel frontend on 1 s,
//! and a tiny random PaSST (weights regenerated from the same SplitMix64 hash) on audiocraft's
//! segments of a 12.5 s clip (10 s + an unpadded 2.5 s) and a 10.09 s clip (the tail dropped);
//! BittAudio's KLD (audiocraft's metric) of a 12.5 s clip against a 13 s reference; plus loading
//! from a safetensors file with the released names.

mod common;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use salon_eval::fad::npy;
use salon_eval::kld::mean_kld;
use salon_eval::models::passt::{Passt, PasstConfig};
use salon_eval::models::passt_input::{self, MEL_BINS};
use std::collections::HashMap;
use std::path::PathBuf;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/passt")
}

/// The script's clip: hash noise of half width `noise` plus a tone.
fn tone_clip(seed: u64, samples: usize, noise: f64, hz: f64, amplitude: f64) -> Vec<f32> {
    (0..samples)
        .map(|i| {
            let t = i as f64 / 32_000.0;
            let n = (2.0 * common::splitmix_uniform(seed, i as u64) - 1.0) * noise;
            (n + amplitude * (2.0 * std::f64::consts::PI * hz * t).sin()) as f32
        })
        .collect()
}

/// The script's default clip: noise at 0.3 plus 440 Hz at 0.2.
fn clip(seed: u64, samples: usize) -> Vec<f32> {
    tone_clip(seed, samples, 0.3, 440.0, 0.2)
}

fn meta() -> serde_json::Value {
    common::read_meta(&fixtures())
}

fn config() -> PasstConfig {
    serde_json::from_value(meta()["config"].clone()).unwrap()
}

/// The hash-generated weights of the script, by name.
fn weights(device: &Device) -> HashMap<String, Tensor> {
    common::hash_tensors(&meta(), device, common::passt_half)
}

fn model(device: &Device) -> Passt {
    let vb = VarBuilder::from_tensors(weights(device), DType::F32, device);
    Passt::new(vb, &config()).unwrap()
}

/// The two clips of the script, by their meta entries.
fn clips() -> Vec<Vec<f32>> {
    meta()["clips"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            clip(
                c["seed"].as_u64().unwrap(),
                c["samples"].as_u64().unwrap() as usize,
            )
        })
        .collect()
}

fn want_logits() -> Vec<Vec<f32>> {
    let l = npy::read_embeddings(&fixtures().join("logits.npy")).unwrap();
    assert_eq!((l.rows, l.dim), (3, 527));
    l.data
        .chunks(l.dim)
        .map(|r| r.iter().map(|&v| v as f32).collect())
        .collect()
}

fn worst(a: &[Vec<f32>], b: &[Vec<f32>]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .flatten()
        .zip(b.iter().flatten())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn softmax(l: &[f32]) -> Vec<f32> {
    let m = l.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
    let e: Vec<f64> = l.iter().map(|&v| ((v - m) as f64).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|v| (v / s) as f32).collect()
}

#[test]
fn frontend_matches_hear21passt() {
    let want = npy::read_embeddings(&fixtures().join("mel_1s.npy")).unwrap();
    assert_eq!((want.rows, want.dim), (MEL_BINS, 100));
    let got = passt_input::log_mel(&clip(11, 32_000)).unwrap();
    assert_eq!(got.frames, 100);
    let worst = want
        .data
        .iter()
        .zip(&got.data)
        .map(|(w, g)| (w - *g as f64).abs())
        .fold(0.0, f64::max);
    assert!(worst < 1e-4, "log-mel differs by {worst}");
}

#[test]
fn network_matches_hear21passt_on_audiocraft_segments() {
    let device = Device::Cpu;
    let model = model(&device);
    let clips = clips();
    let want = want_logits();
    let scale = want.iter().flatten().fold(0.0f32, |m, v| m.max(v.abs()));

    // Logits of every segment: clip A's 10 s and 2.5 s pieces, clip B's 10 s piece.
    let mels: Vec<_> = clips
        .iter()
        .flat_map(|c| passt_input::segments(c))
        .map(|s| passt_input::log_mel(s).unwrap())
        .collect();
    assert_eq!(
        mels.iter().map(|m| m.frames).collect::<Vec<_>>(),
        vec![1000, 250, 1000]
    );
    let got = model.logits(&mels).unwrap();
    let w = worst(&got, &want);
    assert!(w < 1e-4 * scale, "logits differ by {w} (scale {scale})");

    // Probabilities per segment, both clips in one batch, and each clip alone.
    let refs: Vec<&[f32]> = clips.iter().map(Vec::as_slice).collect();
    let per_segment = model.segment_probabilities_batch(&refs).unwrap();
    assert_eq!(
        per_segment.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![2, 1]
    );
    let want_probs: Vec<Vec<f32>> = want.iter().map(|l| softmax(l)).collect();
    let flat: Vec<Vec<f32>> = per_segment.iter().flatten().cloned().collect();
    let w = worst(&flat, &want_probs);
    assert!(w < 1e-6, "probabilities differ by {w}");

    let means = model.probabilities_batch(&refs).unwrap();
    let want_a: Vec<f32> = (0..527)
        .map(|k| (want_probs[0][k] + want_probs[1][k]) / 2.0)
        .collect();
    let w = worst(&means, &[want_a.clone(), want_probs[2].clone()]);
    assert!(w < 1e-6, "mean probabilities differ by {w}");
    assert!((means[0].iter().sum::<f32>() - 1.0).abs() < 1e-4);

    let alone = model.probabilities(&clips[0]).unwrap();
    assert!(worst(&[alone], &[means[0].clone()]) < 1e-6);
    assert_eq!(
        model.segment_probabilities(&clips[1]).unwrap().len(),
        1,
        "the 0.09 s tail must be dropped"
    );
}

#[test]
fn kld_matches_audiocraft_as_bittaudio_calls_it() {
    let device = Device::Cpu;
    let model = model(&device);
    let meta = meta();
    let want = &meta["kld"];
    let r = &want["reference"];
    let generated = clip(
        want["generated_seed"].as_u64().unwrap(),
        want["generated_samples"].as_u64().unwrap() as usize,
    );
    let reference = tone_clip(
        r["seed"].as_u64().unwrap(),
        r["samples"].as_u64().unwrap() as usize,
        r["noise"].as_f64().unwrap(),
        r["hz"].as_f64().unwrap(),
        r["amplitude"].as_f64().unwrap(),
    );
    let pairs = model.kld_pairs(&generated, &reference).unwrap();
    assert_eq!(pairs.len(), want["segments"].as_u64().unwrap() as usize);
    let got = mean_kld(pairs.iter().map(|(p, t)| (p.as_slice(), t.as_slice()))).unwrap();
    for (name, value) in [
        ("kld", got.kld),
        ("kld_qp", got.kld_qp),
        ("kld_both", got.kld_both),
    ] {
        let w = want[name].as_f64().unwrap();
        assert!(
            (value - w).abs() < 1e-4 * w.abs().max(1.0),
            "{name}: {value} vs audiocraft's {w}"
        );
    }
    // The same pair inside a batch with another gives the same rows.
    let batch = model
        .kld_pairs_batch(&[(&reference, &generated), (&generated, &reference)])
        .unwrap();
    assert_eq!(batch[1].len(), pairs.len());
    let w = batch[1]
        .iter()
        .zip(&pairs)
        .flat_map(|((a, b), (c, d))| a.iter().zip(c).chain(b.iter().zip(d)))
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max);
    assert!(w < 1e-7, "batched rows differ by {w}");
}

#[test]
fn refuses_clips_without_a_segment_and_inputs_longer_than_the_embedding() {
    let device = Device::Cpu;
    let model = model(&device);
    let err = model.probabilities(&[0.1; 4_800]).unwrap_err().to_string();
    assert!(err.contains("0.15 s"), "{err}");
    // 11 s in one piece: 1100 frames, 109 patch columns, more than the 99 of the embedding.
    let mel = passt_input::log_mel(&clip(5, 352_000)).unwrap();
    let err = model.logits(&[mel]).unwrap_err().to_string();
    assert!(err.contains("10 s segments"), "{err}");
}

#[test]
fn loads_safetensors_with_the_released_names_and_names_a_missing_tensor() {
    let device = Device::Cpu;
    let dir = std::env::temp_dir().join(format!("passt-golden-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut tensors = weights(&device);
    let full = dir.join("passt.safetensors");
    candle_core::safetensors::save(&tensors, &full).unwrap();
    let loaded = Passt::load_with_config(&full, &config(), DType::F32, &device).unwrap();
    let mel = passt_input::log_mel(&clip(11, 32_000)).unwrap();
    let a = loaded.logits(std::slice::from_ref(&mel)).unwrap();
    let b = model(&device).logits(&[mel]).unwrap();
    assert_eq!(a, b);

    tensors.remove("blocks.1.mlp.fc2.weight");
    let partial = dir.join("partial.safetensors");
    candle_core::safetensors::save(&tensors, &partial).unwrap();
    let err = Passt::load_with_config(&partial, &config(), DType::F32, &device)
        .unwrap_err()
        .to_string();
    std::fs::remove_dir_all(&dir).ok();
    assert!(err.contains("blocks.1.mlp.fc2.weight"), "{err}");
}

#[test]
fn half_precision_follows_the_f32_network() {
    // The GPU path may load PaSST in f16: same logits as f32 up to f16's rounding (a model that
    // mixed dtypes would fail to run at all). bf16 is GPU-only: candle's CPU matmul refuses it.
    let device = Device::Cpu;
    let mel = passt_input::log_mel(&clip(3, 96_000)).unwrap();
    let want = model(&device).logits(std::slice::from_ref(&mel)).unwrap();
    let scale = want.iter().flatten().fold(0.0f32, |m, v| m.max(v.abs()));
    let vb = VarBuilder::from_tensors(weights(&device), DType::F16, &device);
    let half = Passt::new(vb, &config()).unwrap();
    let got = half.logits(std::slice::from_ref(&mel)).unwrap();
    let w = worst(&got, &want);
    assert!(w > 0.0, "the f16 network computed in f32");
    assert!(w <= 0.01 * scale, "logits differ by {w} (scale {scale})");
}
