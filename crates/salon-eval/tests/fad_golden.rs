//! The faer Frechet distance against scipy's (scripts/fad_golden.py): sqrtm-based FAD on the same
//! embeddings must agree to 1e-6 relative, at d = 128 (committed .npy files) and d = 512
//! (generated identically on both sides from a counter-based SplitMix64).

mod common;

use common::splitmix_uniform;
use salon_eval::fad::{frechet_distance, frechet_report, npy, Embeddings, DEFAULT_EPS};
use std::path::PathBuf;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fad")
}

fn expected() -> serde_json::Value {
    let text = std::fs::read_to_string(fixtures().join("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn assert_rel(got: f64, want: f64, what: &str) {
    let rel = (got - want).abs() / want.abs();
    assert!(
        rel < 1e-6,
        "{what}: {got} vs scipy {want} (relative error {rel:e})"
    );
}

#[test]
fn agrees_with_scipy_at_d128() {
    let a = npy::read_embeddings(&fixtures().join("a128.npy")).unwrap();
    let b = npy::read_embeddings(&fixtures().join("b128.npy")).unwrap();
    assert_eq!((a.rows, a.dim, b.rows, b.dim), (200, 128, 200, 128));
    let r = frechet_report(&a.stats().unwrap(), &b.stats().unwrap(), DEFAULT_EPS).unwrap();
    assert!(!r.eps_retry, "200 rows at d = 128 are full rank");
    assert_rel(
        r.distance,
        expected()["fad_128"].as_f64().unwrap(),
        "d = 128",
    );
}

/// The script's `generated(...) * scale`, every operation in f32 as numpy does it.
fn generated(spec: &serde_json::Value, n: usize, d: usize) -> Embeddings {
    let f = |k: &str| spec[k].as_f64().unwrap();
    let (seed, a, b, shift, scale) = (
        f("seed") as u64,
        f("a") as f32,
        f("b") as f32,
        f("shift") as usize,
        f("scale") as f32,
    );
    let u: Vec<f32> = (0..n * d)
        .map(|k| splitmix_uniform(seed, k as u64) as f32)
        .collect();
    let mut out = Vec::with_capacity(n * d);
    for i in 0..n {
        for j in 0..d {
            let x = u[i * d + j] + a * u[i * d + (j + shift) % d] + b;
            let x = if scale == 1.0 { x } else { x * scale };
            out.push(x);
        }
    }
    Embeddings::from_f32(n, d, &out).unwrap()
}

#[test]
fn agrees_with_scipy_at_d512() {
    let e = &expected()["d512"];
    let (n, d) = (
        e["rows"].as_u64().unwrap() as usize,
        e["dim"].as_u64().unwrap() as usize,
    );
    let a = generated(&e["a"], n, d);
    let b = generated(&e["b"], n, d);
    // Same data as the script, bit for bit: the f64 sums agree to rounding of the summation order.
    let sum = |x: &Embeddings| x.data.iter().sum::<f64>();
    assert_rel(sum(&a), e["sum_a"].as_f64().unwrap(), "checksum a");
    assert_rel(sum(&b), e["sum_b"].as_f64().unwrap(), "checksum b");
    let fad = frechet_distance(&a.stats().unwrap(), &b.stats().unwrap()).unwrap();
    assert_rel(fad, e["fad"].as_f64().unwrap(), "d = 512");
}
