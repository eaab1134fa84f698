//! Times Salon's Frechet distance (faer): (a) the statistics (mean and covariance) of both
//! embedding sets, (b) the distance from given statistics; the median of `--runs` timings after
//! `--warmup` untimed runs, one JSON line per measurement (issue 6, item 7).
//!
//! `cargo run --release -p salon-eval --example frechet_bench -- A.npy B.npy [--runs 10]
//!  [--warmup 2]` reads two float32/float64 [n, d] `.npy` files (scripts/frechet_bench.py writes
//! them and times scipy on the same ones); `-- --d 512 --n 1600` generates the sets instead.
//! Reading the files (and widening to f64) is not timed, as on the Python side.

mod bench_util;
use bench_util::splitmix_uniform;

use std::path::Path;
use std::time::Instant;

use salon_eval::fad::{frechet_report, npy, Embeddings, DEFAULT_EPS};
use serde_json::json;

const USAGE: &str = "usage: frechet_bench (A.npy B.npy | --d D --n N) [--runs 10] [--warmup 2]";

fn parsed<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> Result<T, String> {
    bench_util::parsed(args, name, default, USAGE)
}

/// [n, d] float32-valued rows: u + a * roll(u, -shift) + b with u uniform (correlated
/// neighbouring dimensions, a full-rank covariance when n > d).
fn generated(seed: u64, n: usize, d: usize, a: f32, b: f32, shift: usize) -> Embeddings {
    let u: Vec<f32> = (0..n * d)
        .map(|k| splitmix_uniform(seed, k as u64) as f32)
        .collect();
    let data = (0..n * d)
        .map(|k| {
            let (i, j) = (k / d, k % d);
            u[k] + a * u[i * d + (j + shift) % d] + b
        })
        .collect::<Vec<f32>>();
    Embeddings::from_f32(n, d, &data).expect("n * d values")
}

/// Median of `runs` timings (seconds) of `f` after `warmup` untimed calls.
fn median_secs<T>(warmup: usize, runs: usize, mut f: impl FnMut() -> T) -> f64 {
    for _ in 0..warmup {
        std::hint::black_box(f());
    }
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let mid = times.len() / 2;
    if times.len().is_multiple_of(2) {
        0.5 * (times[mid - 1] + times[mid])
    } else {
        times[mid]
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return Ok(());
    }
    let runs: usize = parsed(&args, "--runs", 10)?;
    let warmup: usize = parsed(&args, "--warmup", 2)?;
    if runs == 0 {
        return Err(format!("--runs must be at least 1\n{USAGE}").into());
    }
    let files: Vec<&String> = {
        let mut out = Vec::new();
        let mut i = 0;
        while i < args.len() {
            if args[i].starts_with("--") {
                i += 2;
            } else {
                out.push(&args[i]);
                i += 1;
            }
        }
        out
    };
    let (a, b, source) = match files.as_slice() {
        [fa, fb] => (
            npy::read_embeddings(Path::new(fa.as_str()))?,
            npy::read_embeddings(Path::new(fb.as_str()))?,
            format!("{fa} {fb}"),
        ),
        [] => {
            let d: usize = parsed(&args, "--d", 0)?;
            let n: usize = parsed(&args, "--n", 0)?;
            if d == 0 || n < 2 {
                return Err(format!("give two .npy files or --d and --n\n{USAGE}").into());
            }
            (
                generated(1, n, d, 0.5, 0.0, 1),
                generated(2, n, d, 0.3, 0.02, 2),
                "generated".to_string(),
            )
        }
        _ => return Err(USAGE.into()),
    };
    if a.dim != b.dim {
        return Err(format!("dimensions differ: {} vs {}", a.dim, b.dim).into());
    }
    let (d, n_a, n_b) = (a.dim, a.rows, b.rows);

    let stats_s = median_secs(warmup, runs, || (a.stats(), b.stats()));
    let (sa, sb) = (a.stats()?, b.stats()?);
    let distance_s = median_secs(warmup, runs, || frechet_report(&sa, &sb, DEFAULT_EPS));
    let report = frechet_report(&sa, &sb, DEFAULT_EPS)?;

    let common = json!({
        "impl": "salon-faer",
        "source": source,
        "d": d,
        "n_a": n_a,
        "n_b": n_b,
        "runs": runs,
        "warmup": warmup,
    });
    for (what, secs) in [("stats", stats_s), ("distance", distance_s)] {
        let mut line = common.clone();
        line["what"] = json!(what);
        line["median_s"] = json!(secs);
        println!("{line}");
    }
    let mut line = common;
    line["what"] = json!("value");
    line["fad"] = json!(report.distance);
    line["eps_retry"] = json!(report.eps_retry);
    println!("{line}");
    Ok(())
}
