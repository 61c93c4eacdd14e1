#!/usr/bin/env bash
# The benchmark peer: llama.cpp as vendored by the pinned llama-cpp-python, built from source with
# native CPU flags into .venv-bench (about 20 minutes on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv-bench
CMAKE_ARGS="-DGGML_NATIVE=ON -DLLAMA_CURL=OFF" \
    .venv-bench/bin/pip install --no-binary llama-cpp-python llama-cpp-python==0.3.36
