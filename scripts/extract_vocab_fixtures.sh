#!/usr/bin/env bash
# Copy llama.cpp's tokenizer test vectors into fixtures/vocab/: the vocab-only GGUF files
# ggml-vocab-{gpt-2,llama-spm,llama-bpe,qwen2,phi-3}.gguf and, for each, the .gguf.inp (test
# strings) and .gguf.out (expected token ids) that llama.cpp's tests/test-tokenizer-0 checks.
# The .inp/.out format: test strings separated by a line "__ggml_vocab_test__"; each .out line
# is the space-separated ids for the matching string (llama.cpp makes them with HF tokenizers,
# see its convert_hf_to_gguf_update.py).
#
# Source: the llama-cpp-python 0.3.36 sdist (vendor/llama.cpp/models/), downloaded with pip and
# only unpacked, never built. `--no-binary llama-cpp-python` (rather than `:all:`) lets pip use
# wheels for the sdist's build requirements when it reads its metadata; the package has no wheels
# of its own, so the result is the same sdist.
#
# Run:
#     bash scripts/extract_vocab_fixtures.sh            # downloads the sdist to a temp dir
#     bash scripts/extract_vocab_fixtures.sh DIR        # uses an already unpacked
#                                                       # llama_cpp_python-0.3.36 directory
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION="0.3.36"
SDIST_SHA256="832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e"
DEST="$ROOT/fixtures/vocab"
VOCABS=(gpt-2 llama-spm llama-bpe qwen2 phi-3)
PIP="${PIP:-python3 -m pip}"

if [ $# -ge 1 ]; then
    SRC="$1"
else
    TMP="$(mktemp -d)"
    trap 'rm -rf "$TMP"' EXIT
    $PIP download --no-deps --no-binary llama-cpp-python "llama-cpp-python==$VERSION" -d "$TMP" >/dev/null
    echo "$SDIST_SHA256  $TMP/llama_cpp_python-$VERSION.tar.gz" | sha256sum -c -
    tar xzf "$TMP/llama_cpp_python-$VERSION.tar.gz" -C "$TMP" \
        --wildcards "llama_cpp_python-$VERSION/vendor/llama.cpp/models/ggml-vocab-*"
    SRC="$TMP/llama_cpp_python-$VERSION"
fi
MODELS_DIR="$SRC/vendor/llama.cpp/models"
mkdir -p "$DEST"
for v in "${VOCABS[@]}"; do
    for ext in gguf gguf.inp gguf.out; do
        cp "$MODELS_DIR/ggml-vocab-$v.$ext" "$DEST/"
    done
done
( cd "$DEST" && ls -l ggml-vocab-* && sha256sum ggml-vocab-* > SHA256SUMS )
echo "copied ${#VOCABS[@]} vocabularies from llama-cpp-python $VERSION into $DEST"
