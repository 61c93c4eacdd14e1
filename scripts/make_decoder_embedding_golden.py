#!/usr/bin/env python3
"""A decoder embedding model and its golden, computed by sentence-transformers on CPU in fp32.

Makes
  fixtures/models/tiny-qwen2-embed/   fixtures/models/tiny-qwen2 (a tiny random Qwen2, made by
                                      make_tiny_models.py) as a sentence-transformers folder laid
                                      out like gte-Qwen2 / Qwen3-Embedding: the model's own files
                                      as relative symlinks, plus modules.json (Transformer,
                                      Pooling, Normalize), 1_Pooling/config.json (last-token
                                      pooling) and sentence_bert_config.json (max_seq_length 256)
  fixtures/golden/encoders/tiny-qwen2-embed.json
                                      cases: [{text, ids, embedding}]: ids as the tokenizer gives
                                      them with add_special_tokens=True (checked equal to
                                      sentence-transformers' own preprocessing), embedding =
                                      SentenceTransformer.encode([text]) (one text per call: no
                                      padding), the final-normed hidden state of the last token,
                                      L2-normalized; 7 significant digits
(No GGUF of it: llama.cpp's converter refuses tiny-qwen2's toy tokenizer, whose added tokens lie
past its vocab_size. The GGUF side of decoder embeddings is checked by a test that adds
`llama.pooling_type` to fixtures/models/tiny-llama-f32.gguf.)

Run (after scripts/reference-env.sh):
    .venv-ref/bin/python scripts/make_decoder_embedding_golden.py
"""
import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "fixtures/models/tiny-qwen2")
DST = os.path.join(ROOT, "fixtures/models/tiny-qwen2-embed")

TEXTS = [
    "Embeddings",
    "A small engine turns sentences into vectors.",
    "Höstlöven faller över sjön.",
    "今天天气很好",
    "I love pizza 🍕 and rainy days",
    "  Leading spaces,\ttabs\tand\nnewlines  ",
    "x",
    "Every morning the ferry leaves the harbour before the market opens, " * 3,
]


def main():
    import torch
    import sentence_transformers
    import transformers
    from sentence_transformers import SentenceTransformer

    torch.manual_seed(0)
    os.makedirs(os.path.join(DST, "1_Pooling"), exist_ok=True)
    for name in sorted(os.listdir(SRC)):
        link = os.path.join(DST, name)
        if os.path.lexists(link):
            os.remove(link)
        os.symlink(os.path.join("..", "tiny-qwen2", name), link)
    hidden = json.load(open(os.path.join(SRC, "config.json")))["hidden_size"]
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]
    pooling = {
        "word_embedding_dimension": hidden,
        "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": False,
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
        "pooling_mode_weightedmean_tokens": False,
        "pooling_mode_lasttoken": True,
        "include_prompt": True,
    }
    files = {
        "modules.json": modules,
        "1_Pooling/config.json": pooling,
        "sentence_bert_config.json": {"max_seq_length": 256, "do_lower_case": False},
    }
    for name, value in files.items():
        with open(os.path.join(DST, name), "w") as f:
            json.dump(value, f, indent=2)
            f.write("\n")

    model = SentenceTransformer(DST, device="cpu")
    model.eval()
    tok = model.tokenizer
    cases = []
    for text in TEXTS:
        ids = tok(text, add_special_tokens=True)["input_ids"]
        features = model.tokenize([text])
        assert features["input_ids"][0].tolist() == ids, text
        emb = model.encode([text], convert_to_numpy=True)[0]
        cases.append({
            "text": text,
            "ids": ids,
            "embedding": [float(f"{v:.7g}") for v in emb.tolist()],
        })
    golden = {
        "model": "tiny-qwen2-embed",
        "pooling": "lasttoken",
        "normalize": True,
        "dimension": hidden,
        "max_seq_length": 256,
        "cases": cases,
        "torch_version": torch.__version__,
        "transformers_version": transformers.__version__,
        "sentence_transformers_version": sentence_transformers.__version__,
    }
    out = os.path.join(ROOT, "fixtures/golden/encoders/tiny-qwen2-embed.json")
    with open(out, "w") as f:
        json.dump(golden, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print("wrote", out)


if __name__ == "__main__":
    main()
