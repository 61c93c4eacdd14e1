#!/usr/bin/env python3
"""Goldens for samtal-chat's template rendering, from transformers' own Jinja setup.

Makes fixtures/chat/template_goldens.json:
    {"transformers_version", "jinja2_version",
     "templates": [{"name", "kind": "preset" | "file", "bos_token", "eos_token",
                    "cases": [{"messages", "add_generation_prompt", "extra",
                               "text" | "error"}]}]}

Templates rendered:
  * the built-in presets, read from crates/chat/src/template/presets/<name>.jinja (the very files
    the Rust crate compiles), with each family's BOS/EOS strings;
  * the model templates in fixtures/chat/templates/*.jinja (copied from llama.cpp's
    models/templates, which holds the chat_template of each named HF model).

Each conversation is rendered with transformers.utils.chat_template_utils.render_jinja_template,
i.e. exactly what tokenizer.apply_chat_template(..., tokenize=False) does, including tools=None
and documents=None. `extra` holds keyword arguments passed through to the template; a fixed
`date_string` keeps templates that print today's date reproducible, and `strftime_now` sees the
fixed clock FIXED_NOW (2024-07-26 12:00:00; the Rust test supplies the same dates). A template
that raises records the exception's message under "error".

Run:
    .venv-ref/bin/python scripts/chat_make_template_goldens.py
"""
from __future__ import annotations

import json
from pathlib import Path

import datetime as _dt

import jinja2
import transformers
import transformers.utils.chat_template_utils as ctu
from transformers.utils.chat_template_utils import render_jinja_template

FIXED_NOW = _dt.datetime(2024, 7, 26, 12, 0, 0)


class _FixedClock(_dt.datetime):
    @classmethod
    def now(cls, tz=None):
        return FIXED_NOW


# strftime_now calls `datetime.now()` through the module's own `datetime` name.
ctu.datetime = _FixedClock

ROOT = Path(__file__).resolve().parent.parent
PRESETS = ROOT / "crates" / "chat" / "src" / "template" / "presets"
TEMPLATES = ROOT / "fixtures" / "chat" / "templates"
OUT = ROOT / "fixtures" / "chat" / "template_goldens.json"

# name -> (bos_token, eos_token); None means the template sees an empty string.
PRESET_TOKENS = {
    "chatml": (None, "<|im_end|>"),
    "llama-2": ("<s>", "</s>"),
    "llama-3": ("<|begin_of_text|>", "<|eot_id|>"),
    "mistral": ("<s>", "</s>"),
    "zephyr": ("<s>", "</s>"),
    "gemma": ("<bos>", "<eos>"),
}

# Model template files -> (bos_token, eos_token), from each model's tokenizer_config.json.
FILE_TOKENS = {
    "meta-llama-Llama-3.1-8B-Instruct": ("<|begin_of_text|>", "<|eot_id|>"),
    "meta-llama-Llama-3.2-3B-Instruct": ("<|begin_of_text|>", "<|eot_id|>"),
    "Qwen-Qwen2.5-7B-Instruct": (None, "<|im_end|>"),
    "Qwen-Qwen3-0.6B": (None, "<|im_end|>"),
    "google-gemma-2-2b-it": ("<bos>", "<eos>"),
    "microsoft-Phi-3.5-mini-instruct": ("<s>", "<|endoftext|>"),
    "mistralai-Mistral-Nemo-Instruct-2407": ("<s>", "</s>"),
    "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B": ("<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"),
    "HuggingFaceTB-SmolLM3-3B": (None, "<|im_end|>"),
    "ibm-granite-granite-3.3-2B-Instruct": (None, "<|end_of_text|>"),
}

SYSTEM = {"role": "system", "content": "You are a helpful assistant."}
CONVERSATIONS = [
    ([{"role": "user", "content": "Hello"}], True),
    (
        [
            SYSTEM,
            {"role": "user", "content": "Hej! Vad heter du?"},
            {"role": "assistant", "content": "  Jag heter Samtal.  "},
            {"role": "user", "content": "Write two lines:\nfirst\nsecond 😀"},
        ],
        True,
    ),
    (
        [
            {"role": "user", "content": "Quote <|im_end|> and {{ braces }} literally."},
            {"role": "assistant", "content": "Done: <|im_end|> {{ braces }}"},
        ],
        False,
    ),
    ([SYSTEM, {"role": "user", "content": "Only a system prompt and one question."}], False),
    # Bad role order: templates that check alternation raise.
    ([{"role": "user", "content": "one"}, {"role": "user", "content": "two"}], True),
    ([{"role": "assistant", "content": "I speak first."}], True),
]
EXTRA = {"date_string": "26 Jul 2024"}


def render(template: str, bos: str | None, eos: str | None, messages, add_generation_prompt):
    kwargs = dict(EXTRA)
    if bos is not None:
        kwargs["bos_token"] = bos
    else:
        kwargs["bos_token"] = ""
    kwargs["eos_token"] = eos if eos is not None else ""
    try:
        rendered, _ = render_jinja_template(
            conversations=[messages],
            chat_template=template,
            add_generation_prompt=add_generation_prompt,
            **kwargs,
        )
        return {"text": rendered[0]}
    except jinja2.exceptions.TemplateError as e:
        return {"error": str(e)}


def entry(name: str, kind: str, source: str, bos: str | None, eos: str | None) -> dict:
    cases = []
    for messages, agp in CONVERSATIONS:
        case = {"messages": messages, "add_generation_prompt": agp, "extra": EXTRA}
        case.update(render(source, bos, eos, messages, agp))
        cases.append(case)
    return {"name": name, "kind": kind, "bos_token": bos, "eos_token": eos, "cases": cases}


def main() -> None:
    templates = []
    for name, (bos, eos) in PRESET_TOKENS.items():
        source = (PRESETS / f"{name}.jinja").read_text(encoding="utf-8")
        templates.append(entry(name, "preset", source, bos, eos))
    for name, (bos, eos) in FILE_TOKENS.items():
        source = (TEMPLATES / f"{name}.jinja").read_text(encoding="utf-8")
        templates.append(entry(name, "file", source, bos, eos))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "transformers_version": transformers.__version__,
        "jinja2_version": jinja2.__version__,
        "templates": templates,
    }
    OUT.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    n = sum(len(t["cases"]) for t in templates)
    errors = sum("error" in c for t in templates for c in t["cases"])
    print(f"wrote {OUT.relative_to(ROOT)}: {len(templates)} templates, {n} cases ({errors} raise)")


if __name__ == "__main__":
    main()
