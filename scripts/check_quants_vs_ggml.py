#!/usr/bin/env python3
"""Optional cross-check: the quantizers used for the tiny GGUF fixtures against ggml's own C
reference quantizers, byte for byte.

Compiles (with the system C compiler, -O1 -ffp-contract=off) ggml's scalar reference functions
quantize_row_{q4_0,q4_1,q8_0,q4_K}_ref (and the helpers nearest_int, make_qkx2_quants,
get_scale_min_k4) copied out of ggml/src/ggml-quants.c of a llama.cpp source tree, runs them on
every 2-D weight of fixtures/models/tiny-llama and .cache/tiny-llama-256 plus random rows with
edge cases (all zero, constant, all positive, all negative, tiny values), and compares with
gguf-py's Q4_0/Q4_1/Q8_0 quantizers and make_tiny_gguf.quantize_q4_k.

Run (llama.cpp tree as for check_gguf_vs_llama_cpp.py):
    .venv-ref/bin/python scripts/check_quants_vs_ggml.py PATH/TO/llama.cpp
"""
from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

import gguf
import numpy as np
from safetensors.numpy import load_file

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_tiny_gguf  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
QT = gguf.GGMLQuantizationType

PRELUDE = r"""
#include <assert.h>
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define GGML_RESTRICT restrict
#define QK_K 256
#define K_SCALE_SIZE 12
#define QK4_0 32
#define QK4_1 32
#define QK8_0 32
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
typedef uint16_t ggml_half;
static ggml_half GGML_FP32_TO_FP16(float f) { _Float16 h = (_Float16)f; uint16_t u; memcpy(&u, &h, 2); return u; }
static float GGML_FP16_TO_FP32(ggml_half u) { _Float16 h; memcpy(&h, &u, 2); return (float)h; }
typedef struct { ggml_half d; uint8_t qs[QK4_0 / 2]; } block_q4_0;
typedef struct { ggml_half d; ggml_half m; uint8_t qs[QK4_1 / 2]; } block_q4_1;
typedef struct { ggml_half d; int8_t qs[QK8_0]; } block_q8_0;
typedef struct { ggml_half d; ggml_half dmin; uint8_t scales[K_SCALE_SIZE]; uint8_t qs[QK_K / 2]; } block_q4_K;
"""

MAIN = r"""
int main(int argc, char ** argv) {
    FILE * f = fopen(argv[1], "rb"); fseek(f, 0, SEEK_END); long n = ftell(f) / 4; fseek(f, 0, SEEK_SET);
    float * x = malloc(n * 4); if (fread(x, 4, n, f) != (size_t) n) return 2; fclose(f);
    int t = atoi(argv[3]); size_t sz; void * y;
    if (t == 2) { sz = sizeof(block_q4_0) * (n / 32); y = malloc(sz); quantize_row_q4_0_ref(x, y, n); }
    else if (t == 3) { sz = sizeof(block_q4_1) * (n / 32); y = malloc(sz); quantize_row_q4_1_ref(x, y, n); }
    else if (t == 8) { sz = sizeof(block_q8_0) * (n / 32); y = malloc(sz); quantize_row_q8_0_ref(x, y, n); }
    else { sz = sizeof(block_q4_K) * (n / 256); y = malloc(sz); quantize_row_q4_K_ref(x, y, n); }
    FILE * o = fopen(argv[2], "wb"); fwrite(y, 1, sz, o); fclose(o); return 0;
}
"""

FUNCTIONS = [
    r"static inline int nearest_int\(",
    r"static float make_qkx2_quants\(",
    r"static inline void get_scale_min_k4\(",
    r"void quantize_row_q4_0_ref\(",
    r"void quantize_row_q4_1_ref\(",
    r"void quantize_row_q8_0_ref\(",
    r"void quantize_row_q4_K_ref\(",
]


def extract(source: str, head: str) -> str:
    m = re.search(r"^" + head, source, re.M)
    assert m, head
    end = source.index("\n}\n", m.start())
    return source[m.start() : end + 3]


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    src = (Path(sys.argv[1]) / "ggml" / "src" / "ggml-quants.c").read_text()
    with tempfile.TemporaryDirectory() as tmp:
        c = Path(tmp) / "q.c"
        c.write_text(PRELUDE + "\n".join(extract(src, h) for h in FUNCTIONS) + MAIN)
        exe = Path(tmp) / "q"
        subprocess.run(["cc", "-O1", "-ffp-contract=off", "-o", str(exe), str(c), "-lm"], check=True)

        def ggml(x: np.ndarray, code: int) -> np.ndarray:
            np.ascontiguousarray(x, dtype=np.float32).tofile(Path(tmp) / "in.bin")
            subprocess.run([str(exe), str(Path(tmp) / "in.bin"), str(Path(tmp) / "out.bin"), str(code)], check=True)
            return np.fromfile(Path(tmp) / "out.bin", dtype=np.uint8)

        rng = np.random.default_rng(7)
        extra = rng.standard_normal((16, 512)).astype(np.float32)
        extra[0] = 0
        extra[1, :256] = 3.0
        extra[2] = np.abs(extra[2])
        extra[3] = -np.abs(extra[3])
        extra[4, :32] = 0
        extra[5] *= 1e-3
        extra[6, ::2] = 0
        small = [v for v in load_file(str(ROOT / "fixtures/models/tiny-llama/model.safetensors")).values() if v.ndim == 2]
        big = [v for v in load_file(str(ROOT / ".cache/tiny-llama-256/model.safetensors")).values() if v.ndim == 2]
        ok = True
        for qt, code, mine, tensors in [
            (QT.Q4_0, 2, lambda x: gguf.quants.quantize(x, QT.Q4_0), small + [extra]),
            (QT.Q4_1, 3, lambda x: gguf.quants.quantize(x, QT.Q4_1), small + [extra]),
            (QT.Q8_0, 8, lambda x: gguf.quants.quantize(x, QT.Q8_0), small + [extra]),
            (QT.Q4_K, 12, make_tiny_gguf.quantize_q4_k, big + [extra]),
        ]:
            bad = sum(not np.array_equal(ggml(t, code), mine(np.ascontiguousarray(t, dtype=np.float32)).reshape(-1)) for t in tensors)
            print(f"{qt.name}: {len(tensors)} tensors, {bad} differ from ggml's C reference")
            ok &= bad == 0
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
