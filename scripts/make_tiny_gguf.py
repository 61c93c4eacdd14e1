#!/usr/bin/env python3
"""Write samtal's tiny GGUF fixtures from the tiny HF models, the way llama.cpp's
convert_hf_to_gguf.py does for LlamaForCausalLM, using the `gguf` package (gguf-py).

Makes, under fixtures/models/:
  tiny-llama-f32.gguf    all tensors F32                           general.file_type 0
  tiny-llama-f16.gguf    2-D tensors F16, norms F32                 general.file_type 1
  tiny-llama-q8_0.gguf   2-D tensors Q8_0, norms F32                general.file_type 7
  tiny-llama-q4_0.gguf   2-D tensors Q4_0, norms F32                general.file_type 2
  tiny-llama-q4_1.gguf   2-D tensors Q4_1, norms F32                general.file_type 3
      (from fixtures/models/tiny-llama: hidden 64, so blocks of 32 fit every row)
  tiny-llama-256-q4_k.gguf  2-D tensors Q4_K, norms F32             general.file_type 14
      (from .cache/tiny-llama-256, made by make_tiny_models.py: hidden = ffn = 256, since a
       Q4_K row must be a multiple of 256)

Quantized files are "pure": every 2-D weight (token_embd and output included) has the file's
type, as with llama-quantize --pure; 1-D tensors (the norms) stay F32 as llama.cpp keeps them.

What follows convert_hf_to_gguf.py (llama.cpp's conversion/llama.py `LlamaModel`, conversion/base.py
`TextModel`), as vendored in llama-cpp-python 0.3.36:
  * metadata: general.architecture "llama", general.type/name, llama.block_count,
    llama.context_length, llama.embedding_length, llama.feed_forward_length,
    llama.attention.head_count, llama.attention.head_count_kv, llama.rope.freq_base,
    llama.attention.layer_norm_rms_epsilon, llama.attention.key_length/value_length (config.json
    has head_dim), general.file_type, llama.vocab_size, llama.rope.dimension_count,
    general.quantization_version;
  * tokenizer: tokenizer.ggml.model "gpt2", tokenizer.ggml.pre (see TOKENIZER_PRE),
    tokens/token_type as `TextModel.get_vocab_base` builds them (added special tokens CONTROL=3,
    the rest NORMAL=1), then gguf.SpecialVocab(load_merges=True): merges, bos/eos ids and
    the chat_template from tokenizer_config.json;
  * tensor names token_embd, blk.N.{attn_norm,attn_q,attn_k,attn_v,attn_output,ffn_norm,ffn_gate,
    ffn_up,ffn_down}, output_norm, output (absent when embeddings are tied);
  * the Q/K row permutation `LlamaModel.permute` (undo_permute=True): HF's rotate_half RoPE layout
    is turned into llama.cpp's interleaved-pair layout. q_proj uses n_head, k_proj n_head_kv.
  * Q8_0/Q4_0/Q4_1 use gguf-py's quantizers (Q8_0 is bit-exact with ggml's reference).
    gguf-py has no Q4_K quantizer, so quantize_q4_k() below is a numpy port of ggml's
    quantize_row_q4_K_ref (make_qkx2_quants, nmax 15, rmin -1, rdelta 0.1, nstep 20).

TOKENIZER_PRE is "gpt-2": convert_hf_to_gguf.py picks `pre` by hashing the token ids of a test
string against known models, and this tokenizer (trained here) is in no such list; its
pre-tokenizer is HF ByteLevel(use_regex=True), i.e. the GPT-2 split regex, which is llama.cpp's
"gpt-2" pre-tokenizer.

Run (after make_tiny_models.py):
    .venv-ref/bin/python scripts/make_tiny_gguf.py
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import gguf
import numpy as np
from safetensors.numpy import load_file
from transformers import AutoTokenizer

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "fixtures" / "models"
TOKENIZER_PRE = "gpt-2"

QT = gguf.GGMLQuantizationType
FT = gguf.LlamaFileType

VARIANTS = [
    # (source folder, output file, per-2D-tensor type, general.file_type)
    (MODELS / "tiny-llama", "tiny-llama-f32.gguf", QT.F32, FT.ALL_F32),
    (MODELS / "tiny-llama", "tiny-llama-f16.gguf", QT.F16, FT.MOSTLY_F16),
    (MODELS / "tiny-llama", "tiny-llama-q8_0.gguf", QT.Q8_0, FT.MOSTLY_Q8_0),
    (MODELS / "tiny-llama", "tiny-llama-q4_0.gguf", QT.Q4_0, FT.MOSTLY_Q4_0),
    (MODELS / "tiny-llama", "tiny-llama-q4_1.gguf", QT.Q4_1, FT.MOSTLY_Q4_1),
    (ROOT / ".cache" / "tiny-llama-256", "tiny-llama-256-q4_k.gguf", QT.Q4_K, FT.MOSTLY_Q4_K_S),
]

HF_TO_GGUF_BLOCK = {
    "input_layernorm.weight": "attn_norm.weight",
    "self_attn.q_proj.weight": "attn_q.weight",
    "self_attn.k_proj.weight": "attn_k.weight",
    "self_attn.v_proj.weight": "attn_v.weight",
    "self_attn.o_proj.weight": "attn_output.weight",
    "post_attention_layernorm.weight": "ffn_norm.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight",
    "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
}


def permute(weights: np.ndarray, n_head: int, n_head_kv: int | None) -> np.ndarray:
    """llama.cpp conversion/llama.py LlamaModel.permute, verbatim in numpy."""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return (
        weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
        .swapaxes(1, 2)
        .reshape(weights.shape)
    )


def gguf_name(hf: str) -> str:
    if hf == "model.embed_tokens.weight":
        return "token_embd.weight"
    if hf == "model.norm.weight":
        return "output_norm.weight"
    if hf == "lm_head.weight":
        return "output.weight"
    parts = hf.split(".")
    assert parts[0] == "model" and parts[1] == "layers", hf
    return f"blk.{int(parts[2])}.{HF_TO_GGUF_BLOCK['.'.join(parts[3:])]}"


# ---------------------------------------------------------------- Q4_K (ggml quantize_row_q4_K_ref)
QK_K = 256


def _nearest_int(x: np.ndarray) -> np.ndarray:
    # ggml nearest_int: round to nearest, ties to even (float32 magic-number trick)
    return np.rint(x.astype(np.float32)).astype(np.int32)


def _seqsum(a: np.ndarray) -> np.ndarray:
    """Row sums accumulated left to right in float32, as ggml's scalar C loops do."""
    return np.add.accumulate(a.astype(np.float32), axis=1, dtype=np.float32)[:, -1]


def _make_qkx2_quants(x: np.ndarray, w: np.ndarray, nmax: int, rmin: float, rdelta: float, nstep: int):
    """Vectorised ggml make_qkx2_quants (use_mad=false) over rows of x (n, 32). Returns (scale, -min, L)."""
    f32 = np.float32
    x = x.astype(f32)
    w = w.astype(f32)
    mn = np.minimum(x.min(axis=1), f32(0))
    mx = x.max(axis=1)
    sum_w = _seqsum(w)
    sum_x = _seqsum(w * x)
    flat = mx == mn
    rng = np.where(flat, f32(1), mx - mn).astype(f32)
    iscale = (f32(nmax) / rng).astype(f32)
    scale = (f32(1) / iscale).astype(f32)
    L = np.clip(_nearest_int(iscale[:, None] * (x - mn[:, None])), 0, nmax)
    diff = scale[:, None] * L.astype(f32) + mn[:, None] - x
    best = _seqsum(w * (diff * diff))
    for step in range(nstep + 1):
        # ggml uses the *current* min here: a better fit found in an earlier step moves it
        rng = np.where(flat, f32(1), mx - mn).astype(f32)
        isc = ((f32(rmin) + f32(rdelta) * f32(step) + f32(nmax)) / rng).astype(f32)
        la = np.clip(_nearest_int(isc[:, None] * (x - mn[:, None])), 0, nmax)
        lf = la.astype(f32)
        sum_l = _seqsum(w * lf)
        sum_l2 = _seqsum(w * lf * lf)
        sum_xl = _seqsum(w * lf * x)
        D = sum_w * sum_l2 - sum_l * sum_l
        ok = D > 0
        Ds = np.where(ok, D, f32(1))
        this_scale = (sum_w * sum_xl - sum_x * sum_l) / Ds
        this_min = (sum_l2 * sum_x - sum_l * sum_xl) / Ds
        pos = this_min > 0
        this_min = np.where(pos, f32(0), this_min).astype(f32)
        this_scale = np.where(pos, sum_xl / np.where(sum_l2 > 0, sum_l2, f32(1)), this_scale).astype(f32)
        d2 = this_scale[:, None] * lf + this_min[:, None] - x
        cur = _seqsum(w * (d2 * d2))
        better = ok & (cur < best)
        L = np.where(better[:, None], la, L)
        best = np.where(better, cur, best)
        scale = np.where(better, this_scale, scale).astype(f32)
        mn = np.where(better, this_min, mn).astype(f32)
    scale = np.where(flat, f32(0), scale).astype(f32)
    L = np.where(flat[:, None], 0, L)
    return scale, (-mn).astype(f32), L


def quantize_q4_k(data: np.ndarray) -> np.ndarray:
    """Q4_K blocks (144 bytes per 256 values) for a 2-D float32 array; returns uint8 (rows, bytes)."""
    f32 = np.float32
    rows, cols = data.shape
    assert cols % QK_K == 0, f"Q4_K needs rows that are a multiple of {QK_K}, got {cols}"
    x = data.astype(f32).reshape(-1, QK_K)  # super-blocks
    nb = x.shape[0]
    sub = x.reshape(nb * 8, 32)
    av_x = np.sqrt(_seqsum(sub * sub) / f32(32)).astype(f32)
    weights = av_x[:, None] + np.abs(sub)
    scales, mins, L = _make_qkx2_quants(sub, weights, 15, -1.0, 0.1, 20)
    scales = scales.reshape(nb, 8)
    mins = mins.reshape(nb, 8)
    L = L.reshape(nb, 8, 32)
    max_scale = np.maximum(scales.max(axis=1), f32(0))
    max_min = np.maximum(mins.max(axis=1), f32(0))
    inv_scale = np.where(max_scale > 0, f32(63) / np.where(max_scale > 0, max_scale, f32(1)), f32(0)).astype(f32)
    inv_min = np.where(max_min > 0, f32(63) / np.where(max_min > 0, max_min, f32(1)), f32(0)).astype(f32)
    ls = np.minimum(63, _nearest_int(inv_scale[:, None] * scales)).astype(np.uint8)
    lm = np.minimum(63, _nearest_int(inv_min[:, None] * mins)).astype(np.uint8)
    sc = np.zeros((nb, 12), dtype=np.uint8)
    for j in range(8):
        if j < 4:
            sc[:, j] = ls[:, j]
            sc[:, j + 4] = lm[:, j]
        else:
            sc[:, j + 4] = (ls[:, j] & 0xF) | ((lm[:, j] & 0xF) << 4)
            sc[:, j - 4] |= (ls[:, j] >> 4) << 6
            sc[:, j] |= (lm[:, j] >> 4) << 6
    d16 = (max_scale / f32(63)).astype(np.float16)
    dmin16 = (max_min / f32(63)).astype(np.float16)
    d = d16.astype(f32)
    dmin = dmin16.astype(f32)
    # re-derive L from the packed 6-bit scales (get_scale_min_k4), as ggml does
    sc_u, m_u = gguf.quants.Q4_K.get_scale_min(sc)
    dd = d[:, None] * sc_u.astype(f32)
    dm = dmin[:, None] * m_u.astype(f32)
    sub3 = x.reshape(nb, 8, 32)
    nz = dd != 0
    l2 = np.clip(_nearest_int((sub3 + dm[:, :, None]) / np.where(nz, dd, f32(1))[:, :, None]), 0, 15)
    L = np.where(nz[:, :, None], l2, L).astype(np.uint8).reshape(nb, QK_K)
    qs = np.empty((nb, QK_K // 2), dtype=np.uint8)
    for c, j in enumerate(range(0, QK_K, 64)):
        qs[:, c * 32:(c + 1) * 32] = L[:, j:j + 32] | (L[:, j + 32:j + 64] << 4)
    blocks = np.concatenate([d16.view(np.uint8).reshape(nb, 2), dmin16.view(np.uint8).reshape(nb, 2), sc, qs], axis=1)
    assert blocks.shape[1] == gguf.GGML_QUANT_SIZES[QT.Q4_K][1]
    return blocks.reshape(rows, cols // QK_K * 144)


def quantize(data: np.ndarray, qtype: QT) -> np.ndarray:
    if qtype == QT.Q4_K:
        return quantize_q4_k(data)
    return gguf.quants.quantize(data, qtype)


# ---------------------------------------------------------------- vocabulary (get_vocab_base)
def vocab_base(model_dir: Path, vocab_size: int):
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    assert max(tokenizer.vocab.values()) < vocab_size
    reverse_vocab = {id_: tok for tok, id_ in tokenizer.vocab.items()}
    added_vocab = tokenizer.get_added_vocab()
    added_decoder = tokenizer.added_tokens_decoder
    tokens, toktypes = [], []
    for i in range(vocab_size):
        if i not in reverse_vocab:
            tokens.append(f"[PAD{i}]")
            toktypes.append(gguf.TokenType.UNUSED)
            continue
        token = reverse_vocab[i]
        if token in added_vocab:
            if not added_decoder[i].normalized:
                token = tokenizer.decode(tokenizer.encode(token, add_special_tokens=False))
            if added_decoder[i].special or (token.startswith("<|") and token.endswith("|>")):
                toktypes.append(gguf.TokenType.CONTROL)
            else:
                toktypes.append(gguf.TokenType.USER_DEFINED)
        else:
            toktypes.append(gguf.TokenType.NORMAL)
        tokens.append(token)
    probe = tokenizer("probe")["input_ids"]
    added_bos = tokenizer.bos_token_id is not None and probe[0] == tokenizer.bos_token_id
    added_eos = tokenizer.eos_token_id is not None and probe[-1] == tokenizer.eos_token_id
    return tokens, toktypes, bool(added_bos), bool(added_eos)


def write_gguf(src: Path, out: Path, qtype: QT, ftype: FT) -> None:
    cfg = json.loads((src / "config.json").read_text())
    assert cfg["architectures"] == ["LlamaForCausalLM"]
    n_head, n_kv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    tensors = load_file(str(src / "model.safetensors"))

    w = gguf.GGUFWriter(str(out), "llama")
    w.add_type(gguf.GGUFType.MODEL)
    w.add_name(src.name)
    # TextModel.set_gguf_parameters
    w.add_block_count(cfg["num_hidden_layers"])
    w.add_context_length(cfg["max_position_embeddings"])
    w.add_embedding_length(cfg["hidden_size"])
    w.add_feed_forward_length(cfg["intermediate_size"])
    w.add_head_count(n_head)
    w.add_head_count_kv(n_kv)
    rope = cfg.get("rope_parameters") or {"rope_theta": cfg.get("rope_theta"), "rope_type": "default"}
    assert rope.get("rope_type", "default") == "default"
    w.add_rope_freq_base(float(rope["rope_theta"]))
    w.add_layer_norm_rms_eps(cfg["rms_norm_eps"])
    if (head_dim := cfg.get("head_dim")) is not None:
        w.add_key_length(head_dim)
        w.add_value_length(head_dim)
    w.add_file_type(int(ftype))
    # LlamaModel.set_gguf_parameters
    w.add_vocab_size(cfg["vocab_size"])
    w.add_rope_dimension_count(cfg.get("head_dim") or cfg["hidden_size"] // n_head)
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    # LlamaModel.set_vocab -> TextModel._set_vocab_gpt2
    tokens, toktypes, added_bos, added_eos = vocab_base(src, cfg["vocab_size"])
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre(TOKENIZER_PRE)
    w.add_token_list(tokens)
    w.add_token_types(toktypes)
    special = gguf.SpecialVocab(src, load_merges=True, n_vocab=len(tokens))
    assert special.merges and special.chat_template, "merges and chat_template must be present"
    special.add_to_gguf(w, quiet=True)
    # llama.cpp's vendored gguf-py (newer than the gguf 0.19.0 wheel) also records whether the
    # tokenizer adds BOS/EOS; ours adds neither.
    if "bos" not in special.add_special_token:
        w.add_add_bos_token(added_bos)
    if "eos" not in special.add_special_token:
        w.add_add_eos_token(added_eos)

    for hf_name in sorted(tensors):
        data = tensors[hf_name].astype(np.float32)
        if hf_name.endswith("self_attn.q_proj.weight"):
            data = permute(data, n_head, n_head)
        elif hf_name.endswith("self_attn.k_proj.weight"):
            data = permute(data, n_head, n_kv)
        name = gguf_name(hf_name)
        t = QT.F32 if (data.ndim <= 1 or name.endswith("_norm.weight")) else qtype
        q = quantize(np.ascontiguousarray(data), t)
        w.add_tensor(name, q, raw_dtype=t)

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def check_roundtrip(src: Path, out: Path, qtype: QT) -> None:
    """Read the file back, dequantize with gguf-py, undo the permutation, compare with the source."""
    r = gguf.GGUFReader(str(out))
    cfg = json.loads((src / "config.json").read_text())
    n_head, n_kv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    tensors = load_file(str(src / "model.safetensors"))
    by_name = {t.name: t for t in r.tensors}
    assert len(by_name) == len(tensors)
    worst = 0.0
    for hf_name, ref in tensors.items():
        t = by_name[gguf_name(hf_name)]
        deq = gguf.quants.dequantize(t.data, t.tensor_type).reshape(ref.shape)
        if hf_name.endswith("q_proj.weight"):
            deq = unpermute(deq, n_head)
        elif hf_name.endswith("k_proj.weight"):
            deq = unpermute(deq, n_kv)
        rel = float(np.sqrt(((deq - ref) ** 2).mean()) / (np.sqrt((ref**2).mean()) + 1e-12))
        worst = max(worst, rel)
    limit = {QT.F32: 0.0, QT.F16: 1e-3, QT.Q8_0: 1e-2, QT.Q4_0: 0.15, QT.Q4_1: 0.12, QT.Q4_K: 0.1}[qtype]
    assert worst <= limit, f"{out.name}: relative RMS error {worst} > {limit}"
    print(f"{out.name}: {out.stat().st_size} bytes, worst relative RMS error vs source {worst:.3g}")


def unpermute(w: np.ndarray, n_head: int) -> np.ndarray:
    """Inverse of permute(): llama.cpp interleaved-pair rows back to HF rotate_half rows."""
    return w.reshape(n_head, w.shape[0] // n_head // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.parse_args()
    for src, name, qtype, ftype in VARIANTS:
        if not (src / "model.safetensors").exists():
            raise SystemExit(f"missing {src}: run scripts/make_tiny_models.py first")
        out = MODELS / name
        write_gguf(src, out, qtype, ftype)
        check_roundtrip(src, out, qtype)


if __name__ == "__main__":
    main()
