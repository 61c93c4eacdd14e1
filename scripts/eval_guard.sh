#!/usr/bin/env bash
# The detector's figures, as the README's Safety section reports them, and its latency:
#
#   scripts/eval_guard.sh GUARD_DATA_DIR
#
# Each set is scored by the shipped detector (encoder, n-gram model and rules, combined), with
# what it flags per source, and, for comparison, by the n-gram model and rules alone
# (--no-encoder). The out-of-distribution set is built by scripts/guard_ood.py from registry
# packages nothing was trained, calibrated or tuned on (and whose rows were never read while
# building the guard).
set -euo pipefail
data=${1:?usage: scripts/eval_guard.sh GUARD_DATA_DIR}
cd "$(dirname "$0")/.."
cargo build --release -p samtal-cli
bin=target/release/samtal
base=$("$bin" pull guard)
[ -f target/guard-ood/ood.jsonl ] || python3 scripts/guard_ood.py target/guard-ood --data "$data"
[ -f target/guard-data/calibration.jsonl ] || python3 scripts/guard_data.py target/guard-data --data "$data"
for f in target/guard-ood/ood.jsonl "$data/test.jsonl" "$data/dev_ood.jsonl" \
         "$data/track_jailbreakbench.jsonl" "$data/track_bipia_indirect.jsonl" \
         target/guard-data/calibration.jsonl; do
    echo "== $(basename "$f")"
    "$bin" guard eval --by-source --encoder-base "$base" "$f"
    echo "-- the n-gram model and rules alone:"
    "$bin" guard eval --no-encoder "$f" | sed -n 2,3p
    echo
done
