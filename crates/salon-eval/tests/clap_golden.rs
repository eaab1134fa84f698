//! CLAP against transformers' ClapModel and ClapFeatureExtractor (scripts/clap_golden.py): a tiny
//! random checkpoint folder (config.json, model.safetensors, tokenizer.json) saved by
//! save_pretrained(), clips regenerated from the same SplitMix64 hash, and the reference features,
//! embeddings and similarities.

mod common;

use candle_core::{Device, Tensor};
use salon_eval::fad::npy;
use salon_eval::models::clap::{Clap, ClapError};
use salon_eval::models::clap_input::{ClapFeatureExtractor, FeatureParams};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/clap")
}

fn meta() -> serde_json::Value {
    common::read_meta(&fixtures())
}

/// 0.3 sin(2 pi f n / 48000) + 0.2 (2u - 1), as the script draws it.
fn clip(name: &str) -> Vec<f32> {
    let m = &meta()["clips"][name];
    let seed = m["seed"].as_u64().unwrap();
    let n = m["samples"].as_u64().unwrap();
    let f = m["tone_hz"].as_f64().unwrap();
    (0..n)
        .map(|k| {
            let s = (2.0 * std::f64::consts::PI * f * k as f64 / 48000.0).sin();
            (0.3 * s + 0.2 * (2.0 * common::splitmix_uniform(seed, k) - 1.0)) as f32
        })
        .collect()
}

fn texts() -> Vec<String> {
    meta()["texts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect()
}

fn model() -> &'static Clap {
    static MODEL: OnceLock<Clap> = OnceLock::new();
    MODEL.get_or_init(|| Clap::load(&fixtures(), &Device::Cpu).unwrap())
}

fn read(name: &str) -> (usize, usize, Vec<f64>) {
    let e = npy::read_embeddings(&fixtures().join(name)).unwrap();
    (e.rows, e.dim, e.data)
}

fn worst(want: &[f64], got: &[f32]) -> f64 {
    assert_eq!(want.len(), got.len());
    want.iter()
        .zip(got)
        .map(|(w, g)| (w - *g as f64).abs())
        .fold(0.0, f64::max)
}

fn rows(t: &Tensor) -> Vec<f32> {
    t.to_vec2::<f32>().unwrap().into_iter().flatten().collect()
}

#[test]
fn features_match_the_feature_extractor() {
    let fe = ClapFeatureExtractor::new(FeatureParams::default());
    assert_eq!((fe.frames(), fe.mel_bins()), (1001, 64));
    // A 3.3 s clip, repeat-padded to 10 s.
    let (r, d, want) = read("features_a.npy");
    assert_eq!((r, d), (1001, 64));
    let got = fe.extract(&clip("a")).unwrap();
    let w = worst(&want, &got);
    assert!(w < 2e-3, "clip A log-mel differs by {w} dB");
    // A 12 s clip: its first 10 s (every 10th frame stored).
    let (r, _, want) = read("features_b_every10.npy");
    let got = fe.extract(&clip("b")).unwrap();
    let sub: Vec<f32> = got.chunks(64).step_by(10).flatten().copied().collect();
    assert_eq!(sub.len(), r * 64);
    let w = worst(&want, &sub);
    assert!(w < 2e-3, "clip B log-mel differs by {w} dB");
}

#[test]
fn audio_embeddings_match_transformers() {
    let clap = model();
    let (r, d, want) = read("audio_embeds.npy");
    assert_eq!((r, d), (2, clap.embedding_dim()));
    // Network alone, from the reference features.
    let (_, _, feats) = read("features_a.npy");
    let feats: Vec<f32> = feats.iter().map(|&v| v as f32).collect();
    let x = Tensor::from_vec(feats, (1, 1001, 64), &Device::Cpu).unwrap();
    let got = rows(&clap.audio_embeddings_from_features(&x).unwrap());
    let w = worst(&want[..d], &got);
    assert!(w < 1e-4, "network output differs by {w}");
    // Whole path from audio, batched.
    let (a, b) = (clip("a"), clip("b"));
    let batch = clap.audio_embeddings(&[&a, &b]).unwrap();
    let w = worst(&want, &rows(&batch));
    assert!(w < 1e-4, "audio embeddings differ by {w}");
    // Batching does not change a clip's embedding.
    let alone = rows(&clap.audio_embeddings(&[&b]).unwrap());
    let w = worst(&want[d..], &alone);
    assert!(w < 1e-4, "clip B alone differs by {w}");
}

#[test]
fn text_embeddings_match_transformers() {
    let clap = model();
    let texts = texts();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    // Token ids equal the reference tokenizer's, padding removed.
    let m = meta();
    let ids = clap.tokenize(&refs).unwrap();
    for (i, row) in ids.iter().enumerate() {
        let want: Vec<u32> = m["input_ids"][i]
            .as_array()
            .unwrap()
            .iter()
            .zip(m["attention_mask"][i].as_array().unwrap())
            .filter(|(_, mask)| mask.as_u64() == Some(1))
            .map(|(v, _)| v.as_u64().unwrap() as u32)
            .collect();
        assert_eq!(row, &want, "token ids of {:?}", refs[i]);
    }
    let (r, d, want) = read("text_embeds.npy");
    assert_eq!((r, d), (3, clap.embedding_dim()));
    let got = rows(&clap.text_embeddings(&refs).unwrap());
    let w = worst(&want, &got);
    assert!(w < 1e-4, "text embeddings differ by {w}");
    // A text alone (no padding in its batch) embeds the same.
    let alone = rows(&clap.text_embeddings(&refs[2..]).unwrap());
    let w = worst(&want[2 * d..], &alone);
    assert!(w < 1e-4, "text alone differs by {w}");
    // Embeddings are unit vectors.
    for row in got.chunks(d) {
        let n: f32 = row.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((n - 1.0).abs() < 1e-5);
    }
}

#[test]
fn similarity_matches_transformers() {
    let clap = model();
    let texts = texts();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let (a, b) = (clip("a"), clip("b"));
    let audio = clap.audio_embeddings(&[&a, &b]).unwrap();
    let text = clap.text_embeddings(&refs).unwrap();
    let (r, d, want) = read("similarity.npy");
    assert_eq!((r, d), (2, 3));
    let sim = Clap::similarity(&audio, &text).unwrap();
    let w = worst(&want, &rows(&sim));
    assert!(w < 1e-4, "similarities differ by {w}");
    // Pairwise: clip i with text i.
    let pairs = clap.text_consistency(&[&a, &b], &refs[..2]).unwrap();
    let w = worst(&[want[0], want[4]], &pairs);
    assert!(w < 1e-4, "pairwise similarities differ by {w}");
    assert!(matches!(
        clap.text_consistency(&[&a], &refs[..2]),
        Err(ClapError::Mismatch { clips: 1, texts: 2 })
    ));
}

/// A scratch copy of some fixture files.
fn scratch(name: &str, files: &[&str]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("salon-clap-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for f in files {
        std::fs::copy(fixtures().join(f), dir.join(f)).unwrap();
    }
    dir
}

#[test]
fn missing_config_is_named() {
    let dir = scratch("noconfig", &["model.safetensors", "tokenizer.json"]);
    let err = Clap::load(&dir, &Device::Cpu).unwrap_err();
    match &err {
        ClapError::MissingFile { path, .. } => assert!(path.ends_with("config.json"), "{err}"),
        other => panic!("expected MissingFile, got {other}"),
    }
    assert!(err.to_string().contains("config.json"));
    std::fs::remove_dir_all(&dir).unwrap();
    let err = Clap::load(Path::new("/nonexistent/clap"), &Device::Cpu).unwrap_err();
    assert!(matches!(err, ClapError::MissingFile { .. }), "{err}");
}

#[test]
fn missing_tensor_is_named() {
    let dir = scratch("notensor", &["config.json", "tokenizer.json"]);
    let mut tensors =
        candle_core::safetensors::load(fixtures().join("model.safetensors"), &Device::Cpu).unwrap();
    let gone =
        "audio_model.audio_encoder.layers.1.blocks.1.attention.self.relative_position_bias_table";
    assert!(tensors.remove(gone).is_some());
    candle_core::safetensors::save(&tensors, dir.join("model.safetensors")).unwrap();
    let err = Clap::load(&dir, &Device::Cpu).unwrap_err();
    assert!(matches!(err, ClapError::Weights { .. }), "{err}");
    assert!(
        err.to_string().contains("relative_position_bias_table"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn text_needs_a_tokenizer_but_audio_does_not() {
    let dir = scratch("notok", &["config.json", "model.safetensors"]);
    let clap = Clap::load(&dir, &Device::Cpu).unwrap();
    let err = clap.text_embeddings(&["jazz"]).unwrap_err();
    assert!(err.to_string().contains("tokenizer.json"), "{err}");
    let e = clap.audio_embeddings(&[&[0.1f32; 4800]]).unwrap();
    assert_eq!(e.dims(), &[1, clap.embedding_dim()]);
    let err = clap.audio_embeddings(&[&[0.1f32; 10], &[]]).unwrap_err();
    assert!(err.to_string().contains("clip 1 is empty"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
