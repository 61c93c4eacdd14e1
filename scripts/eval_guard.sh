#!/usr/bin/env bash
# The detector's figures on every file of the guard data set, as the README's Safety section
# reports them, and the latency benchmark.
#
#   scripts/eval_guard.sh GUARD_DATA_DIR
set -euo pipefail
data=${1:?usage: scripts/eval_guard.sh GUARD_DATA_DIR}
cd "$(dirname "$0")/.."
cargo build --release -p samtal-cli
bin=target/release/samtal
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# NotInject: benign prompts full of trigger words, a subset of dev_ood.
python3 -c '
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    if json.loads(line)["source"].startswith("notinject"):
        sys.stdout.write(line)
' "$data/dev_ood.jsonl" > "$tmp/notinject.jsonl"
for f in "$data/dev_ood.jsonl" "$tmp/notinject.jsonl" "$data/test.jsonl" "$data/validation.jsonl" \
         "$data/track_jailbreakbench.jsonl" "$data/track_bipia_indirect.jsonl"; do
    "$bin" guard eval "$f"
    echo
done
python3 scripts/bench_guard.py "$data/dev_ood.jsonl" --n 300
