//! The decode loop: prefill what the cache does not hold, then one cached step per token until
//! an end-of-generation token, a stop string, the token or character limit, a detected loop or
//! cancellation.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use samtal_engine::CausalLm;
use samtal_tokenizer::Tokenizer;
use serde::Serialize;

use crate::constraint::Constraint;
use crate::params::GenerateParams;
use crate::prefix::PrefixCache;
use crate::sampler::Sampler;
use crate::stop::{Fed, StopMatcher};
use crate::{Error, Result};

/// Why generation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FinishReason {
    /// The model produced an end-of-generation token.
    Eos,
    /// A stop string matched.
    Stop,
    /// The token limit, the character limit or the context length was reached.
    Length,
    /// Cancelled through a [`CancelToken`].
    Cancelled,
    /// The [`crate::LoopGuard`] saw the answer repeating itself.
    Loop,
    /// A caller's [`TextCheck`] stopped the text (samtal's leak check), or a caller replaced
    /// the answer (the guard blocked the message). OpenAI's name.
    ContentFilter,
}

impl FinishReason {
    /// The reason under OpenAI's names: a loop ends for length, and an end-of-generation
    /// token, a stop string and a cancellation all stop.
    pub fn openai(self) -> &'static str {
        match self {
            FinishReason::Length | FinishReason::Loop => "length",
            FinishReason::ContentFilter => "content_filter",
            FinishReason::Eos | FinishReason::Stop | FinishReason::Cancelled => "stop",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FinishReason::Eos => "eos",
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
            FinishReason::Cancelled => "cancelled",
            FinishReason::Loop => "loop",
            FinishReason::ContentFilter => "content_filter",
        }
    }
}

/// Cancels a generation from another thread; checked before every model step.
#[derive(Clone, Debug, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// A streamed event.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Event<'a> {
    /// One generated token and the text it releases (possibly empty: held back while it may be
    /// the start of a stop string, or while a UTF-8 character is incomplete).
    Token {
        id: u32,
        text: &'a str,
        logprob: Option<f32>,
        /// With `top_logprobs`, the most likely tokens at this step and their log-probabilities.
        top: &'a [(u32, f32)],
    },
    /// Text released at the end without a token of its own (a held-back partial stop string).
    Flush { text: &'a str },
}

impl<'a> Event<'a> {
    /// The text this event releases (possibly empty).
    pub fn text(&self) -> &'a str {
        match *self {
            Event::Token { text, .. } | Event::Flush { text } => text,
        }
    }
}

/// Where the time went. Measured here, once, for every face.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Timings {
    /// Tokens in the prompt.
    pub prompt_tokens: usize,
    /// Prompt tokens that actually ran through the model (the rest came from the cache).
    pub prefill_tokens: usize,
    pub prompt_ms: f64,
    pub generated_tokens: usize,
    pub generate_ms: f64,
    /// From [`Controls::started`] (else the call) to the first generated token; to the end
    /// when no token was generated.
    pub ttft_ms: f64,
    /// With a constraint: the time it took at each generated token (checking the sampled
    /// token, the mask when needed, moving the grammar on), in microseconds.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub constraint_us: Vec<f32>,
}

impl Timings {
    /// Generated tokens per second of decoding (0 when nothing was generated).
    pub fn tokens_per_s(&self) -> f64 {
        if self.generate_ms > 0.0 {
            self.generated_tokens as f64 / (self.generate_ms / 1e3)
        } else {
            0.0
        }
    }
}

/// A caller's stop criterion on the text, called as stop strings are matched: with the whole
/// text decoded so far (text still held back included) after every token. `Some(reason)` ends
/// generation at once, finish reason [`FinishReason::ContentFilter`], and the text that
/// completed the match is never emitted. samtal's leak check is one.
pub trait TextCheck {
    fn check(&mut self, text: &str) -> Option<&'static str>;
}

/// What a caller adds to one generation besides the settings.
#[derive(Default)]
pub struct Controls<'a> {
    /// Checked before every model step.
    pub cancel: Option<&'a CancelToken>,
    /// Stop strings of the caller's own (a prompt format's speaker labels, a canary), matched
    /// like the `stop` setting's and, like them, added to the model's end-of-generation set.
    pub stops: &'a [String],
    pub check: Option<&'a mut dyn TextCheck>,
    /// A grammar the output must match (see [`crate::constraint`]); checked on the sampled
    /// token, applied as a mask when it rejects it.
    pub constraint: Option<&'a mut Constraint>,
    /// When the request started, for the time to first token (prompt building included).
    pub started: Option<Instant>,
}

impl std::fmt::Debug for Controls<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Controls")
            .field("cancel", &self.cancel)
            .field("stops", &self.stops)
            .field("check", &self.check.is_some())
            .field("constraint", &self.constraint)
            .field("started", &self.started)
            .finish()
    }
}

/// The result of one generation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Output {
    pub token_ids: Vec<u32>,
    pub text: String,
    pub finish_reason: FinishReason,
    pub timings: Timings,
    /// The seed the sampler used.
    pub seed: u64,
    /// The reason a [`TextCheck`] gave when it stopped the text.
    pub filtered: Option<&'static str>,
}

/// What is left of [`GenerateParams::max_chars`] while text is emitted.
struct CharBudget(Option<usize>);

/// Text after the character limit has been applied.
struct Clipped {
    text: String,
    /// The limit has been reached: nothing more may be emitted.
    full: bool,
    /// Characters were cut off.
    cut: bool,
}

impl CharBudget {
    fn clip(&mut self, mut text: String) -> Clipped {
        let Some(left) = self.0.as_mut() else {
            return Clipped {
                text,
                full: false,
                cut: false,
            };
        };
        let mut cut = false;
        // Byte offset of the first character beyond the budget, if there is one: the cut is at a
        // character boundary by construction.
        if let Some((at, _)) = text.char_indices().nth(*left) {
            text.truncate(at);
            cut = true;
        }
        *left -= text.chars().count();
        Clipped {
            text,
            full: *left == 0,
            cut,
        }
    }
}

/// Runs generations for one model and tokenizer.
#[derive(Clone, Copy, Debug)]
pub struct Generator<'a> {
    pub lm: &'a dyn CausalLm,
    pub tokenizer: &'a Tokenizer,
    /// The model's end-of-generation set.
    pub eog: &'a [u32],
}

impl Generator<'_> {
    /// Generates a continuation of `prompt`. The cache is reused as far as the ids it holds
    /// agree with `prompt`, token by token; only the rest is prefilled. On success the cache
    /// holds the prompt and the answer (see [`PrefixCache::commit`]); on an error, the prefix it
    /// reused. `on_event` sees every token as it is chosen.
    pub fn generate(
        &self,
        cache: &mut PrefixCache,
        prompt: &[u32],
        params: &GenerateParams,
        controls: Controls<'_>,
        on_event: &mut dyn FnMut(Event<'_>),
    ) -> Result<Output> {
        let started = controls.started.unwrap_or_else(Instant::now);
        let cfg = self.lm.config();
        params.validate(cfg.vocab_size)?;
        if prompt.is_empty() {
            return Err(Error::EmptyPrompt);
        }
        // The last prompt token must run to produce logits, even if it is cached.
        let keep = cache.reuse(prompt).min(prompt.len() - 1);
        cache.roll_back(keep);
        match self.run(cache, prompt, params, controls, started, on_event) {
            Ok(out) => {
                cache.commit(prompt, &out.token_ids);
                Ok(out)
            }
            Err(e) => {
                cache.roll_back(keep);
                Err(e)
            }
        }
    }

    fn run(
        &self,
        prefix: &mut PrefixCache,
        prompt: &[u32],
        params: &GenerateParams,
        mut controls: Controls<'_>,
        started: Instant,
        on_event: &mut dyn FnMut(Event<'_>),
    ) -> Result<Output> {
        let cfg = self.lm.config();
        let cache = prefix.cache_mut();
        let mut timings = Timings {
            prompt_tokens: prompt.len(),
            prefill_tokens: prompt.len() - cache.len(),
            ..Timings::default()
        };
        let mut sampler = Sampler::new(params.sampling.clone());
        let is_end = |t: u32| self.eog.contains(&t) || params.stop_token_ids.contains(&t);
        let cancel = controls.cancel;
        let cancelled = || cancel.is_some_and(CancelToken::is_cancelled);

        let mut out = Output {
            token_ids: Vec::new(),
            text: String::new(),
            finish_reason: FinishReason::Length,
            timings: Timings::default(),
            seed: sampler.seed,
            filtered: None,
        };
        if cancelled() {
            out.finish_reason = FinishReason::Cancelled;
            timings.ttft_ms = started.elapsed().as_secs_f64() * 1e3;
            out.timings = timings;
            return Ok(out);
        }
        let t0 = Instant::now();
        let start = cache.len();
        let mut logits = self.lm.forward(&prompt[start..], start, cache)?;
        timings.prompt_ms = t0.elapsed().as_secs_f64() * 1e3;

        let t1 = Instant::now();
        let mut history = prompt.to_vec();
        let mut stream = self.tokenizer.stream();
        let all_stops: Vec<String> = params.stop.iter().chain(controls.stops).cloned().collect();
        let mut stops = StopMatcher::new(&all_stops);
        // The text decoded so far, held-back text included: what a `TextCheck` reads.
        let mut decoded = String::new();
        let room = cfg.max_positions.saturating_sub(prompt.len()) + 1;
        let max_new = params.max_new_tokens.min(room);
        let mut chars = CharBudget(params.max_chars);
        let mut finish = FinishReason::Length;
        // Set when nothing more may be emitted, not even held-back text.
        let mut stopped = false;
        for step in 0..max_new {
            if cancelled() {
                finish = FinishReason::Cancelled;
                break;
            }
            let mut constraint_time = std::time::Duration::ZERO;
            let choice = match controls.constraint.as_deref_mut() {
                None => sampler.sample(&mut logits, &history),
                Some(c) => {
                    let original = logits.clone();
                    let first = sampler.sample(&mut logits, &history);
                    let t = Instant::now();
                    if c.allows(first.token) {
                        constraint_time += t.elapsed();
                        first
                    } else {
                        logits = original;
                        c.mask(&mut logits)?;
                        constraint_time += t.elapsed();
                        sampler.sample(&mut logits, &history)
                    }
                }
            };
            if step == 0 {
                timings.ttft_ms = started.elapsed().as_secs_f64() * 1e3;
            }
            let token = choice.token;
            out.token_ids.push(token);
            history.push(token);
            let logprob = params.logprobs.then_some(choice.logprob);
            let top = if params.logprobs {
                crate::sampler::top_logprobs(&logits, params.top_logprobs)
            } else {
                Vec::new()
            };
            if is_end(token) {
                on_event(Event::Token {
                    id: token,
                    text: "",
                    logprob,
                    top: &top,
                });
                finish = FinishReason::Eos;
                break;
            }
            let delta = if self.tokenizer.is_special(token) {
                None
            } else {
                stream.push(token)?
            };
            if let Some(d) = &delta {
                decoded.push_str(d);
            }
            if let Some(c) = controls.constraint.as_deref_mut() {
                let t = Instant::now();
                c.consume(token, &decoded)?;
                constraint_time += t.elapsed();
                timings
                    .constraint_us
                    .push(constraint_time.as_secs_f32() * 1e6);
            }
            if let (Some(_), Some(check)) = (&delta, controls.check.as_deref_mut()) {
                if let Some(reason) = check.check(&decoded) {
                    on_event(Event::Token {
                        id: token,
                        text: "",
                        logprob,
                        top: &top,
                    });
                    out.filtered = Some(reason);
                    finish = FinishReason::ContentFilter;
                    stopped = true;
                    break;
                }
            }
            let (text, hit) = match delta.map(|d| stops.feed(&d)) {
                None => (String::new(), false),
                Some(Fed::Emit(t)) => (t, false),
                Some(Fed::Stop { text, .. }) => (text, true),
            };
            let clipped = chars.clip(text);
            out.text.push_str(&clipped.text);
            on_event(Event::Token {
                id: token,
                text: &clipped.text,
                logprob,
                top: &top,
            });
            // A stop string that ends the text within the limit is a natural end; a text cut
            // short by the limit is not.
            if hit && !clipped.cut {
                finish = FinishReason::Stop;
                stopped = true;
                break;
            }
            if clipped.full || hit {
                finish = FinishReason::Length;
                stopped = true;
                break;
            }
            if params
                .loop_guard
                .is_some_and(|g| g.detect(&out.token_ids).is_some())
            {
                finish = FinishReason::Loop;
                break;
            }
            if step + 1 == max_new {
                break;
            }
            logits = self.lm.forward(&[token], history.len() - 1, cache)?;
        }
        if !stopped {
            // Release what was held back: an incomplete character, a partial stop string.
            let mut tail = String::new();
            let mut rest = stream.flush()?;
            if let (Some(r), Some(check)) = (&rest, controls.check.as_deref_mut()) {
                decoded.push_str(r);
                if let Some(reason) = check.check(&decoded) {
                    out.filtered = Some(reason);
                    finish = FinishReason::ContentFilter;
                    rest = None;
                }
            }
            if let Some(rest) = rest.filter(|_| finish != FinishReason::ContentFilter) {
                match stops.feed(&rest) {
                    Fed::Emit(t) => tail.push_str(&t),
                    Fed::Stop { text, .. } => {
                        tail.push_str(&text);
                        finish = FinishReason::Stop;
                    }
                }
            }
            if !matches!(finish, FinishReason::Stop | FinishReason::ContentFilter) {
                tail.push_str(&stops.flush());
            }
            let clipped = chars.clip(tail);
            if clipped.cut {
                finish = FinishReason::Length;
            }
            if !clipped.text.is_empty() {
                out.text.push_str(&clipped.text);
                on_event(Event::Flush {
                    text: &clipped.text,
                });
            }
        }
        if out.token_ids.is_empty() {
            timings.ttft_ms = started.elapsed().as_secs_f64() * 1e3;
        }
        timings.generated_tokens = out.token_ids.len();
        timings.generate_ms = t1.elapsed().as_secs_f64() * 1e3;
        out.finish_reason = finish;
        out.timings = timings;
        Ok(out)
    }
}
