#!/usr/bin/env bash
# Agent frameworks (openai, LangChain, LangGraph, smolagents, LlamaIndex, Haystack) against the
# server's tool calling and structured output: installs scripts/requirements-agents.txt in
# .venv-agents, starts `samtal serve` on a free port with $SAMTAL_AGENT_MODEL (or the model that
# `samtal pull qwen2.5-coder-0.5b` fetches), and runs scripts/agents_check.py, which prints
# `N passed, M failed` last.
#
#     bash scripts/test_agents.sh [--llama-server PATH_TO_llama-server]
#
# With --llama-server, the same checks run against llama.cpp's server (`--jinja`) on the same
# model instead, so that the two can be compared side by side.
set -euo pipefail
cd "$(dirname "$0")/.."
llama_server=
while [ $# -gt 0 ]; do
    case $1 in
        --llama-server) llama_server=${2:?--llama-server needs the path to llama-server}; shift 2 ;;
        *) echo "usage: $0 [--llama-server PATH_TO_llama-server]" >&2; exit 2 ;;
    esac
done
. scripts/lib.sh
agents_venv
if [ -z "$llama_server" ] || [ -z "${SAMTAL_AGENT_MODEL:-}" ]; then
    cargo build --quiet --release -p samtal-cli
fi
model=${SAMTAL_AGENT_MODEL:-$(target/release/samtal pull qwen2.5-coder-0.5b)}
log=$(mktemp)
if [ -n "$llama_server" ]; then
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "$llama_server" -m "$model" --jinja --port "$port" --host 127.0.0.1 --api-key ci-key >"$log" 2>&1 &
    pid=$!
    trap 'kill $pid 2>/dev/null || true; rm -f "$log"' EXIT
    addr=http://127.0.0.1:$port
    for _ in $(seq 1 1200); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "$addr/health")" = 200 ] && break
        kill -0 $pid 2>/dev/null || { cat "$log"; exit 1; }
        sleep 0.1
    done
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$addr/health")" = 200 ] || { cat "$log"; exit 1; }
else
    start_samtal_serve --model "$model" --api-key ci-key
    pid=$serve_pid
    trap 'kill $pid 2>/dev/null || true; rm -f "$log" "$serve_log"' EXIT
fi
name=$(curl -fsS -H "Authorization: Bearer ci-key" "$addr/v1/models" \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["data"][0]["id"])')
echo "agents against ${llama_server:-samtal serve} at $addr, model $name ($model)"
status=0
.venv-agents/bin/python scripts/agents_check.py "$addr/v1" ci-key "$name" || status=$?
kill -TERM $pid
wait $pid || true
exit $status
