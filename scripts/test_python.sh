#!/usr/bin/env bash
# The Python package (python/): lints its Rust side, builds and installs it with
# `pip install ./python` into a fresh venv (.venv-python; the build time and the wheel's size
# are printed), runs its pytest suite (python/tests) against the CLI, and executes
# examples/notebook.ipynb end to end. maturin builds into target/python, so that later runs
# reuse the compiled engine.
#
#     bash scripts/test_python.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --release -p samtal-cli
export CARGO_TARGET_DIR="$PWD/target/python"
cargo fmt --manifest-path python/Cargo.toml -- --check
cargo clippy --quiet --manifest-path python/Cargo.toml -- -D warnings
rm -rf .venv-python
python3 -m venv .venv-python
.venv-python/bin/pip install --quiet --disable-pip-version-check -r scripts/requirements-python.txt
start=$(date +%s)
.venv-python/bin/pip install --quiet --disable-pip-version-check ./python
echo "pip install ./python: $(( $(date +%s) - start )) s"
# The wheel itself, for its size (the compiled code is reused: only packaging runs again).
rm -rf target/python/wheel && mkdir -p target/python/wheel
.venv-python/bin/pip wheel --quiet --disable-pip-version-check --no-deps ./python -w target/python/wheel
for w in target/python/wheel/samtal-*.whl; do echo "wheel: $(basename "$w"), $(du -k "$w" | cut -f1) KiB"; done
SAMTAL_BIN="$PWD/target/release/samtal" .venv-python/bin/python -m pytest -q python/tests
.venv-python/bin/python scripts/run_notebook.py examples/notebook.ipynb
