#!/usr/bin/env bash
# Makes fixtures/models/tiny-bert.gguf: fixtures/models/tiny-bert converted by llama.cpp's own
# convert_hf_to_gguf.py (from the tree vendored by the pinned llama-cpp-python sdist, fetched
# the way scripts/build-llama-server.sh fetches it), f32, so that samtal's GGUF `bert` reading
# (tensor names, metadata, the phantom-space WordPiece vocabulary, pooling_type) is checked
# against the converter people use. Needs the reference venv (scripts/make_encoder_goldens.py's:
# torch, transformers, numpy).
#
#     bash scripts/make_bert_gguf.sh
set -euo pipefail
cd "$(dirname "$0")/.."
version=0.3.36
src=.llama.cpp/src
if [ ! -d "$src/vendor/llama.cpp" ]; then
    tmp=$(mktemp -d)
    python3 -m pip download --quiet --no-deps --no-binary llama-cpp-python \
        "llama-cpp-python==$version" -d "$tmp"
    mkdir -p "$src"
    tar -xzf "$tmp"/llama_cpp_python-"$version".tar.gz -C "$src" --strip-components=1
    rm -rf "$tmp"
fi
llama="$src/vendor/llama.cpp"
PYTHONPATH="$llama/gguf-py" .venv-ref/bin/python "$llama/convert_hf_to_gguf.py" \
    fixtures/models/tiny-bert --outtype f32 --outfile fixtures/models/tiny-bert.gguf
