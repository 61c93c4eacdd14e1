//! Token ids of a rendered conversation, with message content kept as text.
//!
//! transformers' `apply_chat_template(tokenize=True)` encodes the rendered text with special
//! tokens recognised everywhere, so a user who types `<|im_start|>system` gets a real control
//! token: a turn of their own making. Here scaffolding (what the template writes) is encoded with
//! [`Encode::TEMPLATE`] and message content with [`Encode::TEXT`]:
//!
//! 1. The template is rendered twice: with the real messages, and with each message's content
//!    replaced by a unique marker. The marker render tells which stretches are scaffolding and
//!    where each content goes; walking it against the real render finds each content's exact span
//!    (as given, or trimmed, for templates that apply `| trim`).
//! 2. When no special-token string overlaps a content span (the normal case) the real render is
//!    encoded in one call, exactly as transformers does, so ids stay identical to its golden
//!    outputs and tokenization at the boundaries is untouched.
//! 3. Otherwise the render is encoded piece by piece: scaffolding with special tokens parsed,
//!    content as plain text. The boundaries of the pieces are then token boundaries, which only
//!    changes tokens next to the injected text (and, for SentencePiece tokenizers that prefix a
//!    space only to the very first piece, may add a `▁` at a piece start).
//! 4. Before any of this, template markers that the tokenizer reads as plain text (Llama-2's
//!    `[INST]`, say) are escaped in every message but the system prompt (`samtal_guard::Markers`):
//!    typed by a user, they would otherwise be the very tokens of a real turn.
//! 5. A template that changes content in other ways (splitting off reasoning, say) cannot be
//!    split: its render is encoded whole when no content holds a special-token string, and
//!    refused otherwise.

use std::ops::Range;

use samtal_guard::Markers;
use samtal_tokenizer::{Encode, Tokenizer};

use super::ChatTemplate;
use crate::{Error, Message, Result};

/// A rendered prompt and its token ids.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Prompt {
    pub text: String,
    pub ids: Vec<u32>,
}

/// The strings of a tokenizer's special tokens: what [`Encode::TEMPLATE`] turns into single ids
/// and [`Encode::TEXT`] leaves as text.
pub fn special_strings(tokenizer: &Tokenizer) -> Vec<String> {
    (0..tokenizer.vocab_size() as u32)
        .filter(|&id| tokenizer.is_special(id))
        .filter_map(|id| tokenizer.id_to_token(id))
        .filter(|s| !s.is_empty())
        .collect()
}

/// Private-use characters around a message index: no template or special token contains them, and
/// the marker render never holds user text, so a user typing them changes nothing.
const OPEN: &str = "\u{E000}samtal-content-";
const CLOSE: char = '\u{E001}';

fn marker(i: usize) -> String {
    format!("{OPEN}{i}{CLOSE}")
}

/// A stretch of the marker render.
#[derive(Debug, PartialEq)]
enum Piece<'a> {
    Scaffold(&'a str),
    Content(usize),
}

/// Splits a marker render into scaffolding and references to messages.
fn pieces(rendered: &str, n_messages: usize) -> Option<Vec<Piece<'_>>> {
    let mut out = Vec::new();
    let mut rest = rendered;
    while let Some(at) = rest.find(OPEN) {
        if at > 0 {
            out.push(Piece::Scaffold(&rest[..at]));
        }
        let tail = &rest[at + OPEN.len()..];
        let end = tail.find(CLOSE)?;
        let i: usize = tail[..end].parse().ok()?;
        if i >= n_messages {
            return None;
        }
        out.push(Piece::Content(i));
        rest = &tail[end + CLOSE.len_utf8()..];
    }
    if !rest.is_empty() {
        out.push(Piece::Scaffold(rest));
    }
    Some(out)
}

/// The span of every content occurrence in `real`, in order, when walking the marker pieces
/// reproduces `real` exactly (each content as given or trimmed).
fn content_spans(
    pieces: &[Piece<'_>],
    messages: &[Message],
    real: &str,
) -> Option<Vec<Range<usize>>> {
    let mut spans = Vec::new();
    let mut at = 0;
    for (k, piece) in pieces.iter().enumerate() {
        let rest = &real[at..];
        match piece {
            Piece::Scaffold(s) => {
                if !rest.starts_with(s) {
                    return None;
                }
                at += s.len();
            }
            Piece::Content(i) => {
                let content = messages.get(*i)?.content.as_str();
                let next = match pieces.get(k + 1) {
                    Some(Piece::Scaffold(s)) => Some(*s),
                    _ => None,
                };
                let fits = |c: &str| {
                    rest.starts_with(c)
                        && match next {
                            Some(s) => rest[c.len()..].starts_with(s),
                            None => true,
                        }
                };
                let c = [content, content.trim()].into_iter().find(|c| fits(c))?;
                spans.push(at..at + c.len());
                at += c.len();
            }
        }
    }
    (at == real.len()).then_some(spans)
}

/// Whether an occurrence of a special-token string in `text` overlaps one of `spans`.
fn special_in_content(text: &str, spans: &[Range<usize>], specials: &[String]) -> bool {
    specials.iter().any(|s| {
        text.match_indices(s.as_str()).any(|(i, _)| {
            let hit = i..i + s.len();
            spans.iter().any(|c| hit.start < c.end && c.start < hit.end)
        })
    })
}

impl ChatTemplate {
    /// Renders `messages` and encodes the result with message content as plain text (see the
    /// module notes). `specials` comes from [`special_strings`] for `tokenizer`.
    pub fn encode(
        &self,
        tokenizer: &Tokenizer,
        specials: &[String],
        messages: &[Message],
        add_generation_prompt: bool,
    ) -> Result<Prompt> {
        self.encode_with_tools(tokenizer, specials, messages, add_generation_prompt, None)
    }

    /// [`ChatTemplate::encode`] with `tools` handed to the template (OpenAI's tool objects, as
    /// `apply_chat_template(tools=…)` receives them).
    pub fn encode_with_tools(
        &self,
        tokenizer: &Tokenizer,
        specials: &[String],
        messages: &[Message],
        add_generation_prompt: bool,
        tools: Option<&[serde_json::Value]>,
    ) -> Result<Prompt> {
        let extra = tools.map(|t| serde_json::json!({ "tools": t }));
        let render = |m: &[Message]| match &extra {
            Some(e) => self.render_with(m, add_generation_prompt, e),
            None => self.render(m, add_generation_prompt),
        };
        // Markers the tokenizer reads as plain text ([INST] on a Llama-2 tokenizer) would give
        // the very tokens of a real turn: escape them in everything but the system prompt, which
        // is the operator's.
        let markers = Markers::from_template(self.source(), specials);
        let escaped: Vec<Message>;
        let messages = if markers.is_empty() {
            messages
        } else {
            escaped = messages
                .iter()
                .map(|m| match m.role.as_str() {
                    "system" => m.clone(),
                    _ => Message {
                        content: markers.escape(&m.content).into_owned(),
                        ..m.clone()
                    },
                })
                .collect();
            &escaped
        };
        let text = render(messages)?;
        let marked: Vec<Message> = messages
            .iter()
            .enumerate()
            .map(|(i, m)| Message {
                content: marker(i),
                ..m.clone()
            })
            .collect();
        // A template that rejects the markers (one comparing content, say) cannot be split; that
        // is the same case as one that rewrites content.
        let spans = render(&marked)
            .ok()
            .and_then(|r| content_spans(&pieces(&r, messages.len())?, messages, &text));
        let ids = match spans {
            Some(spans) if special_in_content(&text, &spans, specials) => {
                let mut ids = Vec::new();
                let mut at = 0;
                for span in &spans {
                    if span.start > at {
                        ids.extend(tokenizer.encode(&text[at..span.start], Encode::TEMPLATE)?);
                    }
                    ids.extend(tokenizer.encode(&text[span.clone()], Encode::TEXT)?);
                    at = span.end;
                }
                if at < text.len() {
                    ids.extend(tokenizer.encode(&text[at..], Encode::TEMPLATE)?);
                }
                ids
            }
            Some(_) => tokenizer.encode(&text, Encode::TEMPLATE)?,
            None => {
                if let Some(m) = messages
                    .iter()
                    .find(|m| specials.iter().any(|s| m.content.contains(s.as_str())))
                {
                    return Err(Error::UnsplittableContent {
                        role: m.role.clone(),
                    });
                }
                tokenizer.encode(&text, Encode::TEMPLATE)?
            }
        };
        Ok(Prompt { text, ids })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msgs(contents: &[(&str, &str)]) -> Vec<Message> {
        contents.iter().map(|(r, c)| Message::new(*r, *c)).collect()
    }

    #[test]
    fn markers_split_scaffolding_from_content() {
        let r = format!("<|im_start|>user\n{}<|im_end|>\n{}", marker(0), marker(1));
        assert_eq!(
            pieces(&r, 2).unwrap(),
            vec![
                Piece::Scaffold("<|im_start|>user\n"),
                Piece::Content(0),
                Piece::Scaffold("<|im_end|>\n"),
                Piece::Content(1),
            ]
        );
        // An index beyond the messages is not a marker of ours.
        assert_eq!(pieces(&marker(5), 2), None);
    }

    #[test]
    fn spans_are_exact_even_when_content_also_occurs_in_scaffolding() {
        // "a" also occurs inside "<|im_start|>"; the walk must not take that one.
        let t = ChatTemplate::preset("chatml").unwrap();
        let m = msgs(&[("user", "a"), ("assistant", "im_start")]);
        let text = t.render(&m, true).unwrap();
        let marked = t
            .render(
                &[Message::user(marker(0)), Message::assistant(marker(1))],
                true,
            )
            .unwrap();
        let spans = content_spans(&pieces(&marked, 2).unwrap(), &m, &text).unwrap();
        assert_eq!(&text[spans[0].clone()], "a");
        assert_eq!(&text[spans[1].clone()], "im_start");
        assert_eq!(spans[0].start, "<|im_start|>user\n".len());
    }

    #[test]
    fn trimmed_content_is_found() {
        // llama-3 trims content.
        let t = ChatTemplate::preset("llama-3").unwrap();
        let m = msgs(&[("user", "  hello  ")]);
        let text = t.render(&m, true).unwrap();
        let marked = t.render(&[Message::user(marker(0))], true).unwrap();
        let spans = content_spans(&pieces(&marked, 1).unwrap(), &m, &text).unwrap();
        assert_eq!(&text[spans[0].clone()], "hello");
    }

    #[test]
    fn overlap_detection_covers_partial_overlaps() {
        let specials = vec!["<|im_end|>".to_string()];
        let text = "ab<|im_end|>cd";
        assert!(!special_in_content(text, &[0..2, 12..14], &specials));
        assert!(special_in_content(text, &[0..3, 13..14], &specials));
        assert!(special_in_content(text, &[0..1, 5..6], &specials));
    }
}
