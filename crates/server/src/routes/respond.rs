//! Running a job and answering: one JSON object, or an SSE stream of chunks in OpenAI's shape
//! ending with `data: [DONE]`.

use std::convert::Infallible;

use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use samtal_generation::CancelToken;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::CancelOnDrop;
use crate::error::{Error, Result};
use crate::wire::{
    finish_reason, now, AssistantMessage, ChatChoice, ChatChunk, ChatCompletion, ChatLogprobs,
    ChunkChoice, ChunkInfo, Completion, CompletionChoice, CompletionLogprobs, Delta, FunctionDelta,
    GuardInfo, OutToolCall, SamtalInfo, TokenLogprob, ToolCallDelta, Usage,
};
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

struct Shape {
    kind: Kind,
    id: String,
    created: u64,
    model: String,
}

/// A body as JSON text (serializing these types cannot fail: every map has string keys).
fn json_text<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

impl Shape {
    /// A chat stream chunk with one choice whose delta is `delta` (none: `choices` empty).
    fn chat_chunk(
        &self,
        delta: Option<(Delta, Option<String>, Option<ChatLogprobs>)>,
        usage: Option<Usage>,
        samtal: Option<ChunkInfo>,
    ) -> String {
        json_text(&ChatChunk {
            id: self.id.clone(),
            object: "chat.completion.chunk".into(),
            created: self.created,
            model: self.model.clone(),
            choices: delta
                .map(|(delta, finish_reason, logprobs)| ChunkChoice {
                    index: 0,
                    delta,
                    finish_reason,
                    logprobs,
                })
                .into_iter()
                .collect(),
            usage,
            samtal,
        })
    }

    /// A completions stream chunk, likewise.
    fn completion_chunk(
        &self,
        choice: Option<CompletionChoice>,
        usage: Option<Usage>,
        samtal: Option<ChunkInfo>,
    ) -> String {
        json_text(&Completion {
            id: self.id.clone(),
            object: "text_completion".into(),
            created: self.created,
            model: self.model.clone(),
            choices: choice.into_iter().collect(),
            usage,
            samtal,
        })
    }

    /// One stream chunk: text, a finish reason, the `samtal` object, log-probabilities.
    fn chunk(
        &self,
        content: Option<String>,
        finish: Option<&str>,
        samtal: Option<ChunkInfo>,
        entries: &[TokenLogprob],
    ) -> String {
        let finish_reason = finish.map(str::to_owned);
        match self.kind {
            Kind::Chat => {
                let delta = Delta {
                    content,
                    ..Delta::default()
                };
                let logprobs = (!entries.is_empty()).then(|| ChatLogprobs {
                    content: entries.to_vec(),
                });
                self.chat_chunk(Some((delta, finish_reason, logprobs)), None, samtal)
            }
            Kind::Completion => {
                let choice = CompletionChoice {
                    index: 0,
                    text: content.unwrap_or_default(),
                    finish_reason,
                    logprobs: (!entries.is_empty())
                        .then(|| CompletionLogprobs::from_entries(entries)),
                };
                self.completion_chunk(Some(choice), None, samtal)
            }
        }
    }

    /// The chat stream's first chunk: the assistant's role.
    fn role(&self) -> String {
        let delta = Delta {
            role: Some("assistant".into()),
            content: Some(String::new()),
            tool_calls: None,
        };
        self.chat_chunk(Some((delta, None, None)), None, None)
    }

    /// The chunks of one call: its id, type and name with empty arguments, then the arguments
    /// (how OpenAI streams them, and how its client assembles them).
    fn tool_call(&self, index: u32, call: &OutToolCall) -> [String; 2] {
        let chunk = |d: ToolCallDelta| {
            let delta = Delta {
                tool_calls: Some(vec![d]),
                ..Delta::default()
            };
            self.chat_chunk(Some((delta, None, None)), None, None)
        };
        [
            chunk(ToolCallDelta {
                index,
                id: Some(call.id.clone()),
                kind: Some("function".into()),
                function: FunctionDelta {
                    name: Some(call.function.name.clone()),
                    arguments: String::new(),
                },
            }),
            chunk(ToolCallDelta {
                index,
                id: None,
                kind: None,
                function: FunctionDelta {
                    name: None,
                    arguments: call.function.arguments.clone(),
                },
            }),
        ]
    }

    /// The chunk with `stream_options.include_usage`: no choices, the usage.
    fn usage(&self, usage: Usage) -> String {
        match self.kind {
            Kind::Chat => self.chat_chunk(None, Some(usage), None),
            Kind::Completion => self.completion_chunk(None, Some(usage), None),
        }
    }

    fn whole(&self, s: &Summary, withheld: bool, entries: &[TokenLogprob]) -> Response {
        let fr = finish_reason(s).to_owned();
        let usage = Usage::new(s.prompt_tokens, s.completion_tokens);
        let samtal = SamtalInfo::new(s, withheld);
        match self.kind {
            Kind::Chat => axum::Json(ChatCompletion {
                id: self.id.clone(),
                object: "chat.completion".into(),
                created: self.created,
                model: self.model.clone(),
                choices: vec![ChatChoice {
                    index: 0,
                    message: AssistantMessage {
                        role: "assistant".into(),
                        content: (s.tool_calls.is_empty() || !s.text.is_empty())
                            .then(|| s.text.clone()),
                        tool_calls: s.tool_calls.iter().map(OutToolCall::from).collect(),
                    },
                    finish_reason: fr,
                    logprobs: (!entries.is_empty()).then(|| ChatLogprobs {
                        content: entries.to_vec(),
                    }),
                }],
                usage,
                samtal,
            })
            .into_response(),
            Kind::Completion => axum::Json(Completion {
                id: self.id.clone(),
                object: "text_completion".into(),
                created: self.created,
                model: self.model.clone(),
                choices: vec![CompletionChoice {
                    index: 0,
                    text: s.text.clone(),
                    finish_reason: Some(fr),
                    logprobs: (!entries.is_empty())
                        .then(|| CompletionLogprobs::from_entries(entries)),
                }],
                usage: Some(usage),
                samtal: Some(ChunkInfo::Done(samtal)),
            })
            .into_response(),
        }
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
                    return Ok(shape.whole(&s, withheld, &entries));
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
        let send = |data: String| {
            let etx = etx.clone();
            async move { etx.send(Ok(Event::default().data(data))).await.is_ok() }
        };
        if kind == Kind::Chat && !send(shape.role()).await {
            return;
        }
        let mut withheld = false;
        let mut streamed = false;
        // Log-probabilities ride on the next chunk with text (text may be held back).
        let mut pending: Vec<TokenLogprob> = Vec::new();
        while let Some(out) = rx.recv().await {
            let ok = match out {
                Out::Logprob(e) => {
                    pending.push(e);
                    true
                }
                Out::Guard(g) => {
                    let info = ChunkInfo::Guard {
                        guard: GuardInfo::from(&g),
                    };
                    send(shape.chunk(None, None, Some(info), &[])).await
                }
                Out::Text(t) => {
                    streamed = true;
                    let c = shape.chunk(Some(t), None, None, &pending);
                    pending.clear();
                    send(c).await
                }
                Out::Withheld => {
                    withheld = true;
                    let info = ChunkInfo::Withheld { withheld: true };
                    send(shape.chunk(None, None, Some(info), &[])).await
                }
                Out::Done(s) => {
                    // A blocked message's fixed answer was never streamed.
                    if !streamed
                        && !withheld
                        && !s.text.is_empty()
                        && !send(shape.chunk(Some(s.text.clone()), None, None, &[])).await
                    {
                        return;
                    }
                    for (i, call) in s.tool_calls.iter().enumerate() {
                        for c in shape.tool_call(i as u32, &OutToolCall::from(call)) {
                            if !send(c).await {
                                return;
                            }
                        }
                    }
                    let fr = finish_reason(&s);
                    let info = ChunkInfo::Done(SamtalInfo::new(&s, withheld));
                    let mut ok = send(shape.chunk(None, Some(fr), Some(info), &pending)).await;
                    if ok && include_usage {
                        ok = send(shape.usage(Usage::new(s.prompt_tokens, s.completion_tokens)))
                            .await;
                    }
                    if ok {
                        let _ = etx.send(Ok(Event::default().data("[DONE]"))).await;
                    }
                    return;
                }
                Out::Failed(e) => {
                    if send(json_text(&e.body())).await {
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
