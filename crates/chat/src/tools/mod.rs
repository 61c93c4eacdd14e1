//! Tool calling: the tools a request offers and how the model may use them (`tool_choice`,
//! `parallel_tool_calls`), checked as OpenAI's API defines them; the call a model makes, in
//! OpenAI's shape; and, in [`format`], how each model family writes calls (Hermes/Qwen
//! `<tool_call>`, Mistral `[TOOL_CALLS]`, Llama 3.x JSON, and a generic JSON answer for
//! templates that know no tools), the grammar that holds a call to a known tool and its
//! argument schema, and the parser that reads calls back.

mod format;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use format::ToolFormat;

use crate::{Error, Result};

/// A call the model made: OpenAI's `{"id", "type": "function", "function": {"name",
/// "arguments"}}`, with the arguments as a JSON object (templates render them with `tojson`;
/// the API sends them as a JSON string).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCall {
    pub id: String,
    #[serde(rename = "type", default = "function")]
    pub kind: String,
    pub function: FunctionCall,
}

fn function() -> String {
    "function".into()
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionCall {
    pub name: String,
    pub arguments: Value,
}

impl ToolCall {
    /// A call with a fresh `call_…` id.
    pub fn new(name: impl Into<String>, arguments: Value) -> Self {
        Self {
            id: new_call_id(),
            kind: function(),
            function: FunctionCall {
                name: name.into(),
                arguments,
            },
        }
    }
}

/// `call_` and 24 hex digits, unique within the process and unlikely across processes.
fn new_call_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(n);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("call_{:016x}{:08x}", h.finish(), nanos ^ (n as u32))
}

/// How the model may use the tools.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ToolChoice {
    /// No calls: the tools are shown, the answer is text.
    None,
    /// The model decides: free text until the family's call marker, then a call held to a known
    /// tool and its schema (a lazy grammar).
    Auto,
    /// At least one call, held to the grammar from the first token.
    Required,
    /// A call of this tool, from the first token.
    Named(String),
}

/// One tool on offer.
#[derive(Clone, Debug, PartialEq)]
pub struct Tool {
    pub name: String,
    /// The JSON Schema of its arguments (an object schema).
    pub parameters: Value,
    /// The tool as the client sent it: `{"type": "function", "function": {…}}`, what chat
    /// templates render.
    pub raw: Value,
}

/// The tools of a request and how they may be used.
#[derive(Clone, Debug, PartialEq)]
pub struct Tools {
    pub tools: Vec<Tool>,
    pub choice: ToolChoice,
    /// Whether one answer may call several tools (OpenAI's `parallel_tool_calls`, default on).
    pub parallel: bool,
}

/// The most tools one request may offer, and the most bytes their definitions may take.
pub const MAX_TOOLS: usize = 128;
pub const MAX_TOOLS_BYTES: usize = 256 * 1024;

fn bad(name: &'static str, message: impl Into<String>) -> Error {
    Error::InvalidOption {
        name,
        message: message.into(),
    }
}

fn valid_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 64
        && n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
}

impl Tools {
    /// Reads OpenAI's `tools`, `tool_choice` and `parallel_tool_calls`; `None` when no tools
    /// are offered. Each error names the field.
    pub fn parse(
        tools: Option<&Value>,
        choice: Option<&Value>,
        parallel: Option<bool>,
    ) -> Result<Option<Tools>> {
        let list = match tools {
            None | Some(Value::Null) => &[][..],
            Some(Value::Array(a)) => a.as_slice(),
            Some(_) => return Err(bad("tools", "must be a list of tools")),
        };
        if list.len() > MAX_TOOLS {
            return Err(bad(
                "tools",
                format!("{} tools; at most {MAX_TOOLS}", list.len()),
            ));
        }
        let size = serde_json::to_string(list).map_or(usize::MAX, |s| s.len());
        if size > MAX_TOOLS_BYTES {
            return Err(bad(
                "tools",
                format!("the tool definitions take {size} bytes; at most {MAX_TOOLS_BYTES}"),
            ));
        }
        let mut parsed = Vec::with_capacity(list.len());
        for (i, t) in list.iter().enumerate() {
            if t.get("type").and_then(Value::as_str) != Some("function") {
                return Err(bad(
                    "tools",
                    format!("tools[{i}] is not of type \"function\""),
                ));
            }
            let f = t
                .get("function")
                .filter(|f| f.is_object())
                .ok_or_else(|| bad("tools", format!("tools[{i}] has no \"function\" object")))?;
            let name = f.get("name").and_then(Value::as_str).unwrap_or_default();
            if !valid_name(name) {
                return Err(bad(
                    "tools",
                    format!("tools[{i}].function.name {name:?} must be 1 to 64 letters, digits, '_', '-' or '.'"),
                ));
            }
            if parsed.iter().any(|p: &Tool| p.name == name) {
                return Err(bad("tools", format!("two tools are named {name:?}")));
            }
            let parameters = match f.get("parameters") {
                None | Some(Value::Null) => serde_json::json!({"type": "object", "properties": {}}),
                Some(p) if p.is_object() => p.clone(),
                Some(_) => {
                    return Err(bad(
                        "tools",
                        format!("tools[{i}].function.parameters must be a JSON Schema object"),
                    ))
                }
            };
            parsed.push(Tool {
                name: name.to_owned(),
                parameters,
                raw: t.clone(),
            });
        }
        let choice = match choice {
            None | Some(Value::Null) => ToolChoice::Auto,
            Some(Value::String(s)) => match s.as_str() {
                "none" => ToolChoice::None,
                "auto" => ToolChoice::Auto,
                "required" => ToolChoice::Required,
                other => {
                    return Err(bad(
                        "tool_choice",
                        format!(
                            "{other:?} is not \"none\", \"auto\", \"required\" or a named function"
                        ),
                    ))
                }
            },
            Some(v) => {
                let name = v
                    .get("function")
                    .and_then(|f| f.get("name"))
                    .and_then(Value::as_str)
                    .filter(|_| v.get("type").and_then(Value::as_str) == Some("function"))
                    .ok_or_else(|| {
                        bad(
                            "tool_choice",
                            "must be \"none\", \"auto\", \"required\" or {\"type\": \"function\", \"function\": {\"name\": …}}",
                        )
                    })?;
                if !parsed.iter().any(|t| t.name == name) {
                    return Err(bad(
                        "tool_choice",
                        format!("names the function {name:?}, which is not among the tools"),
                    ));
                }
                ToolChoice::Named(name.to_owned())
            }
        };
        if parsed.is_empty() {
            return match choice {
                ToolChoice::None | ToolChoice::Auto => Ok(None),
                _ => Err(bad(
                    "tool_choice",
                    "asks for a tool call, but no tools are offered",
                )),
            };
        }
        Ok(Some(Tools {
            tools: parsed,
            choice,
            parallel: parallel.unwrap_or(true),
        }))
    }

    /// The tools the model may call now: all, or the one named.
    pub(crate) fn callable(&self) -> Vec<&Tool> {
        match &self.choice {
            ToolChoice::Named(n) => self.tools.iter().filter(|t| &t.name == n).collect(),
            ToolChoice::None => Vec::new(),
            ToolChoice::Auto | ToolChoice::Required => self.tools.iter().collect(),
        }
    }

    /// The tools as templates render them (`tools` in `apply_chat_template`).
    pub fn rendered(&self) -> Vec<Value> {
        self.tools.iter().map(|t| t.raw.clone()).collect()
    }
}

#[cfg(test)]
mod tests;
