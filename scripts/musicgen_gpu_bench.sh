#!/usr/bin/env bash
# MusicGen side by side on one GPU: Salon (candle, CUDA, fp16) vs transformers (PyTorch, fp16), the same
# random weights of the released musicgen-small and -medium shapes, batch 1 and 8, 750 new tokens (15 s,
# the figure of shared/reference/ml-stack.md), guidance 3, top-k 250. One JSON line per measurement.
#
#   scripts/musicgen_gpu_bench.sh build   # on the build machine (no GPU): CUDA toolchain from pip, then
#                                         # cargo build --release --features musicgen,cuda -> target/gpu-bench/
#   scripts/musicgen_gpu_bench.sh run     # on the GPU machine (PyTorch + transformers, no Rust needed;
#                                         # carry target/gpu-bench there, it is git-ignored)
#
# Environment: SIZES (default "small medium"), BATCHES (default "1,8"), TOKENS (default 750),
# CUDA_DIR (build: where the pip CUDA wheels go, default /work/cuda13), WORK (run: scratch, default /tmp/mg-bench),
# VARIANTS (run: space-separated Salon variants, each "default" or comma-separated VAR=VALUE settings, e.g.
# "SALON_MUSICGEN_FUSED=0,SALON_CUDA_EVENT_TRACKING=1 default"), SKIP_HF=1 (run: Salon only).
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${SIZES:-"small medium"}
BATCHES=${BATCHES:-1,8}
TOKENS=${TOKENS:-750}
VARIANTS=${VARIANTS:-default}

build() {
    # shellcheck source=scripts/cuda_toolchain.sh
    . scripts/cuda_toolchain.sh
    cuda_env "${CUDA_DIR:-/work/cuda13}"
    cargo build --release -p salon-engines --features musicgen,cuda --example musicgen_bench
    mkdir -p target/gpu-bench
    cp "${CARGO_TARGET_DIR:-target}/release/examples/musicgen_bench" target/gpu-bench/musicgen_bench
    strip target/gpu-bench/musicgen_bench || true
    ls -la target/gpu-bench/musicgen_bench
}

run() {
    local work=${WORK:-/tmp/mg-bench}
    mkdir -p "$work"
    local site
    site=$(python3 -c 'import nvidia, os; print(os.path.dirname(nvidia.__path__[0]))')
    export LD_LIBRARY_PATH="$site/nvidia/cu13/lib:${LD_LIBRARY_PATH:-}"
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
    for size in $SIZES; do
        local ckpt="$work/musicgen-$size"
        [ -e "$ckpt/config.json" ] || python3 scripts/musicgen_random_checkpoint.py "$size" "$ckpt" --fp16
        for variant in $VARIANTS; do
            local envs=()
            [ "$variant" = default ] || IFS=, read -r -a envs <<<"$variant"
            env "${envs[@]}" ./target/gpu-bench/musicgen_bench "$ckpt" --device cuda --dtype f16 --batch "$BATCHES" \
                --tokens "$TOKENS" --label "$size${envs[*]:+ ${envs[*]}}"
        done
        [ "${SKIP_HF:-0}" = 1 ] && continue
        python3 - "$ckpt" "$size" "$BATCHES" "$TOKENS" <<'PY'
import json, sys, time, torch
from transformers import MusicgenForConditionalGeneration
ckpt, size, batches, n_tok = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
m = MusicgenForConditionalGeneration.from_pretrained(ckpt, dtype=torch.float16).to("cuda").eval()
for bs in [int(b) for b in batches.split(",")]:
    ids = torch.randint(3, 60, (bs, 7), device="cuda"); att = torch.ones_like(ids)
    kw = dict(input_ids=ids, attention_mask=att, do_sample=True, top_k=250, guidance_scale=3.0,
              max_new_tokens=n_tok, min_new_tokens=n_tok)
    with torch.inference_mode():
        m.generate(**dict(kw, max_new_tokens=20, min_new_tokens=20))
        torch.cuda.synchronize(); t = time.time()
        out = m.generate(**kw)
        torch.cuda.synchronize(); dt = time.time() - t
    print(json.dumps({"impl": "transformers", "size": size, "dtype": "F16", "batch": bs, "new_tokens": n_tok,
                      "seconds_audio": round(out.shape[-1] / 32000, 2), "wall_s": round(dt, 2),
                      "ms_per_step": round(1000 * dt / n_tok, 2)}), flush=True)
PY
    done
}

case "${1:-}" in
    build) build ;;
    run) run ;;
    *) echo "usage: $0 build|run" >&2; exit 2 ;;
esac
