#!/usr/bin/env python3
"""Golden outputs of llama.cpp itself for the tiny quantized GGUF fixtures (and, with --smollm2,
for SmolLM2-135M-Instruct Q4_1).

The transformers goldens (fixtures/golden/<name>.json, scripts/make_goldens.py) are the logits of
the dequantized weights in fp32. llama.cpp does not compute that: for Q4_0/Q4_1/Q8_0 weights it
quantizes the activations to 8 bits (Q8_0 or Q8_1 blocks) and multiplies integers. These files
record what llama.cpp actually returns, so an engine that does the same can be compared with it.

Makes fixtures/golden/llama_cpp/<name>.json for tiny-llama-{q4_0,q4_1,q8_0} and tiny-llama-f32
(the f32 file is a sanity baseline: no activation quantization, so it must match its transformers
golden to float rounding), with the same prompt_ids as the transformers golden of the same name.

Each file has the fields of the transformers goldens:
  model             path of the .gguf, relative to the repository root
  prompt_ids        copied from fixtures/golden/<name>.json; evaluated as given (llama.eval on the
                    ids: no tokenizer, no BOS inserted; checked against llama.input_ids)
  logits_positions  every prompt position (vocab is 512)
  logits            one row of n_vocab floats per position, the float32 values llama.cpp returned,
                    each written as the shortest decimal that reads back to the same float32
  argmax, logsumexp per prompt position (logsumexp in float64 over the float32 row)
  greedy_ids        32 new ids: argmax of the last prompt row, then each id fed back one token at
                    a time through llama.cpp's KV cache, next id = argmax of the new row (ties:
                    lowest id, numpy's argmax); no sampler, no EOS, nothing masked
  greedy_margins    top1 - top2 of llama.cpp's own row at each greedy step (KV-cache path)
and instead of transformers_version/torch_version/dtype/attn_implementation:
  source            how it was computed (llama-cpp-python version, threads, batch, KV type, ...)
  system_info       llama_print_system_info() of the build that ran (compile-time CPU features)

Settings: n_threads = n_threads_batch = 1, n_ctx 256 (the model's context_length), n_batch =
n_ubatch = 64 (the whole prompt, and prompt + continuation for the check below, in one ubatch),
logits_all, flash attention off, KV cache in f32 (llama.cpp's default is f16, which would round K
and V and, with them, Q and the softmax output to f16 inside attention: an error source unrelated
to the weight types; --kv-type f16 to measure it), and no extra buffer types (use_extra_bufts =
false, which llama-cpp-python does not expose, so llama_model_default_params is wrapped), i.e. no
CPU_REPACK: weights stay in their GGUF layout (--repack to allow it; with AVX2, Q4_0 matrices
whose row count is a multiple of 8 would otherwise be repacked to Q4_0_8x8 with their own GEMM).

Which kernels this takes (llama.cpp as vendored by llama-cpp-python 0.3.36, GGML_NATIVE build on
an AVX2 x86 CPU; system_info there reads "AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | ... |
LLAMAFILE = 1 | OPENMP = 1 | REPACK = 1"), from ggml-cpu's mul_mat:
  prompt (24 rows at once):  llamafile_sgemm (tinyBLAS) is tried first.
      F32:   tinyBLAS f32 x f32.
      Q8_0, Q4_0: activations quantized to Q8_0, then tinyBLAS_Q0_AVX (int8 dot products).
      Q4_1:  no tinyBLAS kernel; activations quantized to Q8_1, ggml_vec_dot_q4_1_q8_1.
  decode (1 row):  tinyBLAS is prompt-only (n >= 2), so ggml_vec_dot_{f32, q8_0_q8_0, q4_0_q8_0,
      q4_1_q8_1} after quantizing the activation row to Q8_0 / Q8_1.
  token_embd is read with GET_ROWS (dequantized exactly). Q8_1 blocks (for Q4_1) carry
  s = fp16(d * sum(q)), rounded on its own, not fp16(d) * sum(q): the Q4_1 min term uses it.
  The lines of the load log that mention repack are printed: with --repack on this machine,
  "repack tensor blk.0.attn_q.weight with q4_0_8x8" for every Q4_0 matrix but token_embd,
  "cannot be used with preferred buffer type CPU_REPACK" for all tensors of the other files.
  Measured here: --repack moves the Q4_0 logits by at most 6e-7 (other files: identical);
  --kv-type f16 moves them by up to 0.13 (f32 file: 0.005) and changes q4_0's greedy ids.

After the greedy run, prompt + continuation are evaluated again in one batch (teacher forced):
its argmax must give back the greedy ids (the prompt path, tinyBLAS, and the decode path, vec_dot,
are different kernels; the largest difference between the two is printed). Then each result is
compared with the transformers golden: max |llama.cpp - transformers| over all prompt logits,
max |logit|, and whether the greedy ids agree.

Deterministic: one thread, fixed kernels; two runs give byte-identical files.

--smollm2 [PATH]: instead, the same for samtal's default model, next to its transformers goldens
(scripts/make_smollm2_goldens.py). PATH defaults to
$XDG_CACHE_HOME/samtal/models/SmolLM2-135M-Instruct.Q4_1.gguf (XDG_CACHE_HOME defaulting to
~/.cache); its sha256 must be b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53.
Same settings, but n_ctx = n_batch = n_ubatch = 1024. Writes to fixtures/golden/smollm2/:
  llama_cpp_greedy.json      for each case of greedy.json, its prompt_ids as stored there, passed
                             to llama.eval (no BOS); greedy as above but, like greedy.json, at most
                             32 new ids and stopping after <|im_end|> (id 2, included when
                             produced): greedy_ids, stopped_at_eos, eos_index, text (llama.cpp's
                             detokenizer), greedy_margins and first_step_top5 of llama.cpp's rows
  llama_cpp_perplexity.json  perplexity.json's convention: passage.txt tokenized by llama.cpp
                             (no BOS; checked: same count and first_ids as perplexity.json), all
                             705 ids in one llama.eval call (one window, one ubatch), the 704
                             tokens after the first scored, log-softmax in float64 of the float32
                             logits, nll_sum by math.fsum
with model, model_sha256, source and system_info. It prints how many greedy ids agree with
greedy.json (and both margins where they part) and both perplexities.
On this model the teacher-forced check of the greedy ids cannot hold and is only printed: the batch
rows are bit-identical to the one-token rows up to some position and from there differ by up to ~1
(most likely a last-bit difference between the batch and one-row kernels flips the rounding of some 8-bit
activations, after which each path carries its own quantization noise, as large as the distance to
the transformers logits), enough to flip near ties (margins of 0.02 occur). The golden is therefore
the path described: prompt in one batch, then one token at a time.

Run (llama-cpp-python built by scripts/bench-env.sh):
    .venv-bench/bin/python scripts/make_llama_cpp_goldens.py
    .venv-bench/bin/python scripts/make_llama_cpp_goldens.py --kv-type f16 --repack --out /tmp/lc
    .venv-bench/bin/python scripts/make_llama_cpp_goldens.py --smollm2 [PATH]
    .venv-bench/bin/python scripts/make_llama_cpp_goldens.py --smollm2 --kv-type f16 --out /tmp/lc
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import math
import os
import sys
from pathlib import Path

import numpy as np

import llama_cpp
import llama_cpp.llama_cpp as llama_c
from llama_cpp import Llama

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "fixtures" / "models"
GOLDEN = ROOT / "fixtures" / "golden"
NAMES = ["tiny-llama-q4_0", "tiny-llama-q4_1", "tiny-llama-q8_0", "tiny-llama-f32", "tiny-llama-256-q4_k"]
NEW_TOKENS = 32
N_CTX = 256
N_BATCH = 64
THREADS = 1
F32_TOLERANCE = 1e-3  # the f32 baseline with an f32 KV cache: only summation order differs
KV_TYPES = {"f32": llama_c.GGML_TYPE_F32, "f16": llama_c.GGML_TYPE_F16}

# --smollm2: the real default model, against the transformers goldens of fixtures/golden/smollm2/
SMOLLM2_GOLDEN = GOLDEN / "smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
SMOLLM2_N_CTX = 1024  # > the 705 passage tokens and any chat case (context_length is 8192)
SMOLLM2_N_BATCH = 1024  # the whole passage in one ubatch, like the one-window transformers forward
PASSAGE = ROOT / "fixtures" / "text" / "passage.txt"
EOS = 2  # <|im_end|>


def f32(x) -> float:
    """A float32 as the shortest decimal that reads back to it (exact, compact, deterministic)."""
    return float(str(np.float32(x)))


@contextlib.contextmanager
def extra_bufts(enabled: bool):
    """Set llama_model_params.use_extra_bufts, which Llama() does not take as an argument."""
    orig = llama_c.llama_model_default_params

    def params():
        p = orig()
        p.use_extra_bufts = enabled
        return p

    llama_c.llama_model_default_params = params
    try:
        yield
    finally:
        llama_c.llama_model_default_params = orig


def load(path: Path, kv_type: str, repack: bool, n_ctx: int = N_CTX, n_batch: int = N_BATCH) -> tuple[Llama, str]:
    """Load with the fixed settings; return the model and llama.cpp's load log."""
    log = io.StringIO()
    with extra_bufts(repack), contextlib.redirect_stderr(log):
        llm = Llama(
            model_path=str(path),
            n_ctx=n_ctx,
            n_batch=n_batch,
            n_ubatch=n_batch,
            n_threads=THREADS,
            n_threads_batch=THREADS,
            logits_all=True,
            flash_attn=False,
            n_gpu_layers=0,
            type_k=KV_TYPES[kv_type],
            type_v=KV_TYPES[kv_type],
            use_mmap=True,
            verbose=True,  # so that the load log (buffer types, context settings) is written
        )
    return llm, log.getvalue()


def eval_rows(llm: Llama, ids: list[int]) -> np.ndarray:
    """Evaluate ids after the tokens already in the cache; return their logits rows (float32)."""
    start = llm.n_tokens
    llm.eval(ids)
    assert llm.n_tokens == start + len(ids)
    assert llm.input_ids[: llm.n_tokens].tolist()[start:] == ids  # nothing inserted (no BOS)
    return np.array(llm.scores[start : llm.n_tokens], dtype=np.float32, copy=True)


def top2_gap(row: np.ndarray) -> float:
    a, b = np.sort(row)[-2:][::-1]
    return float(a) - float(b)


def logsumexp(row: np.ndarray) -> float:
    r = row.astype(np.float64)
    m = r.max()
    return float(m + np.log(np.exp(r - m).sum()))


def run(llm: Llama, prompt: list[int]) -> dict:
    llm.reset()
    logits = eval_rows(llm, prompt)
    assert logits.shape == (len(prompt), llm.n_vocab()), logits.shape
    new, margins, steps = [], [], []
    row = logits[-1]
    for _ in range(NEW_TOKENS):
        tok = int(np.argmax(row))
        new.append(tok)
        margins.append(top2_gap(row))
        steps.append(row)
        row = eval_rows(llm, [tok])[0]
    # teacher forced: prompt + continuation in one batch must give back the greedy ids
    llm.reset()
    full = eval_rows(llm, prompt + new)
    tf = full[len(prompt) - 1 : len(prompt) - 1 + NEW_TOKENS]
    tf_ids = [int(i) for i in np.argmax(tf, axis=-1)]
    if tf_ids != new:
        first = next(i for i, (a, b) in enumerate(zip(tf_ids, new)) if a != b)
        raise AssertionError(f"cached greedy and teacher-forced argmax differ at step {first}")
    return {
        "logits": logits,
        "greedy_ids": new,
        "margins": margins,
        "d_decode_vs_batch": float(np.abs(tf - np.stack(steps)).max()),
        "d_prompt_rerun": float(np.abs(full[: len(prompt)] - logits).max()),
    }


def source(kv_type: str, repack: bool, n_ctx: int, n_batch: int = N_BATCH,
           what: str = "llama.eval(prompt_ids) (no BOS), greedy = argmax fed back one token at a time through the KV cache") -> str:
    return (
        f"llama.cpp via llama-cpp-python {llama_cpp.__version__}, CPU, n_threads=n_threads_batch={THREADS}, "
        f"n_ctx={n_ctx}, n_batch=n_ubatch={n_batch}, logits_all, flash_attn off, KV cache {kv_type}, "
        f"use_extra_bufts={'true' if repack else 'false'} ({'CPU_REPACK allowed' if repack else 'no CPU_REPACK'}), "
        f"{what}"
    )


def default_smollm2() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "samtal" / "models" / SMOLLM2_FILE


def greedy_until_eos(llm: Llama, prompt: list[int], max_new: int, eos: int) -> dict:
    """greedy.json's convention: argmax one token at a time through the KV cache, at most max_new
    new ids, stopping after eos (included). Then prompt + new ids are evaluated again in one batch,
    as in run(), but a different argmax there is reported (tf_first_diff), not an error: in this
    model the batch and one-token paths give bit-identical rows up to some position and then rows
    that differ by up to ~1 (see smollm2()), enough to flip its near ties."""
    llm.reset()
    logits = eval_rows(llm, prompt)
    row = logits[-1]
    new, margins, steps = [], [], []
    while True:
        tok = int(np.argmax(row))
        new.append(tok)
        margins.append(top2_gap(row))
        steps.append(row)
        if tok == eos or len(new) == max_new:
            break
        row = eval_rows(llm, [tok])[0]
    llm.reset()
    full = eval_rows(llm, prompt + new)
    tf = full[len(prompt) - 1 : len(prompt) - 1 + len(new)]
    tf_ids = [int(i) for i in np.argmax(tf, axis=-1)]
    tf_first_diff = next((i for i, (a, b) in enumerate(zip(tf_ids, new)) if a != b), None)
    d_rows = np.abs(tf - np.stack(steps)).max(axis=-1)
    top5 = np.argsort(-logits[-1], kind="stable")[:5]  # ties: lowest id first
    return {
        "greedy_ids": new,
        "margins": margins,
        "first_step_top5": [[int(i), f32(logits[-1][i])] for i in top5],
        "tf_first_diff": tf_first_diff,
        "first_row_diff": next((i for i, d in enumerate(d_rows) if d > 0), None),
        "d_decode_vs_batch": float(d_rows.max()),
        "d_prompt_rerun": float(np.abs(full[: len(prompt)] - logits).max()),
    }


def smollm2(args, system_info: str) -> None:
    """--smollm2: llama_cpp_greedy.json and llama_cpp_perplexity.json next to greedy.json and
    perplexity.json (the transformers goldens, scripts/make_smollm2_goldens.py)."""
    path: Path = args.smollm2.expanduser().resolve()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != SMOLLM2_SHA256:
        sys.exit(f"{path}: sha256 {digest}, expected {SMOLLM2_SHA256}")
    out_dir: Path = args.out or SMOLLM2_GOLDEN
    ref_greedy = json.loads((SMOLLM2_GOLDEN / "greedy.json").read_text(encoding="utf-8"))
    ref_ppl = json.loads((SMOLLM2_GOLDEN / "perplexity.json").read_text(encoding="utf-8"))

    llm, log = load(path, args.kv_type, args.repack, SMOLLM2_N_CTX, SMOLLM2_N_BATCH)
    for line in log.splitlines():
        if "CPU_REPACK" in line or "repack" in line:
            print(f"  load log: {line.strip()}")
    n_ctx = llm.n_ctx()
    assert llm.n_vocab() == 49152 and llm.token_eos() == EOS, (llm.n_vocab(), llm.token_eos())

    def dump(name: str, data: dict) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        out = out_dir / name
        out.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        shown = out.relative_to(ROOT) if out.resolve().is_relative_to(ROOT) else out
        print(f"{shown}: {out.stat().st_size} bytes")

    # ------------------------------------------------------------ llama_cpp_greedy.json
    max_new = 32
    cases, table = [], []
    for ref in ref_greedy["cases"]:
        prompt = [int(i) for i in ref["prompt_ids"]]
        assert max_new >= len(ref["greedy_ids"])
        res = greedy_until_eos(llm, prompt, max_new, EOS)
        new = res["greedy_ids"]
        stopped = EOS in new
        cases.append(
            {
                "messages": ref["messages"],
                "prompt_ids": prompt,
                "greedy_ids": new,
                "stopped_at_eos": stopped,
                "eos_index": new.index(EOS) if stopped else None,
                "text": llm.detokenize(new, special=True).decode("utf-8", errors="replace"),
                "greedy_margins": [f32(m) for m in res["margins"]],
                "first_step_top5": res["first_step_top5"],
            }
        )
        theirs = ref["greedy_ids"]
        agree = next((i for i, (a, b) in enumerate(zip(new, theirs)) if a != b), min(len(new), len(theirs)))
        table.append((agree, len(new), len(theirs), new == theirs, res, ref))
        tf_note = "same ids" if res["tf_first_diff"] is None else f"argmax differs first at step {res['tf_first_diff']}"
        print(
            f"greedy: {ref['messages'][-1]['content']!r} -> {cases[-1]['text']!r} (min margin "
            f"{min(res['margins']):.3g}; teacher-forced batch: {tf_note}, rows bit-identical "
            f"{'at every step' if res['first_row_diff'] is None else 'before step ' + str(res['first_row_diff'])}, "
            f"max|d| {res['d_decode_vs_batch']:.3g}; prompt rerun max|d| "
            f"{res['d_prompt_rerun']:.3g})"
        )
    dump(
        "llama_cpp_greedy.json",
        {
            "generation": "greedy (argmax of llama.cpp's float32 rows, ties: lowest id; no sampler), prompt_ids "
            "copied from greedy.json and passed to llama.eval (no BOS), each new id fed back one token at a time "
            "through the KV cache, at most 32 new tokens, stopping after <|im_end|> (id 2), which is included in "
            "greedy_ids when produced; greedy_margins: top-1 minus top-2 of the row each id was taken from",
            "system": ref_greedy["system"],
            "cases": cases,
            "model": SMOLLM2_FILE,
            "model_sha256": SMOLLM2_SHA256,
            "source": source(args.kv_type, args.repack, n_ctx, SMOLLM2_N_BATCH,
                             "llama.eval(prompt_ids) (no BOS), greedy until <|im_end|> through the KV cache"),
            "system_info": system_info,
        },
    )

    # ------------------------------------------------------------ llama_cpp_perplexity.json
    text = PASSAGE.read_text(encoding="utf-8")
    # tok(text) of the reference tokenizer: special tokens parsed (the passage has none), no BOS/EOS
    ids = llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)
    assert len(ids) == ref_ppl["tokens"] and ids[: len(ref_ppl["first_ids"])] == ref_ppl["first_ids"], (
        f"llama.cpp tokenizes the passage to {len(ids)} ids {ids[:16]}, perplexity.json has "
        f"{ref_ppl['tokens']} {ref_ppl['first_ids']}"
    )
    assert len(ids) <= SMOLLM2_N_BATCH
    llm.reset()
    logits = eval_rows(llm, ids)  # one window, one ubatch
    rows = logits[:-1].astype(np.float64)
    m = rows.max(axis=-1)
    lse = m + np.log(np.exp(rows - m[:, None]).sum(axis=-1))
    nll = lse - rows[np.arange(len(ids) - 1), ids[1:]]
    nll_sum = math.fsum(nll.tolist())
    nll_mean = nll_sum / len(nll)
    dump(
        "llama_cpp_perplexity.json",
        {
            "text_file": str(PASSAGE.relative_to(ROOT)),
            "tokenization": "llama.cpp's tokenizer (llama_tokenize, add_special false, parse_special true): no BOS "
            "or EOS is added; the same ids as perplexity.json (count and first_ids checked)",
            "tokens": len(ids),
            "scored_tokens": len(ids) - 1,
            "window": "one window: the whole passage, evaluated in one llama.eval call (one ubatch)",
            "nll_mean": nll_mean,
            "nll_sum": nll_sum,
            "ppl": math.exp(nll_mean),
            "first_ids": ids[:16],
            "log_softmax_in": "float64 of llama.cpp's float32 logits",
            "model": SMOLLM2_FILE,
            "model_sha256": SMOLLM2_SHA256,
            "source": source(args.kv_type, args.repack, n_ctx, SMOLLM2_N_BATCH,
                             "llama.eval(passage ids) (no BOS), teacher forced"),
            "system_info": system_info,
        },
    )
    with contextlib.redirect_stderr(io.StringIO()):
        llm.close()

    print(f"\nllama.cpp ({args.kv_type} KV, {'repack' if args.repack else 'no repack'}) vs transformers goldens:")
    for agree, n_lc, n_tf, same, res, ref in table:
        what = ref["messages"][-1]["content"]
        if same:
            print(f"  {what!r}: all {n_lc} greedy ids agree")
        else:
            lc_m = res["margins"][agree] if agree < n_lc else None
            tf_m = ref["greedy_margins"][agree] if agree < n_tf else None
            print(
                f"  {what!r}: {agree} of {n_tf} (llama.cpp {n_lc}) greedy ids agree; first divergence at step {agree}: "
                f"llama.cpp margin {lc_m:.4g}, transformers margin {tf_m:.4g}"
            )
    print(
        f"  perplexity over {len(ids)} tokens: transformers {ref_ppl['ppl']:.6f} (nll {ref_ppl['nll_mean']:.6f}), "
        f"llama.cpp {math.exp(nll_mean):.6f} (nll {nll_mean:.6f})"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=None,
                    help="output folder (default fixtures/golden/llama_cpp, with --smollm2 fixtures/golden/smollm2)")
    ap.add_argument("--kv-type", choices=sorted(KV_TYPES), default="f32", help="KV cache type (default f32)")
    ap.add_argument("--repack", action="store_true", help="allow CPU_REPACK (extra buffer types)")
    ap.add_argument("--smollm2", type=Path, nargs="?", const=default_smollm2(), default=None, metavar="PATH",
                    help=f"instead of the tiny fixtures, the SmolLM2 goldens (PATH defaults to {default_smollm2()})")
    args = ap.parse_args()
    system_info = llama_c.llama_print_system_info().decode().strip()
    print(f"llama-cpp-python {llama_cpp.__version__}; system info: {system_info}")
    if args.smollm2 is not None:
        return smollm2(args, system_info)
    args.out = args.out or GOLDEN / "llama_cpp"

    table = []
    for name in NAMES:
        path = MODELS / f"{name}.gguf"
        ref = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
        prompt = [int(i) for i in ref["prompt_ids"]]
        llm, log = load(path, args.kv_type, args.repack)
        for line in log.splitlines():
            if "CPU_REPACK" in line or "repack" in line:  # not the "REPACK = 1" of system info
                print(f"  {name} load log: {line.strip()}")
        n_vocab = llm.n_vocab()
        res = run(llm, prompt)
        n_ctx = llm.n_ctx()
        with contextlib.redirect_stderr(io.StringIO()):
            llm.close()

        logits = res["logits"]
        positions = list(range(len(prompt))) if n_vocab <= 4096 else list(ref["logits_positions"])
        g = {
            "model": str(path.relative_to(ROOT)),
            "prompt_ids": prompt,
            "logits_positions": positions,
            "logits": [[f32(v) for v in logits[p]] for p in positions],
            "argmax": [int(i) for i in np.argmax(logits, axis=-1)],
            "logsumexp": [logsumexp(r) for r in logits],
            "greedy_ids": res["greedy_ids"],
            "greedy_margins": [f32(m) for m in res["margins"]],
            "source": source(args.kv_type, args.repack, n_ctx),
            "system_info": system_info,
        }
        args.out.mkdir(parents=True, exist_ok=True)
        out = args.out / f"{name}.json"
        out.write_text(json.dumps(g, separators=(",", ":"), ensure_ascii=False) + "\n", encoding="utf-8")
        shown = out.relative_to(ROOT) if out.resolve().is_relative_to(ROOT) else out
        print(
            f"{shown}: {out.stat().st_size} bytes; min greedy margin {min(res['margins']):.3g}; "
            f"decode vs batch max|d| {res['d_decode_vs_batch']:.3g}; prompt rerun max|d| {res['d_prompt_rerun']:.3g}"
        )

        # against the transformers golden (dequantized weights, fp32)
        common = [p for p in positions if p in ref["logits_positions"]]
        a = logits[common].astype(np.float64)
        b = np.array([ref["logits"][ref["logits_positions"].index(p)] for p in common], dtype=np.float64)
        d = np.abs(a - b)
        same = res["greedy_ids"] == ref["greedy_ids"]
        first = None if same else next(i for i, (x, y) in enumerate(zip(res["greedy_ids"], ref["greedy_ids"])) if x != y)
        table.append((name, len(common), float(d.max()), float(d.mean()), float(np.abs(b).max()),
                      g["argmax"] == ref["argmax"], same, first))
        if name.endswith("f32") and args.kv_type == "f32":
            assert d.max() < F32_TOLERANCE, f"f32 baseline: llama.cpp differs from transformers by {d.max():.3g}"

    print(f"\nllama.cpp ({args.kv_type} KV, {'repack' if args.repack else 'no repack'}) vs transformers goldens:")
    print(f"{'model':<18} {'pos':>3} {'max|d|':>9} {'mean|d|':>9} {'max|logit|':>10} {'argmax':>6} {'greedy':>8}")
    for name, n, dmax, dmean, lmax, am, same, first in table:
        greedy = "same" if same else f"diff@{first}"
        print(f"{name:<18} {n:>3} {dmax:>9.3g} {dmean:>9.3g} {lmax:>10.4g} {'same' if am else 'diff':>6} {greedy:>8}")


if __name__ == "__main__":
    sys.exit(main())
