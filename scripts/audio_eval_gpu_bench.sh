#!/usr/bin/env bash
# BittAudio's model metrics side by side on one GPU (issue 6, item 7): Salon (candle, CUDA, fp32; the
# eval_bench example of salon-eval) vs the Python pipeline of shared/bench/audio_eval_py.py (torchvggish +
# hear21passt + transformers CLAP, fp32; scripts/audio_eval_py_peer.py), the same random weights of the
# released shapes (VGGish, passt_s_swa_p16_128_ap476, laion/larger_clap_music), 15 s clips: one clip fully
# scored and a batch of 10, models loaded once. One JSON line per measurement.
#
#   scripts/audio_eval_gpu_bench.sh build   # on the build machine (no GPU): CUDA toolchain from pip, then
#                                           # cargo build --release -p salon-eval --features cuda,salon-engines/cuda
#                                           # --example eval_bench -> target/gpu-bench-eval/eval_bench.xz
#                                           # (xz: 55 MiB of mostly PTX -> 7 MiB, the carried tree's limit is
#                                           # 64 MiB), and the Python packages the GPU machine lacks ->
#                                           # target/gpu-bench-eval/wheels
#   scripts/audio_eval_gpu_bench.sh run     # on the GPU machine (PyTorch + transformers, no Rust, no network;
#                                           # carry target/gpu-bench-eval there, it is git-ignored)
#   scripts/audio_eval_gpu_bench.sh profile MODEL [DIR]
#                                           # after a run: Nsight Compute's time for every kernel of one
#                                           # model's batch call (vggish, passt or clap) -> DIR/ncu_MODEL.csv,
#                                           # and the kernels summed by name, largest first
#
# Environment: CLIPS (default 10), ITERS (default 10), CUDA_DIR (build: where the pip CUDA wheels go, default
# /work/cuda13), WORK (run: scratch for the weights, default /tmp/eval-bench), SKIP_PY=1 (run: Salon only),
# SKIP_SALON=1 (run: Python only), SALON_DEVICE (run: cuda, or cpu for a CPU figure of the same binary),
# SALON_FLAGS (run: more eval_bench flags, e.g. --tf32 or --precision f16).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT_DIR=target/gpu-bench-eval
CLIPS=${CLIPS:-10}
ITERS=${ITERS:-10}

build() {
    # shellcheck source=scripts/cuda_toolchain.sh
    . scripts/cuda_toolchain.sh
    cuda_env "${CUDA_DIR:-/work/cuda13}"
    # salon-engines/cuda: eval_bench opens the device as the validator does (device_by_name).
    cargo build --release -p salon-eval --features cuda,salon-engines/cuda --example eval_bench
    mkdir -p "$OUT_DIR"
    local bin="${CARGO_TARGET_DIR:-target}/release/examples/eval_bench"
    strip -o "$bin.stripped" "$bin"
    ls -la "$bin.stripped"
    xz -T2 -6 -c "$bin.stripped" >"$OUT_DIR/eval_bench.xz"
    rm -f "$OUT_DIR/eval_bench"
    wheels
    ls -la "$OUT_DIR" "$OUT_DIR/wheels"
    du -sh "$OUT_DIR"
}

# The reference code's packages that the GPU machine lacks (shared/reference/ml-stack.md and the device
# notes' package list): hear21passt (wheel), torchvggish (sdist only: built into a wheel here), and what
# torchvggish imports: resampy (numba is there), soundfile with cffi (CPython 3.10-3.13; 3.12 there) and
# pycparser. timm, torchaudio and numba are there.
wheels() {
    local w="$OUT_DIR/wheels"
    mkdir -p "$w"
    python3 -m pip download --no-deps -d "$w" hear21passt==0.0.26 resampy soundfile pycparser
    python3 -m pip wheel --no-deps -w "$w" torchvggish==0.2
    for py in 3.10 3.11 3.12 3.13; do
        python3 -m pip download --no-deps --only-binary=:all: --platform manylinux2014_x86_64 \
            --python-version "$py" -d "$w" cffi
    done
}

run() {
    local work=${WORK:-/tmp/eval-bench}
    local w="$OUT_DIR/wheels"
    mkdir -p "$work"
    local site
    site=$(python3 -c 'import nvidia, os; print(os.path.dirname(nvidia.__path__[0]))')
    export LD_LIBRARY_PATH="$site/nvidia/cu13/lib:${LD_LIBRARY_PATH:-}"
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
    # Into a folder of its own (the machine's Python may be read-only), put first on PYTHONPATH; --no-deps:
    # nothing the machine has is replaced.
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$work/site" \
        --find-links "$w" hear21passt torchvggish resampy soundfile cffi pycparser
    export PYTHONPATH="$work/site${PYTHONPATH:+:$PYTHONPATH}"
    python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' \
        "$OUT_DIR/eval_bench.xz" "$work/eval_bench"
    chmod +x "$work/eval_bench"
    # Neither pipeline calls resampy (16 kHz goes in), soundfile (no files are read) or timm (no download),
    # but torchvggish and hear21passt import them: should one still fail to import (numba, libsndfile or
    # torchvision not as expected), a stand-in that raises on use takes its place.
    local stubs="$work/py-stubs"
    rm -rf "$stubs"
    for mod in resampy soundfile; do
        if ! python3 -c "import $mod" 2>/dev/null; then
            mkdir -p "$stubs"
            printf 'def __getattr__(name):\n    raise ImportError("%s stand-in: " + name)\n' "$mod" >"$stubs/$mod.py"
            echo "{\"note\": \"$mod does not import here; a stand-in is used (not called)\"}"
        fi
    done
    if ! python3 -c "from timm.models._hub import download_cached_file" 2>/dev/null \
        && ! python3 -c "from timm.models.hub import download_cached_file" 2>/dev/null; then
        mkdir -p "$stubs/timm/models"
        : >"$stubs/timm/__init__.py"
        : >"$stubs/timm/models/__init__.py"
        printf 'def download_cached_file(*a, **k):\n    raise ImportError("timm stand-in")\n' \
            >"$stubs/timm/models/_hub.py"
        echo '{"note": "timm does not import here; a stand-in is used (not called)"}'
    fi
    if [ -d "$stubs" ]; then export PYTHONPATH="$stubs:$PYTHONPATH"; fi
    if [ ! -e "$work/clap/model.safetensors" ]; then
        local t=$SECONDS
        python3 scripts/audio_eval_random_weights.py "$work"
        echo "{\"step\": \"random weights\", \"wall_s\": $((SECONDS - t))}"
    fi
    if [ "${SKIP_SALON:-0}" != 1 ]; then
        "$work/eval_bench" --vggish "$work/vggish.pth" --passt "$work/passt.pt" --clap "$work/clap" \
            --device "${SALON_DEVICE:-cuda}" --clips "$CLIPS" --iters "$ITERS" ${SALON_FLAGS:-}
    fi
    if [ "${SKIP_PY:-0}" != 1 ]; then
        python3 scripts/audio_eval_py_peer.py --clips "$CLIPS" --iters "$ITERS"
    fi
}

# Kernel times of one model's batch call under Nsight Compute (eval_bench --profile brackets the call with
# cuProfilerStart/Stop). ncu replays each kernel alone, so the sum is GPU time without overlap or launch gaps;
# the call's plain wall time is printed first for comparison.
profile() {
    local model=${1:?usage: $0 profile vggish|passt|clap [DIR]} dir=${2:-.} work=${WORK:-/tmp/eval-bench}
    local site ncu
    site=$(python3 -c 'import nvidia, os; print(os.path.dirname(nvidia.__path__[0]))')
    export LD_LIBRARY_PATH="$site/nvidia/cu13/lib:${LD_LIBRARY_PATH:-}"
    ncu=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu /usr/local/cuda/bin/ncu 2>/dev/null | head -1)
    local args=(--vggish "$work/vggish.pth" --passt "$work/passt.pt" --clap "$work/clap" --device cuda
        --clips "$CLIPS" --profile "$model" ${SALON_FLAGS:-})
    "$work/eval_bench" "${args[@]}"
    "$ncu" --clock-control none --profile-from-start off --metrics gpu__time_duration.sum --csv \
        "$work/eval_bench" "${args[@]}" >"$dir/ncu_$model.csv"
    python3 - "$dir/ncu_$model.csv" <<'PY'
import collections, csv, json, sys
rows = [r for r in csv.reader(open(sys.argv[1])) if len(r) > 10]
head = rows[0]
name, unit, value = head.index("Kernel Name"), head.index("Metric Unit"), head.index("Metric Value")
scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3, "nsecond": 1e-6, "usecond": 1e-3, "msecond": 1.0, "second": 1e3}
by = collections.defaultdict(lambda: [0, 0.0])
for r in rows[1:]:
    k = r[name].split("(")[0][:90]
    by[k][0] += 1
    by[k][1] += float(r[value].replace(",", "")) * scale[r[unit]]
total = sum(v[1] for v in by.values())
print(json.dumps({"kernels": sum(v[0] for v in by.values()), "kernel_ms": round(total, 3)}))
for k, (n, ms) in sorted(by.items(), key=lambda kv: -kv[1][1])[:25]:
    print(json.dumps({"kernel": k, "launches": n, "ms": round(ms, 3), "share": round(ms / total, 3)}))
PY
}

case "${1:-}" in
    build) build ;;
    wheels) wheels ;;
    run) run ;;
    profile) shift; profile "$@" ;;
    *) echo "usage: $0 build|wheels|run|profile MODEL [DIR]" >&2; exit 2 ;;
esac
