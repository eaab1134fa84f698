#!/usr/bin/env bash
# Runs every test on a fresh machine with Rust and Python 3: creates the interop venv
# (bittensor 10.5.0, no chain contacted) if missing, then the whole workspace's tests.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import bittensor' 2>/dev/null; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check bittensor==10.5.0
fi
export SALON_PYTHON="$root/.venv/bin/python"
cargo test --workspace --all-targets "$@"
