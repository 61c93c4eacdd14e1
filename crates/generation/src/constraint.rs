//! Constrained decoding: what the model writes must match a grammar (a JSON Schema, a regular
//! expression, a Lark grammar), enforced token by token with llguidance, the engine llama.cpp
//! and mistral.rs use.
//!
//! The rule, as in llama.cpp's sampler: the token the sampler picks is checked first, and only
//! when the grammar rejects it is the full mask computed, applied to the original logits
//! (disallowed tokens to -inf) and the token sampled again; the chosen token is then consumed by
//! the grammar. A grammar that admits no token is an error, never an unconstrained answer.
//!
//! A constraint may be lazy (llama.cpp's "lazy grammar", for `tool_choice: auto`): generation
//! is free until the text ends in a trigger (`<tool_call>`), then constrained until the grammar
//! is complete, and free again (or, once is all that is allowed, only an end-of-generation
//! token may follow).

use std::sync::Arc;

use llguidance::api::TopLevelGrammar;
use llguidance::toktrie::{ApproximateTokEnv, SimpleVob, TokEnv, TokRxInfo, TokTrie};
use llguidance::{Matcher, ParserFactory};
use samtal_tokenizer::{Encode, Tokenizer};

use crate::{Error, Result};

/// What the output must match.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Grammar {
    /// A JSON value valid under this JSON Schema.
    JsonSchema(serde_json::Value),
    /// Any JSON object (OpenAI's `json_object`).
    JsonObject,
    /// A regular expression (the whole output).
    Regex(String),
    /// A Lark grammar, in llguidance's dialect (which can embed `%json { schema }`).
    Lark(String),
}

impl Grammar {
    fn top_level(&self) -> TopLevelGrammar {
        match self {
            Grammar::JsonSchema(schema) => TopLevelGrammar::from_json_schema(compact(schema)),
            Grammar::JsonObject => {
                TopLevelGrammar::from_json_schema(compact(&serde_json::json!({"type": "object"})))
            }
            Grammar::Regex(rx) => TopLevelGrammar::from_regex(rx),
            Grammar::Lark(lark) => TopLevelGrammar::from_lark(lark.clone()),
        }
    }
}

/// The schema with llguidance's layout options: JSON written the way models write it
/// (`{"a": 1, "b": 2}`), not free whitespace, which a small model can fill forever.
fn compact(schema: &serde_json::Value) -> serde_json::Value {
    let mut s = schema.clone();
    if let Some(o) = s.as_object_mut() {
        o.entry("x-guidance").or_insert_with(|| {
            serde_json::json!({
                "whitespace_flexible": false,
                "item_separator": ", ",
                "key_separator": ": ",
            })
        });
    }
    s
}

/// The grammar engine for one tokenizer: its token trie, built once (a large vocabulary takes
/// a moment) and shared by every constraint.
#[derive(Clone)]
pub struct Grammars {
    factory: Arc<ParserFactory>,
    eog: Vec<u32>,
    tokenizer: Tokenizer,
}

impl std::fmt::Debug for Grammars {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Grammars")
            .field("eog", &self.eog)
            .finish_non_exhaustive()
    }
}

impl Grammars {
    /// The engine for `tokenizer`, whose generation ends at any of `eog`.
    pub fn new(tokenizer: &Tokenizer, eog: &[u32]) -> Result<Self> {
        let words: Vec<Vec<u8>> = tokenizer
            .token_bytes()
            .into_iter()
            .map(|t| {
                if t.special {
                    let mut b = vec![TokTrie::SPECIAL_TOKEN_MARKER];
                    b.extend(t.bytes);
                    b
                } else {
                    t.bytes
                }
            })
            .collect();
        let first_eog = eog.first().copied().unwrap_or(0);
        let info = TokRxInfo::new(words.len() as u32, first_eog);
        let trie = TokTrie::from(&info, &words).with_eos_tokens(eog);
        let env: TokEnv = Arc::new(ApproximateTokEnv::new(trie));
        let mut factory = ParserFactory::new_simple(&env).map_err(grammar_error)?;
        factory.quiet();
        Ok(Self {
            factory: Arc::new(factory),
            eog: eog.to_vec(),
            tokenizer: tokenizer.clone(),
        })
    }

    /// A constraint for `grammar`: a grammar that does not compile, or a schema feature the
    /// engine does not support, is an error here, before generation starts.
    pub fn compile(&self, grammar: &Grammar) -> Result<Constraint> {
        let parser = self
            .factory
            .create_parser(grammar.top_level())
            .map_err(grammar_error)?;
        let matcher = Matcher::new(Ok(parser));
        if let Some(e) = matcher.get_error() {
            return Err(Error::Grammar(e));
        }
        Ok(Constraint {
            matcher,
            trigger: None,
            state: State::Active,
            tokenizer: self.tokenizer.clone(),
            eog: self.eog.clone(),
            since: 0,
        })
    }
}

fn grammar_error(e: impl std::fmt::Display) -> Error {
    Error::Grammar(e.to_string())
}

/// When a lazy constraint starts.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Trigger {
    text: String,
    /// Whether the grammar may start again after it completes (parallel tool calls).
    again: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Waiting for the trigger: every token is allowed.
    Waiting,
    /// Every token must fit the grammar.
    Active,
    /// The grammar completed and may not start again: only an end-of-generation token.
    Done,
}

/// One generation's grammar state.
pub struct Constraint {
    matcher: Matcher,
    trigger: Option<Trigger>,
    state: State,
    tokenizer: Tokenizer,
    eog: Vec<u32>,
    /// Where in the decoded text the next trigger is looked for (past the last one).
    since: usize,
}

impl std::fmt::Debug for Constraint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Constraint")
            .field("trigger", &self.trigger)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl Constraint {
    /// Makes the constraint lazy: free generation until the text ends in `trigger`, then the
    /// grammar; after it completes, free again if `again`, else only the end.
    pub fn lazy(mut self, trigger: &str, again: bool) -> Self {
        self.trigger = Some(Trigger {
            text: trigger.to_owned(),
            again,
        });
        self.state = State::Waiting;
        self
    }

    /// Whether the grammar has run to completion at least once (or is not lazy and complete).
    pub fn is_complete(&mut self) -> bool {
        self.state == State::Done || self.matcher.is_stopped()
    }

    /// Whether `token` may come next.
    pub(crate) fn allows(&mut self, token: u32) -> bool {
        match self.state {
            State::Waiting => true,
            State::Done => self.eog.contains(&token),
            State::Active => {
                if self.matcher.is_stopped() || self.matcher.is_accepting().unwrap_or(false) {
                    // The grammar is complete: what may follow is an end (or, lazily, more).
                    if self.eog.contains(&token) {
                        return true;
                    }
                }
                self.matcher.validate_tokens(&[token]).unwrap_or(0) == 1
            }
        }
    }

    /// Sets the logits of every token the grammar rejects to -inf; an error when it leaves none.
    pub(crate) fn mask(&mut self, logits: &mut [f32]) -> Result<()> {
        let allowed: SimpleVob = match self.state {
            State::Waiting => return Ok(()),
            State::Done => {
                let mut v = SimpleVob::alloc(logits.len());
                for &t in &self.eog {
                    if (t as usize) < logits.len() {
                        v.allow_token(t);
                    }
                }
                v
            }
            State::Active => self.matcher.compute_mask_or_eos().map_err(grammar_error)?,
        };
        let mut any = false;
        for (i, l) in logits.iter_mut().enumerate() {
            if i < allowed.len() && allowed.is_allowed(i as u32) {
                any |= l.is_finite() || *l == f32::INFINITY;
            } else {
                *l = f32::NEG_INFINITY;
            }
        }
        if !any {
            return Err(Error::Grammar(
                "the grammar can no longer be satisfied: no token is allowed".into(),
            ));
        }
        Ok(())
    }

    /// Moves the grammar past `token`; `text` is all the text decoded so far (for triggers).
    pub(crate) fn consume(&mut self, token: u32, text: &str) -> Result<()> {
        match self.state {
            State::Done => Ok(()),
            State::Waiting => {
                let Some(t) = &self.trigger else {
                    return Ok(());
                };
                // A trigger that is a special token is not in the text.
                if self.tokenizer.is_special(token)
                    && self.tokenizer.id_to_token(token).as_deref() == Some(t.text.as_str())
                {
                    self.state = State::Active;
                    return Ok(());
                }
                let from = self.since.min(text.len());
                let Some(at) = text.get(from..).and_then(|s| s.find(t.text.as_str())) else {
                    return Ok(());
                };
                // Whatever the trigger's token wrote past the trigger is already the grammar's.
                let rest = text[from + at + t.text.len()..].to_owned();
                self.since = text.len();
                self.state = State::Active;
                if !rest.is_empty() {
                    let ids = self
                        .tokenizer
                        .encode(&rest, Encode::TEXT)
                        .map_err(|e| Error::Grammar(e.to_string()))?;
                    self.matcher.consume_tokens(&ids).map_err(grammar_error)?;
                }
                Ok(())
            }
            State::Active => {
                if self.eog.contains(&token)
                    && (self.matcher.is_stopped() || self.matcher.is_accepting().unwrap_or(false))
                {
                    return Ok(());
                }
                self.matcher.consume_token(token).map_err(grammar_error)?;
                if self.matcher.is_stopped() {
                    self.since = text.len();
                    self.finish()?;
                }
                Ok(())
            }
        }
    }

    /// The grammar completed: lazily, wait for the next trigger or allow only the end.
    fn finish(&mut self) -> Result<()> {
        match &self.trigger {
            Some(t) if t.again => {
                self.matcher.reset().map_err(grammar_error)?;
                self.state = State::Waiting;
            }
            Some(_) => self.state = State::Done,
            None => {}
        }
        Ok(())
    }
}
