//! Property and qualitative cases from subtensor's tests/epoch.rs (vectors.json): permits with a stake
//! threshold, sparse == dense on random 512-uid graphs, liquid alpha with equal bounds, the
//! commit-reveal mask and a too-long last_update vector.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use salon_yuma::fixed::I32F32;
use salon_yuma::math::{liquid_alpha, mat_ema_alpha, mat_ema_sparse, DenseMatrix, SparseMatrix};
use salon_yuma::{epoch, epoch_dense, EpochInput, Hyperparameters};
use serde_json::Value;

fn vectors() -> Value {
    serde_json::from_str(include_str!("data/vectors.json")).unwrap()
}

fn case(name: &str) -> Value {
    vectors()["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap()
        .clone()
}

fn base_input(stake: Vec<u64>, block: u64) -> EpochInput {
    let n = stake.len();
    EpochInput {
        current_block: block,
        stake,
        last_update: vec![block; n],
        block_at_registration: vec![block; n],
        validator_permit: vec![false; n],
        weights: vec![Vec::new(); n],
        bonds: vec![Vec::new(); n],
        first_pending_commit_block: vec![None; n],
        ..Default::default()
    }
}

#[test]
fn validator_permits_follow_stake_threshold_and_top_k() {
    let c = case("test_validator_permits");
    for cfg in c["configurations"].as_array().unwrap() {
        let stake: Vec<u64> = serde_json::from_value(cfg["stake"].clone()).unwrap();
        let servers: Vec<usize> = serde_json::from_value(cfg["servers"].clone()).unwrap();
        let hp = Hyperparameters {
            tempo: 65534,
            stake_threshold: cfg["stake_threshold"].as_u64().unwrap(),
            max_allowed_validators: cfg["max_allowed_validators"].as_u64().unwrap() as u16,
            ..Default::default()
        };
        let mut input = base_input(stake, 1);
        let out = epoch(&hp, &input, 1_000_000_000);
        let want: Vec<bool> = serde_json::from_value(
            cfg["expect_after_epoch_1 (block 1)"]["validator_permit"].clone(),
        )
        .unwrap();
        assert_eq!(out.validator_permit, want, "{cfg}");
        let add = 2 * cfg["network_n"].as_u64().unwrap();
        for &s in &servers {
            input.stake[s] += add;
        }
        input.validator_permit = out.validator_permit;
        let out = epoch(&hp, &input, 1_000_000_000);
        let want: Vec<bool> =
            serde_json::from_value(cfg["expect_after_epoch_2"]["validator_permit"].clone())
                .unwrap();
        assert_eq!(out.validator_permit, want, "{cfg}");
    }
}

#[test]
fn sparse_and_dense_agree_on_random_512_graphs() {
    for (seed, server_self) in [(0u64, false), (1, true), (2, false)] {
        for penalty in [0u16, 32767, 65535] {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let n = 512;
            let validators: Vec<usize> = if seed == 1 {
                (0..n).step_by(8).collect()
            } else {
                (0..64).collect()
            };
            let is_val = |u: usize| validators.contains(&u);
            let mut input = base_input((0..n).map(|u| u64::from(is_val(u))).collect(), 1);
            input.block_at_registration = vec![0; n];
            input.validator_permit = (0..n).map(is_val).collect();
            for u in 0..n {
                if is_val(u) {
                    let raw: Vec<u64> = (0..n)
                        .filter(|&s| !is_val(s))
                        .map(|_| rng.gen_range(0..u16::MAX as u64))
                        .collect();
                    let total: u64 = raw.iter().sum::<u64>().max(1);
                    let vals = salon_yuma::max_upscale_weights(
                        &raw.iter()
                            .map(|x| (x * 65535 / total) as u16)
                            .collect::<Vec<_>>(),
                    );
                    input.weights[u] = (0..n)
                        .filter(|&s| !is_val(s))
                        .map(|s| s as u16)
                        .zip(vals)
                        .collect();
                } else if server_self {
                    input.weights[u] = vec![(u as u16, 65535)];
                }
            }
            let hp = Hyperparameters {
                tempo: 65534,
                yuma3: false,
                bonds_penalty: penalty,
                max_allowed_uids: 512,
                ..Default::default()
            };
            let s = epoch(&hp, &input, 1_000_000_000);
            let d = epoch_dense(&hp, &input, 1_000_000_000);
            assert_eq!(s.incentive, d.incentive);
            assert_eq!(s.dividends, d.dividends);
            assert_eq!(s.emission, d.emission);
            assert_eq!(s.consensus, d.consensus);
            let dense_of = |rows: &Vec<Vec<(u16, u16)>>, u: usize, j: u16| {
                rows[u].iter().find(|e| e.0 == j).map_or(0, |e| e.1)
            };
            let (v0, s0) = (
                validators[0] as u16,
                (0..n).find(|&u| !is_val(u)).unwrap() as u16,
            );
            for u in 0..n {
                for j in [v0, s0] {
                    assert_eq!(
                        dense_of(&s.bonds, u, j),
                        dense_of(&d.bonds, u, j),
                        "seed {seed} penalty {penalty} uid {u}"
                    );
                }
            }
            assert!(s.incentive.iter().any(|&x| x > 0));
        }
    }
}

#[test]
fn liquid_alpha_with_equal_bounds_equals_fixed_alpha() {
    let c = case("test_liquid_alpha_equal_values_against_itself");
    let inputs = &c["inputs (f32 literals -> I32F32)"];
    let m = |v: &Value| -> DenseMatrix {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r.as_array()
                    .unwrap()
                    .iter()
                    .map(|x| I32F32::from_f32(x.as_f64().unwrap() as f32))
                    .collect()
            })
            .collect()
    };
    let w = m(&inputs["weights (4 rows x 3 cols)"]);
    let b = m(&inputs["bonds (4 x 3)"]);
    let consensus: Vec<I32F32> = inputs["consensus"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| I32F32::from_f32(x.as_f64().unwrap() as f32))
        .collect();
    let a = I32F32::from_u16_proportion(6553);
    let slope = I32F32::from_int(1000).sdiv(I32F32::from_int(-100));
    let alphas: DenseMatrix = w
        .iter()
        .zip(&b)
        .map(|(rw, rb)| {
            (0..3)
                .map(|j| liquid_alpha(consensus[j], rw[j], rb[j], a, a, slope))
                .collect()
        })
        .collect();
    let on = mat_ema_alpha(&w, &b, &alphas);
    let sparse = |m: &DenseMatrix| -> SparseMatrix {
        m.iter()
            .map(|r| {
                r.iter()
                    .enumerate()
                    .filter(|(_, &x)| x != I32F32::ZERO)
                    .map(|(j, &x)| (j as u16, x))
                    .collect()
            })
            .collect()
    };
    let alpha_off = I32F32::ONE.ssub(salon_yuma::fixed::ratio_via_i64f64(900_000, 1_000_000));
    let off = mat_ema_sparse(&sparse(&w), &sparse(&b), 3, alpha_off);
    let derived = &c["derived_reference_outputs"];
    for i in 0..4 {
        for j in 0..3 {
            let off_ij = off[i]
                .iter()
                .find(|e| e.0 == j as u16)
                .map_or(0.0, |e| e.1.to_f64());
            assert!((on[i][j].to_f64() - off_ij).abs() <= 1e-3);
            assert!(
                (on[i][j].to_f64() - derived["liquid_on"][i][j].as_f64().unwrap()).abs() <= 1e-6
            );
            assert!((off_ij - derived["liquid_off"][i][j].as_f64().unwrap()).abs() <= 1e-6);
        }
    }
}

fn commit_reveal_input(pending: Option<u64>) -> EpochInput {
    // uid0 validator; uid1 registered at 8; uids 2 and 3 registered at 33; uid0 weights all three.
    let mut input = base_input(vec![10_000, 1000, 1000, 1000], 34);
    input.block_at_registration = vec![0, 8, 33, 33];
    input.validator_permit = vec![true, false, false, false];
    input.weights[0] = vec![(1, 65535), (2, 65535), (3, 65535)];
    input.first_pending_commit_block = vec![pending, None, None, None];
    input
}

#[test]
fn commit_reveal_masks_columns_registered_after_the_pending_commit() {
    let hp = Hyperparameters {
        tempo: 8,
        max_allowed_validators: 1,
        ..Default::default()
    };
    let out = epoch(&hp, &commit_reveal_input(Some(32)), 1_000_000_000);
    assert!(out.incentive[1] > 0);
    assert_eq!((out.incentive[2], out.incentive[3]), (0, 0));
    let dense = epoch_dense(&hp, &commit_reveal_input(Some(32)), 1_000_000_000);
    assert_eq!(dense.incentive, out.incentive);
    // Without a pending commit, or with commit-reveal off, nothing is masked.
    let out = epoch(&hp, &commit_reveal_input(None), 1_000_000_000);
    assert!(out.incentive[2] > 0 && out.incentive[3] > 0);
    let off = Hyperparameters {
        commit_reveal: false,
        ..hp
    };
    let out = epoch(&off, &commit_reveal_input(Some(32)), 1_000_000_000);
    assert!(out.incentive[2] > 0 && out.incentive[3] > 0);
}

#[test]
fn longer_last_update_than_n_is_tolerated() {
    let mut input = base_input(vec![1_000_000_000], 1);
    input.weights[0] = vec![(0, 65535)];
    input.last_update = vec![1, 1, 1];
    let hp = Hyperparameters {
        tempo: 65534,
        commit_reveal: false,
        ..Default::default()
    };
    let out = epoch(&hp, &input, 1_000_000_000);
    assert_eq!(
        (out.consensus[0], out.incentive[0], out.dividends[0]),
        (0, 0, 0)
    );
    let out = epoch_dense(&hp, &input, 1_000_000_000);
    assert_eq!(
        (out.consensus[0], out.incentive[0], out.dividends[0]),
        (0, 0, 0)
    );
}
