#!/usr/bin/env python3
"""The notebook's three Paris questions, asked as a new user would, over several seeds.

    python3 scripts/chat_paris_check.py [--seeds 1,2,3,4,5,6] [--format template|transcript]
                                        [--llama-cpp] [-- EXTRA SAMTAL CHAT FLAGS]

For each seed it runs `samtal chat --json` on "Who are you?", "List 5 places I should visit in
Paris.", "Tell me more about the third place." and judges the third answer: OK when the first
place of the second answer's numbered list that it names is the third one; MIXED when it names
the third place after another one; NO when it does not name it. The judge is a heuristic (it reads
the list's "3." line and looks for its distinctive words), so read the printed answers too.

With --llama-cpp it asks llama.cpp the same questions through llama-cpp-python's
create_chat_completion at its defaults (temperature 0.2, top-p 0.95, top-k 40, min-p 0.05), which
is how the default model's own Python package runs it (needs .venv-bench: scripts/bench-env.sh).
"""
import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "Who are you?",
    "List 5 places I should visit in Paris.",
    "Tell me more about the third place.",
]
GENERIC = {"the", "museum", "cathedral", "tower", "place", "palace", "garden", "gardens",
           "basilica", "church"}


def list_items(answer):
    out = []
    for m in re.finditer(r"(?:^|\n)\s*\**\s*(\d)[.):]\s*\**\s*([^\n:–—(]+)", answer):
        out.append((int(m.group(1)), m.group(2).strip().strip("*").strip()))
    return out


def keywords(name):
    words = [w.lower() for w in re.findall(r"[A-Za-zÀ-ÿ'-]{4,}", name) if w.lower() not in GENERIC]
    return words or [name.lower()]


def judge(second, third):
    items = list_items(second)
    named = dict(items)
    if 3 not in named:
        return None, "NOLIST"
    text = third.lower()
    first_at = {}
    for n, name in items:
        hits = [text.find(k) for k in keywords(name) if k in text]
        if hits:
            first_at[n] = min(hits)
    if 3 not in first_at:
        return named[3], "NO"
    first = min(first_at, key=first_at.get)
    return named[3], "OK" if first == 3 else f"MIXED(first={first})"


def samtal(seed, fmt, extra, binary):
    r = subprocess.run(
        [binary, "chat", "--no-save", "--format", fmt, "--seed", str(seed), "--json", *extra],
        input="\n".join(QUESTIONS) + "\n", capture_output=True, text=True, check=True)
    return [json.loads(line)["text"] for line in r.stdout.splitlines() if line.startswith("{")]


def llama_cpp_runner(model):
    from llama_cpp import Llama
    llm = Llama(model_path=model, verbose=False, n_threads=2, n_ctx=2048)

    def ask(seed):
        messages, answers = [], []
        for q in QUESTIONS:
            messages.append({"role": "user", "content": q})
            r = llm.create_chat_completion(messages=messages, seed=seed, max_tokens=256)
            a = r["choices"][0]["message"]["content"]
            answers.append(a)
            messages.append({"role": "assistant", "content": a})
        return answers
    return ask


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="1,2,3,4,5,6")
    ap.add_argument("--format", default="template", choices=["template", "transcript"])
    ap.add_argument("--llama-cpp", action="store_true")
    ap.add_argument("--bin", default=str(ROOT / "target/release/samtal"))
    ap.add_argument("--model", default=os.path.expanduser(
        "~/.cache/samtal/models/SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("extra", nargs="*", help="more `samtal chat` flags (after --)")
    a = ap.parse_args()
    seeds = [int(s) for s in a.seeds.split(",")]
    runs = [("samtal " + a.format, lambda s: samtal(s, a.format, a.extra, a.bin))]
    if a.llama_cpp:
        runs.append(("llama.cpp (llama-cpp-python chat defaults)", llama_cpp_runner(a.model)))
    for name, ask in runs:
        ok = 0
        print(f"## {name}")
        for s in seeds:
            answers = ask(s)
            third, verdict = judge(answers[1], answers[2])
            ok += verdict == "OK"
            print(f"seed {s}: {verdict} (third place: {third})")
            for q, ans in zip(QUESTIONS, answers):
                print(f"  {q}\n    {ans[:300]!r}")
        print(f"{name}: the third answer is about the third place in {ok} of {len(seeds)} runs\n")


if __name__ == "__main__":
    sys.exit(main())
