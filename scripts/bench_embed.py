#!/usr/bin/env python3
"""Embedding speed: `samtal embed` against sentence-transformers on torch (CPU), the same
1,000 passages of about 100 tokens, batch 32, 2 threads, alternating rounds, medians; each
side times its own encoding (model loading excluded), and the peak RSS of each whole process.

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
        ours, theirs = [], []
        for _ in range(a.rounds):
            ours.append(timed(["sh", "-c", f'exec "$0" "$@" < {path}'] + samtal))
            theirs.append(timed([sys.executable, st_script, a.model, path]))
    n = len(texts)
    o = statistics.median(n / (ms / 1e3) for ms, _ in ours)
    t = statistics.median(n / (ms / 1e3) for ms, _ in theirs)
    print(f"{n} passages, batch 32, 2 threads, {a.rounds} alternating rounds, medians")
    print(f"samtal embed:          {o:.1f} texts/s, peak RSS {statistics.median(r for _, r in ours):.0f} MiB")
    print(f"sentence-transformers: {t:.1f} texts/s, peak RSS {statistics.median(r for _, r in theirs):.0f} MiB")
    print(f"ratio: {o / t:.2f}")


if __name__ == "__main__":
    main()
