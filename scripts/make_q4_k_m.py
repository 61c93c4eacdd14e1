#!/usr/bin/env python3
"""Requantize the default model to Q4_K_M with llama.cpp's own quantizer (llama-cpp-python), for
benchmarks of the K-quant kernels:

    .venv-bench/bin/python scripts/make_q4_k_m.py OUT.gguf
    .venv-bench/bin/python scripts/bench_vs_llama_cpp.py --model OUT.gguf --rounds 3 --pp 128

SmolLM2-135M's hidden size (576) is not a multiple of 256, so llama.cpp falls back to Q5_0 for
most matrices; the rest are Q4_K, Q6_K and Q8_0, which is what a Q4_K_M file of a small model
holds. The source is the Q4_1 file, so this measures speed, not quality.
"""
import os
import sys

import llama_cpp


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "SmolLM2-135M-Instruct.Q4_K_M.gguf"
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    src = os.path.join(cache, "samtal", "models", "SmolLM2-135M-Instruct.Q4_1.gguf")
    p = llama_cpp.llama_model_quantize_default_params()
    p.ftype = llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_K_M
    p.allow_requantize = True
    p.nthread = 2
    rc = llama_cpp.llama_model_quantize(src.encode(), out.encode(), p)
    if rc != 0:
        sys.exit(f"llama_model_quantize failed: {rc}")
    print(out)


if __name__ == "__main__":
    main()
