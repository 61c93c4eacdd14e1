#!/usr/bin/env python3
"""Embedding speed: `samtal embed` (8-bit and f32) against sentence-transformers on torch (CPU)
and, when it is built (scripts/build-llama-server.sh), llama.cpp's `llama-server --embeddings`
on GGUFs of the same model made by llama.cpp's own converter (f32 and q8_0, the same two
arithmetics). The same 1,000 passages of about 100 tokens, batch 32, 2 threads, alternating
rounds, medians; each side times its own encoding (model loading excluded: llama-server is
started, warmed up and then timed over HTTP, which adds little next to the encoding), and the
peak RSS of each whole process.

    .venv-ref/bin/python scripts/bench_embed.py MODEL_FOLDER [--rounds 3]

Not a test: it prints figures for the README.
"""
import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORDS = ("river town market evening engine garden winter bridge letter window music station "
         "harbour morning forest library festival kitchen mountain journey lantern orchard "
         "village tower silver ferry meadow thunder copper island shadow canal").split()

ST = r'''
import sys, time, torch
torch.set_num_threads(2)
from sentence_transformers import SentenceTransformer
texts = open(sys.argv[2]).read().splitlines()
m = SentenceTransformer(sys.argv[1], device="cpu")
m.encode(texts[:32], batch_size=32)
t = time.perf_counter()
m.encode(texts, batch_size=32)
ms = (time.perf_counter() - t) * 1e3
print(f"embedded {len(texts)} texts in {ms:.1f} ms", file=sys.stderr)
'''


def passages(n=1000):
    rng = random.Random(7)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(80, 95))) + "." for _ in range(n)]


def timed(cmd):
    r = subprocess.run(["/usr/bin/time", "-v"] + cmd, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit(r.stderr)
    ms = float(re.search(r"in ([0-9.]+) ms", r.stderr).group(1))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1)) / 1024
    return ms, rss


LLAMA_SERVER = os.path.join(ROOT, ".llama.cpp/build/bin/llama-server")
CONVERT = os.path.join(ROOT, ".llama.cpp/src/vendor/llama.cpp/convert_hf_to_gguf.py")


def llama_round(gguf, texts):
    """Starts llama-server on `gguf`, warms it, times the passages in requests of 32; returns
    (ms, peak RSS MiB)."""
    import json
    import socket
    import time
    import urllib.request
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([LLAMA_SERVER, "-m", gguf, "--embeddings", "-t", "2", "-tb", "2",
                             "--host", "127.0.0.1", "--port", str(port), "-np", "32",
                             "-c", "8192", "-b", "8192", "-ub", "8192"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1/embeddings"

    def post(batch):
        body = json.dumps({"input": batch, "model": "m"}).encode()
        req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=600) as r:
            return json.load(r)
    try:
        for _ in range(600):
            try:
                post(texts[:32])
                break
            except Exception:
                time.sleep(0.1)
        t = time.perf_counter()
        for i in range(0, len(texts), 32):
            post(texts[i:i + 32])
        ms = (time.perf_counter() - t) * 1e3
        with open(f"/proc/{proc.pid}/status") as f:
            rss = int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1)) / 1024
        return ms, rss
    finally:
        proc.terminate()
        proc.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    texts = passages()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "passages.txt")
        with open(path, "w") as f:
            f.write("\n".join(texts) + "\n")
        st_script = os.path.join(tmp, "st.py")
        with open(st_script, "w") as f:
            f.write(ST)
        samtal = [os.path.join(ROOT, "target/release/samtal"), "embed", "--model", a.model,
                  "--threads", "2", "--stats"]
        sides = {
            "samtal embed (q8_0, the default)": lambda: timed(
                ["sh", "-c", f'exec "$0" "$@" < {path}'] + samtal + ["--dtype", "q8_0"]),
            "samtal embed --dtype f32": lambda: timed(
                ["sh", "-c", f'exec "$0" "$@" < {path}'] + samtal + ["--dtype", "f32"]),
            "sentence-transformers (torch, f32)": lambda: timed(
                [sys.executable, st_script, a.model, path]),
        }
        if os.path.exists(LLAMA_SERVER) and os.path.exists(CONVERT):
            env = dict(os.environ, PYTHONPATH=os.path.join(os.path.dirname(CONVERT), "gguf-py"))
            for outtype in ["q8_0", "f32"]:
                gguf = os.path.join(tmp, f"model-{outtype}.gguf")
                subprocess.run([sys.executable, CONVERT, a.model, "--outtype", outtype,
                                "--outfile", gguf], check=True, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                sides[f"llama-server --embeddings ({outtype} GGUF)"] = (
                    lambda g=gguf: llama_round(g, texts))
        runs = {name: [] for name in sides}
        for _ in range(a.rounds):
            for name, run in sides.items():
                runs[name].append(run())
    n = len(texts)
    print(f"{n} passages, batch 32, 2 threads, {a.rounds} alternating rounds, medians")
    st = statistics.median(n / (ms / 1e3) for ms, _ in runs["sentence-transformers (torch, f32)"])
    print("| | texts/s | vs sentence-transformers | peak RSS |")
    print("|---|---:|---:|---:|")
    for name, rs in runs.items():
        speed = statistics.median(n / (ms / 1e3) for ms, _ in rs)
        rss = statistics.median(r for _, r in rs)
        print(f"| {name} | {speed:.1f} | {speed / st:.2f}x | {rss:.0f} MiB |")

if __name__ == "__main__":
    main()
