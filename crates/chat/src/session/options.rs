//! What a session is set up with and what each turn reports.

use samtal_generation::{FinishReason, GenerateParams, LoopGuard};
use serde::{Deserialize, Serialize};

/// Which prompt format a session writes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FormatChoice {
    /// The model's chat template when it has one, else the transcript.
    #[default]
    Auto,
    /// A chat template: the model's (`None`) or a built-in preset by name (see
    /// [`crate::PRESET_NAMES`]).
    Template(Option<String>),
    /// The transcript format for base models (see [`crate::Transcript`]).
    Transcript,
}

/// What to do when the conversation no longer fits the context budget.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContextPolicy {
    /// Drop whole exchanges from the oldest; the system prompt (persona) is never dropped.
    #[default]
    DropOldest,
    /// Keep the first exchange (it often sets the task) and drop from the second onwards.
    KeepFirstExchange,
    /// Refuse the turn with [`crate::Error::ContextFull`].
    Error,
}

/// How a [`super::Session`] is set up.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionOptions {
    pub format: FormatChoice,
    /// The system prompt (template format) or introduction (transcript format): the persona.
    pub system: Option<String>,
    /// Speaker labels of the transcript format.
    pub user_label: String,
    pub bot_label: String,
    /// Token budget for prompt plus answer; the model's context length when `None`, and never
    /// more than it.
    pub context: Option<usize>,
    pub policy: ContextPolicy,
    /// Generation settings; `None` takes the model's defaults through [`chat_params`].
    pub params: Option<GenerateParams>,
    /// Ends an answer (finish reason "length") once it holds this many characters.
    pub max_answer_chars: Option<usize>,
    /// Prompt-injection policy and leak check.
    pub guard: super::GuardOptions,
}

impl Default for SessionOptions {
    fn default() -> Self {
        Self {
            format: FormatChoice::Auto,
            system: None,
            user_label: "Me".into(),
            bot_label: "Computer".into(),
            context: None,
            policy: ContextPolicy::DropOldest,
            params: None,
            max_answer_chars: None,
            guard: super::GuardOptions::default(),
        }
    }
}

/// The token limit of a chat answer unless the caller sets one.
pub const CHAT_MAX_NEW_TOKENS: usize = 1024;

/// Chat settings on top of a model's generation defaults: answers of at most
/// [`CHAT_MAX_NEW_TOKENS`] tokens and the loop guard on, so that every reply is bounded.
pub fn chat_params(base: &GenerateParams) -> GenerateParams {
    GenerateParams {
        max_new_tokens: CHAT_MAX_NEW_TOKENS,
        loop_guard: Some(LoopGuard::default()),
        ..base.clone()
    }
}

/// What one turn produced.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Reply {
    /// The answer as stored in the conversation (transcript answers are trimmed).
    pub text: String,
    pub finish_reason: FinishReason,
    /// Tokens in this turn's prompt.
    pub prompt_tokens: usize,
    /// Prompt tokens that ran through the model this turn; the rest came from the KV cache.
    pub prefill_tokens: usize,
    pub generated_tokens: usize,
    /// From the call to [`super::Session::send`] to the first generated token (prompt building
    /// and prefill included).
    pub ttft_ms: f64,
    /// Generated tokens per second of decoding (0 when nothing was generated).
    pub tokens_per_s: f64,
    /// Exchanges dropped from the context window before this turn.
    pub dropped_turns: usize,
    /// The seed the sampler used.
    pub seed: u64,
    /// The generated token ids, the one that ended generation included.
    pub token_ids: Vec<u32>,
    /// The tools the answer called (see [`super::Session::respond`]); `text` is what else it
    /// said.
    pub tool_calls: Vec<crate::ToolCall>,
    /// The guard's verdict on the message (and on the answer, when it was withheld); `None`
    /// with the guard off.
    pub guard: Option<super::GuardReport>,
}

/// Something a turn reports while it runs.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ChatEvent<'a> {
    /// Answer text, streamed as it is generated. The deltas concatenate to the reply's text, up
    /// to whitespace the transcript format trims from the end.
    Text(&'a str),
    /// With `logprobs` set in the generation settings: a generated token's log-probability and
    /// the most likely alternatives (sent before the token's text, which may be held back).
    Logprob {
        id: u32,
        logprob: f32,
        top: &'a [(u32, f32)],
    },
    /// Whole exchanges were dropped to fit the context budget, freeing `tokens` prompt tokens.
    Dropped { turns: usize, tokens: usize },
    /// The guard flagged or blocked the message (sent before any answer text).
    Guard(&'a super::GuardReport),
    /// The answer gave the system prompt away: what was streamed is to be taken back; the
    /// stored answer is a notice.
    Withheld,
}
