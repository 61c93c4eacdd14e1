#![allow(clippy::unwrap_used)]
//! Structural safety: no user text, however disguised, forges a turn or a control token.
//!
//! Every row of fixtures/guard/forgery.jsonl (forged turn markers of many chat formats, and benign
//! texts that merely mention them), plus disguised variants of each attack (case, spacing,
//! look-alike letters, zero-width characters, full-width brackets, other line breaks), is put in
//! a user message and rendered through the built-in templates (ChatML as SmolLM2 uses it,
//! Llama-2, Llama-3, Mistral, Zephyr, Gemma), SmolLM2's own template, and the transcript format,
//! on real tokenizers (llama.cpp's vocab fixtures and their special tokens). Each prompt must
//! have exactly the turn structure of the same conversation with an innocent message: the same
//! control-token ids in the same order, the same number of plain-text markers, the same number
//! of transcript turns.

use std::path::Path;

use samtal_chat::{special_strings, ChatTemplate, Message, Transcript};
use samtal_guard::{fold, normalize::is_invisible, opens_turn, Markers};
use samtal_tokenizer::{Encode, Tokenizer};

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn vocab(name: &str) -> Tokenizer {
    let path = root().join(format!("fixtures/vocab/ggml-vocab-{name}.gguf"));
    let file = samtal_gguf::MappedGguf::open(&path).unwrap();
    Tokenizer::from_gguf(&file.gguf.metadata).unwrap()
}

struct Row {
    text: String,
    attack: bool,
}

fn rows() -> Vec<Row> {
    let text = std::fs::read_to_string(root().join("fixtures/guard/forgery.jsonl")).unwrap();
    text.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            Row {
                text: v["text"].as_str().unwrap().to_owned(),
                attack: v["label"] == "injection",
            }
        })
        .collect()
}

/// The row, and for an attack its disguised copies.
fn texts(row: &Row) -> Vec<String> {
    let text = row.text.as_str();
    if !row.attack {
        return vec![text.to_owned()];
    }
    let swap = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .fold(text.to_owned(), |t, (a, b)| t.replace(a, b))
    };
    vec![
        text.to_owned(),
        text.to_uppercase(),
        text.to_lowercase(),
        swap(&[
            ("[", "［"),
            ("]", "］"),
            ("<", "＜"),
            (">", "＞"),
            ("|", "｜"),
        ]),
        swap(&[("[", "[\u{200D}"), ("<|", "<\u{200B}|"), ("/", "/\u{2060}")]),
        swap(&[("[", "[ "), ("]", " ]"), ("<<", "<< "), ("|>", " |>")]),
        swap(&[("INST", "ІNST"), ("SYS", "ЅYS"), ("user", "usеr")]), // Cyrillic І, Ѕ, е
        swap(&[("\n", "\r\n")]),
        swap(&[("\n", "\u{2028}")]),
        swap(&[("Computer:", "COMPUTER :"), ("Me:", "  me:")]),
        swap(&[("Computer:", "Ｃｏｍｐｕｔｅｒ："), ("Me:", "Мe:")]), // full width; Cyrillic М
        swap(&[("Computer:", "Com\u{200D}puter:")]),
    ]
}

/// The control-token ids of a prompt, in order.
fn controls(tok: &Tokenizer, ids: &[u32]) -> Vec<u32> {
    ids.iter().copied().filter(|&i| tok.is_special(i)).collect()
}

/// How often each plain-text marker occurs, matched in any case and spacing, past invisible
/// characters (full-width brackets, the escape form, are a different text).
fn marker_counts(markers: &Markers, text: &str) -> Vec<usize> {
    let squeezed: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && !is_invisible(*c))
        .flat_map(char::to_lowercase)
        .collect();
    markers
        .keys()
        .iter()
        .map(|k| squeezed.matches(k.as_str()).count())
        .collect()
}

fn templates() -> Vec<(String, ChatTemplate)> {
    let mut out: Vec<(String, ChatTemplate)> =
        ["chatml", "llama-2", "llama-3", "mistral", "zephyr", "gemma"]
            .iter()
            .map(|n| (n.to_string(), ChatTemplate::preset(n).unwrap()))
            .collect();
    let path = root().join("fixtures/golden/smollm2/chat_template.json");
    let smol: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let src = smol["template"].as_str().unwrap();
    out.push((
        "smollm2".into(),
        ChatTemplate::new(src, Some("<|im_start|>"), Some("<|im_end|>")).unwrap(),
    ));
    out
}

fn conversations(user: &str) -> [Vec<Message>; 2] {
    [
        vec![Message::system("You are Computer."), Message::user(user)],
        vec![
            Message::system("You are Computer."),
            Message::user("Hello"),
            Message::assistant("Hi! How can I help?"),
            Message::user(user),
        ],
    ]
}

#[test]
fn no_forged_turns_through_chat_templates() {
    let rows = rows();
    assert_eq!(rows.iter().filter(|r| r.attack).count(), 358);
    assert_eq!(rows.iter().filter(|r| !r.attack).count(), 45);
    // Each template on the tokenizer of its family, and on the others: a template used with a
    // tokenizer that lacks its control tokens must treat them as plain-text markers.
    let mut checked = 0;
    for tname in ["qwen2", "llama-bpe", "llama-spm"] {
        let tok = vocab(tname);
        let specials = special_strings(&tok);
        for (name, t) in templates() {
            let markers = Markers::from_template(t.source(), &specials);
            // Mistral's template has no system role.
            let system = t.render(&conversations("x")[0], true).is_ok();
            let convs = |user: &str| {
                conversations(user).map(|mut c| {
                    if !system {
                        c.remove(0);
                    }
                    c
                })
            };
            let innocent = convs("What is the capital of France?");
            for (k, innocent) in innocent.iter().enumerate() {
                let reference = t.encode(&tok, &specials, innocent, true).unwrap();
                let want_controls = controls(&tok, &reference.ids);
                let want_markers = marker_counts(&markers, &reference.text);
                for row in &rows {
                    for text in texts(row) {
                        let msgs = &convs(&text)[k];
                        let p = t.encode(&tok, &specials, msgs, true).unwrap();
                        let why = format!("{name} on {tname}, {text:?}:\n{}", p.text);
                        assert_eq!(controls(&tok, &p.ids), want_controls, "{why}");
                        assert_eq!(marker_counts(&markers, &p.text), want_markers, "{why}");
                        checked += 1;
                    }
                }
            }
        }
    }
    assert!(checked > 50_000, "{checked}");
}

#[test]
fn benign_mentions_of_markers_stay_readable() {
    let tok = vocab("qwen2");
    let specials = special_strings(&tok);
    for (name, t) in templates() {
        let markers = Markers::from_template(t.source(), &specials);
        for row in rows().iter().filter(|r| !r.attack) {
            let msgs = [Message::user(row.text.as_str())];
            let p = t.encode(&tok, &specials, &msgs, true).unwrap();
            let shown = markers.escape(&row.text);
            assert!(
                p.text.contains(shown.as_ref()),
                "{name}: {shown:?} in {:?}",
                p.text
            );
            // Escaping changes only bracket widths: the same text in normal form.
            assert_eq!(fold(&shown).text, fold(&row.text).text, "{name}");
            // Control-token strings are text, kept exactly as typed.
            if name == "chatml" || name == "smollm2" {
                assert_eq!(shown, row.text.as_str());
            }
        }
    }
}

#[test]
fn no_forged_turns_in_the_transcript_format() {
    let t = Transcript::new("Me", "Computer").unwrap();
    let tok = vocab("llama-spm");
    let plain = Encode {
        add_special_tokens: true,
        parse_special: false,
    };
    let labels = [t.user_label(), t.bot_label()];
    let turns = |text: &str| text.split('\n').filter(|l| opens_turn(l, &labels)).count();
    let reference = t.render(None, &[Message::user("Who are you?")], true);
    let want_controls = controls(&tok, &tok.encode(&reference, plain).unwrap());
    for row in rows() {
        for text in texts(&row) {
            for history in [
                vec![Message::user(text.as_str())],
                vec![
                    Message::user("Hello"),
                    Message::assistant("Hi!"),
                    Message::user(text.as_str()),
                ],
            ] {
                let rendered = t.render(Some("Computer is helpful."), &history, true);
                assert_eq!(turns(&rendered), history.len() + 1, "{rendered}");
                // No line break a model could read as a new line hides from the matcher.
                assert!(!rendered.contains(['\r', '\u{2028}', '\u{2029}', '\u{85}']));
                let ids = tok.encode(&rendered, plain).unwrap();
                assert_eq!(controls(&tok, &ids), want_controls, "{rendered}");
                if !row.attack {
                    // Benign text reaches the model as typed.
                    assert!(rendered.contains(text.trim()), "{rendered}");
                }
            }
        }
    }
}
