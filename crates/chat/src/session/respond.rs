//! A stateless turn over a whole conversation with tools on offer: what an API request with
//! `tools`, or with tool calls and tool results in its messages, is.
//!
//! The conversation may hold what a session's history of exchanges cannot (an assistant turn
//! that called tools, the `tool` messages that answered), so it is rendered as given rather
//! than kept; the session lends its model, settings, guard and KV cache (reused as far as the
//! new prompt's ids agree, token by token, which is most of a tool round trip).

use std::time::Instant;

use samtal_generation::{CancelToken, Controls, Generator};
use samtal_guard::Verdict;

use super::{mark_untrusted, ChatEvent, Format, GuardReport, Reply, Session};
use crate::tools::{ToolChoice, ToolFormat, Tools};
use crate::{Error, Message, Result};

impl Session {
    /// Answers `messages` (an optional system message, then user, assistant and tool messages,
    /// ending with a user or tool message) with `tools` on offer. Calls the model makes come
    /// back in [`Reply::tool_calls`], text that only looks like a call stays in the text.
    /// While tools may be called nothing is streamed: the answer's text arrives as one
    /// [`ChatEvent::Text`] at the end, once it is known not to be a call.
    pub fn respond(
        &mut self,
        messages: &[Message],
        tools: Option<&Tools>,
        cancel: Option<&CancelToken>,
        on_event: &mut dyn FnMut(ChatEvent<'_>),
    ) -> Result<Reply> {
        let started = Instant::now();
        let Format::Template { template, specials } = &self.format else {
            return Err(Error::InvalidOption {
                name: "tools",
                message: "tool calling needs a model with a chat template".into(),
            });
        };
        match messages.last() {
            Some(m) if m.role == "user" || m.role == "tool" => {}
            _ => {
                return Err(Error::InvalidOption {
                    name: "messages",
                    message: "the last message must be a user or tool message".into(),
                })
            }
        }
        // What the guard reads: what is new, the messages after the last assistant turn.
        let new_from = messages
            .iter()
            .rposition(|m| m.role == "assistant")
            .map_or(0, |i| i + 1);
        let mut messages = messages.to_vec();
        let mut report: Option<GuardReport> = None;
        for m in &messages[new_from..] {
            if m.role != "user" && m.role != "tool" {
                continue;
            }
            if let Some(r) = self.guard.check(&m.content) {
                if report.as_ref().is_none_or(|old| r.score > old.score) {
                    report = Some(r);
                }
            }
        }
        let verdict = report.as_ref().map_or(Verdict::Allow, |r| r.verdict);
        if let Some(r) = report.as_ref().filter(|_| verdict != Verdict::Allow) {
            on_event(ChatEvent::Guard(r));
        }
        if verdict == Verdict::Block {
            return Ok(super::guard::blocked_reply(report, started));
        }
        if verdict == Verdict::Flag {
            for m in &mut messages[new_from..] {
                if m.role == "user" || m.role == "tool" {
                    m.content = mark_untrusted(&m.content);
                }
            }
        }

        let format = ToolFormat::detect(Some(template.source()));
        let offered =
            tools.filter(|t| t.choice != ToolChoice::None || format.template_knows_tools());
        if !format.template_knows_tools() {
            write_tool_turns_as_text(&mut messages);
            if let Some(note) = tools.and_then(|t| format.system_note(t)) {
                match messages.first_mut() {
                    Some(m) if m.role == "system" => m.content = format!("{}\n\n{note}", m.content),
                    _ => messages.insert(0, Message::system(note)),
                }
            }
        }
        let rendered = offered
            .filter(|_| format.template_knows_tools())
            .map(Tools::rendered);
        let tokenizer = &self.pipeline.tokenizer;
        let prompt = template.encode_with_tools(
            tokenizer,
            specials,
            &messages,
            true,
            rendered.as_deref(),
        )?;
        if prompt.ids.len() >= self.budget {
            return Err(Error::PromptTooLong {
                prompt: prompt.ids.len(),
                budget: self.budget,
            });
        }
        let mut params = self.params.clone();
        params.max_new_tokens = params.max_new_tokens.min(self.budget - prompt.ids.len());

        let calling = tools.filter(|t| t.choice != ToolChoice::None);
        let grammars = self.pipeline.grammars()?;
        let mut constraint = match (calling, &self.grammar) {
            (Some(t), _) => format.constraint(t, grammars, tokenizer)?,
            (None, Some(g)) => Some(grammars.compile(g)?),
            (None, None) => None,
        };
        let generator = Generator {
            lm: self.lm.as_ref(),
            tokenizer,
            eog: &self.pipeline.eog,
        };
        let controls = Controls {
            cancel,
            constraint: constraint.as_mut(),
            started: Some(started),
            ..Controls::default()
        };
        let held = calling.is_some();
        let out =
            generator.generate(&mut self.cache, &prompt.ids, &params, controls, &mut |ev| {
                super::report_logprob(&ev, on_event);
                if !held && !ev.text().is_empty() {
                    on_event(ChatEvent::Text(ev.text()));
                }
            })?;
        let (text, tool_calls) = match calling {
            Some(t) => format.parse(&out.text, t),
            None => (out.text.clone(), Vec::new()),
        };
        if held && !text.is_empty() {
            on_event(ChatEvent::Text(&text));
        }
        let t = &out.timings;
        Ok(Reply {
            text,
            finish_reason: out.finish_reason,
            guard: report,
            prompt_tokens: t.prompt_tokens,
            prefill_tokens: t.prefill_tokens,
            generated_tokens: t.generated_tokens,
            ttft_ms: t.ttft_ms,
            tokens_per_s: t.tokens_per_s(),
            dropped_turns: 0,
            seed: out.seed,
            token_ids: out.token_ids,
            tool_calls,
        })
    }
}

/// For templates that know no tools: an assistant turn's calls written as the generic format's
/// JSON, so that the model sees what it called; `tool` messages keep their role and content.
fn write_tool_turns_as_text(messages: &mut [Message]) {
    for m in messages.iter_mut().filter(|m| !m.tool_calls.is_empty()) {
        let calls: Vec<serde_json::Value> = m
            .tool_calls
            .iter()
            .map(
                |c| serde_json::json!({"name": c.function.name, "arguments": c.function.arguments}),
            )
            .collect();
        m.content = serde_json::json!({ "tool_calls": calls }).to_string();
        m.tool_calls.clear();
    }
}
