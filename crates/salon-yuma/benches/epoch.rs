//! One sparse epoch at 256 uids × 64 validators and 4096 uids × 128 validators with random dense
//! weights (every validator weights every uid), classic and Yuma3 bonds.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use salon_yuma::{epoch, EpochInput, Hyperparameters};

fn input(n: usize, validators: usize) -> EpochInput {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let is_val = |i: usize| i < validators;
    let weights = (0..n)
        .map(|i| {
            if is_val(i) {
                (0..n as u16)
                    .map(|j| (j, rng.gen_range(0..=u16::MAX)))
                    .collect()
            } else {
                Vec::new()
            }
        })
        .collect();
    let bonds = (0..n)
        .map(|i| {
            if is_val(i) {
                (0..n as u16)
                    .map(|j| (j, rng.gen_range(0..=u16::MAX)))
                    .collect()
            } else {
                Vec::new()
            }
        })
        .collect();
    EpochInput {
        current_block: 10_000,
        stake: (0..n)
            .map(|i| {
                if is_val(i) {
                    rng.gen_range(1..1_000_000_000_000)
                } else {
                    0
                }
            })
            .collect(),
        last_update: vec![9_990; n],
        block_at_registration: vec![1; n],
        validator_permit: (0..n).map(is_val).collect(),
        weights,
        bonds,
        owner_uid: None,
        last_mechanism_step_block: 0,
        first_pending_commit_block: vec![None; n],
    }
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("epoch");
    group.sample_size(10);
    for (n, v) in [(256usize, 64usize), (4096, 128)] {
        let inp = input(n, v);
        for yuma3 in [false, true] {
            let hp = Hyperparameters {
                max_allowed_validators: v as u16,
                max_allowed_uids: n as u16,
                yuma3,
                ..Default::default()
            };
            let id = BenchmarkId::new(if yuma3 { "yuma3" } else { "classic" }, format!("{n}x{v}"));
            group.bench_function(id, |b| b.iter(|| epoch(&hp, &inp, 1_000_000_000)));
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
