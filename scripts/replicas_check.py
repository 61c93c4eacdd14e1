#!/usr/bin/env python3
"""Replicas that share conversations, checked from outside (run by scripts/test_replicas.sh,
which starts PostgreSQL, two `samtal serve` replicas on it and nginx in front, and sets the
environment below). Standard library only.

Checks (each prints PASS or FAIL; `N passed, M failed` last):
  alternate  one conversation's turns alternated between the replicas, directly and through
             nginx: after each answer the store holds exactly the turns so far, in order, and
             each answer was given the whole history (its prompt is longer than the previous
             prompt plus the previous answer);
  sigkill    replica A killed with SIGKILL while it streams an answer; the conversation goes on
             through nginx (on replica B): every exchange that returned 200 is in the store,
             the interrupted one is not, not even half;
  store-down PostgreSQL stopped during a request: that request is a 503 in OpenAI's shape, the
             server stays up and says so at /health, a request meanwhile is a 503 too, and once
             PostgreSQL is back the next request is a 200; nothing of the failed ones is stored.

With --load SECONDS: CLIENTS clients (16) for SECONDS through nginx, each its own conversation
of short turns (streamed, 64 tokens), then the same against one replica on SQLite ($SINGLE):
requests, errors, tokens/s, p50 and p99 time to first token, and lost turns (answered 200 but
missing from the store: must be 0). Not a test: figures for the README.

Environment: REPLICA_A, REPLICA_B, NGINX (base URLs), REPLICA_A_PID, STORE_URL, SAMTAL (the
binary), PG_STOP and PG_START (bash commands); for --load also SINGLE and SINGLE_STORE.
"""
import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

A, B, NGINX = os.environ["REPLICA_A"], os.environ["REPLICA_B"], os.environ["NGINX"]
STORE = os.environ["STORE_URL"]
SAMTAL = os.environ["SAMTAL"]
WORDS = "amber birch cobalt dune ember fjord garnet harbor iris juniper".split()

results = []


def check(name, ok, detail=""):
    results.append(ok)
    print(f"{'PASS' if ok else 'FAIL'} {name}" + (f": {detail}" if detail else ""), flush=True)


def model_id(base):
    with urllib.request.urlopen(base + "/v1/models", timeout=30) as r:
        return json.load(r)["data"][0]["id"]


MODEL = None


def body(text, max_tokens=12, **extra):
    return {"model": MODEL, "messages": [{"role": "user", "content": text}],
            "max_tokens": max_tokens, "temperature": 0, **extra}


def chat(base, conv, text, max_tokens=12, timeout=300, **extra):
    """A turn of conversation `conv`: (status, parsed body)."""
    req = urllib.request.Request(
        base + "/v1/chat/completions", json.dumps(body(text, max_tokens, **extra)).encode(),
        {"Content-Type": "application/json", "X-Samtal-Conversation": conv})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, {"raw": raw.decode(errors="replace")}


def stream(base, conv, text, max_tokens, on_first=None, timeout=300):
    """A streamed turn: (status, text, seconds to the first content); status 0 when the stream
    broke off before its end. `on_first` runs once the first content arrives."""
    u = urllib.parse.urlsplit(base)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    t0 = time.perf_counter()
    c.request("POST", "/v1/chat/completions",
              json.dumps(body(text, max_tokens, stream=True)),
              {"Content-Type": "application/json", "X-Samtal-Conversation": conv})
    r = c.getresponse()
    if r.status != 200:
        r.read()
        return r.status, "", None
    text_out, ttft = [], None
    for line in r:
        line = line.strip()
        if line == b"data: [DONE]":
            return 200, "".join(text_out), ttft
        if not line.startswith(b"data: "):
            continue
        event = json.loads(line[6:])
        if "error" in event:
            return 500, "".join(text_out), ttft
        piece = event["choices"][0]["delta"].get("content") or ""
        if piece and ttft is None:
            ttft = time.perf_counter() - t0
            if on_first:
                on_first()
        text_out.append(piece)
    # The connection closed before the end of the stream.
    return 0, "".join(text_out), ttft


def stored(conv, store=STORE):
    """The stored turns of `conv` as (role, text); [] when there is none."""
    r = subprocess.run([SAMTAL, "history", "show", conv, "--json", "--store", store],
                       capture_output=True, text=True)
    if r.returncode != 0:
        return []
    return [(t["role"], t["text"]) for t in json.loads(r.stdout)["turns"]]


def alive(pid):
    """Whether `pid` runs: a killed child that its parent (the shell) has not reaped yet is a
    zombie, which signal 0 still finds."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def alternate():
    conv = "alt-" + uuid.uuid4().hex[:12]
    expected, prev, route = [], None, []
    for t, (name, base) in enumerate([("A", A), ("B", B), ("A", A), ("B", B),
                                      ("nginx", NGINX), ("nginx", NGINX), ("A", A)]):
        text = f"Turn {t}: the code word is {WORDS[t]}. Say it back."
        status, r = chat(base, conv, text)
        if status != 200:
            return check("alternate", False, f"turn {t} on {name}: {status} {r}")
        answer, usage = r["choices"][0]["message"]["content"], r["usage"]
        expected += [("user", text), ("assistant", answer)]
        got = stored(conv)
        if got != expected:
            return check("alternate", False, f"after turn {t} on {name} the store holds {got}")
        if prev and usage["prompt_tokens"] <= prev["prompt_tokens"] + prev["completion_tokens"]:
            return check("alternate", False, f"turn {t} on {name} was not given the history: "
                         f"prompt {usage['prompt_tokens']} tokens after {prev}")
        prev = usage
        route.append(f"{name}:{usage['prompt_tokens']}")
    check("alternate", True, f"7 turns, prompt tokens by replica {' '.join(route)}")


def sigkill():
    conv = "kill-" + uuid.uuid4().hex[:12]
    expected = []
    for t in range(2):
        text = f"Before: remember {WORDS[t]}."
        status, r = chat(A, conv, text)
        if status != 200:
            return check("sigkill", False, f"turn {t}: {status} {r}")
        expected += [("user", text), ("assistant", r["choices"][0]["message"]["content"])]
    pid = int(os.environ["REPLICA_A_PID"])
    interrupted = "This answer never ends: count to a thousand."
    try:
        status, _, _ = stream(A, conv, interrupted, 400,
                              on_first=lambda: os.kill(pid, signal.SIGKILL))
        cut = status != 200
    except (OSError, http.client.HTTPException):
        cut = True
    for _ in range(50):
        if not alive(pid):
            break
        time.sleep(0.1)
    else:
        return check("sigkill", False, "replica A is still alive")
    if not cut:
        # The whole answer came before the kill landed: it may be stored, and is not an
        # interrupted turn. Say so rather than pass or fail on it.
        print("note: the answer finished before SIGKILL took effect", flush=True)
    for t in range(2):
        text = f"After: remember {WORDS[5 + t]}."
        status, r = chat(NGINX, conv, text)
        if status != 200:
            return check("sigkill", False, f"after the kill, turn {t} through nginx: {status} {r}")
        expected += [("user", text), ("assistant", r["choices"][0]["message"]["content"])]
    got = stored(conv)
    half = [turn for turn in got if turn[1] == interrupted]
    ok = got == expected and not half
    check("sigkill", ok, "the store holds the 4 answered exchanges and nothing of the "
          "interrupted one" if ok else f"store {got}")


def store_down():
    conv = "pg-" + uuid.uuid4().hex[:12]
    text = "First: remember granite."
    status, r = chat(B, conv, text)
    if status != 200:
        return check("store-down", False, f"first turn: {status} {r}")
    expected = [("user", text), ("assistant", r["choices"][0]["message"]["content"])]
    out = {}

    def long_turn():
        # A long answer (the end-of-turn tokens are banned), so that the database goes away
        # while it is generated, before it is committed.
        out["r"] = chat(B, conv, "Second: write a long story.", max_tokens=300,
                        logit_bias={"0": -100, "1": -100, "2": -100})
    th = threading.Thread(target=long_turn)
    th.start()
    time.sleep(0.4)
    subprocess.run(["bash", "-c", os.environ["PG_STOP"]], check=True)
    th.join()
    status, r = out["r"]
    err = r.get("error", {})
    if status != 503 or err.get("code") != "store_unavailable" or not err.get("message"):
        subprocess.run(["bash", "-c", os.environ["PG_START"]], check=True)
        return check("store-down", False, f"the request during the outage: {status} {r}")
    with urllib.request.urlopen(B + "/health", timeout=30) as h:
        health = json.load(h)
    if health.get("status") != "degraded" or health.get("store", {}).get("reachable") is not False:
        subprocess.run(["bash", "-c", os.environ["PG_START"]], check=True)
        return check("store-down", False, f"/health during the outage: {health}")
    status2, r2 = chat(B, conv, "Third: still there?")
    subprocess.run(["bash", "-c", os.environ["PG_START"]], check=True)
    if status2 != 503:
        return check("store-down", False, f"a request during the outage: {status2} {r2}")
    text = "Fourth: remember slate."
    status3, r3 = chat(B, conv, text)
    if status3 != 200:
        return check("store-down", False, f"after the restart: {status3} {r3}")
    expected += [("user", text), ("assistant", r3["choices"][0]["message"]["content"])]
    got = stored(conv)
    ok = got == expected
    check("store-down", ok, f"503 ({err['message'][:80]}…), /health degraded, 200 after the "
          "restart, only the answered exchanges stored" if ok else f"store {got}")


def load(base, store, seconds, clients, label):
    stop = time.time() + seconds
    lock = threading.Lock()
    ttfts, errors, answered = [], [0], {}

    def client(k):
        conv = f"load-{k}-{uuid.uuid4().hex[:12]}"
        n = 0
        while time.time() < stop:
            try:
                status, _, ttft = stream(base, conv, f"Question {n}: name a colour.", 64)
            except (OSError, http.client.HTTPException, ValueError):
                status, ttft = 0, None
            with lock:
                if status == 200:
                    n += 1
                    answered[conv] = n
                    if ttft is not None:
                        ttfts.append(ttft)
                else:
                    errors[0] += 1
    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    lost = sum(max(0, n - len(stored(conv, store)) // 2) for conv, n in answered.items())
    if len(ttfts) < 2:
        print(f"| {label} | {sum(answered.values())} | {errors[0]} | {lost} | - | - | - |")
        return lost + 1
    q = statistics.quantiles(ttfts, n=100)
    print(f"| {label} | {sum(answered.values())} | {errors[0]} | {lost} | "
          f"{statistics.median(ttfts) * 1e3:.0f} ms | {q[98] * 1e3:.0f} ms | "
          f"{sum(answered.values()) / wall:.1f} |", flush=True)
    return lost


def main():
    global MODEL
    ap = argparse.ArgumentParser()
    ap.add_argument("--load", type=float, metavar="SECONDS")
    ap.add_argument("--clients", type=int, default=16)
    a = ap.parse_args()
    MODEL = model_id(A)
    if a.load:
        print(f"{a.clients} streaming clients for {a.load:.0f} s, 64-token answers")
        print("| setup | answered | errors | lost turns | p50 TTFT | p99 TTFT | answers/s |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        lost = load(NGINX, STORE, a.load, a.clients, "2 replicas + nginx, PostgreSQL")
        lost += load(os.environ["SINGLE"], os.environ["SINGLE_STORE"], a.load, a.clients,
                     "1 replica, SQLite")
        raise SystemExit(1 if lost else 0)
    alternate()
    sigkill()
    store_down()
    failed = results.count(False)
    print(f"{len(results) - failed} passed, {failed} failed")
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
