#!/usr/bin/env python3
"""Prompt-processing and decode speed of samtal against llama.cpp on the same GGUF, same threads.

llama.cpp is the one vendored by the pinned llama-cpp-python, built from source with native CPU
flags (scripts/bench-env.sh). The two run alternately, A B A B ..., each round a fresh process of
each (so load time and peak RSS are per process); every figure is the median over the rounds and
each samtal/llama.cpp ratio is taken per pair of figures.

    bash scripts/bench-env.sh                       # once: builds llama.cpp (~20 min on 2 cores)
    cargo build --release -p samtal-cli
    .venv-bench/bin/python scripts/bench_vs_llama_cpp.py --rounds 5 --threads 2

Notes on fairness: both sides time the same token counts from an empty context (random token ids),
after one warm-up; llama.cpp's peak RSS includes the Python interpreter that hosts it (about 30 MB,
printed as "python baseline" for reference).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

LLAMA_CPP_RUNNER = r"""
import json, random, resource, sys, time
from llama_cpp import Llama
model, threads, pp, tg, reps = sys.argv[1], int(sys.argv[2]), [int(x) for x in sys.argv[3].split(",")], int(sys.argv[4]), int(sys.argv[5])
base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t = time.perf_counter()
llm = Llama(model_path=model, n_threads=threads, n_threads_batch=threads, n_ctx=max(pp + [tg]) + 16,
            n_batch=max(pp + [tg]), verbose=False)
load_ms = (time.perf_counter() - t) * 1e3
vocab = llm.n_vocab()
rng = random.Random(0)
def toks(n):
    return [rng.randrange(vocab) for _ in range(n)]
def run_pp(n):
    llm.reset(); ids = toks(n); t = time.perf_counter(); llm.eval(ids); return n / (time.perf_counter() - t)
def run_tg(n):
    llm.reset(); ids = toks(n); t = time.perf_counter()
    for i in ids:
        llm.eval([i])
    return n / (time.perf_counter() - t)
out = {"pp": {}, "tg": {}, "load_ms": load_ms}
for n in pp:
    run_pp(n)
    out["pp"][str(n)] = sorted(run_pp(n) for _ in range(reps))[reps // 2]
run_tg(16)
out["tg"][str(tg)] = sorted(run_tg(tg) for _ in range(reps))[reps // 2]
out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
out["python_baseline_rss_mb"] = base_rss
print(json.dumps(out))
"""


def default_model():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "samtal", "models", "SmolLM2-135M-Instruct.Q4_1.gguf")


def run_samtal(args):
    cmd = [args.samtal, "bench", "--json", "--model", args.model, "--threads", str(args.threads),
           "--prompt-tokens", args.pp, "--gen-tokens", str(args.tg), "--repetitions", str(args.reps)]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def run_llama(args):
    cmd = [sys.executable, "-c", LLAMA_CPP_RUNNER, args.model, str(args.threads), args.pp,
           str(args.tg), str(args.reps)]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def figures(r):
    f = {f"pp{k}": v for k, v in r["pp"].items()}
    f.update({f"tg{k}": v for k, v in r["tg"].items()})
    f["load_ms"] = r["load_ms"]
    f["peak_rss_mb"] = r["peak_rss_mb"]
    return f


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=default_model())
    ap.add_argument("--samtal", default="target/release/samtal")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--reps", type=int, default=3, help="repetitions inside each process (median)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--pp", default="128,512")
    ap.add_argument("--tg", type=int, default=128)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    rounds = []
    for i in range(args.rounds):
        a = figures(run_samtal(args))
        b = figures(run_llama(args))
        rounds.append((a, b))
        print(f"round {i + 1}: samtal {a}  llama.cpp {b}", file=sys.stderr)

    keys = list(rounds[0][0].keys())
    table = {}
    for k in keys:
        sa = statistics.median(a[k] for a, _ in rounds)
        lb = statistics.median(b[k] for _, b in rounds)
        ratio = statistics.median(a[k] / b[k] for a, b in rounds)
        table[k] = {"samtal": sa, "llama.cpp": lb, "ratio": ratio}
    if args.json:
        print(json.dumps(table, indent=2))
        return
    unit = {"load_ms": "ms", "peak_rss_mb": "MiB"}
    print(f"{'figure':<14}{'samtal':>12}{'llama.cpp':>12}{'samtal/llama.cpp':>20}")
    for k, v in table.items():
        u = unit.get(k, "tok/s")
        print(f"{k + ' (' + u + ')':<14}{v['samtal']:>12.1f}{v['llama.cpp']:>12.1f}{v['ratio']:>20.2f}")
    print(f"\nmedians of {args.rounds} alternating rounds, {args.threads} threads, model {os.path.basename(args.model)}")


if __name__ == "__main__":
    main()
