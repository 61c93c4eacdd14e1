//! The workers that own generation: `--parallel` threads, each with its own chat session (and
//! so its own KV cache) over the shared model, fed from one bounded queue. A request that finds
//! the queue full is refused at once (429); one whose client has gone away is cancelled at the
//! next token.
//!
//! A worker keeps its session between requests: a client that resends a growing conversation
//! gets the cache of its earlier turns back, after the session has checked, token by token,
//! that the cached ids are a prefix of the new prompt. Nothing else is ever reused.
//!
//! Stored conversations (requests with a conversation id) have one session each, shared by the
//! workers: whichever worker takes a turn of it locks that session, so two requests for one
//! conversation run one after the other, on the same history and cache.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};

use samtal_chat::store::StoreLocation;
use samtal_chat::{
    ChatEvent, FinishReason, GuardOptions, GuardReport, Message, ModelRecord, Reply, Session,
    SessionOptions, ToolCall, Tools,
};
use samtal_generation::{
    CancelToken, Controls, Event, GenerateParams, Grammar, Pipeline, PrefixCache,
};
use samtal_tokenizer::Encode;
use tokio::sync::mpsc::UnboundedSender;

use crate::error::{Error, Result};
use crate::wire::{TokenLogprob, TopLogprob};

/// What to generate.
#[derive(Debug)]
pub enum Job {
    /// A chat turn: the conversation so far and the new user message.
    Chat {
        history: Vec<Message>,
        user: String,
        params: GenerateParams,
        grammar: Option<Grammar>,
    },
    /// A turn of a stored conversation: the server holds the history; `system`, when given,
    /// replaces the persona.
    Conversation {
        id: String,
        system: Option<String>,
        user: String,
        params: GenerateParams,
        grammar: Option<Grammar>,
    },
    /// A stateless turn with tools on offer, or with tool turns in the conversation: the whole
    /// conversation, ending with a user or tool message.
    Tools {
        messages: Vec<Message>,
        tools: Option<Tools>,
        params: GenerateParams,
        grammar: Option<Grammar>,
    },
    /// A raw continuation of `prompt`.
    Complete {
        prompt: String,
        params: GenerateParams,
        grammar: Option<Grammar>,
    },
}

/// What a worker reports about a job, in order.
#[derive(Debug)]
pub enum Out {
    Guard(GuardReport),
    /// A generated token's log-probability entry.
    Logprob(TokenLogprob),
    Text(String),
    /// The answer leaked the system prompt; what was streamed is to be disregarded.
    Withheld,
    Done(Summary),
    Failed(Error),
}

/// What one turn of a stored conversation is asked with.
#[derive(Debug)]
struct Turn {
    params: GenerateParams,
    grammar: Option<Grammar>,
}

/// How a job ended.
#[derive(Debug, Clone)]
pub struct Summary {
    pub text: String,
    pub finish_reason: FinishReason,
    pub prompt_tokens: usize,
    pub prefill_tokens: usize,
    pub completion_tokens: usize,
    pub ttft_ms: f64,
    pub tokens_per_s: f64,
    pub dropped_turns: usize,
    pub guard: Option<GuardReport>,
    /// The stored conversation the turn belongs to.
    pub conversation_id: Option<String>,
    /// The tools the answer called.
    pub tool_calls: Vec<ToolCall>,
}

struct Request {
    job: Job,
    cancel: CancelToken,
    tx: UnboundedSender<Out>,
}

/// The worker pool.
#[derive(Debug)]
pub struct Pool {
    tx: Mutex<Option<SyncSender<Request>>>,
    queued: Arc<AtomicUsize>,
    /// Requests accepted and not yet finished (queued or being served), and how many may be:
    /// `--parallel` + `--queue`. Admission counts these rather than relying on the channel's
    /// capacity, so that a request arriving while an idle worker is between two `recv` calls
    /// (or not yet at its first) is accepted, not refused.
    in_flight: Arc<AtomicUsize>,
    limit: usize,
    threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request").field("job", &self.job).finish()
    }
}

/// How the workers' sessions are set up.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    pub parallel: usize,
    pub queue: usize,
    pub guard: GuardOptions,
    pub context: Option<usize>,
    /// Where conversations with an id are stored (`None`: where
    /// [`StoreLocation::resolve`] finds it) and the model they are stored with.
    pub store: Option<StoreLocation>,
    pub model: Option<ModelRecord>,
    /// Conversation sessions kept in memory (each with its own KV cache), for all workers.
    pub max_conversations: usize,
}

/// The sessions of stored conversations, most recently used last: one per conversation id, so
/// that no cache is ever shared between conversations and no conversation has two histories.
#[derive(Default)]
struct Conversations {
    open: Mutex<Vec<(String, Arc<Mutex<Session>>)>>,
}

/// Told of every generation a worker finishes (the server's metrics).
pub type OnDone = Arc<dyn Fn(&Summary) + Send + Sync>;

impl Pool {
    pub fn start(pipeline: Arc<Pipeline>, opts: &WorkerOptions, on_done: OnDone) -> Result<Self> {
        let limit = opts.parallel.max(1) + opts.queue;
        let (tx, rx) = sync_channel::<Request>(limit);
        let rx = Arc::new(Mutex::new(rx));
        let queued = Arc::new(AtomicUsize::new(0));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let mut threads = Vec::new();
        let conversations = Arc::new(Conversations::default());
        for k in 0..opts.parallel.max(1) {
            let session_opts = SessionOptions {
                guard: opts.guard.clone(),
                context: opts.context,
                ..SessionOptions::default()
            };
            let session = Session::new(pipeline.clone(), session_opts)?;
            let mut w = Worker {
                pipeline: pipeline.clone(),
                opts: opts.clone(),
                conversations: conversations.clone(),
                session,
                raw: PrefixCache::new(pipeline.model.lm().as_ref()),
                on_done: on_done.clone(),
            };
            let (rx, queued, in_flight) = (rx.clone(), queued.clone(), in_flight.clone());
            let handle = std::thread::Builder::new()
                .name(format!("samtal-worker-{k}"))
                .spawn(move || w.run(&rx, &queued, &in_flight))
                .map_err(|e| Error::Internal(format!("cannot start a worker: {e}")))?;
            threads.push(handle);
        }
        Ok(Self {
            tx: Mutex::new(Some(tx)),
            queued,
            in_flight,
            limit,
            threads: Mutex::new(threads),
        })
    }

    /// Queues `job`; its events arrive on `tx`. Refused at once when the queue is full.
    pub fn submit(&self, job: Job, cancel: CancelToken, tx: UnboundedSender<Out>) -> Result<()> {
        let guard = self.tx.lock().map_err(|_| Error::Unavailable)?;
        let sender = guard.as_ref().ok_or(Error::Unavailable)?;
        if self.in_flight.fetch_add(1, Ordering::SeqCst) >= self.limit {
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            return Err(Error::Busy {
                queued: self.queued(),
            });
        }
        self.queued.fetch_add(1, Ordering::SeqCst);
        match sender.try_send(Request { job, cancel, tx }) {
            Ok(()) => Ok(()),
            Err(e) => {
                self.queued.fetch_sub(1, Ordering::SeqCst);
                self.in_flight.fetch_sub(1, Ordering::SeqCst);
                Err(match e {
                    TrySendError::Full(_) => Error::Busy {
                        queued: self.queued(),
                    },
                    TrySendError::Disconnected(_) => Error::Unavailable,
                })
            }
        }
    }

    /// Requests waiting for a worker.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::SeqCst)
    }

    /// Stops taking jobs and waits for the workers to finish the ones they have.
    pub fn shutdown(&self) {
        if let Ok(mut tx) = self.tx.lock() {
            tx.take();
        }
        let threads = self
            .threads
            .lock()
            .map(|mut t| std::mem::take(&mut *t))
            .unwrap_or_default();
        for t in threads {
            let _ = t.join();
        }
    }
}

struct Worker {
    pipeline: Arc<Pipeline>,
    opts: WorkerOptions,
    conversations: Arc<Conversations>,
    session: Session,
    /// The KV cache of raw completions.
    raw: PrefixCache,
    on_done: OnDone,
}

impl Worker {
    fn run(
        &mut self,
        rx: &Mutex<Receiver<Request>>,
        queued: &AtomicUsize,
        in_flight: &AtomicUsize,
    ) {
        loop {
            let req = match rx.lock() {
                Ok(rx) => rx.recv(),
                Err(_) => return,
            };
            let Ok(req) = req else { return };
            queued.fetch_sub(1, Ordering::SeqCst);
            if req.cancel.is_cancelled() || req.tx.is_closed() {
                in_flight.fetch_sub(1, Ordering::SeqCst);
                continue;
            }
            let tx = req.tx.clone();
            let result = std::panic::catch_unwind(AssertUnwindSafe(|| match req.job {
                Job::Chat {
                    history,
                    user,
                    params,
                    grammar,
                } => self.chat(&history, &user, params, grammar, &req.cancel, &req.tx),
                Job::Conversation {
                    id,
                    system,
                    user,
                    params,
                    grammar,
                } => {
                    let turn = Turn { params, grammar };
                    self.conversation(&id, system, &user, turn, &req.cancel, &req.tx)
                }
                Job::Tools {
                    messages,
                    tools,
                    params,
                    grammar,
                } => {
                    let turn = Turn { params, grammar };
                    self.tools(&messages, tools.as_ref(), turn, &req.cancel, &req.tx)
                }
                Job::Complete {
                    prompt,
                    params,
                    grammar,
                } => self.complete(&prompt, &params, grammar, &req.cancel, &req.tx),
            }));
            let out = match result {
                Ok(Ok(summary)) => {
                    (self.on_done)(&summary);
                    Out::Done(summary)
                }
                Ok(Err(e)) => Out::Failed(e),
                Err(_) => {
                    // The session's state is unknown after a panic: start it afresh.
                    self.raw.clear();
                    Out::Failed(Error::Internal("a worker panicked".into()))
                }
            };
            // Free the slot before the last event goes out: a client that sends its next
            // request as soon as it has this answer must find the worker free.
            in_flight.fetch_sub(1, Ordering::SeqCst);
            let _ = tx.send(out);
        }
    }

    fn chat(
        &mut self,
        history: &[Message],
        user: &str,
        params: GenerateParams,
        grammar: Option<Grammar>,
        cancel: &CancelToken,
        tx: &UnboundedSender<Out>,
    ) -> Result<Summary> {
        self.session.set_history(history)?;
        *self.session.params_mut() = params;
        self.session.set_grammar(grammar)?;
        let tok = &self.pipeline.tokenizer;
        turn(&mut self.session, tok, user, cancel, tx)
    }

    /// A stateless turn with tools: the worker's session answers the whole conversation.
    fn tools(
        &mut self,
        messages: &[Message],
        tools: Option<&Tools>,
        turn_opts: Turn,
        cancel: &CancelToken,
        tx: &UnboundedSender<Out>,
    ) -> Result<Summary> {
        *self.session.params_mut() = turn_opts.params;
        self.session.set_grammar(turn_opts.grammar)?;
        let tok = self.pipeline.tokenizer.clone();
        let reply = self.session.respond(
            messages,
            tools,
            Some(cancel),
            &mut forward(&tok, cancel, tx),
        )?;
        Ok(summary(reply))
    }

    /// A turn of stored conversation `id`: its session from memory, else resumed from the
    /// store, else new. The session stays locked for the turn: another request for the same
    /// conversation waits for it.
    fn conversation(
        &mut self,
        id: &str,
        system: Option<String>,
        user: &str,
        turn_opts: Turn,
        cancel: &CancelToken,
        tx: &UnboundedSender<Out>,
    ) -> Result<Summary> {
        let shared = {
            let mut open = self
                .conversations
                .open
                .lock()
                .map_err(|_| Error::Internal("the conversation table is poisoned".into()))?;
            let entry = match open.iter().position(|(k, _)| k == id) {
                Some(i) => open.remove(i),
                None => (
                    id.to_owned(),
                    Arc::new(Mutex::new(self.open_conversation(id)?)),
                ),
            };
            let shared = entry.1.clone();
            open.push(entry);
            if open.len() > self.opts.max_conversations.max(1) {
                // The least recently used goes; a worker still in a turn of it keeps it alive.
                open.remove(0);
            }
            shared
        };
        let mut session = match shared.lock() {
            Ok(s) => s,
            Err(poisoned) => {
                // A turn panicked: its session's state is unknown, so it starts again from
                // what the store holds.
                let mut s = poisoned.into_inner();
                *s = self.open_conversation(id)?;
                shared.clear_poison();
                s
            }
        };
        let result = self.conversation_turn(&mut session, id, system, user, turn_opts, cancel, tx);
        if let Err(Error::Chat(e)) = &result {
            if matches!(
                e,
                samtal_chat::Error::StoreConflict { .. }
                    | samtal_chat::Error::StoreUnavailable { .. }
            ) {
                // The session holds a turn the store does not (or the store moved on): the
                // next turn starts again from what the store holds.
                drop(session);
                self.forget_conversation(id);
            }
        }
        result
    }

    /// The turn itself, on the conversation's locked session. Another replica may have taken
    /// turns of it since this session last saw the store: then the session is rebuilt from
    /// the store first (its cache prefilled again on the turn).
    #[allow(clippy::too_many_arguments)]
    fn conversation_turn(
        &self,
        session: &mut Session,
        id: &str,
        system: Option<String>,
        user: &str,
        turn_opts: Turn,
        cancel: &CancelToken,
        tx: &UnboundedSender<Out>,
    ) -> Result<Summary> {
        if session.is_stale()? {
            *session = self.open_conversation(id)?;
        }
        if let Some(system) = system {
            if session.system() != Some(system.as_str()) {
                session.set_system(system);
            }
        }
        *session.params_mut() = turn_opts.params;
        session.set_grammar(turn_opts.grammar)?;
        turn(session, &self.pipeline.tokenizer, user, cancel, tx).map(|mut s| {
            s.conversation_id = Some(id.to_owned());
            s
        })
    }

    /// Drops conversation `id`'s session from memory.
    fn forget_conversation(&self, id: &str) {
        if let Ok(mut open) = self.conversations.open.lock() {
            open.retain(|(k, _)| k != id);
        }
    }

    fn open_conversation(&self, id: &str) -> Result<Session> {
        let store = match &self.opts.store {
            Some(location) => location.open()?,
            None => StoreLocation::resolve(None)?.open()?,
        };
        let model = self.opts.model.clone().unwrap_or(ModelRecord {
            path: String::new(),
            fingerprint: String::new(),
        });
        match store.load(id) {
            Ok(conv) => {
                Session::resume(self.pipeline.clone(), store, &conv, model).map_err(Error::from)
            }
            Err(samtal_chat::Error::NoConversation(_)) => {
                let session_opts = SessionOptions {
                    guard: self.opts.guard.clone(),
                    context: self.opts.context,
                    ..SessionOptions::default()
                };
                let mut s = Session::new(self.pipeline.clone(), session_opts)?;
                s.save_to(store, id, model);
                Ok(s)
            }
            Err(e) => Err(e.into()),
        }
    }

    fn complete(
        &mut self,
        prompt: &str,
        params: &GenerateParams,
        grammar: Option<Grammar>,
        cancel: &CancelToken,
        tx: &UnboundedSender<Out>,
    ) -> Result<Summary> {
        let p = &self.pipeline;
        let mut constraint = match grammar {
            Some(g) => Some(p.grammars()?.compile(&g)?),
            None => None,
        };
        let ids = p
            .tokenizer
            .encode(
                prompt,
                Encode {
                    add_special_tokens: true,
                    parse_special: false,
                },
            )
            .map_err(|e| Error::bad(format!("cannot tokenize the prompt: {e}"), Some("prompt")))?;
        let context = p.model.config().max_positions;
        if ids.len() >= context {
            return Err(Error::bad(
                format!(
                    "the prompt has {} tokens; the context holds {context}",
                    ids.len()
                ),
                Some("prompt"),
            ));
        }
        let mut params = params.clone();
        params.max_new_tokens = params.max_new_tokens.min(context - ids.len());
        let controls = Controls {
            cancel: Some(cancel),
            constraint: constraint.as_mut(),
            ..Controls::default()
        };
        let out = p
            .generator()
            .generate(&mut self.raw, &ids, &params, controls, &mut |ev| {
                if let Event::Token {
                    id,
                    logprob: Some(lp),
                    top,
                    ..
                } = ev
                {
                    let e = logprob_entry(&p.tokenizer, id, lp, top);
                    if tx.send(Out::Logprob(e)).is_err() {
                        cancel.cancel();
                    }
                }
                let text = ev.text();
                if !text.is_empty() && tx.send(Out::Text(text.to_owned())).is_err() {
                    cancel.cancel();
                }
            })?;
        let t = &out.timings;
        Ok(Summary {
            text: out.text,
            finish_reason: out.finish_reason,
            prompt_tokens: t.prompt_tokens,
            prefill_tokens: t.prefill_tokens,
            completion_tokens: t.generated_tokens,
            ttft_ms: t.ttft_ms,
            tokens_per_s: t.tokens_per_s(),
            dropped_turns: 0,
            guard: None,
            conversation_id: None,
            tool_calls: Vec::new(),
        })
    }
}

/// Sends `user` in `session`, forwarding its events; the reply as a summary.
fn turn(
    session: &mut Session,
    tok: &samtal_tokenizer::Tokenizer,
    user: &str,
    cancel: &CancelToken,
    tx: &UnboundedSender<Out>,
) -> Result<Summary> {
    let reply = session.send(user, Some(cancel), &mut forward(tok, cancel, tx))?;
    Ok(summary(reply))
}

/// Forwards a turn's events to the request; a request whose client has gone is cancelled.
fn forward<'a>(
    tok: &'a samtal_tokenizer::Tokenizer,
    cancel: &'a CancelToken,
    tx: &'a UnboundedSender<Out>,
) -> impl FnMut(ChatEvent<'_>) + 'a {
    move |ev| {
        let out = match ev {
            ChatEvent::Text(t) => Out::Text(t.to_owned()),
            ChatEvent::Logprob { id, logprob, top } => {
                Out::Logprob(logprob_entry(tok, id, logprob, top))
            }
            ChatEvent::Guard(r) => Out::Guard(r.clone()),
            ChatEvent::Withheld => Out::Withheld,
            _ => return,
        };
        if tx.send(out).is_err() {
            cancel.cancel();
        }
    }
}

fn summary(reply: Reply) -> Summary {
    Summary {
        text: reply.text,
        finish_reason: reply.finish_reason,
        prompt_tokens: reply.prompt_tokens,
        prefill_tokens: reply.prefill_tokens,
        completion_tokens: reply.generated_tokens,
        ttft_ms: reply.ttft_ms,
        tokens_per_s: reply.tokens_per_s,
        dropped_turns: reply.dropped_turns,
        guard: reply.guard,
        conversation_id: None,
        tool_calls: reply.tool_calls,
    }
}

/// One token's entry in OpenAI's chat logprobs shape.
fn logprob_entry(
    tok: &samtal_tokenizer::Tokenizer,
    id: u32,
    logprob: f32,
    top: &[(u32, f32)],
) -> TokenLogprob {
    let piece = |id: u32| tok.decode(&[id], false).unwrap_or_default();
    let token = piece(id);
    TokenLogprob {
        bytes: token.as_bytes().to_vec(),
        token,
        logprob,
        top_logprobs: top
            .iter()
            .map(|&(i, lp)| {
                let token = piece(i);
                TopLogprob {
                    bytes: token.as_bytes().to_vec(),
                    token,
                    logprob: lp,
                }
            })
            .collect(),
    }
}
