#!/usr/bin/env bash
# Create the Python reference environment used to produce samtal's golden
# fixtures (Hugging Face transformers on CPU, fp32).
#
# Makes: .venv-ref/ in the repository root (git-ignored), with the exact
# versions pinned in scripts/requirements-reference.txt (direct dependencies) and
# scripts/requirements-reference.lock (every transitive dependency, as constraints).
#
# Run from anywhere:
#     bash scripts/reference-env.sh
# Then:
#     .venv-ref/bin/python -c "import torch, transformers, gguf, sentence_transformers"
#
# The torch wheel from the default package index pulls CUDA libraries; they
# are not used (everything runs on CPU) but are harmless.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3}"
cd "$ROOT"
if [ ! -x .venv-ref/bin/python ]; then
    "$PY" -m venv .venv-ref
fi
.venv-ref/bin/python -m pip install --upgrade pip
.venv-ref/bin/python -m pip install -r scripts/requirements-reference.txt -c scripts/requirements-reference.lock
.venv-ref/bin/python - <<'PY'
import torch, transformers, gguf, tokenizers, numpy, sentence_transformers
print("torch", torch.__version__)
print("transformers", transformers.__version__)
from importlib.metadata import version
print("gguf", version("gguf"))
print("tokenizers", tokenizers.__version__)
print("numpy", numpy.__version__)
print("sentence-transformers", sentence_transformers.__version__)
PY
