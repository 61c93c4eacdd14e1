//! What a chat turn reports outside its answer, shared by the line-per-turn mode and the REPL:
//! the guard's notes, dropped exchanges, the `--json` object per turn, and saving.

use std::io::{IsTerminal, Write};

use anyhow::Result;
use samtal_chat::store;
use samtal_chat::{GuardReport, ModelRecord, Reply, Session, Verdict};
use serde::Serialize;

/// The per-turn object of `--json`; acceptance scripts read it, so its fields stay as they are
/// (`guard`, the guard's verdict or null with the guard off, was added after them).
#[derive(Serialize, Debug)]
struct TurnJson<'a> {
    turn: usize,
    text: &'a str,
    finish_reason: &'static str,
    prompt_tokens: usize,
    prefill_tokens: usize,
    ttft_ms: f64,
    tokens_per_s: f64,
    dropped_turns: usize,
    conversation_id: &'a str,
    guard: Option<&'a GuardReport>,
}

/// What the store records about the model at `path`.
pub(crate) fn model_record(path: &std::path::Path) -> Result<ModelRecord> {
    // Absolute, so that `--resume` finds the model from any working directory.
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    Ok(ModelRecord {
        path: path.display().to_string(),
        fingerprint: store::fingerprint(&path)?,
    })
}

/// A notice on stderr, yellow on a terminal.
fn warn(msg: &str) {
    if std::io::stderr().is_terminal() {
        eprintln!("\x1b[33m{msg}\x1b[0m");
    } else {
        eprintln!("{msg}");
    }
}

/// The guard's verdict on a message, when it flagged or blocked it.
pub(crate) fn note_guard(r: &GuardReport) {
    let what = match r.verdict {
        Verdict::Allow => return,
        Verdict::Flag => {
            "flagged as a possible prompt injection; the model sees it marked as untrusted"
        }
        Verdict::Block => "blocked as a prompt injection; it did not reach the model",
    };
    let why = if r.reasons.is_empty() {
        String::new()
    } else {
        format!(": {}", r.reasons.join(", "))
    };
    warn(&format!(
        "[guard: message {what} (score {:.2}{why})]",
        r.score
    ));
}

/// The note shown when an answer was withheld.
pub(crate) fn note_withheld() {
    warn("[guard: the answer repeated the hidden persona and was withheld]");
}

/// A note about dropped exchanges, on stderr (dimmed on a terminal).
pub(crate) fn note_dropped(turns: usize, tokens: usize) {
    let msg = format!(
        "[dropped the oldest {turns} exchange{} ({tokens} tokens) to fit the context]",
        if turns == 1 { "" } else { "s" }
    );
    if std::io::stderr().is_terminal() {
        eprintln!("\x1b[2m{msg}\x1b[0m");
    } else {
        eprintln!("{msg}");
    }
}

pub(crate) fn print_json(out: &mut impl Write, turn: usize, r: &Reply, id: &str) -> Result<()> {
    let obj = TurnJson {
        turn,
        text: &r.text,
        finish_reason: r.finish_reason.as_str(),
        prompt_tokens: r.prompt_tokens,
        prefill_tokens: r.prefill_tokens,
        ttft_ms: r.ttft_ms,
        tokens_per_s: r.tokens_per_s,
        dropped_turns: r.dropped_turns,
        conversation_id: id,
        guard: r.guard.as_ref(),
    };
    writeln!(out, "{}", serde_json::to_string(&obj)?)?;
    out.flush()?;
    Ok(())
}

/// Writes an undo, reset or persona change to the store; a failure is reported, and the
/// conversation goes on in memory.
pub(crate) fn save(session: &mut Session) {
    if let Err(e) = session.save() {
        eprintln!("error: the change was not saved: {e}");
    }
}
