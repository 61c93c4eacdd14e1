#!/usr/bin/env bash
# Real OpenAI clients against `samtal serve`: installs the pinned `openai` and `langchain-openai`
# packages in .venv-clients, starts the server on a free port with the tiny fixture model (or
# $SAMTAL_SERVE_MODEL), and runs scripts/openai_clients_check.py. Called by scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv-clients/bin/python ] || ! .venv-clients/bin/python -c 'import openai, langchain_openai' 2>/dev/null; then
    python3 -m venv .venv-clients
    .venv-clients/bin/pip install --quiet "openai==3.57.0" "langchain-openai==1.7.4"
fi
cargo build --quiet --release -p samtal-cli
model=${SAMTAL_SERVE_MODEL:-fixtures/models/tiny-llama}
. scripts/lib.sh
start_samtal_serve --model "$model" --api-key ci-key
trap 'kill $serve_pid 2>/dev/null || true; rm -f "$serve_log"' EXIT
.venv-clients/bin/python scripts/openai_clients_check.py "$addr/v1" ci-key
stop_samtal_serve
