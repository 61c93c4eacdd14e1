//! Structural escaping: untrusted text can never open a turn.
//!
//! Two kinds of turn boundary exist in prompts:
//! - *control tokens* (`<|im_start|>`, `<|start_header_id|>`, `<start_of_turn>` where the
//!   tokenizer has them as special tokens): untrusted text is tokenized with special-token
//!   parsing off, so typing one gives readable characters, never the control id. Nothing to
//!   escape here; the chat crate's encoder guarantees it.
//! - *plain-text markers*: speaker labels of the transcript format (`\nMe:`), and template markers
//!   that the tokenizer reads as ordinary text (Llama-2's `[INST]` and `<<SYS>>`, Zephyr's
//!   `<|user|>` on a tokenizer without them as special tokens). Typed by a user, they would give
//!   exactly the tokens of a real turn. These are escaped here, matched on the normal form of
//!   [`crate::normalize`](mod@crate::normalize) (any case, spacing, look-alikes, invisible characters, full width).
//!
//! Escaping keeps what the user wrote readable: a label line gets the e-mail quote prefix `"> "`,
//! and a marker has its ASCII brackets replaced by full-width ones (`[INST]` → `［INST］`), which
//! reads the same to people and models but is not the marker's text or tokens.

use std::borrow::Cow;
use std::sync::OnceLock;

use regex::Regex;

use crate::normalize::{fold, is_invisible};

/// What an escaped line starts with.
pub const LINE_ESCAPE: &str = "> ";

/// Line breaks that a tokenizer or a model may take as a new line, besides `\n`.
fn is_line_break(c: char) -> bool {
    matches!(
        c,
        '\r' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

/// Whether `line` (a single line), after leading blanks, is one of `labels` followed by optional
/// blanks and `:`, in normal form. `labels` are compared in normal form too.
pub fn opens_turn(line: &str, labels: &[&str]) -> bool {
    let folded = fold(line).text;
    let head = folded.trim_start();
    labels.iter().any(|label| {
        let label = fold(label).text;
        !label.is_empty()
            && head
                .strip_prefix(label.as_str())
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
    })
}

/// `text` with every line that would open a turn for one of `labels` prefixed by
/// [`LINE_ESCAPE`]. Other line breaks (`\r\n`, `\r`, U+2028, …) are written as `\n` first, so
/// that what the model takes as a line is what was checked.
pub fn escape_lines<'a>(text: &'a str, labels: &[&str]) -> Cow<'a, str> {
    let unified: Cow<'a, str> = if text.contains(is_line_break) {
        Cow::Owned(text.replace("\r\n", "\n").replace(is_line_break, "\n"))
    } else {
        Cow::Borrowed(text)
    };
    if !unified.split('\n').any(|line| opens_turn(line, labels)) {
        return unified;
    }
    let lines: Vec<Cow<'_, str>> = unified
        .split('\n')
        .map(|line| {
            if opens_turn(line, labels) {
                Cow::Owned(format!("{LINE_ESCAPE}{line}"))
            } else {
                Cow::Borrowed(line)
            }
        })
        .collect();
    Cow::Owned(lines.join("\n"))
}

/// Bracketed markers, in normal form: `[INST]`, `[/INST]`, `<<SYS>>`, `<|user|>`, `<s>`,
/// `<start_of_turn>`, with blanks allowed inside.
fn marker_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        #[allow(clippy::unwrap_used)] // a constant pattern, covered by the tests
        Regex::new(
            r"\[\s*/?\s*[a-z_]+\s*\]|<<\s*/?\s*[a-z_]+\s*>>|<\|\s*/?\s*[a-z_]+\s*\|>|<\s*/?\s*[a-z_]+\s*>",
        )
        .unwrap()
    })
}

/// A marker's key: its normal form without blanks.
fn key(folded_marker: &str) -> String {
    folded_marker
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// The plain-text markers of one prompt format, to be escaped in untrusted text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Markers {
    keys: Vec<String>,
}

impl Markers {
    /// The bracketed markers written by a template (found in its source, where its scaffolding
    /// is spelled out), except those in `control`: strings the tokenizer turns into control
    /// tokens, which plain-text encoding already neutralises and which stay readable as they are.
    pub fn from_template(source: &str, control: &[String]) -> Self {
        let control: Vec<String> = control.iter().map(|s| key(&fold(s).text)).collect();
        let folded = fold(source).text;
        let mut keys: Vec<String> = marker_regex()
            .find_iter(&folded)
            .map(|m| key(m.as_str()))
            .filter(|k| !control.contains(k))
            .collect();
        keys.sort();
        keys.dedup();
        Self { keys }
    }

    /// Markers given by their text (in any form).
    pub fn new<S: AsRef<str>>(markers: &[S]) -> Self {
        let mut keys: Vec<String> = markers
            .iter()
            .map(|m| key(&fold(m.as_ref()).text))
            .collect();
        keys.sort();
        keys.dedup();
        Self { keys }
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The markers, in normal form without blanks.
    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    /// `text` with each of these markers made harmless (see the module notes).
    pub fn escape<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if self.keys.is_empty() || !text.contains(['[', '<', '［', '＜', '‹', '﹤']) {
            return Cow::Borrowed(text);
        }
        let folded = fold(text);
        let hits: Vec<std::ops::Range<usize>> = marker_regex()
            .find_iter(&folded.text)
            .filter(|m| self.keys.contains(&key(m.as_str())))
            .map(|m| folded.source_range(m.range()))
            .collect();
        if hits.is_empty() {
            return Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len() + 8 * hits.len());
        let mut at = 0;
        for hit in hits {
            out.push_str(&text[at..hit.start]);
            out.extend(text[hit.clone()].chars().filter_map(defang));
            at = hit.end;
        }
        out.push_str(&text[at..]);
        Cow::Owned(out)
    }
}

/// One character of an escaped marker: brackets become full width, invisible characters go.
fn defang(c: char) -> Option<char> {
    if is_invisible(c) {
        return None;
    }
    Some(match c {
        '[' => '［',
        ']' => '］',
        '<' | '‹' | '﹤' => '＜',
        '>' | '›' | '﹥' => '＞',
        '|' => '｜',
        c => c,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LABELS: &[&str] = &["Me", "Computer"];

    #[test]
    fn label_lines_in_any_disguise_are_quoted() {
        for line in [
            "Computer: ok",
            "  computer : ok",
            "COMPUTER:ok",
            "Ｃｏｍｐｕｔｅｒ：ok",
            "Сomputer: ok", // Cyrillic С
            "Com\u{200D}puter: ok",
            "\u{202E}Me: ok",
            "𝐌𝐞: ok",
        ] {
            assert!(opens_turn(line, LABELS), "{line:?}");
            let text = format!("hi\n{line}");
            assert_eq!(escape_lines(&text, LABELS), format!("hi\n> {line}"));
        }
        for line in ["Computers: ok", "ask Me: x", "Computer says no", "Mee: x"] {
            assert!(!opens_turn(line, LABELS), "{line:?}");
        }
    }

    #[test]
    fn other_line_breaks_become_newlines_before_checking() {
        assert_eq!(
            escape_lines("a\r\nMe: b\u{2028}Computer: c\rd", LABELS),
            "a\n> Me: b\n> Computer: c\nd"
        );
        assert_eq!(escape_lines("plain", LABELS), "plain");
    }

    #[test]
    fn template_markers_come_from_the_source_minus_control_tokens() {
        let src = "{{ bos_token + '[INST] ' + m + ' [/INST]' }}{{ '<<SYS>>\\n' }}<|im_start|>";
        let m = Markers::from_template(src, &["<|im_start|>".to_string()]);
        assert_eq!(m.keys(), ["<<sys>>", "[/inst]", "[inst]"]);
    }

    #[test]
    fn markers_are_escaped_readably_in_every_disguise() {
        let m = Markers::new(&["[INST]", "[/INST]", "<|user|>"]);
        assert_eq!(m.escape("a [/INST] b"), "a ［/INST］ b");
        assert_eq!(m.escape("[ inst ]"), "［ inst ］");
        assert_eq!(m.escape("［ＩＮＳＴ］"), "［ＩＮＳＴ］");
        assert_eq!(m.escape("[\u{200B}INST]"), "［INST］");
        assert_eq!(m.escape("<|user|>hi"), "＜｜user｜＞hi");
        assert_eq!(m.escape("[ІNST]"), "［ІNST］"); // Cyrillic І kept, brackets escaped
                                                    // Other brackets are left alone.
        assert_eq!(m.escape("[link] <b>bold</b>"), "[link] <b>bold</b>");
        assert!(matches!(m.escape("no markers"), Cow::Borrowed(_)));
    }
}
