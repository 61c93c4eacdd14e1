#!/usr/bin/env python3
"""Time to first token per turn of a scripted 20-turn conversation with `samtal chat --json`.

A session prefills only what is new each turn (the user turn and the assistant header), so the
time to first token at turn 20 should stay close to turn 1's even though the prompt has grown.
Each run is a fresh process; figures are medians over --runs runs.

With --guard-compare, runs alternate between `--guard off` and `--guard flag` (the detector
with its encoder) and the script prints the median time to first token of each, turn by turn,
and their ratio: what the guard costs a turn, and whether that grows with the conversation.

    cargo build --release -p samtal-cli
    python3 scripts/bench_chat_ttft.py --runs 3 --threads 2
    python3 scripts/bench_chat_ttft.py --runs 5 --threads 2 --guard-compare
"""

import argparse
import json
import statistics
import subprocess

QUESTIONS = [
    "Who are you?",
    "List 5 places I should visit in Paris.",
    "Tell me more about the third place.",
    "What is the best time of year to go?",
    "How do I get from the airport to the city centre?",
    "Recommend a dish I should try.",
    "Is it expensive?",
    "What is a good day trip from Paris?",
    "How long does the train take?",
    "What should I pack?",
    "Do people speak English there?",
    "Teach me three useful French phrases.",
    "How do I say thank you?",
    "What museums are free?",
    "Which neighbourhood is best to stay in?",
    "What is the Metro like?",
    "Any tips for visiting the Louvre?",
    "What is a good souvenir?",
    "Summarise my trip plan in one sentence.",
    "Thank you, goodbye!",
]


def run_once(args, guard=None):
    cmd = [args.samtal, "chat", "--json", "--no-save", "--temperature", "0", "--max-new-tokens", str(args.max_new_tokens),
           "--threads", str(args.threads)]
    if args.model:
        cmd += ["--model", args.model]
    if args.format:
        cmd += ["--format", args.format]
    if guard:
        cmd += ["--guard", guard]
    out = subprocess.run(cmd, input="\n".join(QUESTIONS) + "\n", capture_output=True, text=True, check=True)
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samtal", default="target/release/samtal")
    ap.add_argument("--model", default=None, help="default: samtal's default model")
    ap.add_argument("--format", default=None, choices=["template", "transcript"])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-new-tokens", type=int, default=64)
    ap.add_argument("--guard-compare", action="store_true",
                    help="alternate --guard off and --guard flag runs and compare their TTFT")
    args = ap.parse_args()

    if args.guard_compare:
        by = {"off": [], "flag": []}
        for _ in range(args.runs):
            for g in ("off", "flag"):
                by[g].append(run_once(args, g))
        turns = len(by["off"][0])
        print(f"{'turn':>4} {'off ms':>8} {'flag ms':>8} {'ratio':>6}  guard score")
        ratios = []
        for t in range(turns):
            off = statistics.median(r[t]["ttft_ms"] for r in by["off"])
            on = statistics.median(r[t]["ttft_ms"] for r in by["flag"])
            ratios.append(on / off)
            g = by["flag"][0][t].get("guard") or {}
            print(f"{t + 1:>4} {off:>8.1f} {on:>8.1f} {on / off:>6.2f}  {g.get('score', 0):.3f}")
        first, last = statistics.median(ratios[:3]), statistics.median(ratios[-3:])
        print(f"\nguard on / off, median over turns: {statistics.median(ratios):.2f} "
              f"(turns 1-3: {first:.2f}, turns {turns - 2}-{turns}: {last:.2f}; "
              f"medians of {args.runs} alternating runs, {args.threads} threads)")
        return

    runs = [run_once(args) for _ in range(args.runs)]
    turns = len(runs[0])
    print(f"{'turn':>4} {'prompt':>7} {'prefill':>8} {'ttft_ms':>9} {'tok/s':>7}  finish")
    ttft = []
    for t in range(turns):
        rows = [r[t] for r in runs]
        med = statistics.median(row["ttft_ms"] for row in rows)
        ttft.append(med)
        r0 = rows[0]
        tps = statistics.median(row["tokens_per_s"] for row in rows)
        print(f"{t + 1:>4} {r0['prompt_tokens']:>7} {r0['prefill_tokens']:>8} {med:>9.1f} {tps:>7.1f}  {r0['finish_reason']}")
    print(f"\nturn {turns} / turn 1 time to first token: {ttft[-1] / ttft[0]:.2f} "
          f"(medians of {args.runs} runs, {args.threads} threads)")


if __name__ == "__main__":
    main()
