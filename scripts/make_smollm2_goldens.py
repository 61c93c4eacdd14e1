#!/usr/bin/env python3
"""Goldens for samtal's default model, SmolLM2-135M-Instruct Q4_1 GGUF, from Hugging Face
transformers (CPU, fp32, weights dequantized from the GGUF) and the HF `tokenizers` library.

Makes, in fixtures/golden/smollm2/:
  tokenize.json        [{"text", "parse_special", "add_special_tokens", "ids"}] (>= 60 cases)
  chat_template.json   {"template", "cases": [{"messages", "add_generation_prompt", "text", "ids"}]}
  perplexity.json      teacher-forced perplexity over fixtures/text/passage.txt
  greedy.json          {"cases": [{"messages", "prompt_ids", "greedy_ids", "text", ...}]}

Run:
    .venv-ref/bin/python scripts/make_smollm2_goldens.py [--gguf PATH]
PATH defaults to $XDG_CACHE_HOME/samtal/models/SmolLM2-135M-Instruct.Q4_1.gguf (XDG_CACHE_HOME
defaulting to ~/.cache); expected sha256 b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53.

Tokenizer reference, and why. transformers builds a tokenizer from GGUF metadata
(AutoTokenizer.from_pretrained(dir, gguf_file=...)). For tokenizer.ggml.pre == "smollm" it gives
GPT2Tokenizer's plain ByteLevel pre-tokenizer: it does NOT split digits first. SmolLM2's own
tokenizer.json pre-tokenizes with Sequence[Digits(individual_digits=true),
ByteLevel(add_prefix_space=false, trim_offsets=true, use_regex=true)] and no normalizer, and
llama.cpp's "smollm" pre-tokenizer likewise splits every \\p{N} first. The SmolLM2 vocabulary has
no multi-character token containing a digit, so the two agree on most text, but not where a
whitespace run precedes a digit (e.g. "a  1", "\\n 1", indentation before a number): there the
Digits split ends the whitespace run earlier and different whitespace tokens result. The real
tokenizer.json is not available here (no package in the reachable registries ships it), so the
reference is that same pipeline rebuilt with the `tokenizers` library from the GGUF's own
vocabulary and merges: BPE(dropout None, unk None, fuse_unk false, byte_fallback false,
ignore_merges false), the pre-tokenizer above, ByteLevel decoder, and the 17 CONTROL tokens of
the GGUF (ids 0..16) as special added tokens (normalized false). The GGUF-converted tokenizer's
output is recorded next to the reference's wherever they differ ("transformers_gguf_ids"), and
the script prints how many cases differ. Model outputs use the reference's ids.

The model: AutoModelForCausalLM.from_pretrained(dir, gguf_file=..., dtype=float32), which
dequantizes every tensor (Q4_1, Q8_0 token embedding, F32 norms) to fp32; embeddings are tied (the
file has no output.weight). As a check, the same logits are recomputed from an independent
dequantization (gguf-py + our own inverse of llama.cpp's Q/K permutation).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
from pathlib import Path

import gguf
import torch
import transformers
from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors
from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig, PreTrainedTokenizerFast

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "fixtures" / "golden" / "smollm2"
PASSAGE = ROOT / "fixtures" / "text" / "passage.txt"
SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
SYSTEM = "You are a helpful assistant."

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_goldens import independent_gguf_model  # noqa: E402


def default_gguf() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "samtal" / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"


# Plain text cases (parse_special true only: they contain no special-token strings).
TEXT_CASES = [
    "",
    "a",
    "Hello world",
    " Hello world",
    "HELLO WORLD hello world Hello World",
    "The quick brown fox jumps over the lazy dog.",
    "I'm sure they'll say it's fine, don't you think? We've seen it. I'D SAY SO.",
    "Apostrophes: \u2019curly\u2019 and 'straight' and ``backticks``",
    "Punctuation!!! ??? ... --- (parens) [brackets] {braces}",
    "e-mail: someone@example.com, url: https://example.org/path?q=1&r=2",
    "Supercalifragilisticexpialidocious antidisestablishmentarianism",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    # multilingual
    "Hej! Hur m\u00e5r du idag? Jag heter \u00c5sa och bor i G\u00f6teborg.",
    "R\u00e4ksm\u00f6rg\u00e5s, \u00e4lg och \u00f6, sm\u00f6rg\u00e5sbord \u2013 \u00e5tta \u00e4pplen.",
    "Gr\u00fc\u00df Gott! Die Stra\u00dfe ist sch\u00f6n, aber das Wetter ist \u00fcbel.",
    "\u00c7a va ? L'\u00e9t\u00e9 dernier, nous sommes all\u00e9s \u00e0 N\u00eemes \u2014 c'\u00e9tait g\u00e9nial !",
    "\u4f60\u597d\uff0c\u4e16\u754c\uff01\u4eca\u5929\u5929\u6c14\u5f88\u597d\u3002",
    "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\uff1a\u6771\u4eac\u30bf\u30ef\u30fc\u306f\u9ad8\u3044\u3067\u3059\u3002\u30ab\u30bf\u30ab\u30ca\u3001\u3072\u3089\u304c\u306a\u3002",
    "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645! \u0643\u064a\u0641 \u062d\u0627\u0644\u0643\u061f",
    "\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440! \u041a\u0430\u043a \u0434\u0435\u043b\u0430? \u0401\u043b\u043a\u0430 \u0438 \u0449\u0443\u043a\u0430.",
    "\u0928\u092e\u0938\u094d\u0924\u0947 \u0926\u0941\u0928\u093f\u092f\u093e! \u0906\u092a \u0915\u0948\u0938\u0947 \u0939\u0948\u0902?",
    "\ud55c\uad6d\uc5b4 \ud14d\uc2a4\ud2b8\uc785\ub2c8\ub2e4",
    "\u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac: \u039a\u03b1\u03bb\u03b7\u03bc\u03ad\u03c1\u03b1 \u03ba\u03cc\u03c3\u03bc\u03b5",
    "English, svenska, \u4e2d\u6587 und Deutsch in einer Zeile.",
    "\u00dcn\u00efc\u00f6d\u00e9 \u00e0cc\u00e9nts: na\u00efve caf\u00e9 r\u00e9sum\u00e9",
    # code
    "fn main() {\n    let v: Vec<u32> = (1..=10).collect();\n    println!(\"{:?}\", v);\n}\n",
    "impl<T: Clone> Iterator for Foo<T> {\n\ttype Item = T;\n\tfn next(&mut self) -> Option<T> { None }\n}",
    "def fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n",
    "print(f\"{x!r:>10}\")  # comment\n",
    "{\"name\": \"samtal\", \"version\": \"0.1.0\", \"tags\": [\"llm\", \"rust\"], \"n\": 42}",
    "[{\"a\":1},{\"b\":[true,false,null]},{\"c\":-3.5e+10}]",
    "$ cargo build --release && ./target/release/samtal --help",
    "<div class=\"x\">Hello &amp; bye</div>",
    # emoji and ZWJ sequences
    "I love \U0001f980 and \U0001f40d!",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466 family ZWJ sequence",
    "\U0001f3f3\ufe0f\u200d\U0001f308 flag and \U0001f44d\U0001f3fd skin tone",
    "\u2764\ufe0f heart with variation selector",
    "\U0001f600\U0001f603\U0001f604\U0001f601\U0001f606",
    "\U0001f1f8\U0001f1ea\U0001f1e9\U0001f1ea\U0001f1eb\U0001f1f7 flags",
    # whitespace runs
    "   leading spaces",
    "trailing spaces   ",
    "multiple    internal     spaces",
    "\t\ttabs\tand\ttabs",
    "line1\nline2\n\nline4\n\n\n",
    "mixed \t \n \r\n whitespace \u00a0 nbsp",
    " ",
    "\n",
    "    \n\t\n  ",
    "a\u3000b ideographic space",
    "\u200b zero width space and \u200d lone ZWJ",
    # numbers, including whitespace runs before digits (where the digit split matters)
    "1234567890",
    "3.14159265358979323846",
    "Call 555-0123 or +46 70 123 45 67.",
    "The year 2024 had 366 days.",
    "0000000000000000000000000000",
    "1,000,000 and 1.000.000 and 1 000 000",
    "x=42;y=-7;z=3e-5",
    "a  1",
    "\n 1\n  22\n   333",
    "    return 0;\n        x = 10",
    "col1  col2   col3\n1     22    333",
    "\u0663\u0664\u0665 Arabic-Indic digits and \u096d\u096e\u096f Devanagari digits",
    "\u00bd \u00b2 \u00b3 \u216b numeric symbols",
    # bytes absent from SmolLM2's vocabulary (HF tokenizers drops them: unk_token is None)
    "ctrl\x04char and \x1d",
    "private use \U000f0000 plane 15",
]

# Cases with special-token strings: each is written twice, parse_special true and false.
SPECIAL_CASES = [
    "<|im_start|>",
    "<|endoftext|>",
    "<|im_start|>user\nHello<|im_end|>\n",
    "text before<|endoftext|>text after",
    "<|im_start|><|im_end|>",
    "<repo_name>samtal<file_sep>src/main.rs",
    "<jupyter_code>print(1)<jupyter_output>1",
    "< |im_start| > and <|im_start and im_end|>",
    " <|im_end|> spaced ",
]

CONVERSATIONS = [
    ([{"role": "user", "content": "What is the capital of France?"}], True),
    ([{"role": "system", "content": SYSTEM}, {"role": "user", "content": "Hej! Vad heter du?"}], True),
    (
        [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": "Give me a number between 1 and 10."},
            {"role": "assistant", "content": "7"},
            {"role": "user", "content": "Now double it, and explain in one sentence."},
        ],
        True,
    ),
    (
        [
            {"role": "user", "content": "Write a haiku about the sea. \U0001f30a"},
            {"role": "assistant", "content": "Grey waves fold and break\nsalt wind combs the empty shore\ngulls argue with dusk"},
        ],
        False,
    ),
    ([{"role": "system", "content": "Answer in JSON."}, {"role": "user", "content": "{\"q\": \"2+2\"}"}], True),
]

GREEDY_PROMPTS = [
    "What is the capital of France?",
    "Write a haiku about the sea.",
    "List three uses of copper.",
]


def build_reference_tokenizer(reader: gguf.GGUFReader) -> PreTrainedTokenizerFast:
    tokens = reader.fields["tokenizer.ggml.tokens"].contents()
    types = reader.fields["tokenizer.ggml.token_type"].contents()
    merges = reader.fields["tokenizer.ggml.merges"].contents()
    vocab = {t: i for i, t in enumerate(tokens)}
    assert len(vocab) == len(tokens) == 49152
    bpe = models.BPE(
        vocab=vocab,
        merges=[tuple(m.split(" ")) for m in merges],
        dropout=None,
        fuse_unk=False,
        byte_fallback=False,
        ignore_merges=False,
    )
    tok = Tokenizer(bpe)
    model_json = json.loads(tok.to_str())["model"]
    for key, want in {"dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                      "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                      "ignore_merges": False}.items():
        assert model_json[key] == want, (key, model_json[key])
    tok.normalizer = None
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True),
        ]
    )
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    tok.decoder = decoders.ByteLevel()
    control = [AddedToken(t, special=True, normalized=False) for t, ty in zip(tokens, types) if ty == 3]
    assert [tok.token_to_id(a.content) for a in control] == list(range(17))
    tok.add_special_tokens(control)
    tid = lambda key: tokens[reader.fields[key].contents()]  # noqa: E731
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=tid("tokenizer.ggml.bos_token_id"),
        eos_token=tid("tokenizer.ggml.eos_token_id"),
        unk_token=tid("tokenizer.ggml.unknown_token_id"),
        pad_token=tid("tokenizer.ggml.padding_token_id"),
        chat_template=reader.fields["tokenizer.chat_template"].contents(),
        clean_up_tokenization_spaces=False,
        model_max_length=reader.fields["llama.context_length"].contents(),
    )


def chat_ids(tok, messages, add_generation_prompt) -> list[int]:
    out = tok.apply_chat_template(messages, add_generation_prompt=add_generation_prompt, tokenize=True)
    if not isinstance(out, list):  # transformers 5 returns a BatchEncoding
        out = out["input_ids"]
    return list(out)


def dump(name: str, data) -> None:
    path = OUT / name
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{path.relative_to(ROOT)}: {path.stat().st_size} bytes")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gguf", type=Path, default=default_gguf())
    args = ap.parse_args()
    path: Path = args.gguf.expanduser().resolve()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != SHA256:
        sys.exit(f"{path}: sha256 {digest}, expected {SHA256}")
    torch.manual_seed(0)
    torch.set_num_threads(2)
    OUT.mkdir(parents=True, exist_ok=True)

    reader = gguf.GGUFReader(str(path))
    ref = build_reference_tokenizer(reader)
    conv = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)

    # ---------------------------------------------------------------- tokenize.json
    cases, differ = [], 0
    for text, parse_special in [(t, True) for t in TEXT_CASES] + [
        (t, p) for t in SPECIAL_CASES for p in (True, False)
    ]:
        kw = {} if parse_special else {"split_special_tokens": True}
        ids = ref(text, **kw)["input_ids"]
        case = {"text": text, "parse_special": parse_special, "add_special_tokens": True, "ids": ids}
        other = conv(text, **kw)["input_ids"]
        if other != ids:
            differ += 1
            case["transformers_gguf_ids"] = other
        # decoding the ids gives the text back, except where bytes were dropped
        case["decodes_to_text"] = ref.decode(ids, skip_special_tokens=False) == text
        cases.append(case)
    assert len(cases) >= 60, len(cases)
    print(f"tokenize: {len(cases)} cases; the transformers GGUF-converted tokenizer differs on {differ}")
    for c in cases:
        if "transformers_gguf_ids" in c:
            print(f"   differs: {c['text']!r}")
    dump("tokenize.json", cases)

    # ---------------------------------------------------------------- chat_template.json
    template = reader.fields["tokenizer.chat_template"].contents()
    chat = []
    for messages, agp in CONVERSATIONS:
        text = ref.apply_chat_template(messages, add_generation_prompt=agp, tokenize=False)
        ids = chat_ids(ref, messages, agp)
        assert ids == ref(text, add_special_tokens=False)["input_ids"]
        chat.append({"messages": messages, "add_generation_prompt": agp, "text": text, "ids": ids})
    dump("chat_template.json", {"template": template, "cases": chat})

    # ---------------------------------------------------------------- model
    model = AutoModelForCausalLM.from_pretrained(
        path.parent, gguf_file=path.name, dtype=torch.float32, attn_implementation="eager"
    ).eval()
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert model.config.tie_word_embeddings, "SmolLM2's GGUF has no output.weight"
    other = independent_gguf_model(path).eval()

    # ---------------------------------------------------------------- perplexity.json
    text = PASSAGE.read_text(encoding="utf-8")
    ids = ref(text)["input_ids"]
    assert ids[0] != ref.bos_token_id, "SmolLM2 adds no BOS"
    n = len(ids)
    assert 600 <= n <= model.config.max_position_embeddings
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0].to(torch.float32)
        logits2 = other(torch.tensor([ids])).logits[0]
    d_ind = float((logits - logits2).abs().max())
    print(f"model: transformers-GGUF vs independent dequantization, max|dlogit| over the passage = {d_ind:.3g}")
    assert d_ind < 1e-3
    logp = torch.log_softmax(logits[:-1].double(), dim=-1)
    target = torch.tensor(ids[1:])
    nll = -logp.gather(1, target[:, None])[:, 0]
    nll_mean = float(nll.mean())
    dump(
        "perplexity.json",
        {
            "text_file": str(PASSAGE.relative_to(ROOT)),
            "tokenization": "tokenizer(text) with the reference tokenizer: no BOS or EOS is added",
            "tokens": n,
            "scored_tokens": n - 1,
            "window": "one window: the whole passage (context length 8192)",
            "nll_mean": nll_mean,
            "nll_sum": float(nll.sum()),
            "ppl": math.exp(nll_mean),
            "first_ids": ids[:16],
            "log_softmax_in": "float64 of the fp32 logits",
            "transformers_version": transformers.__version__,
            "torch_version": torch.__version__.split("+")[0],
        },
    )
    print(f"perplexity: {n} tokens, ppl {math.exp(nll_mean):.4f}")

    # ---------------------------------------------------------------- greedy.json
    eos = ref.eos_token_id
    gen_cfg = GenerationConfig(
        do_sample=False, num_beams=1, max_new_tokens=32, repetition_penalty=1.0,
        eos_token_id=eos, pad_token_id=eos, bos_token_id=None, use_cache=True,
    )
    model.generation_config = gen_cfg
    greedy = []
    for user in GREEDY_PROMPTS:
        messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]
        prompt = chat_ids(ref, messages, True)
        inp = torch.tensor([prompt])
        with torch.no_grad():
            out = model.generate(inp, attention_mask=torch.ones_like(inp))
            new = out[0, len(prompt):].tolist()
            full = model(out).logits[0, len(prompt) - 1 : len(prompt) - 1 + len(new)]
        top2 = full.topk(2, dim=-1)
        assert top2.indices[:, 0].tolist() == new, "cached greedy != teacher-forced argmax"
        stopped = eos in new
        greedy.append(
            {
                "messages": messages,
                "prompt_ids": prompt,
                "greedy_ids": new,
                "stopped_at_eos": stopped,
                "eos_index": new.index(eos) if stopped else None,
                "text": ref.decode(new, skip_special_tokens=False),
                "greedy_margins": [float(f"{m:.7g}") for m in (top2.values[:, 0] - top2.values[:, 1]).tolist()],
                "first_step_top5": [
                    [int(i), float(f"{v:.7g}")] for v, i in zip(*full[0].topk(5))
                ],
            }
        )
        print(f"greedy: {user!r} -> {ref.decode(new)!r} (min margin {min(greedy[-1]['greedy_margins']):.3g})")
    dump(
        "greedy.json",
        {
            "generation": "greedy (do_sample=False, num_beams=1, repetition_penalty=1.0), at most 32 new tokens, "
            "stopping after <|im_end|> (id 2), which is included in greedy_ids when produced",
            "system": SYSTEM,
            "cases": greedy,
            "transformers_version": transformers.__version__,
            "torch_version": torch.__version__.split("+")[0],
        },
    )


if __name__ == "__main__":
    main()
