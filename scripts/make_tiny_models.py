#!/usr/bin/env python3
"""Make samtal's tiny random reference models with Hugging Face transformers.

Makes, under fixtures/models/ (all weights fp32, safetensors):

  tiny-llama/        LlamaForCausalLM, hidden 64, ffn 128, 2 layers, 4 heads, 2 kv heads
                     (GQA), rope_theta 1e4, rms_norm_eps 1e-5, 256 positions, untied
  tiny-llama-tied/   the same with tie_word_embeddings=True (different random weights)
  tiny-mistral/      MistralForCausalLM like tiny-llama but sliding_window=16, saved with
                     attn_implementation "eager" (the check below proves the window is applied)
  tiny-qwen2/        Qwen2ForCausalLM like tiny-llama, q/k/v biases (random, not zero),
                     rope_theta 1e6, use_sliding_window False, untied
  tiny-gpt2/         GPT2LMHeadModel, n_embd 16, 2 layers, 4 heads, 128 positions, vocab 50257,
                     the real GPT-2 tokenizer (see scripts/fetch_gpt2_tokenizer.sh)
  tiny-llama-256/    (not committed: only its Q4_K GGUF is, see make_tiny_gguf.py) hidden 256,
                     ffn 256, 2 layers, 4 heads, 2 kv heads; row lengths are multiples of 256
                     as the K-quants need

The llama/mistral/qwen2 models share a 512-entry byte-level BPE tokenizer trained here
(deterministically) on the text in TRAINING_TEXT: special tokens <s> (0, bos), </s> (1, eos),
<|im_start|> (2), <|im_end|> (3), a ByteLevel pre-tokenizer/decoder (GPT-2 split regex), no
normalizer, and a ChatML chat_template in tokenizer_config.json. No BOS is added by
`tokenizer(text)`.

Weights: transformers' own init is replaced by a seeded, explicit one so that every tensor is
exercised and logits are not flat: matrices/embeddings ~ N(0, 0.15^2) (tiny-llama-256: 0.075, GPT-2: 0.2), norm weights
~ 1 + N(0, 0.1^2), biases (norm biases, Qwen2 q/k/v biases, GPT-2 biases) ~ N(0, 0.1^2).

Run (after scripts/reference-env.sh and scripts/fetch_gpt2_tokenizer.sh):
    .venv-ref/bin/python scripts/make_tiny_models.py
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import (
    GPT2Config,
    GPT2LMHeadModel,
    GPT2TokenizerFast,
    LlamaConfig,
    LlamaForCausalLM,
    MistralConfig,
    MistralForCausalLM,
    PreTrainedTokenizerFast,
    Qwen2Config,
    Qwen2ForCausalLM,
)

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "fixtures" / "models"

SPECIAL_TOKENS = ["<s>", "</s>", "<|im_start|>", "<|im_end|>"]
BOS_ID, EOS_ID = 0, 1
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

# Original text written for this script (English, Swedish, code, numbers, whitespace).
TRAINING_TEXT = """\
The small model reads a sentence, one token at a time, and guesses what comes next.
It is not clever; it is only a pile of numbers that were chosen by a random seed.
Still, the numbers are fixed, so every run of the reference gives the same answer,
and a second implementation can be checked against it to the last few digits.
Tests like these are boring on purpose. They catch a swapped axis, a missing bias,
a rotary embedding that turns the wrong way, or a mask that lets the future leak in.
When the logits agree, the engine is probably right; when they do not, the first
position that differs usually points straight at the bug.

Den lilla modellen läser en mening, en bit i taget, och gissar vad som kommer sedan.
Den är inte klok; den är bara en hög med tal som valdes av ett slumpfrö.
Ändå är talen fasta, så varje körning ger samma svar, och en annan motor kan
jämföras med den ända ner till de sista decimalerna. Höstlöven faller över sjön,
och björkarna står vita vid vägen medan kaffet kallnar på köksbordet.
Vi åker till skärgården på lördag om vädret håller, annars stannar vi hemma.

fn main() {
    let mut total: u64 = 0;
    for i in 0..100 {
        if i % 3 == 0 || i % 5 == 0 {
            total += i;
        }
    }
    println!("sum = {}", total);
}

def softmax(xs):
    m = max(xs)
    exps = [math.exp(x - m) for x in xs]
    s = sum(exps)
    return [e / s for e in exps]

for name, value in sorted(config.items()):
    print(f"{name:>12} = {value!r}")

{"model": "tiny", "layers": 2, "heads": 4, "rope_theta": 10000.0, "ok": true}
Numbers: 0 1 2 3 4 5 6 7 8 9 10 42 100 256 1024 3.14159 2024-01-31 12:30:45
	tabbed line	with	tabs
    indented line with four spaces
"""

GPT2_TOKENIZER_DIR = ROOT / ".cache" / "gpt2-tokenizer"


def train_tokenizer() -> Tokenizer:
    """Train the shared 512-token byte-level BPE tokenizer (deterministic)."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=512,
        min_frequency=1,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    lines = TRAINING_TEXT.splitlines(keepends=True)
    tok.train_from_iterator(lines, trainer=trainer)
    assert tok.get_vocab_size() == 512, tok.get_vocab_size()
    for i, t in enumerate(SPECIAL_TOKENS):
        assert tok.token_to_id(t) == i
    return tok


def wrap_tokenizer(tok: Tokenizer) -> PreTrainedTokenizerFast:
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        chat_template=CHATML_TEMPLATE,
        model_max_length=256,
        clean_up_tokenization_spaces=False,
    )


def save_tokenizer(hf_tok, out: Path, chat_template: str | None, compact: bool = False) -> None:
    hf_tok.save_pretrained(out)
    if compact:
        # Same tokenizer, written without indentation (GPT-2's is 3.5 MB pretty-printed, 1.4 MB not).
        path = out / "tokenizer.json"
        before = Tokenizer.from_file(str(path))
        before.save(str(path), pretty=False)
        assert Tokenizer.from_file(str(path)).to_str() == before.to_str()
    # Keep the chat template inside tokenizer_config.json (where llama.cpp's converter and older
    # transformers look for it) rather than in a separate chat_template.jinja.
    cfg_path = out / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    jinja = out / "chat_template.jinja"
    if jinja.exists():
        jinja.unlink()
    if chat_template is not None:
        cfg["chat_template"] = chat_template
    else:
        cfg.pop("chat_template", None)
    cfg_path.write_text(json.dumps(cfg, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


@torch.no_grad()
def init_weights(model: torch.nn.Module, seed: int, std: float) -> None:
    """Seeded explicit init; iterates parameters in sorted-name order (tied ones appear once)."""
    g = torch.Generator().manual_seed(seed)
    for name, p in sorted(model.named_parameters(), key=lambda kv: kv[0]):
        noise = torch.randn(p.shape, generator=g, dtype=torch.float32)
        is_norm = ("norm" in name) or (".ln_" in name) or name.startswith("transformer.ln_f")
        if name.endswith(".bias"):
            p.copy_(0.1 * noise)
        elif is_norm:
            p.copy_(1.0 + 0.1 * noise)
        else:
            p.copy_(std * noise)


def check_saved(out: Path, cls, model, seed_ids: list[int]) -> None:
    """Reload the folder and make sure logits are identical to the in-memory model."""
    reloaded = cls.from_pretrained(out, dtype=torch.float32, attn_implementation="eager").eval()
    ids = torch.tensor([seed_ids])
    with torch.no_grad():
        a = model(ids).logits
        b = reloaded(ids).logits
    assert torch.equal(a, b), f"{out.name}: reload changed logits"


def save_model(model, out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    model.save_pretrained(out, safe_serialization=True)
    # transformers 5 writes config.json, generation_config.json, model.safetensors.
    assert (out / "model.safetensors").exists()
    assert (out / "generation_config.json").exists()


def llama_like_config(cls, **extra):
    base = dict(
        vocab_size=512,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        rms_norm_eps=1e-5,
        rope_theta=10000.0,
        bos_token_id=BOS_ID,
        eos_token_id=EOS_ID,
        pad_token_id=None,
        tie_word_embeddings=False,
        initializer_range=0.15,
    )
    base.update(extra)
    cfg = cls(**base)
    cfg._attn_implementation = "eager"
    return cfg


def make_model(
    name: str, cfg, model_cls, seed: int, std: float, hf_tok, chat_template, compact_tokenizer: bool = False
) -> torch.nn.Module:
    torch.manual_seed(seed)
    model = model_cls(cfg).to(torch.float32).eval()
    init_weights(model, seed, std)
    if getattr(cfg, "tie_word_embeddings", False):
        assert model.lm_head.weight.data_ptr() == model.get_input_embeddings().weight.data_ptr()
    out = MODELS / name
    save_model(model, out)
    save_tokenizer(hf_tok, out, chat_template, compact_tokenizer)
    vocab = cfg.vocab_size
    check_saved(out, model_cls, model, [i % vocab for i in range(5, 29)])
    print(f"{name}: {sum(p.numel() for p in model.parameters())} params")
    return model


def sliding_window_check(model: MistralForCausalLM) -> None:
    """The mistral reference really applies its window: compare with sliding_window=None."""
    ids = torch.tensor([[(7 * i + 11) % 500 + 4 for i in range(40)]])
    cfg2 = MistralConfig.from_dict(model.config.to_dict())
    cfg2.sliding_window = None
    cfg2._attn_implementation = "eager"
    full = MistralForCausalLM(cfg2).eval()
    full.load_state_dict(model.state_dict())
    with torch.no_grad():
        a = model(ids).logits[0]
        b = full(ids).logits[0]
    w = model.config.sliding_window
    diff = (a - b).abs().amax(dim=-1)
    first = int((diff > 0).nonzero()[0]) if bool((diff > 0).any()) else None
    print(
        f"tiny-mistral sliding-window check: sliding_window={w}; positions 0..{w - 1} max|diff| "
        f"{float(diff[:w].max()):.3g}; positions {w}..{ids.shape[1] - 1} max|diff| {float(diff[w:].max()):.3g}; "
        f"first differing position {first}"
    )
    assert float(diff[:w].max()) == 0.0, "window must not matter before it is full"
    assert first == w, "transformers' window: query i sees keys i-w+1..i (w keys incl. itself)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gpt2-tokenizer-dir", type=Path, default=GPT2_TOKENIZER_DIR)
    args = ap.parse_args()
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    MODELS.mkdir(parents=True, exist_ok=True)

    tok = train_tokenizer()
    again = train_tokenizer()
    assert tok.to_str() == again.to_str(), "tokenizer training is not deterministic"
    hf_tok = wrap_tokenizer(tok)

    make_model("tiny-llama", llama_like_config(LlamaConfig), LlamaForCausalLM, 1001, 0.15, hf_tok, CHATML_TEMPLATE)
    make_model(
        "tiny-llama-tied",
        llama_like_config(LlamaConfig, tie_word_embeddings=True),
        LlamaForCausalLM,
        1002,
        0.15,
        hf_tok,
        CHATML_TEMPLATE,
    )
    mistral = make_model(
        "tiny-mistral",
        llama_like_config(MistralConfig, sliding_window=16),
        MistralForCausalLM,
        1003,
        0.15,
        hf_tok,
        CHATML_TEMPLATE,
    )
    sliding_window_check(mistral)
    make_model(
        "tiny-qwen2",
        llama_like_config(Qwen2Config, rope_theta=1000000.0, use_sliding_window=False),
        Qwen2ForCausalLM,
        1004,
        0.15,
        hf_tok,
        CHATML_TEMPLATE,
    )
    # Source of the Q4_K GGUF only (row lengths multiples of 256); written to .cache, not committed.
    k_cfg = llama_like_config(LlamaConfig, hidden_size=256, intermediate_size=256)
    torch.manual_seed(1005)
    k_model = LlamaForCausalLM(k_cfg).to(torch.float32).eval()
    init_weights(k_model, 1005, 0.15 / 2)  # fan-in is 4x tiny-llama's: halve std to keep logits similar
    k_out = ROOT / ".cache" / "tiny-llama-256"
    save_model(k_model, k_out)
    save_tokenizer(hf_tok, k_out, CHATML_TEMPLATE)
    print(f"tiny-llama-256 (in .cache): {sum(p.numel() for p in k_model.parameters())} params")

    # GPT-2 with the real GPT-2 tokenizer.
    enc, bpe = args.gpt2_tokenizer_dir / "encoder.json", args.gpt2_tokenizer_dir / "vocab.bpe"
    if not (enc.exists() and bpe.exists()):
        sys.exit(f"missing {enc} / {bpe}: run scripts/fetch_gpt2_tokenizer.sh first")
    # transformers 5's GPT2TokenizerFast (an alias of GPT2Tokenizer) takes the vocabulary and the
    # merges themselves (encoder.json is GPT-2's vocab.json, vocab.bpe its merges.txt).
    vocab = json.loads(enc.read_text(encoding="utf-8"))
    merges = [
        tuple(line.split(" "))
        for line in bpe.read_text(encoding="utf-8").split("\n")
        if line and not line.startswith("#version")
    ]
    assert len(vocab) == 50257 and len(merges) == 50000
    gpt2_tok = GPT2TokenizerFast(vocab=vocab, merges=merges)
    assert gpt2_tok("Hello world")["input_ids"] == [15496, 995]
    assert len(gpt2_tok) == 50257 and gpt2_tok.eos_token_id == 50256
    gpt2_cfg = GPT2Config(
        vocab_size=50257,
        n_positions=128,
        n_embd=16,
        n_layer=2,
        n_head=4,
        bos_token_id=50256,
        eos_token_id=50256,
        tie_word_embeddings=True,
    )
    gpt2_cfg._attn_implementation = "eager"
    make_model("tiny-gpt2", gpt2_cfg, GPT2LMHeadModel, 1006, 0.2, gpt2_tok, None, compact_tokenizer=True)


if __name__ == "__main__":
    main()
