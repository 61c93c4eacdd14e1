//! Requests as clients send them, checked and turned into samtal's messages and generation
//! settings. The generation settings are not fields here: they are read by name from the
//! settings table ([`samtal_generation::settings`]), so the server takes every setting the CLI
//! takes, under OpenAI's name where OpenAI has one and llama.cpp's otherwise.

use samtal_chat::{Message, ToolCall, Tools};
use samtal_generation::{GenerateParams, Grammar, Overrides, SETTINGS};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::error::{Error, Result};
use crate::Limits;

/// `content`: a string, an array of parts (`{"type": "text", "text": …}`), or null.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Content {
    Text(String),
    Parts(Vec<Part>),
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Part {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub text: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct WireMessage {
    #[schema(pattern = "^(system|developer|user|assistant|tool)$")]
    pub role: String,
    #[serde(default)]
    pub content: Option<Content>,
    /// An assistant message's calls.
    #[serde(default)]
    pub tool_calls: Option<Vec<WireToolCall>>,
    /// The call a `tool` message answers.
    #[serde(default)]
    pub tool_call_id: Option<String>,
}

/// A call in a request's assistant message: arguments as a JSON string (OpenAI's) or object.
#[derive(Debug, Deserialize, ToSchema)]
pub struct WireToolCall {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    pub function: WireFunction,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct WireFunction {
    pub name: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub arguments: Value,
}

/// `response_format`: free text, any JSON object, or JSON valid under a schema.
#[derive(Debug, ToSchema)]
pub struct ResponseFormat {
    #[schema(rename = "type", pattern = "^(text|json_object|json_schema)$")]
    pub kind: String,
    /// With `json_schema`: `{"name", "schema", "strict"}`.
    #[schema(value_type = Option<Object>)]
    pub json_schema: Option<Value>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct StreamOptions {
    #[serde(default)]
    pub include_usage: bool,
}

/// The fields both endpoints share besides the generation settings.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct Sampling {
    /// Chat: `true`, with `top_logprobs`; completions: the number of alternatives.
    #[schema(value_type = Option<Object>)]
    pub logprobs: Option<Value>,
    #[schema(minimum = 0, maximum = 20)]
    pub top_logprobs: Option<u64>,
    /// Only 1.
    #[schema(minimum = 1, maximum = 1)]
    pub n: Option<u64>,
    /// `{"type": "text"}`, `{"type": "json_object"}` or
    /// `{"type": "json_schema", "json_schema": {"name", "schema", "strict"}}`.
    #[schema(value_type = Option<ResponseFormat>)]
    pub response_format: Option<Value>,
    /// Functions the model may call: `[{"type": "function", "function": {"name",
    /// "description", "parameters"}}]`.
    #[schema(value_type = Option<Vec<Object>>)]
    pub tools: Option<Value>,
    /// "none", "auto" (the default), "required" or `{"type": "function", "function":
    /// {"name"}}`.
    #[schema(value_type = Option<Object>)]
    pub tool_choice: Option<Value>,
    /// Whether one answer may call several tools (default true).
    pub parallel_tool_calls: Option<bool>,
    #[serde(default)]
    pub stream: bool,
    #[serde(default)]
    pub stream_options: Option<StreamOptions>,
    /// Accepted, as OpenAI does, and not used.
    pub user: Option<String>,
    /// Everything else: the generation settings, by name; fields no setting has are ignored,
    /// as OpenAI's clients send fields of their own.
    #[serde(flatten)]
    #[schema(ignore)]
    pub settings: serde_json::Map<String, Value>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ChatRequest {
    #[serde(default)]
    pub model: Option<String>,
    /// The conversation, ending with the user's new message.
    #[schema(min_items = 1)]
    pub messages: Vec<WireMessage>,
    /// A stored conversation to continue (also the `X-Samtal-Conversation` header).
    #[serde(default)]
    pub conversation_id: Option<String>,
    #[serde(flatten)]
    pub sampling: Sampling,
}

/// `prompt`: a string or a list of one string.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Prompt {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Deserialize, ToSchema)]
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

/// Messages of a chat request: roles checked, parts joined, the history and the new user turn.
pub fn messages(req: &ChatRequest, limits: &Limits) -> Result<(Vec<Message>, String)> {
    let mut out = all_messages(req, limits)?;
    match out.pop() {
        Some(last) if last.role == "user" => Ok((out, last.content)),
        _ => Err(Error::bad(
            "the last message must be a user message",
            Some("messages"),
        )),
    }
}

/// Every message of a chat request, checked: roles, text parts joined, tool calls read (their
/// arguments a JSON object or a string holding one).
pub fn all_messages(req: &ChatRequest, limits: &Limits) -> Result<Vec<Message>> {
    let bad = |m: String| Error::bad(m, Some("messages"));
    if req.messages.is_empty() {
        return Err(bad("messages must not be empty".into()));
    }
    if req.messages.len() > limits.max_messages {
        return Err(bad(format!(
            "at most {} messages are allowed",
            limits.max_messages
        )));
    }
    let mut out = Vec::with_capacity(req.messages.len());
    for (i, m) in req.messages.iter().enumerate() {
        let role = match m.role.as_str() {
            "system" | "developer" => "system",
            "user" => "user",
            "assistant" => "assistant",
            "tool" => "tool",
            other => {
                return Err(bad(format!(
                    "messages[{i}].role {other:?} is not supported (system, developer, user, assistant or tool)"
                )))
            }
        };
        let calls = m.tool_calls.as_deref().unwrap_or_default();
        let content = match &m.content {
            None if role == "assistant" => String::new(),
            None => return Err(bad(format!("messages[{i}] has no content"))),
            Some(Content::Text(t)) => t.clone(),
            Some(Content::Parts(parts)) => {
                let mut text = String::new();
                for p in parts {
                    if p.kind != "text" {
                        return Err(bad(format!(
                            "messages[{i}]: content parts of type {:?} are not supported (text only)",
                            p.kind
                        )));
                    }
                    text.push_str(p.text.as_deref().unwrap_or_default());
                }
                text
            }
        };
        if role == "system" && i > 0 {
            return Err(bad(format!(
                "messages[{i}]: a system message may only come first"
            )));
        }
        if !calls.is_empty() && role != "assistant" {
            return Err(bad(format!(
                "messages[{i}]: only assistant messages carry tool_calls"
            )));
        }
        let mut msg = Message::new(role, content);
        for (k, c) in calls.iter().enumerate() {
            let arguments = match &c.function.arguments {
                Value::String(s) => serde_json::from_str(s).map_err(|e| {
                    bad(format!(
                        "messages[{i}].tool_calls[{k}].function.arguments is not JSON: {e}"
                    ))
                })?,
                Value::Null => Value::Object(Default::default()),
                v => v.clone(),
            };
            let mut call = ToolCall::new(c.function.name.clone(), arguments);
            if let Some(id) = &c.id {
                call.id = id.clone();
            }
            msg.tool_calls.push(call);
        }
        if role == "tool" {
            msg.tool_call_id = m.tool_call_id.clone();
        }
        out.push(msg);
    }
    Ok(out)
}

/// The tools a request offers (`tools`, `tool_choice`, `parallel_tool_calls`), checked.
pub fn tools(s: &Sampling) -> Result<Option<Tools>> {
    Tools::parse(
        s.tools.as_ref(),
        s.tool_choice.as_ref(),
        s.parallel_tool_calls,
    )
    .map_err(Error::from)
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
    let user = overrides(&s.settings)?;
    let mut p = user.apply(&p);
    if p.max_new_tokens > limits.max_tokens {
        if user.get("max_new_tokens").is_some() {
            return Err(Error::bad(
                format!(
                    "max_tokens must be at most {} on this server",
                    limits.max_tokens
                ),
                Some("max_tokens"),
            ));
        }
        p.max_new_tokens = limits.max_tokens;
    }
    Ok(p)
}

/// The grammar `response_format` asks for: none for text, any JSON object, or a JSON Schema
/// (OpenAI's `json_schema.schema`; llama.cpp's `json_object` with a `schema` too).
pub fn response_format(s: &Sampling) -> Result<Option<Grammar>> {
    let bad = |m: &str| Error::bad(format!("response_format: {m}"), Some("response_format"));
    let Some(rf) = s.response_format.as_ref().filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    match rf.get("type").and_then(Value::as_str) {
        Some("text") => Ok(None),
        Some("json_object") => Ok(Some(match rf.get("schema") {
            Some(schema) if schema.is_object() => Grammar::JsonSchema(schema.clone()),
            _ => Grammar::JsonObject,
        })),
        Some("json_schema") => {
            let schema = rf
                .get("json_schema")
                .and_then(|j| j.get("schema"))
                .filter(|v| v.is_object() || v.is_boolean())
                .ok_or_else(|| bad("json_schema needs a \"schema\" object"))?;
            Ok(Some(Grammar::JsonSchema(schema.clone())))
        }
        _ => Err(bad(
            "type must be \"text\", \"json_object\" or \"json_schema\"",
        )),
    }
}

/// The request's generation settings, each read by the name the client used: of a setting's
/// names, the aliases first (`max_completion_tokens` before the older `max_tokens`), then the
/// HTTP name, then samtal's. A bad value is a 400 naming the field as sent.
fn overrides(fields: &serde_json::Map<String, Value>) -> Result<Overrides> {
    let mut o = Overrides::default();
    for s in SETTINGS {
        let names = s.aliases.iter().copied().chain([s.http, s.name]);
        let Some((key, v)) = names.filter_map(|n| fields.get_key_value(n)).next() else {
            continue;
        };
        o.set_json(s.name, v).map_err(|e| match e {
            samtal_generation::Error::InvalidParameter { message, .. } => {
                Error::bad(format!("invalid {key}: {message}"), Some(key))
            }
            other => Error::from(other),
        })?;
    }
    Ok(o)
}
