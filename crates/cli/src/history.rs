//! `samtal history`: the saved conversations (see [`samtal_chat::store`]).

use std::io::Write;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use samtal_chat::store::{ConversationStore, StoreLocation};

#[derive(Args, Debug)]
pub struct HistoryArgs {
    #[command(subcommand)]
    pub cmd: HistoryCmd,
    /// The conversation store: a `postgres://` URL or an SQLite file [default: $SAMTAL_STORE,
    /// else the SQLite file in samtal's data directory].
    #[arg(long, global = true, value_name = "URL|PATH")]
    pub store: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum HistoryCmd {
    /// The saved conversations, the most recently updated first.
    List {
        #[arg(long)]
        json: bool,
    },
    /// A conversation's settings and turns.
    Show {
        /// A conversation id, or an unambiguous prefix of one.
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// A conversation as OpenAI chat messages: [{"role": ..., "content": ...}, ...].
    Export {
        id: String,
        /// Compact JSON on one line (the default output is indented).
        #[arg(long)]
        json: bool,
    },
    /// Delete a conversation.
    Rm {
        id: String,
        #[arg(long)]
        json: bool,
    },
}

/// The full id of the conversation `given` names: itself, or the one id it is a prefix of.
pub fn resolve_id(store: &dyn ConversationStore, given: &str) -> Result<String> {
    let ids: Vec<String> = store.list()?.into_iter().map(|c| c.id).collect();
    if ids.iter().any(|id| id == given) {
        return Ok(given.to_owned());
    }
    let matching: Vec<&String> = ids.iter().filter(|id| id.starts_with(given)).collect();
    match matching.as_slice() {
        [one] => Ok((*one).clone()),
        [] => bail!("no saved conversation {given:?}"),
        _ => bail!(
            "{given:?} names {} conversations; give more of the id",
            matching.len()
        ),
    }
}

/// Text on one line, cut to `max` characters.
fn preview(text: &str, max: usize) -> String {
    let line = text.replace(['\n', '\r'], " ");
    if line.chars().count() > max {
        let cut: String = line.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    } else {
        line
    }
}

pub fn run(a: HistoryArgs) -> Result<()> {
    let location = StoreLocation::resolve(a.store.as_deref())?;
    let mut store = location
        .open()
        .with_context(|| format!("cannot open the conversation store {}", location.describe()))?;
    let cmd = a.cmd;
    let mut out = std::io::stdout().lock();
    match cmd {
        HistoryCmd::List { json } => {
            let list = store.list()?;
            if json {
                writeln!(out, "{}", serde_json::to_string(&list)?)?;
            } else if list.is_empty() {
                eprintln!("no saved conversations in {}", location.describe());
            } else {
                for c in &list {
                    writeln!(
                        out,
                        "{}  {}  {:>3} exchange{}  {}",
                        c.id,
                        c.updated,
                        c.exchanges,
                        if c.exchanges == 1 { " " } else { "s" },
                        preview(c.first_message.as_deref().unwrap_or(""), 60)
                    )?;
                }
            }
        }
        HistoryCmd::Show { id, json } => {
            let conv = store.load(&resolve_id(&*store, &id)?)?;
            if json {
                writeln!(out, "{}", serde_json::to_string(&conv)?)?;
            } else {
                writeln!(out, "conversation {}", conv.id)?;
                writeln!(out, "created {}, updated {}", conv.created, conv.updated)?;
                writeln!(
                    out,
                    "model {} ({})",
                    conv.model_path, conv.model_fingerprint
                )?;
                writeln!(out, "format {}", conv.format)?;
                if let Some(p) = &conv.persona {
                    writeln!(out, "persona: {p}")?;
                }
                for t in &conv.turns {
                    let end = match (&t.finish_reason, t.status.as_str()) {
                        (_, status) if status != "ok" => format!("  [{status}]"),
                        (Some(r), _) => format!("  [{r}]"),
                        (None, _) => String::new(),
                    };
                    writeln!(out, "\n{}: {}{end}", t.role, t.text)?;
                }
            }
        }
        HistoryCmd::Export { id, json } => {
            let messages = store.load(&resolve_id(&*store, &id)?)?.messages();
            let text = if json {
                serde_json::to_string(&messages)?
            } else {
                serde_json::to_string_pretty(&messages)?
            };
            writeln!(out, "{text}")?;
        }
        HistoryCmd::Rm { id, json } => {
            let id = resolve_id(&*store, &id)?;
            let removed = store.remove(&id)?;
            if json {
                writeln!(out, "{}", serde_json::json!({"id": id, "removed": removed}))?;
            } else {
                writeln!(out, "removed {id}")?;
            }
        }
    }
    out.flush()?;
    Ok(())
}
