//! Running a job and answering: one JSON object, or an SSE stream of chunks in OpenAI's shape
//! ending with `data: [DONE]`.

use std::convert::Infallible;

use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use samtal_generation::CancelToken;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::CancelOnDrop;
use crate::error::{Error, Result};
use crate::wire::{finish_reason, now, usage};
use crate::worker::{Job, Out, Summary};
use crate::AppState;

/// Which endpoint's shapes to answer in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Chat,
    Completion,
}

fn new_id(kind: Kind) -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(now());
    let prefix = match kind {
        Kind::Chat => "chatcmpl",
        Kind::Completion => "cmpl",
    };
    format!("{prefix}-{:016x}", h.finish())
}

/// The `samtal` object of a response: the guard's verdict and what the turn cost.
fn extra(s: &Summary, withheld: bool) -> Value {
    json!({
        "guard": s.guard,
        "finish_reason": s.finish_reason.as_str(),
        "prefill_tokens": s.prefill_tokens,
        "ttft_ms": s.ttft_ms,
        "tokens_per_s": s.tokens_per_s,
        "withheld": withheld,
        "dropped_turns": s.dropped_turns,
        "conversation_id": s.conversation_id,
    })
}

struct Shape {
    kind: Kind,
    id: String,
    created: u64,
    model: String,
}

impl Shape {
    fn chunk(&self, delta: Value, finish: Option<&str>, samtal: Option<Value>) -> Value {
        let mut v = match self.kind {
            Kind::Chat => json!({
                "id": self.id, "object": "chat.completion.chunk", "created": self.created,
                "model": self.model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": null}],
            }),
            Kind::Completion => json!({
                "id": self.id, "object": "text_completion", "created": self.created,
                "model": self.model,
                "choices": [{"index": 0, "text": delta.get("content").cloned().unwrap_or(json!("")),
                             "finish_reason": finish, "logprobs": null}],
            }),
        };
        if let Some(s) = samtal {
            v["samtal"] = s;
        }
        v
    }

    /// A choice's `logprobs`: `{"content": [...]}` for chat, the legacy lists for completions.
    fn logprobs(&self, entries: &[Value]) -> Value {
        if entries.is_empty() {
            return Value::Null;
        }
        match self.kind {
            Kind::Chat => json!({"content": entries}),
            Kind::Completion => {
                let mut offset = 0;
                let mut offsets = Vec::new();
                for e in entries {
                    offsets.push(offset);
                    offset += e["token"].as_str().map_or(0, str::len);
                }
                json!({
                    "tokens": entries.iter().map(|e| e["token"].clone()).collect::<Vec<_>>(),
                    "token_logprobs": entries.iter().map(|e| e["logprob"].clone()).collect::<Vec<_>>(),
                    "top_logprobs": entries.iter().map(|e| {
                        let m: serde_json::Map<String, Value> = e["top_logprobs"].as_array()
                            .map(|a| a.iter().filter_map(|t| Some((t["token"].as_str()?.to_owned(), t["logprob"].clone()))).collect())
                            .unwrap_or_default();
                        Value::Object(m)
                    }).collect::<Vec<_>>(),
                    "text_offset": offsets,
                })
            }
        }
    }

    fn whole(&self, s: &Summary, withheld: bool, entries: &[Value]) -> Value {
        let fr = finish_reason(s.finish_reason);
        let lp = self.logprobs(entries);
        let choice = match self.kind {
            Kind::Chat => json!({"index": 0, "finish_reason": fr, "logprobs": lp,
                                 "message": {"role": "assistant", "content": s.text}}),
            Kind::Completion => {
                json!({"index": 0, "finish_reason": fr, "logprobs": lp, "text": s.text})
            }
        };
        let object = match self.kind {
            Kind::Chat => "chat.completion",
            Kind::Completion => "text_completion",
        };
        json!({
            "id": self.id, "object": object, "created": self.created, "model": self.model,
            "choices": [choice],
            "usage": usage(s.prompt_tokens, s.completion_tokens),
            "samtal": extra(s, withheld),
        })
    }
}

/// Queues `job` and answers it, streamed or whole.
pub async fn run(
    state: &AppState,
    kind: Kind,
    job: Job,
    stream: bool,
    include_usage: bool,
) -> Result<Response> {
    let loaded = state.ready()?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let cancel = CancelToken::new();
    loaded.pool.submit(job, cancel.clone(), tx)?;
    let guard = CancelOnDrop(cancel);
    let shape = Shape {
        kind,
        id: new_id(kind),
        created: now(),
        model: state.config.model_id.clone(),
    };
    if !stream {
        let mut withheld = false;
        let mut entries = Vec::new();
        while let Some(out) = rx.recv().await {
            match out {
                Out::Withheld => withheld = true,
                Out::Logprob(e) => entries.push(e),
                Out::Done(s) => {
                    drop(guard);
                    return Ok(axum::Json(shape.whole(&s, withheld, &entries)).into_response());
                }
                Out::Failed(e) => return Err(e),
                Out::Guard(_) | Out::Text(_) => {}
            }
        }
        return Err(Error::Internal("the worker ended without an answer".into()));
    }

    let (etx, erx) = mpsc::channel::<std::result::Result<Event, Infallible>>(64);
    tokio::spawn(async move {
        let _guard = guard;
        let send = |v: Value| {
            let etx = etx.clone();
            async move {
                etx.send(Ok(Event::default().data(v.to_string())))
                    .await
                    .is_ok()
            }
        };
        if kind == Kind::Chat
            && !send(shape.chunk(json!({"role": "assistant", "content": ""}), None, None)).await
        {
            return;
        }
        let mut withheld = false;
        let mut streamed = false;
        // Log-probabilities ride on the next chunk with text (text may be held back).
        let mut pending: Vec<Value> = Vec::new();
        let with_lp = |mut chunk: Value, pending: &mut Vec<Value>| {
            if !pending.is_empty() {
                chunk["choices"][0]["logprobs"] = shape.logprobs(pending);
                pending.clear();
            }
            chunk
        };
        while let Some(out) = rx.recv().await {
            let ok = match out {
                Out::Logprob(e) => {
                    pending.push(e);
                    true
                }
                Out::Guard(g) => {
                    send(shape.chunk(json!({}), None, Some(json!({"guard": g})))).await
                }
                Out::Text(t) => {
                    streamed = true;
                    let c = with_lp(shape.chunk(json!({"content": t}), None, None), &mut pending);
                    send(c).await
                }
                Out::Withheld => {
                    withheld = true;
                    send(shape.chunk(json!({}), None, Some(json!({"withheld": true})))).await
                }
                Out::Done(s) => {
                    // A blocked message's fixed answer was never streamed.
                    if !streamed
                        && !withheld
                        && !s.text.is_empty()
                        && !send(shape.chunk(json!({"content": s.text}), None, None)).await
                    {
                        return;
                    }
                    let fr = finish_reason(s.finish_reason);
                    let mut ok =
                        send(shape.chunk(json!({}), Some(fr), Some(extra(&s, withheld)))).await;
                    if ok && include_usage {
                        let mut u = shape.chunk(json!({}), None, None);
                        u["choices"] = json!([]);
                        u["usage"] = usage(s.prompt_tokens, s.completion_tokens);
                        ok = send(u).await;
                    }
                    if ok {
                        let _ = etx.send(Ok(Event::default().data("[DONE]"))).await;
                    }
                    return;
                }
                Out::Failed(e) => {
                    if send(e.body()).await {
                        let _ = etx.send(Ok(Event::default().data("[DONE]"))).await;
                    }
                    return;
                }
            };
            if !ok {
                return;
            }
        }
    });
    Ok(Sse::new(ReceiverStream::new(erx))
        .keep_alive(KeepAlive::default())
        .into_response())
}
