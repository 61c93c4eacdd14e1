//! A conversation with a model: the messages, the persona, generation settings, and the session's
//! own KV cache with the exact token ids it holds.
//!
//! Each turn:
//! 1. the prompt is built from the system prompt, the exchanges still in the context window and
//!    the new user message, in the session's format (chat template or transcript);
//! 2. it is fitted to the token budget ([`ContextPolicy`]): prompt plus the answer's reservation
//!    (`max_new_tokens`, at most half the budget so that a conversation always keeps some
//!    memory) must fit, and whole exchanges are dropped from the oldest, never the system prompt;
//! 3. the cache is cut back to the longest common prefix of the ids it holds and the new prompt,
//!    and only the rest is prefilled: normally the end of the last answer's turn and the new
//!    user turn. A template that re-renders earlier turns differently costs a longer prefill,
//!    never a wrong cache;
//! 4. the answer is generated with the format's stops and the session's limits, streamed as
//!    [`ChatEvent::Text`], and stored as the assistant message.

mod guard;
mod history;
mod options;
mod persist;
mod respond;
mod window;

use std::sync::Arc;
use std::time::Instant;

use samtal_engine::CausalLm;
use samtal_generation::{
    CancelToken, Controls, Event, GenerateParams, Generator, Grammar, Output, Pipeline,
    PrefixCache, TextCheck,
};

use crate::template::ChatTemplate;
use crate::{Error, Message, Result, Transcript};

pub use guard::{
    check_text, detector as guard_detector, install_detector as install_guard_detector,
    install_encoder as install_guard_encoder, mark_untrusted, GuardOptions, GuardReport, Mark,
};
use guard::{LeakStop, SessionGuard};
pub use options::{
    chat_params, ChatEvent, ContextPolicy, FormatChoice, Reply, SessionOptions, CHAT_MAX_NEW_TOKENS,
};
pub use persist::ModelRecord;
use samtal_guard::Verdict;
use window::{resolve_format, Dropped};

/// The prompt format a session resolved its [`FormatChoice`] to.
#[derive(Clone, Debug)]
enum Format {
    Template {
        template: Box<ChatTemplate>,
        /// The tokenizer's special-token strings, found once.
        specials: Vec<String>,
    },
    Transcript(Transcript),
}

/// A chat session over a shared [`Pipeline`]: each turn builds the prompt in the session's
/// format, fits it to the context budget, prefills only what its KV cache does not hold, and
/// generates a bounded answer.
///
/// ```
/// use std::sync::Arc;
/// use samtal_chat::{ChatEvent, Session, SessionOptions};
/// use samtal_generation::Pipeline;
/// # let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/models/tiny-llama");
/// let pipeline = Arc::new(Pipeline::load(&dir, &Default::default())?);
/// let opts = SessionOptions { system: Some("You are terse.".into()), ..Default::default() };
/// let mut session = Session::new(pipeline, opts)?;
/// session.params_mut().max_new_tokens = 8;
/// let reply = session.send("Who are you?", None, &mut |event| {
///     if let ChatEvent::Text(text) = event {
///         print!("{text}");
///     }
/// })?;
/// assert!(reply.prefill_tokens <= reply.prompt_tokens);
/// assert_eq!(session.messages().len(), 3); // system, user, assistant
/// # Ok::<(), samtal_chat::Error>(())
/// ```
#[derive(Debug)]
pub struct Session {
    pipeline: Arc<Pipeline>,
    /// The network generating answers: the pipeline's, or one given to [`Session::with_lm`].
    lm: Arc<dyn CausalLm>,
    format: Format,
    system: Option<String>,
    /// Completed exchanges: user, assistant, user, assistant, …
    turns: Vec<Message>,
    /// Index into `turns` of the first exchange still in the window (after the pinned first
    /// exchange under [`ContextPolicy::KeepFirstExchange`]); always even.
    window_start: usize,
    policy: ContextPolicy,
    /// Token budget for prompt plus answer.
    budget: usize,
    params: GenerateParams,
    /// The session's KV cache and the ids it holds.
    cache: PrefixCache,
    /// The options the session was made with, kept to be stored with the conversation.
    opts: SessionOptions,
    /// Where completed exchanges are saved, if anywhere.
    saved: Option<persist::Saved>,
    guard: SessionGuard,
    /// A grammar every answer must match (structured output), if any.
    grammar: Option<Grammar>,
    /// The guard's mark on each completed exchange (`turns[2k]`, `turns[2k + 1]`).
    marks: Vec<Mark>,
}

impl Session {
    pub fn new(pipeline: Arc<Pipeline>, opts: SessionOptions) -> Result<Self> {
        let lm = pipeline.model.lm().clone();
        Self::with_lm(pipeline, lm, opts)
    }

    /// A session that generates with `lm` instead of the pipeline's network (which must share
    /// the pipeline tokenizer's vocabulary): a test double, or the same weights elsewhere.
    pub fn with_lm(
        pipeline: Arc<Pipeline>,
        lm: Arc<dyn CausalLm>,
        opts: SessionOptions,
    ) -> Result<Self> {
        let cfg = lm.config();
        let vocab = pipeline.tokenizer.vocab_size();
        if cfg.vocab_size < vocab {
            return Err(Error::InvalidOption {
                name: "model",
                message: format!(
                    "the network has {} logits but the tokenizer {vocab} tokens",
                    cfg.vocab_size
                ),
            });
        }
        let budget = match opts.context {
            Some(0) => {
                return Err(Error::InvalidOption {
                    name: "context",
                    message: "0 tokens".into(),
                })
            }
            Some(n) => n.min(cfg.max_positions),
            None => cfg.max_positions,
        };
        let format = resolve_format(&pipeline, &opts)?;
        let mut params = opts
            .params
            .clone()
            .unwrap_or_else(|| chat_params(&pipeline.defaults));
        if opts.max_answer_chars.is_some() {
            params.max_chars = opts.max_answer_chars;
        }
        params.validate(cfg.vocab_size)?;
        let cache = PrefixCache::new(lm.as_ref());
        let system = opts.system.clone().filter(|s| !s.is_empty());
        let mut opts = opts;
        let guard = SessionGuard::new(&mut opts.guard, system.as_deref())?;
        Ok(Self {
            pipeline,
            lm,
            format,
            system,
            turns: Vec::new(),
            window_start: 0,
            policy: opts.policy,
            budget,
            params,
            cache,
            opts,
            saved: None,
            guard,
            grammar: None,
            marks: Vec::new(),
        })
    }

    /// Sends a user message and generates the answer, streaming it through `on_event`. The
    /// exchange joins the conversation whatever the finish reason (a cancelled answer is kept
    /// as far as it got); on an error the conversation and its context window are unchanged.
    /// A saving session (see [`Session::save_to`]) commits the exchange to its store before
    /// returning; when that fails, the error is returned and the exchange is not kept.
    pub fn send(
        &mut self,
        user_text: &str,
        cancel: Option<&CancelToken>,
        on_event: &mut dyn FnMut(ChatEvent<'_>),
    ) -> Result<Reply> {
        let t0 = Instant::now();
        let user = Message::user(user_text);
        let report = self.guard.check(user_text);
        if let Some(r) = report.as_ref().filter(|r| r.verdict != Verdict::Allow) {
            on_event(ChatEvent::Guard(r));
        }
        let verdict = report.as_ref().map_or(Verdict::Allow, |r| r.verdict);
        if verdict == Verdict::Block {
            return self.answer_blocked(user, report, t0);
        }
        // What the model reads of the message: a flagged one comes with a note.
        let for_model = match verdict {
            Verdict::Flag => Message::user(mark_untrusted(user_text)),
            _ => user.clone(),
        };
        let window_start = self.window_start;
        let turn = self.answer(&for_model, cancel, t0, on_event);
        let (out, dropped) = match turn {
            Ok(done) => done,
            Err(e) => {
                self.window_start = window_start;
                return Err(e);
            }
        };
        let mark = match (out.filtered, verdict) {
            (Some(_), _) => Mark::Withheld,
            (None, Verdict::Flag) => Mark::Flagged,
            (None, _) => Mark::Ok,
        };
        let reply = self.reply(out, report, dropped, on_event);
        if let Err(e) = self.persist_exchange(&user, &reply, mark) {
            self.window_start = window_start;
            return Err(e);
        }
        self.turns.push(user);
        self.turns.push(Message::assistant(reply.text.clone()));
        self.marks.push(mark);
        Ok(reply)
    }

    /// Fits the prompt for `pending` to the window and generates the answer: the format's stop
    /// strings, and the leak check as a stop criterion (the canary also a stop string, so that
    /// it is held back while it may be forming and never streamed).
    fn answer(
        &mut self,
        pending: &Message,
        cancel: Option<&CancelToken>,
        started: Instant,
        on_event: &mut dyn FnMut(ChatEvent<'_>),
    ) -> Result<(Output, Dropped)> {
        let mut params = self.params.clone();
        let (ids, dropped) = self.fit(pending, &mut params)?;
        if dropped.turns > 0 {
            on_event(ChatEvent::Dropped {
                turns: dropped.turns,
                tokens: dropped.tokens,
            });
        }
        let mut stops = self.format_stops();
        let mut leak = self.guard.leak.as_ref().map(LeakStop);
        if let Some(l) = &self.guard.leak {
            stops.push(l.canary().to_owned());
        }
        let mut constraint = match &self.grammar {
            Some(g) => Some(self.pipeline.grammars()?.compile(g)?),
            None => None,
        };
        let generator = Generator {
            lm: self.lm.as_ref(),
            tokenizer: &self.pipeline.tokenizer,
            eog: &self.pipeline.eog,
        };
        let controls = Controls {
            cancel,
            stops: &stops,
            check: leak.as_mut().map(|l| l as &mut dyn TextCheck),
            constraint: constraint.as_mut(),
            started: Some(started),
        };
        // Transcript answers follow "label:" and start with the model's space: not shown.
        let mut shown = !matches!(self.format, Format::Transcript(_));
        let out = generator.generate(&mut self.cache, &ids, &params, controls, &mut |ev| {
            report_logprob(&ev, on_event);
            let text = if shown {
                ev.text()
            } else {
                ev.text().trim_start()
            };
            if !text.is_empty() {
                shown = true;
                on_event(ChatEvent::Text(text));
            }
        })?;
        Ok((out, dropped))
    }

    /// The turn's reply from what generation produced: an answer the leak check stopped is
    /// replaced by a notice.
    fn reply(
        &self,
        out: Output,
        report: Option<GuardReport>,
        dropped: Dropped,
        on_event: &mut dyn FnMut(ChatEvent<'_>),
    ) -> Reply {
        let mut text = match self.format {
            Format::Transcript(_) => out.text.trim().to_owned(),
            Format::Template { .. } => out.text,
        };
        let mut report = report;
        if let Some(leak) = out.filtered {
            on_event(ChatEvent::Withheld);
            text = samtal_guard::leak::WITHHELD_REPLY.to_owned();
            let r = report.get_or_insert_with(|| GuardReport {
                verdict: Verdict::Allow,
                score: 0.0,
                reasons: Vec::new(),
                leak: None,
            });
            r.leak = Some(leak);
        }
        let t = &out.timings;
        Reply {
            text,
            finish_reason: out.finish_reason,
            guard: report,
            prompt_tokens: t.prompt_tokens,
            prefill_tokens: t.prefill_tokens,
            generated_tokens: t.generated_tokens,
            ttft_ms: t.ttft_ms,
            tokens_per_s: t.tokens_per_s(),
            dropped_turns: dropped.turns,
            seed: out.seed,
            token_ids: out.token_ids,
            tool_calls: Vec::new(),
        }
    }

    /// Removes the last exchange; returns whether there was one.
    pub fn undo(&mut self) -> bool {
        if self.turns.len() < 2 {
            return false;
        }
        self.turns.truncate(self.turns.len() - 2);
        self.marks.truncate(self.turns.len() / 2);
        self.window_start = self.window_start.min(self.turns.len());
        self.forget_saved_from(self.turns.len());
        true
    }

    /// Forgets every exchange, keeping the system prompt (and the cached ids of its prefix,
    /// which the next turn reuses).
    pub fn reset(&mut self) {
        self.turns.clear();
        self.marks.clear();
        self.window_start = 0;
        self.forget_saved_from(0);
    }

    /// Replaces the system prompt (the persona); an empty text removes it.
    pub fn set_system(&mut self, text: impl Into<String>) {
        let text = text.into();
        self.system = (!text.is_empty()).then_some(text);
        // The leak check follows the new prompt (the canary stays). Building a guard only
        // fails when loading the detector does, and this one has loaded it already.
        if let Ok(g) = SessionGuard::new(&mut self.opts.guard, self.system.as_deref()) {
            self.guard = g;
        }
    }

    pub fn system(&self) -> Option<&str> {
        self.system.as_deref()
    }

    /// The whole conversation: the system message (if any), then every exchange, including
    /// those dropped from the context window.
    pub fn messages(&self) -> Vec<Message> {
        self.system
            .iter()
            .map(|s| Message::system(s.clone()))
            .chain(self.turns.iter().cloned())
            .collect()
    }

    /// Exchanges dropped from the context window so far.
    pub fn dropped_turns(&self) -> usize {
        (self.window_start.saturating_sub(self.pinned())) / 2
    }

    pub fn params(&self) -> &GenerateParams {
        &self.params
    }

    /// Generation settings for the next turns. The format's stop strings are added per turn and
    /// are not part of these.
    pub fn params_mut(&mut self) -> &mut GenerateParams {
        &mut self.params
    }

    /// Makes every answer match `grammar` (JSON Schema, regex, Lark), or lifts the constraint.
    /// A grammar that does not compile is an error here, and the session keeps its old one.
    pub fn set_grammar(&mut self, grammar: Option<Grammar>) -> Result<()> {
        if let Some(g) = &grammar {
            self.pipeline.grammars()?.compile(g)?;
        }
        self.grammar = grammar;
        Ok(())
    }

    /// The token budget for prompt plus answer.
    pub fn budget(&self) -> usize {
        self.budget
    }

    /// Whether the session writes a chat template (else the transcript format).
    pub fn uses_template(&self) -> bool {
        matches!(self.format, Format::Template { .. })
    }

    /// The token ids the session's KV cache holds.
    pub fn cached_ids(&self) -> &[u32] {
        self.cache.ids()
    }
}

/// A generated token's log-probability, when the settings ask for them, as a chat event.
fn report_logprob(ev: &Event<'_>, on_event: &mut dyn FnMut(ChatEvent<'_>)) {
    if let Event::Token {
        id,
        logprob: Some(logprob),
        top,
        ..
    } = *ev
    {
        on_event(ChatEvent::Logprob { id, logprob, top });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_can_move_between_threads() {
        fn is_send<T: Send>() {}
        is_send::<Session>();
    }

    #[test]
    fn chat_params_bound_every_answer() {
        let p = chat_params(&GenerateParams::default());
        assert_eq!(p.max_new_tokens, CHAT_MAX_NEW_TOKENS);
        assert!(p.loop_guard.is_some());
    }
}
