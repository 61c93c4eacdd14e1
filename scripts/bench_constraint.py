#!/usr/bin/env python3
"""What a JSON-Schema constraint costs: decode tokens/s of `samtal generate` with and without
one, same model, same prompt, alternating rounds, medians; and the constraint's own time per
generated token (median, p99) as `--json` reports it.

    python3 scripts/bench_constraint.py [--model M] [--rounds 5] [--tokens 128]

Not a test: it prints figures for the README.
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEMA = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "steps": {"type": "array", "items": {"type": "string"}, "minItems": 40},
    },
    "required": ["title", "steps"],
    "additionalProperties": False,
}


def run(binary, model, tokens, schema_path):
    cmd = [binary, "generate", "--model", model, "--json", "--temperature", "0",
           "-n", str(tokens), "--threads", "2"]
    if schema_path:
        cmd += ["--json-schema", schema_path]
    cmd.append("List the steps to bake bread, as JSON.")
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    v = json.loads(out)
    t = v["timings"]
    return t["generated_tokens"] / (t["generate_ms"] / 1e3), t.get("constraint_us", [])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="default")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--tokens", type=int, default=128)
    a = ap.parse_args()
    binary = os.path.join(ROOT, "target", "release", "samtal")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(SCHEMA, f)
        schema = f.name
    free, held, cost = [], [], []
    run(binary, a.model, 8, None)  # warm-up: the repacked weights' cache
    for _ in range(a.rounds):
        tps, _ = run(binary, a.model, a.tokens, None)
        free.append(tps)
        tps, us = run(binary, a.model, a.tokens, schema)
        held.append(tps)
        cost.extend(us)
    os.unlink(schema)
    cost.sort()
    p99 = cost[min(len(cost) - 1, int(0.99 * len(cost)))] if cost else float("nan")
    print(f"model {a.model}, {a.rounds} alternating rounds of {a.tokens} tokens, greedy")
    print(f"decode tok/s without constraint: median {statistics.median(free):.1f}")
    print(f"decode tok/s with JSON Schema:   median {statistics.median(held):.1f}")
    print(f"ratio (with / without): {statistics.median(held) / statistics.median(free):.3f}")
    print(f"constraint per token: median {statistics.median(cost):.1f} us, p99 {p99:.1f} us "
          f"over {len(cost)} tokens")


if __name__ == "__main__":
    main()
