#!/usr/bin/env python3
"""Optional cross-check: run llama.cpp's own convert_hf_to_gguf.py on fixtures/models/tiny-llama
(outtypes f32, f16, q8_0 -- the ones the converter supports) and compare every metadata value and
every tensor (name, type, shape, bytes) with the files scripts/make_tiny_gguf.py wrote.

The converter is taken from the llama-cpp-python sdist (not built, only unpacked):
    D=$(mktemp -d)
    .venv-ref/bin/python -m pip download --no-deps --no-binary llama-cpp-python llama-cpp-python==0.3.36 -d "$D"
    tar xzf "$D/llama_cpp_python-0.3.36.tar.gz" -C "$D"
    .venv-ref/bin/python scripts/check_gguf_vs_llama_cpp.py "$D/llama_cpp_python-0.3.36/vendor/llama.cpp"
(or: LLAMA_CPP_DIR="$D/llama_cpp_python-0.3.36/vendor/llama.cpp" bash scripts/make_fixtures.sh)

The only patch: `TextModel.get_vocab_base_pre` is made to return "gpt-2", since the converter
identifies a BPE pre-tokenizer by hashing a test string's token ids against a list of known
models, and the tiny tokenizer is not in it (its HF pre-tokenizer is ByteLevel with the GPT-2
regex, which is llama.cpp's "gpt-2"). Keys that name the file rather than the model
(general.name, general.size_label, ...) are reported, not compared.
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "fixtures" / "models"
IGNORED = {"general.name", "general.size_label", "general.basename", "general.finetune", "general.version"}

RUNNER = """
import sys, runpy
llama_cpp, rest = sys.argv[1], sys.argv[2:]
sys.argv = ["convert_hf_to_gguf.py"] + rest
sys.path.insert(0, llama_cpp)
import conversion.base as base
base.TextModel.get_vocab_base_pre = lambda self, tokenizer: "gpt-2"
runpy.run_path(llama_cpp + "/convert_hf_to_gguf.py", run_name="__main__")
"""


def fields(path: Path) -> tuple[dict, dict]:
    import gguf
    import numpy as np

    r = gguf.GGUFReader(str(path))
    kv = {}
    for k, f in r.fields.items():
        if k.startswith("GGUF."):
            continue
        kv[k] = f.contents()
    tensors = {t.name: (t.tensor_type.name, tuple(int(x) for x in t.shape), np.array(t.data).tobytes()) for t in r.tensors}
    return kv, tensors


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    llama_cpp = Path(sys.argv[1]).resolve()
    assert (llama_cpp / "convert_hf_to_gguf.py").exists(), llama_cpp
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        runner = Path(tmp) / "run.py"
        runner.write_text(RUNNER)
        for outtype in ["f32", "f16", "q8_0"]:
            ref = Path(tmp) / f"ref-{outtype}.gguf"
            subprocess.run(
                [sys.executable, str(runner), str(llama_cpp), str(MODELS / "tiny-llama"), "--outtype", outtype,
                 "--outfile", str(ref)],
                check=True, capture_output=True, cwd=llama_cpp,
            )
            ours = MODELS / f"tiny-llama-{outtype}.gguf"
            kv_ref, t_ref = fields(ref)
            kv_ours, t_ours = fields(ours)
            diffs = []
            for k in sorted(set(kv_ref) | set(kv_ours)):
                if k in IGNORED:
                    continue
                if kv_ref.get(k, "<absent>") != kv_ours.get(k, "<absent>"):
                    diffs.append(f"  kv {k}: llama.cpp={str(kv_ref.get(k, '<absent>'))[:80]!r} ours={str(kv_ours.get(k, '<absent>'))[:80]!r}")
            for k in sorted(set(t_ref) | set(t_ours)):
                a, b = t_ref.get(k), t_ours.get(k)
                if a is None or b is None or a[0] != b[0] or a[1] != b[1] or a[2] != b[2]:
                    diffs.append(f"  tensor {k}: llama.cpp={a and a[:2]} ours={b and b[:2]} same bytes={a is not None and b is not None and a[2] == b[2]}")
            ignored = {k: (kv_ref.get(k), kv_ours.get(k)) for k in IGNORED if k in kv_ref or k in kv_ours}
            print(f"{outtype}: {len(kv_ref)} keys, {len(t_ref)} tensors in llama.cpp's file; differences: {len(diffs)}; not compared: {ignored}")
            for d in diffs:
                print(d)
            ok &= not diffs
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
