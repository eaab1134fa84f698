//! Golden tests: the EnCodec encoder on candle against transformers' `EncodecModel.encoder` for two
//! tiny random checkpoints made by scripts/encodec_encoder_golden.py (shaped as encodec_24khz: causal,
//! weight norm, mono, one pass; and as encodec_48khz: centred, time group norm, stereo, segments as
//! fadtk cuts them), both weight-norm tensor namings, and the error for a folder without weights.
#![cfg(feature = "musicgen")]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use salon_engines::musicgen::candle_core::{safetensors, Device, Tensor};
use salon_engines::musicgen::encodec_encoder::{EncodecEncoder, EncodecEncoderError};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// u in [0, 1): SplitMix64's output for state seed + (k + 1) * golden gamma, top 53 bits.
fn splitmix_uniform(seed: u64, k: u64) -> f64 {
    let mut z = seed.wrapping_add((k + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// The script's clip: 0.5 sin(2 pi 440 t) + 0.25 sin(2 pi 1234.5 t) + 0.1 (2u - 1), t = i / sr.
fn clip(sr: u32) -> Vec<f32> {
    (0..1001u64)
        .map(|i| {
            let t = i as f64 / sr as f64;
            let tau = 2.0 * std::f64::consts::PI;
            (0.5 * (tau * 440.0 * t).sin()
                + 0.25 * (tau * 1234.5 * t).sin()
                + 0.1 * (2.0 * splitmix_uniform(7, i) - 1.0)) as f32
        })
        .collect()
}

/// Loads the fixture's golden tensors: the clip and the expected [frames][hidden] embedding.
fn golden(name: &str) -> (Vec<f32>, Vec<Vec<f32>>) {
    let t = safetensors::load(fixture(name).join("golden.safetensors"), &Device::Cpu).unwrap();
    (
        t["input"].to_vec1::<f32>().unwrap(),
        t["embedding"].to_vec2::<f32>().unwrap(),
    )
}

/// Asserts `got` matches `want` within 1e-4 of the largest expected magnitude.
fn assert_close(got: &[Vec<f32>], want: &[Vec<f32>]) {
    assert_eq!(got.len(), want.len(), "frame count");
    let scale = want
        .iter()
        .flatten()
        .fold(0f32, |m, v| m.max(v.abs()))
        .max(1e-6);
    let mut worst = 0f32;
    for (g, w) in got.iter().zip(want) {
        assert_eq!(g.len(), w.len(), "frame width");
        for (a, b) in g.iter().zip(w) {
            worst = worst.max((a - b).abs() / scale);
        }
    }
    eprintln!("max error {worst:e} of the largest value {scale}");
    assert!(worst <= 1e-4, "max error {worst:e} of the largest value");
}

fn check(name: &str, sr: u32, channels: usize, chunk: Option<usize>) {
    let (input, want) = golden(name);
    let x = clip(sr);
    let input_err = x
        .iter()
        .zip(&input)
        .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(input_err <= 1e-6, "the clip formula drifted: {input_err:e}");

    let enc = EncodecEncoder::load(&fixture(name), &Device::Cpu).unwrap();
    assert_eq!(enc.sample_rate(), sr);
    assert_eq!(enc.hidden_size(), 16);
    assert_eq!(enc.channels(), channels);
    assert_eq!(enc.chunk_length(), chunk);
    assert_close(&enc.embed(&input).unwrap(), &want);
    assert!(enc.embed(&[]).unwrap().is_empty());
}

#[test]
fn matches_transformers_24khz_shape() {
    // Hop 6: ceil(1001 / 6) = 167 frames in one pass.
    check("encodec_encoder_tiny", 24000, 1, None);
}

#[test]
fn matches_fadtk_segments_48khz_shape() {
    // Segments of 360 samples: 60 + 60 + ceil(281 / 6) = 167 frames.
    check("encodec_encoder_tiny_chunked", 48000, 2, Some(360));
}

#[test]
fn reads_old_weight_g_weight_v_names() {
    let src = fixture("encodec_encoder_tiny");
    let tensors = safetensors::load(src.join("model.safetensors"), &Device::Cpu).unwrap();
    let renamed: HashMap<String, Tensor> = tensors
        .into_iter()
        .map(|(k, v)| {
            let k = k
                .replace("parametrizations.weight.original0", "weight_g")
                .replace("parametrizations.weight.original1", "weight_v");
            (k, v)
        })
        .collect();
    assert!(renamed.contains_key("encoder.layers.0.conv.weight_g"));
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(src.join("config.json"), dir.path().join("config.json")).unwrap();
    safetensors::save(&renamed, dir.path().join("model.safetensors")).unwrap();

    let (input, want) = golden("encodec_encoder_tiny");
    let enc = EncodecEncoder::load(dir.path(), &Device::Cpu).unwrap();
    assert_close(&enc.embed(&input).unwrap(), &want);
}

#[test]
fn missing_weights_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixture("encodec_encoder_tiny").join("config.json"),
        dir.path().join("config.json"),
    )
    .unwrap();
    let err = EncodecEncoder::load(dir.path(), &Device::Cpu).unwrap_err();
    assert!(
        matches!(&err, EncodecEncoderError::MissingFile { path, .. } if path.ends_with("model.safetensors")),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("model.safetensors"), "{msg}");

    let err = EncodecEncoder::load(&dir.path().join("nope"), &Device::Cpu).unwrap_err();
    assert!(err.to_string().contains("checkpoint folder"), "{err}");
}
