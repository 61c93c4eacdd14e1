#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, the tests (with the default model
# fetched through samtal's own `pull`, so the real-model parity tests run), and the docs.
set -euo pipefail
cd "$(dirname "$0")/.."
# A one-off build gains nothing from incremental state, which doubled the debug folder's size.
export CARGO_INCREMENTAL=0

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets -- -D warnings

step "fetch the default model (samtal pull)"
if model=$(cargo run --quiet --release -p samtal-cli -- pull); then
    export SAMTAL_MODEL="$model"
    echo "default model: $SAMTAL_MODEL"
else
    echo "!!! could not fetch the default model: the tests that need it will SKIP (loudly)" >&2
fi

step "fetch the encoder (samtal pull minilm)"
if encoder=$(cargo run --quiet --release -p samtal-cli -- pull minilm); then
    export SAMTAL_ENCODER="$encoder"
    echo "encoder: $SAMTAL_ENCODER"
else
    echo "!!! could not fetch all-MiniLM-L6-v2: its parity test will SKIP (loudly)" >&2
fi

step "cargo test"
cargo test --workspace

step "OpenAI clients (openai, LangChain) against samtal serve"
bash scripts/test_openai_clients.sh

step "agents: openai, LangChain, LangGraph, smolagents, LlamaIndex, Haystack against samtal serve"
bash scripts/test_agents.sh

step "RAG: Haystack, LlamaIndex and LangChain retrieving with samtal's embeddings"
bash scripts/test_rag.sh

step "replicas: PostgreSQL store, two samtal serve replicas, nginx (SIGKILL, store outage)"
bash scripts/test_replicas.sh

step "the Python package: pip install ./python, pytest, the notebook"
bash scripts/test_python.sh

step "structured output, validated with jsonschema"
.venv-agents/bin/python scripts/check_structured.py target/release/samtal "${SAMTAL_MODEL:-}"

step "schemathesis against the server's /openapi.json"
bash scripts/test_openapi.sh

step "the web page in headless Chromium"
bash scripts/test_web_page.sh

step "cargo doc"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps
