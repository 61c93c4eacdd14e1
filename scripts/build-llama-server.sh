#!/usr/bin/env bash
# Builds llama.cpp's own `llama-server` (and `llama-bench`) from the tree vendored by the pinned
# llama-cpp-python sdist, natively, into .llama.cpp/build/bin: the peer for the agents and serving
# comparisons. cmake and ninja come from PyPI into .venv-llama. About 10 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
version=0.3.36
out=.llama.cpp
if [ -x "$out/build/bin/llama-server" ]; then
    echo "$out/build/bin/llama-server"
    exit 0
fi
python3 -m venv .venv-llama
.venv-llama/bin/pip install --quiet --disable-pip-version-check "cmake==3.31.6" "ninja==1.11.1.4"
mkdir -p "$out"
if [ ! -d "$out/src" ]; then
    tmp=$(mktemp -d)
    .venv-llama/bin/pip download --quiet --no-deps --no-binary llama-cpp-python \
        "llama-cpp-python==$version" -d "$tmp"
    mkdir -p "$out/src"
    tar -xzf "$tmp"/llama_cpp_python-"$version".tar.gz -C "$out/src" --strip-components=1
    rm -rf "$tmp"
fi
PATH="$PWD/.venv-llama/bin:$PATH" cmake -S "$out/src/vendor/llama.cpp" -B "$out/build" -G Ninja \
    -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF -DLLAMA_BUILD_SERVER=ON \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF >&2
PATH="$PWD/.venv-llama/bin:$PATH" cmake --build "$out/build" --target llama-server llama-bench >&2
echo "$out/build/bin/llama-server"
