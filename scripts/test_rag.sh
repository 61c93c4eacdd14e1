#!/usr/bin/env bash
# Retrieval (RAG) pipelines of Haystack, LlamaIndex and LangChain run entirely on samtal: installs
# scripts/requirements-agents.txt in .venv-agents (the venv that scripts/test_agents.sh uses),
# starts `samtal serve` on a free port with $SAMTAL_RAG_MODEL (or the model that
# `samtal pull qwen2.5-coder-0.5b` fetches) and `--embedding-model minilm`, and runs
# scripts/rag_check.py over fixtures/rag, which prints `N passed, M failed` last.
#
#     bash scripts/test_rag.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
agents_venv
cargo build --quiet --release -p samtal-cli
model=${SAMTAL_RAG_MODEL:-$(target/release/samtal pull qwen2.5-coder-0.5b)}
start_samtal_serve --model "$model" --embedding-model minilm --api-key ci-key
trap 'kill $serve_pid 2>/dev/null || true; rm -f "$serve_log"' EXIT
# /v1/models lists the chat model first and the embedding model second.
read -r name embedder < <(curl -fsS -H "Authorization: Bearer ci-key" "$addr/v1/models" \
    | python3 -c 'import json, sys; d = json.load(sys.stdin)["data"]; print(d[0]["id"], d[1]["id"] if len(d) > 1 else "")')
[ -n "$embedder" ] || { echo "/v1/models lists no embedding model" >&2; cat "$serve_log"; exit 1; }
echo "rag against samtal serve at $addr, chat model $name ($model), embedding model $embedder"
status=0
.venv-agents/bin/python scripts/rag_check.py "$addr/v1" ci-key "$name" "$embedder" || status=$?
stop_samtal_serve
exit $status
