#!/usr/bin/env python3
"""Load on an OpenAI-compatible server: N concurrent streaming chat clients for D seconds.

Reports errors, p50/p99 time to first token and aggregate generated tokens/s (one streamed
content chunk = one token for both servers). With --compare, runs the same load against
samtal serve and llama.cpp's server (`python -m llama_cpp.server` from .venv-bench, pinned
llama-cpp-python with its [server] extras) on the same GGUF, one after the other.

    .venv-bench/bin/python scripts/bench_serve.py --model M.gguf --clients 16 --seconds 60 --compare
"""
import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ["Who are you?", "List 5 places I should visit in Paris.", "What is the capital of Sweden?",
             "Write a haiku about rain.", "Explain what a KV cache is.", "Tell me a joke."]


def client(host, port, deadline, results, k):
    i = 0
    while time.time() < deadline:
        q = QUESTIONS[(k + i) % len(QUESTIONS)]
        i += 1
        body = json.dumps({"model": "m", "stream": True, "max_tokens": 64,
                           "messages": [{"role": "user", "content": q}]})
        t0 = time.perf_counter()
        ttft, tokens = None, 0
        try:
            conn = http.client.HTTPConnection(host, port, timeout=300)
            conn.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
            resp = conn.getresponse()
            if resp.status != 200:
                results["errors"] += 1
                resp.read()
                continue
            for raw in resp:
                line = raw.decode("utf-8", "replace").strip()
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                chunk = json.loads(line[6:])
                ch = chunk.get("choices") or []
                if ch and (ch[0].get("delta") or {}).get("content"):
                    tokens += 1
                    if ttft is None:
                        ttft = time.perf_counter() - t0
            conn.close()
        except Exception:  # noqa: BLE001 - any failure counts as an error
            results["errors"] += 1
            continue
        with results["lock"]:
            results["tokens"] += tokens
            if ttft is not None:
                results["ttft"].append(ttft * 1e3)
            results["requests"] += 1


def load(host, port, clients, seconds):
    results = {"errors": 0, "tokens": 0, "ttft": [], "requests": 0, "lock": threading.Lock()}
    deadline = time.time() + seconds
    t0 = time.time()
    threads = [threading.Thread(target=client, args=(host, port, deadline, results, k)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.time() - t0
    ttft = sorted(results["ttft"]) or [float("nan")]
    p99 = ttft[min(len(ttft) - 1, int(0.99 * len(ttft)))]
    return {"requests": results["requests"], "errors": results["errors"],
            "ttft_p50_ms": statistics.median(ttft), "ttft_p99_ms": p99,
            "tokens_per_s": results["tokens"] / wall}


def wait_ready(port, proc, path="/v1/models"):
    for _ in range(1200):
        if proc.poll() is not None:
            sys.exit(f"server exited with {proc.returncode}")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", path)
            if c.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    sys.exit("server did not become ready")


def run_server(cmd, port, env=None):
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        wait_ready(port, proc)
        return proc
    except SystemExit:
        proc.kill()
        raise


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--parallel", type=int, default=2)
    ap.add_argument("--compare", action="store_true")
    a = ap.parse_args()
    rows = []
    port = 18500
    cmd = [str(ROOT / "target/release/samtal"), "serve", "--model", a.model, "--port", str(port),
           "--threads", str(a.threads), "--parallel", str(a.parallel), "--queue", "64"]
    p = run_server(cmd, port)
    try:
        rows.append(("samtal serve", load("127.0.0.1", port, a.clients, a.seconds)))
    finally:
        p.terminate()
        p.wait()
    if a.compare:
        port += 1
        cmd = [sys.executable, "-m", "llama_cpp.server", "--model", a.model, "--port", str(port),
               "--n_threads", str(a.threads), "--n_ctx", "2048", "--chat_format", "chatml",
               # Its default lets each new request interrupt the one running.
               "--interrupt_requests", "False"]
        p = run_server(cmd, port)
        try:
            rows.append(("llama.cpp server", load("127.0.0.1", port, a.clients, a.seconds)))
        finally:
            p.terminate()
            p.wait()
    print(f"{a.clients} streaming clients, {a.seconds} s, max_tokens 64, {a.threads} threads")
    print(f"{'server':18} {'requests':>8} {'errors':>6} {'ttft p50 ms':>12} {'ttft p99 ms':>12} {'tokens/s':>9}")
    for name, r in rows:
        print(f"{name:18} {r['requests']:8d} {r['errors']:6d} {r['ttft_p50_ms']:12.0f} {r['ttft_p99_ms']:12.0f} "
              f"{r['tokens_per_s']:9.1f}")


if __name__ == "__main__":
    main()
