#!/usr/bin/env bash
# Frechet distance: Salon (faer) vs the FAD peers' numpy/scipy code on the same .npy embeddings
# (issue 6, item 7). scripts/frechet_bench.py writes float32 [N, d] sets for d = 128 and 512 (a
# well-conditioned pair and a near-singular one for each d), then each round times both sides
# (statistics of both sets, distance from the statistics; median of RUNS after 2 warm-ups) and the
# summary gives the median over rounds and the distances' agreement. Salon's covariance product and
# faer's decompositions run on rayon (every core, RAYON_NUM_THREADS to limit); numpy/scipy's
# OpenBLAS uses every core unless OPENBLAS_NUM_THREADS says otherwise.
# Python packages: numpy, scipy (a venv at $FRECHET_VENV, default /work/venv-frechet, created if
# missing). Usage: bench/frechet.sh [ROUNDS=3] [RUNS=10] [N=1600]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}" runs="${2:-10}" n="${3:-1600}"
venv="${FRECHET_VENV:-/work/venv-frechet}"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import numpy, scipy' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check numpy scipy
fi
py="$venv/bin/python"
cargo build --release -q -p salon-eval --example frechet_bench
bin="${CARGO_TARGET_DIR:-target}/release/examples/frechet_bench"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$py" scripts/frechet_bench.py write "$work" --n "$n" --dims 128,512
lines="$work/lines.jsonl"
for round in $(seq "$rounds"); do
  for set in 128 512 128_singular 512_singular; do
    "$py" scripts/frechet_bench.py time "$work/a$set.npy" "$work/b$set.npy" --runs "$runs" | tee -a "$lines"
    "$bin" "$work/a$set.npy" "$work/b$set.npy" --runs "$runs" | tee -a "$lines"
  done
done
"$py" -c 'import numpy, scipy; print("numpy", numpy.__version__, "scipy", scipy.__version__)'
"$py" scripts/frechet_bench.py summary "$lines"
