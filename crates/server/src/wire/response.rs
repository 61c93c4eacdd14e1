//! Every response body samtal sends, typed: chat completions and their stream chunks, text
//! completions and theirs, log-probabilities in both endpoints' shapes, usage, the `samtal`
//! extension object, model cards, health and errors.

use samtal_chat::GuardReport;
use serde::Serialize;
use utoipa::ToSchema;

use crate::worker::Summary;

/// OpenAI's finish reason for a turn: `tool_calls` when the answer called tools.
pub fn finish_reason(s: &Summary) -> &'static str {
    if s.tool_calls.is_empty() {
        s.finish_reason.openai()
    } else {
        "tool_calls"
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct Usage {
    pub prompt_tokens: usize,
    pub completion_tokens: usize,
    pub total_tokens: usize,
}

impl Usage {
    pub fn new(prompt: usize, completion: usize) -> Self {
        Self {
            prompt_tokens: prompt,
            completion_tokens: completion,
            total_tokens: prompt + completion,
        }
    }
}

/// One alternative token at a step.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct TopLogprob {
    pub token: String,
    pub logprob: f32,
    /// The token's UTF-8 bytes.
    pub bytes: Vec<u8>,
}

/// A generated token's log-probability, in the chat API's shape.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct TokenLogprob {
    pub token: String,
    pub logprob: f32,
    pub bytes: Vec<u8>,
    pub top_logprobs: Vec<TopLogprob>,
}

/// A chat choice's `logprobs`.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct ChatLogprobs {
    pub content: Vec<TokenLogprob>,
}

/// A text completion's `logprobs`: the legacy parallel lists.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct CompletionLogprobs {
    pub tokens: Vec<String>,
    pub token_logprobs: Vec<f32>,
    pub top_logprobs: Vec<std::collections::BTreeMap<String, f32>>,
    pub text_offset: Vec<usize>,
}

impl CompletionLogprobs {
    pub fn from_entries(entries: &[TokenLogprob]) -> Self {
        let mut offset = 0;
        let mut text_offset = Vec::with_capacity(entries.len());
        for e in entries {
            text_offset.push(offset);
            offset += e.token.len();
        }
        Self {
            tokens: entries.iter().map(|e| e.token.clone()).collect(),
            token_logprobs: entries.iter().map(|e| e.logprob).collect(),
            top_logprobs: entries
                .iter()
                .map(|e| {
                    e.top_logprobs
                        .iter()
                        .map(|t| (t.token.clone(), t.logprob))
                        .collect()
                })
                .collect(),
            text_offset,
        }
    }
}

/// The guard's verdict on a message, as the API reports it.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct GuardInfo {
    /// `allow`, `flag` or `block`.
    pub verdict: String,
    pub score: f32,
    pub reasons: Vec<String>,
    /// Set when the answer was withheld: `canary` or `verbatim`.
    pub leak: Option<String>,
}

impl From<&GuardReport> for GuardInfo {
    fn from(r: &GuardReport) -> Self {
        Self {
            verdict: r.verdict.as_str().to_owned(),
            score: r.score,
            reasons: r.reasons.clone(),
            leak: r.leak.map(str::to_owned),
        }
    }
}

/// The `samtal` object of a response: the guard's verdict and what the turn cost.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct SamtalInfo {
    pub guard: Option<GuardInfo>,
    /// samtal's own finish reason (`eos`, `stop`, `length`, `loop`, `cancelled`,
    /// `content_filter`).
    pub finish_reason: String,
    pub prefill_tokens: usize,
    pub ttft_ms: f64,
    pub tokens_per_s: f64,
    pub withheld: bool,
    pub dropped_turns: usize,
    pub conversation_id: Option<String>,
}

impl SamtalInfo {
    pub fn new(s: &Summary, withheld: bool) -> Self {
        Self {
            guard: s.guard.as_ref().map(GuardInfo::from),
            finish_reason: s.finish_reason.as_str().to_owned(),
            prefill_tokens: s.prefill_tokens,
            ttft_ms: s.ttft_ms,
            tokens_per_s: s.tokens_per_s,
            withheld,
            dropped_turns: s.dropped_turns,
            conversation_id: s.conversation_id.clone(),
        }
    }
}

/// The `samtal` object of a stream chunk: the guard's verdict (before any text), the notice
/// that what was streamed is withheld, or the closing figures.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ChunkInfo {
    Guard { guard: GuardInfo },
    Withheld { withheld: bool },
    Done(SamtalInfo),
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct AssistantMessage {
    pub role: String,
    /// Null when the answer only calls tools.
    pub content: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<OutToolCall>,
}

/// A call the answer makes, in OpenAI's shape: the arguments as a JSON string.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct OutToolCall {
    pub id: String,
    /// `function`
    #[serde(rename = "type")]
    pub kind: String,
    pub function: OutFunction,
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct OutFunction {
    pub name: String,
    pub arguments: String,
}

impl From<&samtal_chat::ToolCall> for OutToolCall {
    fn from(c: &samtal_chat::ToolCall) -> Self {
        Self {
            id: c.id.clone(),
            kind: "function".into(),
            function: OutFunction {
                name: c.function.name.clone(),
                arguments: c.function.arguments.to_string(),
            },
        }
    }
}

/// A streamed piece of a call: its index, then id, type and name once, then arguments.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct ToolCallDelta {
    pub index: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    pub function: FunctionDelta,
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct FunctionDelta {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub arguments: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct ChatChoice {
    pub index: u32,
    pub message: AssistantMessage,
    pub finish_reason: String,
    pub logprobs: Option<ChatLogprobs>,
}

/// `POST /v1/chat/completions` without streaming.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct ChatCompletion {
    pub id: String,
    /// `chat.completion`
    pub object: String,
    pub created: u64,
    pub model: String,
    pub choices: Vec<ChatChoice>,
    pub usage: Usage,
    pub samtal: SamtalInfo,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, ToSchema)]
pub struct Delta {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCallDelta>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct ChunkChoice {
    pub index: u32,
    pub delta: Delta,
    pub finish_reason: Option<String>,
    pub logprobs: Option<ChatLogprobs>,
}

/// One `data:` event of a streamed chat completion.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct ChatChunk {
    pub id: String,
    /// `chat.completion.chunk`
    pub object: String,
    pub created: u64,
    pub model: String,
    pub choices: Vec<ChunkChoice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub samtal: Option<ChunkInfo>,
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct CompletionChoice {
    pub index: u32,
    pub text: String,
    pub finish_reason: Option<String>,
    pub logprobs: Option<CompletionLogprobs>,
}

/// `POST /v1/completions`, whole or as one `data:` event of a stream.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct Completion {
    pub id: String,
    /// `text_completion`
    pub object: String,
    pub created: u64,
    pub model: String,
    pub choices: Vec<CompletionChoice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub samtal: Option<ChunkInfo>,
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct ModelCard {
    pub id: String,
    /// `model`
    pub object: String,
    pub created: u64,
    pub owned_by: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct ModelList {
    /// `list`
    pub object: String,
    pub data: Vec<ModelCard>,
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or `degraded` when the conversation store cannot be reached (requests without a
    /// conversation id are still served).
    pub status: String,
    /// The conversation store, when the server has one configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store: Option<StoreHealth>,
}

/// Whether the conversation store answers.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct StoreHealth {
    /// `sqlite` or `postgres`.
    pub kind: String,
    pub reachable: bool,
    /// Why not, when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// An error in OpenAI's shape.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorObject,
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct ErrorObject {
    pub message: String,
    /// `invalid_request_error`, `rate_limit_error` or `server_error`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The request field the error is about.
    pub param: Option<String>,
    pub code: Option<String>,
}

/// `POST /v1/embeddings`.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct EmbeddingList {
    /// `list`
    pub object: String,
    pub data: Vec<EmbeddingData>,
    pub model: String,
    pub usage: EmbeddingUsage,
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct EmbeddingData {
    /// `embedding`
    pub object: String,
    pub index: u32,
    pub embedding: EmbeddingVector,
}

/// Floats, or their little-endian f32 bytes in base64.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum EmbeddingVector {
    Float(Vec<f32>),
    Base64(String),
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct EmbeddingUsage {
    pub prompt_tokens: usize,
    pub total_tokens: usize,
}
