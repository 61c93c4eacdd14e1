#!/usr/bin/env python3
"""Prompt-processing and decode speed of samtal against llama.cpp on the same GGUF, same threads.

llama.cpp is the one vendored by the pinned llama-cpp-python, built from source with native CPU
flags (scripts/bench-env.sh). The two run alternately, A B A B ..., each round a fresh process of
each (so load time and peak RSS are per process); every figure is the median over the rounds and
each samtal/llama.cpp ratio is taken per pair of figures.

    bash scripts/bench-env.sh                       # once: builds llama.cpp (~20 min on 2 cores)
    cargo build --release -p samtal-cli
    .venv-bench/bin/python scripts/bench_vs_llama_cpp.py --rounds 5 --threads 2 --busy --chat

--busy repeats the decode figure (tg) with one other process keeping a core busy (a Python
busy loop), A B A B again, and gives each engine's busy/idle ratio. --chat runs the scripted
20-turn conversation of scripts/bench_chat_ttft.py on both (samtal chat; llama.cpp through
llama-cpp-python's create_chat_completion, which reuses the cached prefix of the growing
history) and gives time to first token at turns 1 and 20.

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


LLAMA_CPP_CHAT_RUNNER = r"""
import json, sys, time
from llama_cpp import Llama
model, threads, max_new = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
questions = json.loads(sys.stdin.read())
llm = Llama(model_path=model, n_threads=threads, n_threads_batch=threads, n_ctx=8192, verbose=False)
messages, ttft = [], []
for q in questions:
    messages.append({"role": "user", "content": q})
    t = time.perf_counter(); first = None; reply = ""
    for chunk in llm.create_chat_completion(messages=messages, max_tokens=max_new, temperature=0.0,
                                            stream=True):
        delta = chunk["choices"][0]["delta"].get("content")
        if delta:
            if first is None:
                first = (time.perf_counter() - t) * 1e3
            reply += delta
    ttft.append(first if first is not None else (time.perf_counter() - t) * 1e3)
    messages.append({"role": "assistant", "content": reply})
print(json.dumps(ttft))
"""


def busy_loop():
    """One other process keeping a core busy."""
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def chat_ttft_samtal(args, questions):
    cmd = [args.samtal, "chat", "--json", "--no-save", "--temperature", "0", "--max-new-tokens",
           str(args.chat_tokens), "--threads", str(args.threads), "--model", args.model]
    out = subprocess.run(cmd, input="\n".join(questions) + "\n", capture_output=True, text=True,
                         check=True)
    return [json.loads(line)["ttft_ms"] for line in out.stdout.splitlines() if line.strip()]


def chat_ttft_llama(args, questions):
    cmd = [sys.executable, "-c", LLAMA_CPP_CHAT_RUNNER, args.model, str(args.threads),
           str(args.chat_tokens)]
    out = subprocess.run(cmd, input=json.dumps(questions), capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout)


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
    ap.add_argument("--busy", action="store_true", help="also decode with one core kept busy")
    ap.add_argument("--chat", action="store_true", help="also the 20-turn chat scenario")
    ap.add_argument("--chat-tokens", type=int, default=64, help="answer limit in --chat")
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
    extra = {}
    if args.busy:
        tg = f"tg{args.tg}"
        busy_rounds = []
        hog = busy_loop()
        try:
            for i in range(args.rounds):
                a = run_samtal(argparse.Namespace(**{**vars(args), "pp": "16"}))["tg"][str(args.tg)]
                b = run_llama(argparse.Namespace(**{**vars(args), "pp": "16"}))["tg"][str(args.tg)]
                busy_rounds.append((a, b))
                print(f"busy round {i + 1}: samtal {a:.1f}  llama.cpp {b:.1f}", file=sys.stderr)
        finally:
            hog.kill()
        sa = statistics.median(a for a, _ in busy_rounds)
        lb = statistics.median(b for _, b in busy_rounds)
        extra["busy"] = {
            "samtal": sa, "llama.cpp": lb, "ratio": statistics.median(a / b for a, b in busy_rounds),
            "samtal_busy_over_idle": sa / table[tg]["samtal"],
            "llama.cpp_busy_over_idle": lb / table[tg]["llama.cpp"],
        }
    if args.chat:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from bench_chat_ttft import QUESTIONS
        runs = {"samtal": [], "llama.cpp": []}
        for i in range(args.rounds):
            runs["samtal"].append(chat_ttft_samtal(args, QUESTIONS))
            runs["llama.cpp"].append(chat_ttft_llama(args, QUESTIONS))
            print(f"chat round {i + 1} done", file=sys.stderr)
        extra["chat"] = {}
        for name, rs in runs.items():
            first = statistics.median(r[0] for r in rs)
            last = statistics.median(r[-1] for r in rs)
            extra["chat"][name] = {"ttft_turn1_ms": first, "ttft_turn20_ms": last,
                                   "turn20_over_turn1": statistics.median(r[-1] / r[0] for r in rs)}
    if args.json:
        print(json.dumps({**table, **extra}, indent=2))
        return
    unit = {"load_ms": "ms", "peak_rss_mb": "MiB"}
    print(f"{'figure':<22}{'samtal':>12}{'llama.cpp':>12}{'samtal/llama.cpp':>20}")
    for k, v in table.items():
        u = unit.get(k, "tok/s")
        print(f"{k + ' (' + u + ')':<22}{v['samtal']:>12.1f}{v['llama.cpp']:>12.1f}{v['ratio']:>20.2f}")
    if "busy" in extra:
        v = extra["busy"]
        print(f"{'tg, 1 core busy':<22}{v['samtal']:>12.1f}{v['llama.cpp']:>12.1f}{v['ratio']:>20.2f}")
        print(f"{'  busy / idle':<22}{v['samtal_busy_over_idle']:>12.2f}{v['llama.cpp_busy_over_idle']:>12.2f}")
    if "chat" in extra:
        c = extra["chat"]
        for key, label in [("ttft_turn1_ms", "chat TTFT turn 1 (ms)"),
                           ("ttft_turn20_ms", "chat TTFT turn 20 (ms)"),
                           ("turn20_over_turn1", "  turn 20 / turn 1")]:
            print(f"{label:<22}{c['samtal'][key]:>12.2f}{c['llama.cpp'][key]:>12.2f}")
    print(f"\nmedians of {args.rounds} alternating rounds, {args.threads} threads, model {os.path.basename(args.model)}")


if __name__ == "__main__":
    main()
