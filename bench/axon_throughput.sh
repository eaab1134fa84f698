#!/usr/bin/env bash
# Signed-request throughput and latency: Salon axon vs Python bittensor 10.5.0 axon, same
# synapse (Echo), same Rust load generator, same run. Usage: bench/axon_throughput.sh [CONC] [SECS]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --release -q -p salon-wire --example axon_throughput -- "${1:-32}" "${2:-10}"
