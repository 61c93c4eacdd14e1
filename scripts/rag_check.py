#!/usr/bin/env python3
"""Retrieval (RAG) pipelines of Haystack, LlamaIndex and LangChain run entirely on samtal.

    python scripts/rag_check.py http://127.0.0.1:PORT/v1 API_KEY CHAT_MODEL EMBED_MODEL

Each pipeline embeds the passages of fixtures/rag/corpus.json through the server's
/v1/embeddings, retrieves the best passage for every question of fixtures/rag/questions.json
and reports its top-1 accuracy; Haystack and LlamaIndex also answer one question with the chat
model from the passage they retrieved. A pipeline passes when it runs, its top-1 accuracy is at
least MIN_ACCURACY and (where it has one) its chat reply is not empty. Beside each figure the
script prints the accuracy of a plain numpy cosine over the same vectors, as the reference, and
what the framework sent to /v1/embeddings (requests, inputs per request, encoding_format,
dimensions). Prints `PASS name: top-1 accuracy X/Y` or `FAIL name: ...` for each, then
`N passed, M failed`; exits 1 if any failed. Run by scripts/test_rag.sh, which installs
scripts/requirements-agents.txt in .venv-agents and starts `samtal serve --embedding-model minilm`.
"""
import json
import os
import signal
import sys
import time
import traceback
import warnings
from pathlib import Path

os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import openai.resources.embeddings as oai_embeddings  # noqa: E402

base, key, chat_model, embed_model = sys.argv[1:5]
TIMEOUT = 90  # seconds per HTTP request
CHECK_TIMEOUT = 300  # seconds per pipeline, all its requests together
MIN_ACCURACY = 0.8
MAX_TOKENS = 64
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "rag"
CORPUS = json.loads((FIXTURES / "corpus.json").read_text())
QUESTIONS = json.loads((FIXTURES / "questions.json").read_text())
IDS = [p["id"] for p in CORPUS]
assert len(set(IDS)) == len(IDS), "duplicate passage ids in corpus.json"
assert all(q["answer_id"] in IDS for q in QUESTIONS), "a question names no passage of corpus.json"
ASK = QUESTIONS[0]  # the question each generator answers from its retrieved passage
SYSTEM = "Answer the question in one short sentence, using only the passage you are given."


class Fail(Exception):
    pass


class CheckTimeout(BaseException):
    """Raised by SIGALRM; a BaseException, so that no client wraps it in an error of its own."""


def expect(cond, detail):
    if not cond:
        raise Fail(detail)


# Every framework here reaches /v1/embeddings through the openai client's Embeddings.create;
# record what each call asked for, so that the report can say what the framework sends.
sent = []
_create = oai_embeddings.Embeddings.create


def _logged_create(self, *args, **kw):
    inp = kw.get("input")
    sent.append({
        "inputs": 1 if isinstance(inp, str) else len(inp),
        "as": "string" if isinstance(inp, str) else "list",
        "encoding_format": kw.get("encoding_format", "unset (client asks base64)"),
        "dimensions": kw.get("dimensions"),
    })
    return _create(self, *args, **kw)


oai_embeddings.Embeddings.create = _logged_create


def describe_requests(calls):
    if not calls:
        return "no /v1/embeddings requests"
    sizes = [c["inputs"] for c in calls]
    kinds = sorted({c["as"] for c in calls})
    fmts = sorted({str(c["encoding_format"]) for c in calls})
    dims = sorted({str(c["dimensions"]) for c in calls})
    return (f"{len(calls)} /v1/embeddings requests, inputs per request {sizes}, input as {'/'.join(kinds)}, "
            f"encoding_format {'/'.join(fmts)}, dimensions {'/'.join(dims)}")


def cosine_top1(doc_vecs, query_vecs):
    """Index of the best passage for each query by cosine similarity: the reference figure."""
    d = np.asarray(doc_vecs, dtype=np.float64)
    q = np.asarray(query_vecs, dtype=np.float64)
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return (q @ d.T).argmax(axis=1)


def reference(doc_vecs, query_vecs):
    """Top-1 hits of a plain numpy cosine over the vectors the framework got."""
    best = cosine_top1([doc_vecs[i] for i in IDS], query_vecs)
    return sum(IDS[b] == q["answer_id"] for b, q in zip(best, QUESTIONS))


def check_vectors(doc_vecs, query_vecs):
    expect(set(doc_vecs) == set(IDS), f"{len(set(IDS) - set(doc_vecs))} passages got no vector")
    dims = {len(v) for v in doc_vecs.values()} | {len(v) for v in query_vecs}
    expect(len(dims) == 1 and dims.pop() > 0, f"vectors of several lengths: {dims}")


doc_vectors = {}  # pipeline -> {passage id: vector}, compared across pipelines at the end


# --- Haystack ------------------------------------------------------------------------------------

def haystack():
    from haystack import Document, Pipeline
    from haystack.components.builders import ChatPromptBuilder
    from haystack.components.embedders import OpenAIDocumentEmbedder, OpenAITextEmbedder
    from haystack.components.generators.chat import OpenAIChatGenerator
    from haystack.components.retrievers.in_memory import InMemoryEmbeddingRetriever
    from haystack.dataclasses import ChatMessage
    from haystack.document_stores.in_memory import InMemoryDocumentStore
    from haystack.utils import Secret

    secret = Secret.from_token(key)
    common = dict(api_key=secret, model=embed_model, api_base_url=base, timeout=TIMEOUT, max_retries=0)
    # raise_on_failure: by default a failed batch is only logged and its documents keep no vector.
    doc_embedder = OpenAIDocumentEmbedder(**common, progress_bar=False, raise_on_failure=True)
    docs = [Document(content=p["text"], meta={"pid": p["id"]}) for p in CORPUS]
    embedded = doc_embedder.run(documents=docs)
    docs = embedded["documents"]
    usage = embedded["meta"].get("usage", {})
    expect(usage.get("prompt_tokens", 0) > 0, f"no usage in the embedder's meta: {embedded['meta']!r}")
    store = InMemoryDocumentStore(embedding_similarity_function="cosine", shared=False)
    expect(store.write_documents(docs) == len(CORPUS), "the store did not take every passage")
    doc_vecs = {d.meta["pid"]: d.embedding for d in docs if d.embedding is not None}

    retrieval = Pipeline()
    retrieval.add_component("embedder", OpenAITextEmbedder(**common))
    retrieval.add_component("retriever", InMemoryEmbeddingRetriever(document_store=store, top_k=1))
    retrieval.connect("embedder.embedding", "retriever.query_embedding")
    hits, query_vecs = 0, []
    for q in QUESTIONS:
        out = retrieval.run({"embedder": {"text": q["question"]}}, include_outputs_from={"embedder"})
        query_vecs.append(out["embedder"]["embedding"])
        found = out["retriever"]["documents"]
        hits += bool(found) and found[0].meta["pid"] == q["answer_id"]
    check_vectors(doc_vecs, query_vecs)
    doc_vectors["haystack"] = doc_vecs

    template = [ChatMessage.from_system(SYSTEM),
                ChatMessage.from_user("Passage:\n{% for d in documents %}{{ d.content }}\n{% endfor %}\n"
                                      "Question: {{ question }}")]
    rag = Pipeline()
    rag.add_component("embedder", OpenAITextEmbedder(**common))
    rag.add_component("retriever", InMemoryEmbeddingRetriever(document_store=store, top_k=1))
    rag.add_component("prompt", ChatPromptBuilder(template=template, required_variables=["documents", "question"]))
    rag.add_component("llm", OpenAIChatGenerator(api_key=secret, model=chat_model, api_base_url=base,
                                                 generation_kwargs={"temperature": 0, "max_tokens": MAX_TOKENS},
                                                 timeout=TIMEOUT, max_retries=0))
    rag.connect("embedder.embedding", "retriever.query_embedding")
    rag.connect("retriever.documents", "prompt.documents")
    rag.connect("prompt.prompt", "llm.messages")
    out = rag.run({"embedder": {"text": ASK["question"]}, "prompt": {"question": ASK["question"]}},
                  include_outputs_from={"retriever"})
    replies = out["llm"]["replies"]
    answer = replies[0].text if replies else None
    expect(answer and answer.strip(), f"the generator gave no text: {replies!r}")
    source = out["retriever"]["documents"][0].meta["pid"] if out["retriever"]["documents"] else None
    return hits, reference(doc_vecs, query_vecs), answer, source


# --- LlamaIndex ----------------------------------------------------------------------------------

def llamaindex():
    from llama_index.core import Document, QueryBundle, Settings, VectorStoreIndex
    from llama_index.embeddings.openai_like import OpenAILikeEmbedding
    from llama_index.llms.openai_like import OpenAILike

    Settings.embed_model = OpenAILikeEmbedding(model_name=embed_model, api_base=base, api_key=key,
                                               timeout=TIMEOUT, max_retries=1)
    # No system_prompt here: the query engine's prompt (CHAT_TEXT_QA_PROMPT) already opens with a
    # system message, and LlamaIndex would put the LLM's system_prompt before it, which the server
    # refuses ("a system message may only come first").
    Settings.llm = OpenAILike(model=chat_model, api_base=base, api_key=key, is_chat_model=True,
                              temperature=0, max_tokens=MAX_TOKENS, timeout=TIMEOUT, max_retries=0)
    # The passage id rides in the metadata, kept out of the embedded and the prompted text.
    docs = [Document(text=p["text"], id_=p["id"], metadata={"pid": p["id"]},
                     excluded_embed_metadata_keys=["pid"], excluded_llm_metadata_keys=["pid"])
            for p in CORPUS]
    index = VectorStoreIndex.from_documents(docs)
    nodes = index.docstore.docs
    expect(len(nodes) == len(CORPUS), f"{len(nodes)} nodes for {len(CORPUS)} passages (a passage was split)")
    doc_vecs = {n.metadata["pid"]: index.vector_store.get(nid) for nid, n in nodes.items()}

    retriever = index.as_retriever(similarity_top_k=1)
    hits, query_vecs = 0, []
    for q in QUESTIONS:
        bundle = QueryBundle(query_str=q["question"])
        found = retriever.retrieve(bundle)  # embeds the query into bundle.embedding
        query_vecs.append(bundle.embedding)
        hits += bool(found) and found[0].node.metadata["pid"] == q["answer_id"]
    check_vectors(doc_vecs, query_vecs)
    doc_vectors["llamaindex"] = doc_vecs

    resp = index.as_query_engine(similarity_top_k=1).query(ASK["question"])
    answer = resp.response
    expect(answer and answer.strip() and answer != "Empty Response", f"the query engine gave no text: {answer!r}")
    source = resp.source_nodes[0].node.metadata["pid"] if resp.source_nodes else None
    return hits, reference(doc_vecs, query_vecs), answer, source


# --- LangChain -----------------------------------------------------------------------------------

def langchain():
    from langchain_openai import OpenAIEmbeddings

    # check_embedding_ctx_length=False sends the texts themselves; left on, langchain would cut
    # them into tiktoken ids for OpenAI's models, which a server with its own tokenizer misreads.
    emb = OpenAIEmbeddings(model=embed_model, base_url=base, api_key=key, check_embedding_ctx_length=False,
                           timeout=TIMEOUT, max_retries=0)
    vecs = emb.embed_documents([p["text"] for p in CORPUS])
    expect(len(vecs) == len(CORPUS), f"{len(vecs)} vectors for {len(CORPUS)} passages")
    doc_vecs = dict(zip(IDS, vecs))
    query_vecs = [emb.embed_query(q["question"]) for q in QUESTIONS]
    check_vectors(doc_vecs, query_vecs)
    doc_vectors["langchain"] = doc_vecs
    # The pipeline's own retrieval: cosine similarity, best passage first.
    d = np.array(vecs)
    hits = 0
    for q, v in zip(QUESTIONS, query_vecs):
        v = np.array(v)
        scores = d @ v / (np.linalg.norm(d, axis=1) * np.linalg.norm(v))
        hits += IDS[int(scores.argmax())] == q["answer_id"]
    return hits, reference(doc_vecs, query_vecs), None, None


PIPELINES = [("haystack", haystack), ("llamaindex", llamaindex), ("langchain", langchain)]


def on_alarm(signum, frame):
    raise CheckTimeout(f"the pipeline took over {CHECK_TIMEOUT}s")


def main():
    signal.signal(signal.SIGALRM, on_alarm)
    print(f"{len(CORPUS)} passages, {len(QUESTIONS)} questions; chat model {chat_model}, embedding model "
          f"{embed_model}; a pipeline passes at top-1 accuracy >= {MIN_ACCURACY}", flush=True)
    passed = failed = 0
    n = len(QUESTIONS)
    for name, fn in PIPELINES:
        start, first = time.monotonic(), len(sent)
        signal.alarm(CHECK_TIMEOUT)
        reason = result = None
        try:
            result = fn()
        except (Fail, CheckTimeout) as e:
            reason = str(e)
        except Exception as e:  # a framework raising is a failure of that pipeline, not of the run
            where = " > ".join(f"{f.name}:{f.lineno}" for f in traceback.extract_tb(e.__traceback__)
                               if f.filename == __file__ and f.name != "main")
            reason = f"{type(e).__name__} at {where}: {e}".replace("\n", " ")[:600]
        finally:
            signal.alarm(0)
        took = time.monotonic() - start
        if result is not None:
            hits, ref, answer, source = result
            if hits < MIN_ACCURACY * n:
                reason = f"top-1 accuracy {hits}/{n}, below {MIN_ACCURACY}"
        if reason is None:
            passed += 1
            print(f"PASS {name}: top-1 accuracy {hits}/{n}", flush=True)
        else:
            failed += 1
            print(f"FAIL {name}: {reason}", flush=True)
        if result is not None:
            print(f"    reference (numpy cosine over the same vectors): {ref}/{n}")
            if answer is not None:
                hit = "the right passage" if source == ASK["answer_id"] else f"passage {source}"
                print(f"    asked {ASK['question']!r} (from {hit}): {' '.join(answer.split())[:200]!r}")
        print(f"    {describe_requests(sent[first:])}; {took:.1f}s", flush=True)
    names = sorted(doc_vectors)
    for i, a in enumerate(names):  # float JSON and base64 should give the same vectors
        for b in names[i + 1:]:
            diff = max(float(np.max(np.abs(np.subtract(doc_vectors[a][p], doc_vectors[b][p])))) for p in IDS)
            print(f"    max |difference| between {a}'s and {b}'s passage vectors: {diff:.2e}")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
