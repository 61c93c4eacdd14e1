//! How a model family writes tool calls, chosen from its chat template: the grammar that
//! holds a call to a known tool and its argument schema, and the parser that reads the calls
//! back out of the answer. Text that only looks like a call stays content.
//!
//! - Hermes (Qwen2.5, Hermes, many fine-tunes): `<tool_call>\n{"name": …, "arguments": …}\n</tool_call>`.
//! - Mistral: `[TOOL_CALLS][{"name": …, "arguments": …}, …]` (a control token, then a list).
//! - Llama 3.x: the answer is `{"name": …, "parameters": …}`.
//! - Generic, for templates that know no tools (SmolLM2): the tools are described in the
//!   system prompt and the whole answer is JSON, `{"tool_calls": [{"name", "arguments"}, …]}`
//!   or `{"response": "…"}` (llama.cpp's generic format).

use samtal_generation::{Constraint, Grammar, Grammars};
use samtal_tokenizer::Tokenizer;
use serde_json::{json, Value};

use super::{Tool, ToolCall, ToolChoice, Tools};
use crate::Result;

/// A model family's way of writing tool calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ToolFormat {
    Hermes,
    Mistral,
    Llama3,
    Generic,
}

impl ToolFormat {
    /// The format a chat template writes calls in.
    pub fn detect(template: Option<&str>) -> Self {
        match template {
            Some(t) if t.contains("<tool_call>") => ToolFormat::Hermes,
            Some(t) if t.contains("[TOOL_CALLS]") => ToolFormat::Mistral,
            Some(t) if t.contains("<|python_tag|>") || t.contains("\"parameters\": ") => {
                ToolFormat::Llama3
            }
            _ => ToolFormat::Generic,
        }
    }

    /// Whether the template renders `tools` and tool turns itself (else the tools go into the
    /// system prompt, and tool turns are written as text).
    pub fn template_knows_tools(self) -> bool {
        self != ToolFormat::Generic
    }

    /// The key of the arguments in a call object.
    fn arguments_key(self) -> &'static str {
        match self {
            ToolFormat::Llama3 => "parameters",
            _ => "arguments",
        }
    }

    /// The JSON Schema of one call to one of `tools`.
    fn call_schema(self, tools: &[&Tool]) -> Value {
        let args = self.arguments_key();
        let one = |t: &Tool| {
            json!({
                "type": "object",
                "properties": {"name": {"const": t.name}, args: t.parameters},
                "required": ["name", args],
                "additionalProperties": false,
            })
        };
        match tools {
            [t] => one(t),
            _ => json!({"anyOf": tools.iter().map(|t| one(t)).collect::<Vec<_>>()}),
        }
    }

    /// The constraint for this turn's calls, if the choice asks for one: lazy for `auto`
    /// (except the generic format, whose whole answer is JSON), from the first token
    /// otherwise.
    pub fn constraint(
        self,
        tools: &Tools,
        grammars: &Grammars,
        tokenizer: &Tokenizer,
    ) -> Result<Option<Constraint>> {
        let callable = tools.callable();
        if callable.is_empty() {
            return Ok(None);
        }
        let call = self.call_schema(&callable);
        let lazy = tools.choice == ToolChoice::Auto;
        let json = |v: &Value| format!("%json {v}");
        let compiled = match self {
            ToolFormat::Hermes => {
                let (open, close) = (
                    literal(tokenizer, "<tool_call>"),
                    literal(tokenizer, "</tool_call>"),
                );
                let body = format!("\"\\n\" call \"\\n\" {close}");
                let lark = if lazy {
                    format!("start: {body}\ncall: {}\n", json(&call))
                } else {
                    let more = if tools.parallel {
                        format!(" (\"\\n\" {open} {body})*")
                    } else {
                        String::new()
                    };
                    format!("start: {open} {body}{more}\ncall: {}\n", json(&call))
                };
                let c = grammars.compile(&Grammar::Lark(lark))?;
                if lazy {
                    c.lazy("<tool_call>", tools.parallel)
                } else {
                    c
                }
            }
            ToolFormat::Mistral => {
                let list = json!({"type": "array", "items": call, "minItems": 1,
                                  "maxItems": if tools.parallel { 16 } else { 1 }});
                let open = literal(tokenizer, "[TOOL_CALLS]");
                let lark = if lazy {
                    format!("start: {}\n", json(&list))
                } else {
                    format!("start: {open} {}\n", json(&list))
                };
                let c = grammars.compile(&Grammar::Lark(lark))?;
                if lazy {
                    c.lazy("[TOOL_CALLS]", false)
                } else {
                    c
                }
            }
            ToolFormat::Llama3 => {
                if lazy {
                    // Llama 3.x starts a call with no marker of its own: a free answer is
                    // parsed afterwards, unconstrained.
                    return Ok(None);
                }
                grammars.compile(&Grammar::JsonSchema(call))?
            }
            ToolFormat::Generic => {
                let calls = json!({
                    "type": "object",
                    "properties": {"tool_calls": {"type": "array", "items": call, "minItems": 1,
                                                  "maxItems": if tools.parallel { 16 } else { 1 }}},
                    "required": ["tool_calls"],
                    "additionalProperties": false,
                });
                let schema = if lazy {
                    json!({"anyOf": [calls, {
                        "type": "object",
                        "properties": {"response": {"type": "string"}},
                        "required": ["response"],
                        "additionalProperties": false,
                    }]})
                } else {
                    calls
                };
                grammars.compile(&Grammar::JsonSchema(schema))?
            }
        };
        Ok(Some(compiled))
    }

    /// For templates that know no tools: what the system prompt says about them.
    pub fn system_note(self, tools: &Tools) -> Option<String> {
        if self.template_knows_tools() || tools.choice == ToolChoice::None {
            return None;
        }
        let list: Vec<Value> = tools
            .tools
            .iter()
            .map(|t| {
                json!({"name": t.name,
                       "description": t.raw["function"]["description"],
                       "parameters": t.parameters})
            })
            .collect();
        Some(format!(
            "You can call these tools:\n{}\nTo call tools, answer with only this JSON: \
             {{\"tool_calls\": [{{\"name\": \"<tool name>\", \"arguments\": {{...}}}}]}}. \
             To answer without a tool, answer with only {{\"response\": \"<your answer>\"}}.",
            Value::Array(list)
        ))
    }

    /// The answer's text and calls: calls of known tools whose JSON parses come out, the rest
    /// stays text.
    pub fn parse(self, text: &str, tools: &Tools) -> (String, Vec<ToolCall>) {
        let known = |name: &str| tools.tools.iter().any(|t| t.name == name);
        let call_of = |v: &Value, args_key: &str| -> Option<ToolCall> {
            let name = v.get("name")?.as_str()?;
            let args = v.get(args_key).or_else(|| v.get("arguments"))?;
            (known(name) && args.is_object()).then(|| ToolCall::new(name, args.clone()))
        };
        match self {
            ToolFormat::Hermes => {
                let mut content = String::new();
                let mut calls = Vec::new();
                let mut rest = text;
                while let Some(at) = rest.find("<tool_call>") {
                    let (before, after) = rest.split_at(at);
                    let body_start = &after["<tool_call>".len()..];
                    let (body, next) = match body_start.find("</tool_call>") {
                        Some(end) => (
                            &body_start[..end],
                            &body_start[end + "</tool_call>".len()..],
                        ),
                        None => (body_start, ""),
                    };
                    match serde_json::from_str::<Value>(body.trim())
                        .ok()
                        .and_then(|v| call_of(&v, "arguments"))
                    {
                        Some(c) => {
                            content.push_str(before);
                            calls.push(c);
                        }
                        None => content.push_str(&rest[..rest.len() - next.len()]),
                    }
                    rest = next;
                }
                content.push_str(rest);
                if calls.is_empty() {
                    // Small models often write the call as a bare (or fenced) JSON object
                    // instead; llama.cpp's Hermes parser takes those too.
                    if let Some(found) = bare_call(text, &call_of) {
                        return found;
                    }
                }
                (content.trim().to_owned(), calls)
            }
            ToolFormat::Mistral => {
                let t = text.trim().trim_start_matches("[TOOL_CALLS]").trim_start();
                match serde_json::from_str::<Value>(t) {
                    Ok(Value::Array(items)) => {
                        let calls: Option<Vec<ToolCall>> =
                            items.iter().map(|v| call_of(v, "arguments")).collect();
                        match calls {
                            Some(c) if !c.is_empty() => (String::new(), c),
                            _ => (text.trim().to_owned(), Vec::new()),
                        }
                    }
                    _ => (text.trim().to_owned(), Vec::new()),
                }
            }
            ToolFormat::Llama3 => {
                let t = text.trim().trim_start_matches("<|python_tag|>");
                match serde_json::from_str::<Value>(t)
                    .ok()
                    .and_then(|v| call_of(&v, "parameters"))
                {
                    Some(c) => (String::new(), vec![c]),
                    None => (text.trim().to_owned(), Vec::new()),
                }
            }
            ToolFormat::Generic => match serde_json::from_str::<Value>(text.trim()) {
                Ok(v) => {
                    if let Some(items) = v.get("tool_calls").and_then(Value::as_array) {
                        let calls: Option<Vec<ToolCall>> =
                            items.iter().map(|c| call_of(c, "arguments")).collect();
                        if let Some(c) = calls.filter(|c| !c.is_empty()) {
                            return (String::new(), c);
                        }
                    }
                    match v.get("response").and_then(Value::as_str) {
                        Some(r) => (r.to_owned(), Vec::new()),
                        None => (text.trim().to_owned(), Vec::new()),
                    }
                }
                Err(_) => (text.trim().to_owned(), Vec::new()),
            },
        }
    }
}

/// A call written as one JSON object in the text, perhaps in a Markdown code fence: the text
/// before it, and the call.
fn bare_call(
    text: &str,
    call_of: &dyn Fn(&Value, &str) -> Option<ToolCall>,
) -> Option<(String, Vec<ToolCall>)> {
    let start = text.find('{')?;
    let end = text.rfind('}')?;
    let v: Value = serde_json::from_str(text.get(start..=end)?).ok()?;
    let call = call_of(&v, "arguments")?;
    let after = text[end + 1..].trim().trim_start_matches("```").trim();
    if !after.is_empty() {
        return None;
    }
    let before = text[..start].trim_end();
    let before = before
        .strip_suffix("```json")
        .or_else(|| before.strip_suffix("```"))
        .unwrap_or(before);
    Some((before.trim().to_owned(), vec![call]))
}

/// A string in a Lark grammar: as a control token when the tokenizer has it as one (a special
/// token's text is not text the model can spell), else as text.
fn literal(tokenizer: &Tokenizer, s: &str) -> String {
    match tokenizer.token_to_id(s) {
        Some(id) if tokenizer.is_special(id) => format!("<[{id}]>"),
        _ => serde_json::to_string(s).unwrap_or_default(),
    }
}
