//! The math unit cases transcribed from subtensor's tests/math.rs (vectors.json `math_unit_cases`).

use salon_yuma::fixed::I32F32;
use salon_yuma::math::*;
use salon_yuma::max_upscale_weights;
use serde_json::Value;

fn cases() -> Vec<Value> {
    let text = include_str!("data/vectors.json");
    let v: Value = serde_json::from_str(text).unwrap();
    v["math_unit_cases"]["cases"].as_array().unwrap().clone()
}

fn fx(v: &Value, f64_literals: bool) -> I32F32 {
    match v {
        Value::String(s) if s == "I32F32_MAX" => I32F32::MAX,
        _ => {
            let x = v.as_f64().unwrap();
            if f64_literals {
                I32F32::from_f64(x)
            } else {
                I32F32::from_f32(x as f32)
            }
        }
    }
}

fn vec_fx(v: &Value, f64_literals: bool) -> Vec<I32F32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| fx(x, f64_literals))
        .collect()
}

fn mat_fx(v: &Value, f64_literals: bool) -> DenseMatrix {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| vec_fx(r, f64_literals))
        .collect()
}

fn to_sparse(m: &DenseMatrix) -> SparseMatrix {
    m.iter()
        .map(|r| {
            r.iter()
                .enumerate()
                .filter(|(_, &x)| x != I32F32::ZERO)
                .map(|(j, &x)| (j as u16, x))
                .collect()
        })
        .collect()
}

fn densify(m: &SparseMatrix, cols: usize) -> DenseMatrix {
    m.iter()
        .map(|r| {
            let mut d = vec![I32F32::ZERO; cols];
            for &(j, x) in r {
                d[j as usize] = x;
            }
            d
        })
        .collect()
}

/// Compares with expected literals converted like the upstream test does (f32 or f64 -> I32F32).
fn assert_close(got: &DenseMatrix, want: &Value, tol: f64, f64_lit: bool, what: &str) {
    let want = mat_fx(want, f64_lit);
    for (gr, wr) in got.iter().zip(&want) {
        for (g, w) in gr.iter().zip(wr) {
            assert!(
                (g.to_f64() - w.to_f64()).abs() <= tol,
                "{what}: got {got:?}, want {want:?}"
            );
        }
    }
    assert_eq!(got.len(), want.len(), "{what}");
}

fn f64_literals(c: &Value) -> bool {
    c["inputs"].as_str().is_some_and(|s| s.starts_with("f64"))
}

#[test]
fn every_math_case_matches() {
    let mut ran = 0;
    for c in cases() {
        let f = c["function"].as_str().unwrap();
        let what = format!("{} {}", c["source"], c);
        match f {
            "vec_u16_max_upscale_to_u16" => {
                let input: Vec<u16> = serde_json::from_value(c["input_u16"].clone()).unwrap();
                let want: Vec<u16> = serde_json::from_value(c["expected_u16"].clone()).unwrap();
                assert_eq!(max_upscale_weights(&input), want, "{what}");
            }
            "vec_max_upscale_to_u16" => {
                let want: Vec<u16> = serde_json::from_value(c["expected_u16"].clone()).unwrap();
                assert_eq!(
                    vec_max_upscale_to_u16(&vec_fx(&c["input_fixed_from_f32"], false)),
                    want,
                    "{what}"
                );
            }
            "is_topk" => {
                let want: Vec<bool> = serde_json::from_value(c["expected_bool"].clone()).unwrap();
                let k = c["k"].as_u64().unwrap() as usize;
                assert_eq!(
                    is_topk(&vec_fx(&c["input_fixed_from_f32"], false), k),
                    want,
                    "{what}"
                );
            }
            "weighted_median" => {
                let mut stake = vec_fx(&c["stake_fixed_from_f32"], false);
                if c["stake_normalized_first"].as_bool() == Some(true) {
                    normalize(&mut stake);
                }
                let score = vec_fx(&c["score_fixed_from_f32"], false);
                let majority = I32F32::from_f32(c["majority_f32"].as_f64().unwrap() as f32);
                let minority = I32F32::ONE.ssub(majority);
                let idx: Vec<usize> = (0..stake.len()).collect();
                let total = salon_yuma::fixed::sum(&stake);
                let got = weighted_median(&stake, &score, &idx, minority, I32F32::ZERO, total);
                assert_eq!(got, fx(&c["expected_fixed_from_f32"], false), "{what}");
            }
            "weighted_median_col" | "weighted_median_col_sparse" => {
                let stake = vec_fx(&c["stake_fixed_from_f32"], false);
                let w = mat_fx(&c["weights_rows_fixed_from_f32"], false);
                let kappa = I32F32::from_f32(c["kappa_f32"].as_f64().unwrap() as f32);
                let want = vec_fx(&c["expected_fixed_from_f32"], false);
                let got = if f == "weighted_median_col" {
                    weighted_median_col(&stake, &w, kappa)
                } else {
                    weighted_median_col_sparse(&stake, &to_sparse(&w), w[0].len(), kappa)
                };
                assert_eq!(got, want, "{what}");
            }
            "inplace_col_clip (dense) and col_clip_sparse" | "col_clip_sparse" => {
                let t = vec_fx(&c["threshold_fixed_from_f32"], false);
                let m = mat_fx(&c["matrix_rows_fixed_from_f32"], false);
                let got = densify(&col_clip_sparse(&to_sparse(&m), &t), t.len());
                assert_close(&got, &c["expected_rows"], 0.0, false, &what);
            }
            "mat_ema_alpha" | "mat_ema_alpha_sparse" => {
                let lit = f64_literals(&c);
                let new = mat_fx(&c["new_rows"], lit);
                let old = mat_fx(&c["old_rows"], lit);
                let alpha_lit = lit
                    || c["inputs"]
                        .as_str()
                        .is_some_and(|s| s.contains("alphas from f64"));
                let alpha: DenseMatrix = if c["alpha_all"].is_number() {
                    let a = fx(&c["alpha_all"], lit);
                    new.iter().map(|r| vec![a; r.len()]).collect()
                } else {
                    mat_fx(&c["alpha_rows"], alpha_lit)
                };
                let tol = c["tolerance"].as_f64().unwrap();
                let cols = new[0].len();
                let got = if f == "mat_ema_alpha" {
                    mat_ema_alpha(&new, &old, &alpha)
                } else {
                    let sn = to_sparse(&new);
                    let aligned: Vec<Vec<I32F32>> = sn
                        .iter()
                        .zip(&alpha)
                        .map(|(r, a)| r.iter().map(|&(j, _)| a[j as usize]).collect())
                        .collect();
                    densify(
                        &mat_ema_alpha_sparse(&sn, &to_sparse(&old), &aligned, cols),
                        cols,
                    )
                };
                assert_close(&got, &c["expected_rows"], tol, lit, &what);
            }
            other => panic!("math case for unknown function {other}"),
        }
        ran += 1;
    }
    assert_eq!(ran, 72);
}
