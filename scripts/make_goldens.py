#!/usr/bin/env python3
"""Golden outputs of the tiny fixture models, computed by Hugging Face transformers on CPU in fp32.

Makes fixtures/golden/<name>.json for
  HF folders: tiny-llama, tiny-llama-tied, tiny-mistral, tiny-qwen2, tiny-gpt2, tiny-gpt2-text
  GGUF files: tiny-llama-f32, -f16, -q8_0, -q4_0, -q4_1, tiny-llama-256-q4_k
              (loaded with AutoModelForCausalLM.from_pretrained(fixtures/models, gguf_file=...),
               which dequantizes to fp32: the goldens are the logits of the dequantized weights)

Each file:
  model                 path of the folder or .gguf file, relative to the repository root
  prompt_ids            24 token ids (seeded random ids, special tokens excluded); for
                        tiny-gpt2-text the GPT-2 tokenization of prompt_text
  prompt_text           (tiny-gpt2-text only)
  logits                one row of vocab_size floats per entry of logits_positions (7 significant
                        digits). Every prompt position for the 512-token models; for the GPT-2
                        models (vocab 50257) only the first and last positions, to keep the files small
  logits_positions      prompt positions of the rows in `logits`
  argmax, logsumexp     for every prompt position (covers the positions without a logits row)
  greedy_ids            32 new ids: generate(do_sample=False, num_beams=1, no repetition penalty,
                        eos_token_id=None so nothing stops or masks generation)
  greedy_margins        top1 - top2 logit at each greedy step (teacher-forced full forward); small
                        values mean a near tie where a correct engine may legitimately differ
  transformers_version, torch_version, dtype, attn_implementation
The greedy ids are checked against a teacher-forced forward pass over prompt+generated ids
(the KV-cache path and the full-sequence path must agree).

The GGUF models are also checked against a second, independent dequantization (gguf-py's
dequantize + our own inverse of llama.cpp's Q/K permutation, loaded into LlamaForCausalLM);
the largest logit difference is printed.

Run (after make_tiny_models.py and make_tiny_gguf.py):
    .venv-ref/bin/python scripts/make_goldens.py
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "fixtures" / "models"
GOLDEN = ROOT / "fixtures" / "golden"
PROMPT_LEN = 24
NEW_TOKENS = 32
MIN_MARGIN = 0.02  # smallest accepted top1-top2 logit gap along the greedy path
MAX_SEED_TRIES = 500
SEED0 = 2024
GPT2_TEXT = (
    "The quick brown fox jumps over the lazy dog. In 2024, samtal's engine said: \"Hej världen!\" "
    "and printed 3.14159 twice."
)

HF_MODELS = ["tiny-llama", "tiny-llama-tied", "tiny-mistral", "tiny-qwen2", "tiny-gpt2"]
GGUF_MODELS = [
    ("tiny-llama-f32", "tiny-llama-f32.gguf", "tiny-llama"),
    ("tiny-llama-f16", "tiny-llama-f16.gguf", "tiny-llama"),
    ("tiny-llama-q8_0", "tiny-llama-q8_0.gguf", "tiny-llama"),
    ("tiny-llama-q4_0", "tiny-llama-q4_0.gguf", "tiny-llama"),
    ("tiny-llama-q4_1", "tiny-llama-q4_1.gguf", "tiny-llama"),
    ("tiny-llama-256-q4_k", "tiny-llama-256-q4_k.gguf", None),
]


def r7(x: float) -> float:
    return float(f"{x:.7g}")


def prompt_ids(lo: int, hi: int, seed: int) -> list[int]:
    """Seeded random ids in [lo, hi): the special tokens are outside that range."""
    rng = np.random.default_rng(seed)
    return [int(i) for i in rng.integers(lo, hi, size=PROMPT_LEN)]


@torch.no_grad()
def run(model, ids: list[int]) -> dict:
    """Prompt logits, cached greedy generation, and the teacher-forced check of it."""
    model.eval()
    inp = torch.tensor([ids])
    logits = model(inp).logits[0].to(torch.float32)
    n = logits.shape[0]
    gen_cfg = GenerationConfig(
        do_sample=False,
        num_beams=1,
        max_new_tokens=NEW_TOKENS,
        min_new_tokens=0,
        repetition_penalty=1.0,
        eos_token_id=None,
        bos_token_id=None,
        pad_token_id=0,
        use_cache=True,
    )
    # Replace the model's own generation config: a None eos_token_id passed alongside it would be
    # filled in from the model's defaults (the GGUF-derived config has one).
    model.generation_config = gen_cfg
    out = model.generate(inp, attention_mask=torch.ones_like(inp))
    new = out[0, n:].tolist()
    assert len(new) == NEW_TOKENS, len(new)
    full = model(out).logits[0].to(torch.float32)
    steps = full[n - 1 : n - 1 + NEW_TOKENS]
    top2 = steps.topk(2, dim=-1)
    tf_ids = top2.indices[:, 0].tolist()
    margins = (top2.values[:, 0] - top2.values[:, 1]).tolist()
    if tf_ids != new:
        first = next(i for i, (a, b) in enumerate(zip(tf_ids, new)) if a != b)
        raise AssertionError(f"cached greedy and teacher-forced argmax differ at step {first}")
    # the prompt part of the teacher-forced pass must reproduce the prompt logits
    assert torch.allclose(full[:n], logits, atol=1e-4, rtol=1e-4)
    return {"logits": logits, "greedy_ids": new, "margins": margins}


def golden(model, make_ids, model_rel: str, full_positions: bool, seed0: int, fixed_ids=None) -> dict:
    """Pick the first prompt seed (from seed0) whose greedy run has no near tie, then serialize."""
    if fixed_ids is not None:
        seed, ids = None, fixed_ids
        res = run(model, ids)
    else:
        for seed in range(seed0, seed0 + MAX_SEED_TRIES):
            ids = make_ids(seed)
            res = run(model, ids)
            if min(res["margins"]) >= MIN_MARGIN:
                break
        else:
            raise AssertionError(f"{model_rel}: no prompt with greedy margins >= {MIN_MARGIN}")
    logits = res["logits"]
    n = logits.shape[0]
    positions = list(range(n)) if full_positions else [0, n - 1]
    g = {
        "model": model_rel,
        "prompt_ids": ids,
        "prompt_seed": seed,
        "logits_positions": positions,
        "logits": [[r7(v) for v in logits[p].tolist()] for p in positions],
        "argmax": logits.argmax(-1).tolist(),
        "logsumexp": [r7(v) for v in torch.logsumexp(logits, -1).tolist()],
        "greedy_ids": res["greedy_ids"],
        "greedy_margins": [r7(m) for m in res["margins"]],
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__.split("+")[0],
        "dtype": "float32",
        "attn_implementation": model.config._attn_implementation,
    }
    if seed is None:
        del g["prompt_seed"]
    return g


def write(name: str, data: dict) -> None:
    GOLDEN.mkdir(parents=True, exist_ok=True)
    path = GOLDEN / f"{name}.json"
    path.write_text(json.dumps(data, separators=(",", ":"), ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{path.relative_to(ROOT)}: {path.stat().st_size} bytes; min greedy margin {min(data['greedy_margins']):.3g}")


def independent_gguf_model(gguf_path: Path) -> torch.nn.Module:
    """Dequantize with gguf-py, undo llama.cpp's Q/K permutation ourselves, load into LlamaForCausalLM."""
    import gguf
    from transformers import LlamaConfig, LlamaForCausalLM

    r = gguf.GGUFReader(str(gguf_path))

    def kv(key):
        return r.fields[key].contents()

    n_head, n_kv = kv("llama.attention.head_count"), kv("llama.attention.head_count_kv")
    names = {t.name: t for t in r.tensors}
    cfg = LlamaConfig(
        vocab_size=kv("llama.vocab_size"),
        hidden_size=kv("llama.embedding_length"),
        intermediate_size=kv("llama.feed_forward_length"),
        num_hidden_layers=kv("llama.block_count"),
        num_attention_heads=n_head,
        num_key_value_heads=n_kv,
        max_position_embeddings=kv("llama.context_length"),
        rms_norm_eps=kv("llama.attention.layer_norm_rms_epsilon"),
        rope_theta=kv("llama.rope.freq_base"),
        tie_word_embeddings="output.weight" not in names,
    )
    cfg._attn_implementation = "eager"
    model = LlamaForCausalLM(cfg).eval()

    def get(name):
        t = names[name]
        shape = tuple(int(x) for x in reversed(t.shape))
        return torch.from_numpy(np.array(gguf.quants.dequantize(t.data, t.tensor_type)).reshape(shape).copy())

    def unpermute(w, heads):
        return w.reshape(heads, w.shape[0] // heads // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)

    sd = {"model.embed_tokens.weight": get("token_embd.weight"), "model.norm.weight": get("output_norm.weight")}
    if "output.weight" in names:
        sd["lm_head.weight"] = get("output.weight")
    blk = {
        "attn_norm": "input_layernorm", "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj",
        "attn_v": "self_attn.v_proj", "attn_output": "self_attn.o_proj", "ffn_norm": "post_attention_layernorm",
        "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj",
    }
    for i in range(cfg.num_hidden_layers):
        for g, h in blk.items():
            w = get(f"blk.{i}.{g}.weight")
            if g == "attn_q":
                w = unpermute(w, n_head)
            elif g == "attn_k":
                w = unpermute(w, n_kv)
            sd[f"model.layers.{i}.{h}.weight"] = w
    missing, unexpected = model.load_state_dict(sd, strict=False)
    assert not unexpected and all(m == "lm_head.weight" for m in missing), (missing, unexpected)
    return model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.parse_args()
    torch.manual_seed(0)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(2)

    def small(seed):  # 512-token vocab; 0..3 are <s>, </s>, <|im_start|>, <|im_end|>
        return prompt_ids(4, 512, seed)

    def gpt2(seed):  # GPT-2 vocab; 50256 is <|endoftext|>
        return prompt_ids(0, 50256, seed)

    hf_models = {}
    for name in HF_MODELS:
        folder = MODELS / name
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager")
        hf_models[name] = model
        rel = str(folder.relative_to(ROOT))
        if name == "tiny-gpt2":
            write(name, golden(model, gpt2, rel, False, SEED0))
            tok = AutoTokenizer.from_pretrained(folder)
            ids = tok(GPT2_TEXT)["input_ids"]
            g = golden(model, None, rel, False, SEED0, fixed_ids=ids)
            g = {"model": g.pop("model"), "prompt_text": GPT2_TEXT, **g}
            write("tiny-gpt2-text", g)
        else:
            write(name, golden(model, small, rel, True, SEED0))

    for name, file, source in GGUF_MODELS:
        model = AutoModelForCausalLM.from_pretrained(
            MODELS, gguf_file=file, dtype=torch.float32, attn_implementation="eager"
        )
        assert all(p.dtype == torch.float32 for p in model.parameters())
        g = golden(model, small, str((MODELS / file).relative_to(ROOT)), True, SEED0)
        ids = torch.tensor([g["prompt_ids"]])
        other = independent_gguf_model(MODELS / file)
        with torch.no_grad():
            a = model(ids).logits
            b = other(ids).logits
            d_ind = float((a - b).abs().max())
            msg = f"  {file}: transformers-GGUF vs independent gguf-py dequant max|dlogit| = {d_ind:.3g}"
            if source is not None:
                d_src = float((a - hf_models[source](ids).logits).abs().max())
                msg += f"; vs HF {source} (fp32 safetensors) max|dlogit| = {d_src:.3g}"
                if file.endswith("f32.gguf"):
                    assert d_src < 1e-4, "f32 GGUF must reproduce the HF model (permutation round trip)"
        print(msg)
        assert d_ind < 1e-4, "transformers' GGUF loader disagrees with an independent dequantization"
        write(name, g)


if __name__ == "__main__":
    sys.exit(main())
