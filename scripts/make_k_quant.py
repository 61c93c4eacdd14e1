#!/usr/bin/env python3
"""Requantize the default model with llama.cpp's own quantizer (llama-cpp-python), for benchmarks
of the K-quant kernels:

    .venv-bench/bin/python scripts/make_k_quant.py Q4_K_M OUT.gguf
    .venv-bench/bin/python scripts/bench_vs_llama_cpp.py --model OUT.gguf --rounds 5 --pp 128,512

TYPE is one of llama.cpp's file types: Q4_K_M, Q4_K_S, Q5_K_M, Q5_K_S, Q3_K_M, Q3_K_S, Q3_K_L,
Q6_K, Q5_0, Q5_1. SmolLM2-135M's hidden size (576) is not a multiple of 256, so llama.cpp falls
back to Q5_0/Q5_1/Q8_0 for the matrices whose rows are that long; the others take the K types.
The source is the Q4_1 file, so these files measure speed, not quality.
"""
import os
import sys

import llama_cpp


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    kind, out = sys.argv[1].upper(), sys.argv[2]
    ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{kind}", None)
    if ftype is None:
        sys.exit(f"unknown type {kind}")
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    src = os.path.join(cache, "samtal", "models", "SmolLM2-135M-Instruct.Q4_1.gguf")
    p = llama_cpp.llama_model_quantize_default_params()
    p.ftype = ftype
    p.allow_requantize = True
    p.nthread = 2
    rc = llama_cpp.llama_model_quantize(src.encode(), out.encode(), p)
    if rc != 0:
        sys.exit(f"llama_model_quantize failed: {rc}")
    print(out)


if __name__ == "__main__":
    main()
