#!/usr/bin/env python3
"""Python-side speed: decode tokens/s of `samtal.Model.generate` against the CLI (`samtal
generate`) on the same prompt and GGUF, and against llama-cpp-python when it is installed in the
same venv (built from the pinned sdist: `pip install .llama.cpp/src` after
scripts/build-llama-server.sh fetched it). Greedy, the end-of-generation tokens banned so that
every run makes exactly --tokens tokens, 2 threads; alternating rounds, medians. Not a test:
figures for the README.

    .venv-python/bin/python scripts/bench_python.py MODEL.gguf [--rounds 5] [--tokens 128]

Decode speed is each engine's own count: samtal's timings (generated tokens over the time from
the first to the last of them) from the Python summary and from the CLI's `--json`, the same
computation on both faces; llama.cpp's perf counters (n_eval over t_eval). The CLI runs a fresh
process per round (its model load is left out), the Python package and llama-cpp-python keep
their model loaded, as a notebook does.
"""
import argparse
import json
import os
import statistics
import subprocess
import time

import samtal

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROMPT = "The history of the city of Stockholm begins"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--tokens", type=int, default=128)
    a = ap.parse_args()
    m = samtal.Model(a.model, threads=2)
    eos_ids = m.eog_ids
    bias = {str(i): -100 for i in eos_ids}
    m.generate(PROMPT, max_new_tokens=8, temperature=0)
    binary = os.path.join(ROOT, "target", "release", "samtal")

    def py_round():
        m.generate(PROMPT, max_new_tokens=a.tokens, temperature=0, logit_bias=bias)
        assert m.last["completion_tokens"] == a.tokens
        return m.last["tokens_per_s"]

    def cli_round():
        args = [binary, "generate", "--model", a.model, "--raw", "--json", "-t", "2",
                "--temperature", "0", "--max-new-tokens", str(a.tokens)]
        for i in eos_ids:
            args += ["--logit-bias", f"{i}=-100"]
        out = json.loads(subprocess.run(args + [PROMPT], capture_output=True, text=True,
                                        check=True).stdout)
        t = out["timings"]
        assert t["generated_tokens"] == a.tokens
        # Timings::tokens_per_s, as the Python summary computes it.
        return t["generated_tokens"] / (t["generate_ms"] / 1e3)

    sides = {"samtal Python (Model.generate)": py_round, "samtal CLI (samtal generate)": cli_round}
    try:
        from llama_cpp import Llama
        llm = Llama(model_path=a.model, n_threads=2, n_threads_batch=2, n_ctx=1024,
                    verbose=False)
        llm(PROMPT, max_tokens=8, temperature=0)

        import llama_cpp

        def llama_round():
            llama_cpp.llama_perf_context_reset(llm._ctx.ctx)
            llm.reset()
            out = llm(PROMPT, max_tokens=a.tokens, temperature=0,
                      logit_bias={i: -100.0 for i in eos_ids})
            assert out["usage"]["completion_tokens"] == a.tokens
            perf = llama_cpp.llama_perf_context(llm._ctx.ctx)
            return perf.n_eval / (perf.t_eval_ms / 1e3)
        sides["llama-cpp-python 0.3.36 (sdist, native)"] = llama_round
    except ImportError:
        print("llama-cpp-python is not installed in this venv: its row is left out")
    runs = {k: [] for k in sides}
    for _ in range(a.rounds):
        for k, f in sides.items():
            runs[k].append(f())
    print(f"{os.path.basename(a.model)}, {a.tokens} tokens, greedy, 2 threads, "
          f"{a.rounds} alternating rounds, medians")
    base = statistics.median(runs["samtal CLI (samtal generate)"])
    print("| | decode tokens/s | vs the CLI |")
    print("|---|---:|---:|")
    for k, v in runs.items():
        med = statistics.median(v)
        print(f"| {k} | {med:.1f} | {med / base:.3f} |")


if __name__ == "__main__":
    main()
