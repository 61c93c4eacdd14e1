#!/usr/bin/env bash
# Retrains the shipped prompt-injection detector, crates/guard/model/detector.bin.
#
#   scripts/train_guard.sh GUARD_DATA_DIR
#
# GUARD_DATA_DIR holds the project's guard data set (train.jsonl, validation.jsonl,
# dev_ood.jsonl; see its README). The regression sees train.jsonl only; the thresholds are set on
# the benign rows of validation.jsonl and dev_ood.jsonl (1.4% false positives on each), and the
# Platt scaling on validation.jsonl. Training is deterministic (L-BFGS from zero): the same data
# give the same file.
set -euo pipefail
data=${1:?usage: scripts/train_guard.sh GUARD_DATA_DIR}
cd "$(dirname "$0")/.."
cargo build --release -p samtal-cli
target/release/samtal guard train \
    --train "$data/train.jsonl" \
    --validation "$data/validation.jsonl" \
    --calibration "$data/dev_ood.jsonl" \
    --out crates/guard/model/detector.bin
