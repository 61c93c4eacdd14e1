//! The OpenAI wire format: requests as clients send them, checked and turned into samtal's
//! messages and generation settings; responses and stream chunks.

use std::collections::BTreeMap;

use samtal_chat::Message;
use samtal_generation::{FinishReason, GenerateParams};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::Limits;

/// `content`: a string, an array of parts (`{"type": "text", "text": …}`), or null.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Content {
    Text(String),
    Parts(Vec<Part>),
}

#[derive(Debug, Deserialize)]
pub struct Part {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub text: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct WireMessage {
    pub role: String,
    #[serde(default)]
    pub content: Option<Content>,
}

/// `stop`: one string or a list.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Stop {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Default, Deserialize)]
pub struct StreamOptions {
    #[serde(default)]
    pub include_usage: bool,
}

/// Sampling fields shared by both endpoints.
#[derive(Debug, Default, Deserialize)]
pub struct Sampling {
    pub max_tokens: Option<u64>,
    pub max_completion_tokens: Option<u64>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub top_k: Option<i64>,
    pub min_p: Option<f64>,
    pub stop: Option<Stop>,
    pub seed: Option<i64>,
    pub frequency_penalty: Option<f64>,
    pub presence_penalty: Option<f64>,
    pub repetition_penalty: Option<f64>,
    pub logit_bias: Option<BTreeMap<String, f64>>,
    pub logprobs: Option<Value>,
    pub top_logprobs: Option<u64>,
    pub n: Option<u64>,
    pub response_format: Option<Value>,
    /// Function calling is not supported: a request that offers tools is refused (as Ollama
    /// refuses it for a model without tool support), not answered as if they were absent.
    pub tools: Option<Value>,
    pub tool_choice: Option<Value>,
    #[serde(default)]
    pub stream: bool,
    #[serde(default)]
    pub stream_options: Option<StreamOptions>,
    #[allow(dead_code)] // accepted, as OpenAI does, and not used
    pub user: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ChatRequest {
    #[serde(default)]
    pub model: Option<String>,
    pub messages: Vec<WireMessage>,
    /// A stored conversation to continue (also the `X-Samtal-Conversation` header).
    #[serde(default)]
    pub conversation_id: Option<String>,
    #[serde(flatten)]
    pub sampling: Sampling,
}

/// `prompt`: a string or a list of one string.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Prompt {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Deserialize)]
pub struct CompletionRequest {
    #[serde(default)]
    pub model: Option<String>,
    pub prompt: Prompt,
    #[serde(default)]
    pub echo: bool,
    #[serde(flatten)]
    pub sampling: Sampling,
}

/// Parses a JSON body into `T`, with serde's message (which names the field) as a 400.
pub fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T> {
    if body.is_empty() {
        return Err(Error::bad(
            "the request body is empty; send a JSON object",
            None,
        ));
    }
    let text = std::str::from_utf8(body)
        .map_err(|e| Error::bad(format!("the request body is not valid UTF-8: {e}"), None))?;
    serde_json::from_str(text).map_err(|e| Error::bad(format!("invalid request body: {e}"), None))
}

fn range(name: &str, v: f64, lo: f64, hi: f64) -> Result<f32> {
    if !v.is_finite() || v < lo || v > hi {
        return Err(Error::bad(
            format!("{name} must be between {lo} and {hi}, got {v}"),
            Some(name),
        ));
    }
    Ok(v as f32)
}

/// Messages of a chat request: roles checked, parts joined, the history and the new user turn.
pub fn messages(req: &ChatRequest, limits: &Limits) -> Result<(Vec<Message>, String)> {
    if req.messages.is_empty() {
        return Err(Error::bad("messages must not be empty", Some("messages")));
    }
    if req.messages.len() > limits.max_messages {
        return Err(Error::bad(
            format!("at most {} messages are allowed", limits.max_messages),
            Some("messages"),
        ));
    }
    let mut out = Vec::with_capacity(req.messages.len());
    for (i, m) in req.messages.iter().enumerate() {
        let role = match m.role.as_str() {
            "system" | "developer" => "system",
            "user" => "user",
            "assistant" => "assistant",
            other => {
                return Err(Error::bad(
                    format!("messages[{i}].role {other:?} is not supported (system, developer, user or assistant)"),
                    Some("messages"),
                ))
            }
        };
        let content = match &m.content {
            None if role == "assistant" => String::new(),
            None => {
                return Err(Error::bad(
                    format!("messages[{i}] has no content"),
                    Some("messages"),
                ))
            }
            Some(Content::Text(t)) => t.clone(),
            Some(Content::Parts(parts)) => {
                let mut text = String::new();
                for p in parts {
                    if p.kind != "text" {
                        return Err(Error::bad(
                            format!("messages[{i}]: content parts of type {:?} are not supported (text only)", p.kind),
                            Some("messages"),
                        ));
                    }
                    text.push_str(p.text.as_deref().unwrap_or_default());
                }
                text
            }
        };
        if role == "system" && i > 0 {
            return Err(Error::bad(
                format!("messages[{i}]: a system message may only come first"),
                Some("messages"),
            ));
        }
        out.push(Message::new(role, content));
    }
    match out.pop() {
        Some(last) if last.role == "user" => Ok((out, last.content)),
        _ => Err(Error::bad(
            "the last message must be a user message",
            Some("messages"),
        )),
    }
}

/// A conversation id: 1 to 64 letters, digits, `-` or `_`.
pub fn conversation_id(id: &str) -> Result<String> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(id.to_owned())
    } else {
        Err(Error::bad(
            "a conversation id has 1 to 64 letters, digits, '-' or '_'",
            Some("conversation_id"),
        ))
    }
}

/// Generation settings from a request's sampling fields, on top of `base`.
pub fn params(s: &Sampling, base: &GenerateParams, limits: &Limits) -> Result<GenerateParams> {
    let mut p = base.clone();
    let offers_tools = s
        .tools
        .as_ref()
        .is_some_and(|t| !t.is_null() && t.as_array().is_none_or(|a| !a.is_empty()));
    if offers_tools {
        return Err(Error::bad(
            "tools (function calling) are not supported by this server",
            Some("tools"),
        ));
    }
    if let Some(c) = &s.tool_choice {
        if !(c.is_null() || c == "none" || c == "auto") {
            return Err(Error::bad(
                "tool_choice: no tools are supported, so only \"none\" or \"auto\"",
                Some("tool_choice"),
            ));
        }
    }
    if let Some(n) = s.n {
        if n != 1 {
            return Err(Error::bad("only n = 1 is supported", Some("n")));
        }
    }
    // Chat: `logprobs: true` and `top_logprobs: N`; completions: `logprobs: N`.
    let (on, top) = match &s.logprobs {
        None | Some(Value::Null) | Some(Value::Bool(false)) => (false, 0),
        Some(Value::Bool(true)) => (true, s.top_logprobs.unwrap_or(0)),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(n) => (true, s.top_logprobs.unwrap_or(n)),
            None => {
                return Err(Error::bad(
                    "logprobs must be a boolean or a small integer",
                    Some("logprobs"),
                ))
            }
        },
        Some(_) => {
            return Err(Error::bad(
                "logprobs must be a boolean or a small integer",
                Some("logprobs"),
            ))
        }
    };
    if s.top_logprobs.is_some_and(|n| n > 0) && !on {
        return Err(Error::bad(
            "top_logprobs needs logprobs: true",
            Some("top_logprobs"),
        ));
    }
    if top > samtal_generation::MAX_TOP_LOGPROBS as u64 {
        return Err(Error::bad(
            format!(
                "top_logprobs must be at most {}",
                samtal_generation::MAX_TOP_LOGPROBS
            ),
            Some("top_logprobs"),
        ));
    }
    p.logprobs = on;
    p.top_logprobs = top as usize;
    if let Some(rf) = &s.response_format {
        if rf.get("type").and_then(Value::as_str) != Some("text") {
            return Err(Error::bad(
                "response_format: only {\"type\": \"text\"} is supported (no JSON mode)",
                Some("response_format"),
            ));
        }
    }
    if let Some(max) = s.max_completion_tokens.or(s.max_tokens) {
        if max == 0 || max > limits.max_tokens as u64 {
            return Err(Error::bad(
                format!("max_tokens must be between 1 and {}", limits.max_tokens),
                Some("max_tokens"),
            ));
        }
        p.max_new_tokens = max as usize;
    }
    let sp = &mut p.sampling;
    if let Some(t) = s.temperature {
        sp.temperature = range("temperature", t, 0.0, 2.0)?;
    }
    if let Some(v) = s.top_p {
        sp.top_p = range("top_p", v, 0.0, 1.0)?;
    }
    if let Some(k) = s.top_k {
        if !(0..=1_000_000).contains(&k) {
            return Err(Error::bad(
                "top_k must be between 0 and 1000000",
                Some("top_k"),
            ));
        }
        sp.top_k = k as usize;
    }
    if let Some(v) = s.min_p {
        sp.min_p = range("min_p", v, 0.0, 1.0)?;
    }
    if let Some(v) = s.frequency_penalty {
        sp.frequency_penalty = range("frequency_penalty", v, -2.0, 2.0)?;
    }
    if let Some(v) = s.presence_penalty {
        sp.presence_penalty = range("presence_penalty", v, -2.0, 2.0)?;
    }
    if let Some(v) = s.repetition_penalty {
        sp.repetition_penalty = range("repetition_penalty", v, 0.01, 10.0)?;
    }
    if let Some(seed) = s.seed {
        sp.seed = Some(seed as u64);
    }
    if let Some(bias) = &s.logit_bias {
        if bias.len() > 300 {
            return Err(Error::bad(
                "logit_bias has more than 300 entries",
                Some("logit_bias"),
            ));
        }
        for (k, v) in bias {
            let id: u32 = k.parse().map_err(|_| {
                Error::bad(
                    format!("logit_bias key {k:?} is not a token id"),
                    Some("logit_bias"),
                )
            })?;
            sp.logit_bias
                .insert(id, range("logit_bias", *v, -100.0, 100.0)?);
        }
    }
    let stops = match &s.stop {
        None => Vec::new(),
        Some(Stop::One(s)) => vec![s.clone()],
        Some(Stop::Many(v)) => v.clone(),
    };
    if stops.len() > limits.max_stops {
        return Err(Error::bad(
            format!("at most {} stop strings are allowed", limits.max_stops),
            Some("stop"),
        ));
    }
    for st in &stops {
        if st.is_empty() || st.len() > limits.max_stop_len {
            return Err(Error::bad(
                format!(
                    "each stop string must have 1 to {} bytes",
                    limits.max_stop_len
                ),
                Some("stop"),
            ));
        }
    }
    p.stop.extend(stops);
    Ok(p)
}

/// OpenAI's finish reason for samtal's.
pub fn finish_reason(r: FinishReason) -> &'static str {
    match r {
        FinishReason::Length | FinishReason::Loop => "length",
        FinishReason::ContentFilter => "content_filter",
        _ => "stop",
    }
}

pub fn usage(prompt: usize, completion: usize) -> Value {
    json!({"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion})
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
