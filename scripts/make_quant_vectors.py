#!/usr/bin/env python3
"""Make reference test vectors for ggml quantization formats.

Writes one GGUF file, fixtures/quant/quant_vectors.gguf, whose reference
values all come from the official `gguf` Python package (gguf-py), so the
Rust engine's dequantization and dot-product kernels can be checked against
it.

Exact command (from the repository root), in a small throw-away venv (.cache/ is git-ignored):

    python3 -m venv .cache/qv
    .cache/qv/bin/pip install -r scripts/requirements-quant.txt
    .cache/qv/bin/python scripts/make_quant_vectors.py

Options: --seed N (default 20240611), --out PATH (default
fixtures/quant/quant_vectors.gguf). The output is deterministic for a given
seed and pinned package versions.

For each type T in f16, bf16, q4_0, q4_1, q5_0, q5_1, q8_0, q2_k, q3_k, q4_k,
q5_k, q6_k the file holds:

  T.q    the raw quantized data, stored with ggml type T, shape rows x cols
         (numpy order (4, 512); ggml ne = [512, 4])
  T.f32  F32 (4, 512): gguf.quants.dequantize(T.q bytes, T)
  T.dot  F32 (4,):     (T.f32 as float64) @ (x.f32 as float64), cast to f32

plus x.f32, F32 (512,), random normal activations.

Types gguf-py can quantize are quantized from random normal floats with
gguf.quants.quantize. Types it can only dequantize (the K-quants) get
synthesised blocks: random bytes for the quant payload, with every f16 scale
field (d, dmin) overwritten by a finite random f16 in [-0.05, 0.05] at its
offset in ggml's block struct.

Metadata keys (prefix quant_vectors.): seed, rows, cols, gguf_py_version,
numpy_version, types (array of the type names in order), and source.T
("quantized" or "synthesised") for each type.

After writing, the file is read back with gguf.GGUFReader, every T.q is
dequantized again and compared bit-for-bit with T.f32, and every T.dot is
recomputed and compared bit-for-bit.
"""
from __future__ import annotations

import argparse
import importlib.metadata
import os
import sys

import numpy as np

import gguf
from gguf import GGMLQuantizationType as Q
from gguf.constants import GGML_QUANT_SIZES

ROWS = 4
COLS = 512  # a multiple of QK_K (256), so every block type fits
DEFAULT_SEED = 20240611

TYPES: list[tuple[str, Q]] = [
    ("f16", Q.F16),
    ("bf16", Q.BF16),
    ("q4_0", Q.Q4_0),
    ("q4_1", Q.Q4_1),
    ("q5_0", Q.Q5_0),
    ("q5_1", Q.Q5_1),
    ("q8_0", Q.Q8_0),
    ("q2_k", Q.Q2_K),
    ("q3_k", Q.Q3_K),
    ("q4_k", Q.Q4_K),
    ("q5_k", Q.Q5_K),
    ("q6_k", Q.Q6_K),
]

# Byte offsets of the f16 scale fields inside one block, and the block size,
# from ggml's structs (QK_K = 256):
#   block_q2_K {uint8 scales[16]; uint8 qs[64]; f16 d; f16 dmin}        84 B
#   block_q3_K {uint8 hmask[32]; uint8 qs[64]; uint8 scales[12]; f16 d} 110 B
#   block_q4_K {f16 d; f16 dmin; uint8 scales[12]; uint8 qs[128]}      144 B
#   block_q5_K {f16 d; f16 dmin; uint8 scales[12]; uint8 qh[32];
#               uint8 qs[128]}                                         176 B
#   block_q6_K {uint8 ql[128]; uint8 qh[64]; int8 scales[16]; f16 d}   210 B
F16_FIELDS: dict[Q, tuple[int, list[int]]] = {
    Q.Q2_K: (84, [80, 82]),
    Q.Q3_K: (110, [108]),
    Q.Q4_K: (144, [0, 2]),
    Q.Q5_K: (176, [0, 2]),
    Q.Q6_K: (210, [208]),
}


def row_bytes(qtype: Q, cols: int) -> int:
    block, size = GGML_QUANT_SIZES[qtype]
    assert cols % block == 0
    return cols // block * size


def synthesise(rng: np.random.Generator, qtype: Q, rows: int, cols: int) -> np.ndarray:
    """Random valid blocks for a type gguf-py can't quantize: (rows, row_bytes) uint8."""
    block, size = GGML_QUANT_SIZES[qtype]
    type_size, offsets = F16_FIELDS[qtype]
    assert type_size == size, (qtype.name, type_size, size)
    n_blocks = rows * cols // block
    data = rng.integers(0, 256, size=(n_blocks, size), dtype=np.uint8)
    for off in offsets:
        scale = rng.uniform(-0.05, 0.05, size=n_blocks).astype(np.float16)
        assert np.all(np.isfinite(scale))
        data[:, off:off + 2] = scale.reshape(n_blocks, 1).view(np.uint8)
    return data.reshape(rows, row_bytes(qtype, cols))


def quantize_or_none(src: np.ndarray, qtype: Q) -> np.ndarray | None:
    """gguf.quants.quantize as (rows, row_bytes) uint8, or None if not implemented."""
    try:
        q = gguf.quants.quantize(src, qtype)
    except NotImplementedError:
        return None
    q = np.ascontiguousarray(q).view(np.uint8).reshape(src.shape[0], -1)
    assert q.shape[1] == row_bytes(qtype, src.shape[1]), (qtype.name, q.shape)
    return q


def dequant(qbytes: np.ndarray, qtype: Q) -> np.ndarray:
    out = gguf.quants.dequantize(np.ascontiguousarray(qbytes).view(np.uint8), qtype)
    return np.asarray(out, dtype=np.float32).reshape(qbytes.shape[0], -1)


def dot_ref(deq: np.ndarray, x: np.ndarray) -> np.ndarray:
    return (deq.astype(np.float64) @ x.astype(np.float64)).astype(np.float32)


def build(seed: int):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(COLS).astype(np.float32)
    entries = []  # (name, qtype, qbytes, deq, dot, source)
    for name, qtype in TYPES:
        src = rng.standard_normal((ROWS, COLS)).astype(np.float32)
        qbytes = quantize_or_none(src, qtype)
        if qbytes is None:
            qbytes = synthesise(rng, qtype, ROWS, COLS)
            source = "synthesised"
        else:
            source = "quantized"
        deq = dequant(qbytes, qtype)
        assert deq.shape == (ROWS, COLS), (name, deq.shape)
        assert np.all(np.isfinite(deq)), name
        if source == "quantized":
            err = float(np.max(np.abs(deq - src)))
            print(f"  {name:5s} quantized    max |deq - src| = {err:.4g}")
        else:
            print(f"  {name:5s} synthesised  max |deq| = {float(np.max(np.abs(deq))):.4g}")
        entries.append((name, qtype, qbytes, deq, dot_ref(deq, x), source))
    return x, entries


def write(path: str, seed: int, x: np.ndarray, entries) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    w = gguf.GGUFWriter(path, arch="quant_vectors")
    w.add_uint32("quant_vectors.seed", seed)
    w.add_uint32("quant_vectors.rows", ROWS)
    w.add_uint32("quant_vectors.cols", COLS)
    w.add_string("quant_vectors.gguf_py_version", importlib.metadata.version("gguf"))
    w.add_string("quant_vectors.numpy_version", np.__version__)
    w.add_array("quant_vectors.types", [e[0] for e in entries])
    for name, _, _, _, _, source in entries:
        w.add_string(f"quant_vectors.source.{name}", source)

    w.add_tensor("x.f32", x)
    for name, qtype, qbytes, deq, dot, _ in entries:
        # uint8 bytes of shape (rows, row_bytes) + raw_dtype: the writer turns
        # the byte shape into the element shape (rows, cols) itself.
        w.add_tensor(f"{name}.q", np.ascontiguousarray(qbytes, dtype=np.uint8), raw_dtype=qtype)
        w.add_tensor(f"{name}.f32", np.ascontiguousarray(deq, dtype=np.float32))
        w.add_tensor(f"{name}.dot", np.ascontiguousarray(dot, dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def verify(path: str, x_ref: np.ndarray, entries) -> None:
    r = gguf.GGUFReader(path)
    tensors = {t.name: t for t in r.tensors}
    expected = 1 + 3 * len(entries)
    assert len(tensors) == expected, (len(tensors), expected)

    def f32(name: str, shape_ggml: list[int]) -> np.ndarray:
        t = tensors[name]
        assert t.tensor_type == Q.F32, (name, t.tensor_type)
        assert [int(v) for v in t.shape] == shape_ggml, (name, list(t.shape))
        return np.asarray(t.data, dtype=np.float32).reshape(list(reversed(shape_ggml)))

    x = f32("x.f32", [COLS])
    assert np.array_equal(x.view(np.uint32), x_ref.view(np.uint32))
    for name, qtype, qbytes, deq, dot, _ in entries:
        t = tensors[f"{name}.q"]
        assert t.tensor_type == qtype, (name, t.tensor_type)
        assert [int(v) for v in t.shape] == [COLS, ROWS], (name, list(t.shape))
        raw = np.ascontiguousarray(t.data).view(np.uint8).reshape(ROWS, -1)
        assert raw.shape[1] == row_bytes(qtype, COLS)
        assert np.array_equal(raw, qbytes), name
        deq_file = f32(f"{name}.f32", [COLS, ROWS])
        deq_again = dequant(raw, qtype)
        assert np.array_equal(deq_again.view(np.uint32), deq_file.view(np.uint32)), name
        assert np.array_equal(deq_file.view(np.uint32), deq.view(np.uint32)), name
        dot_file = f32(f"{name}.dot", [ROWS])
        assert np.array_equal(dot_ref(deq_file, x).view(np.uint32), dot_file.view(np.uint32)), name
    print(f"verified {len(tensors)} tensors in {path}")


def main() -> int:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--out", default=os.path.join(root, "fixtures", "quant", "quant_vectors.gguf"))
    args = ap.parse_args()

    print(f"gguf {importlib.metadata.version('gguf')}, numpy {np.__version__}, seed {args.seed}")
    x, entries = build(args.seed)
    write(args.out, args.seed, x, entries)
    verify(args.out, x, entries)
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
