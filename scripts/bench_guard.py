#!/usr/bin/env python3
"""Latency of `samtal guard check` as a user runs it: one process per text.

Texts come from a JSON Lines file (objects with "text"); those longer than --max-tokens
(counted as words * 1.3, a fair proxy for BPE tokens on English) are skipped. Prints the median
and p95 of the wall time per call, and the in-process figures of `samtal guard eval` on the same
file for comparison.

    python3 scripts/bench_guard.py DATA/dev_ood.jsonl --n 300
"""
import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--max-tokens", type=int, default=256)
    ap.add_argument("--bin", default=str(ROOT / "target/release/samtal"))
    a = ap.parse_args()
    texts = []
    for line in open(a.file, encoding="utf-8"):
        t = json.loads(line)["text"]
        if len(t.split()) * 1.3 <= a.max_tokens:
            texts.append(t)
        if len(texts) >= a.n:
            break
    # One warm-up call (page cache).
    subprocess.run([a.bin, "guard", "check", "--json", "warm up"], check=True, capture_output=True)
    ms = []
    for t in texts:
        t0 = time.perf_counter()
        subprocess.run([a.bin, "guard", "check", "--json", "--", t], check=True, capture_output=True)
        ms.append((time.perf_counter() - t0) * 1e3)
    ms.sort()
    p95 = ms[max(0, int(round(0.95 * len(ms))) - 1)]
    print(f"samtal guard check, one process per text: {len(ms)} texts up to {a.max_tokens} tokens, "
          f"median {statistics.median(ms):.2f} ms, p95 {p95:.2f} ms")
    ev = subprocess.run([a.bin, "guard", "eval", "--json", a.file], check=True, capture_output=True, text=True)
    e = json.loads(ev.stdout)
    print(f"in process (guard eval, all {e['n']} texts): median {e['latency_ms_median']:.3f} ms, "
          f"p95 {e['latency_ms_p95']:.3f} ms")


if __name__ == "__main__":
    sys.exit(main())
