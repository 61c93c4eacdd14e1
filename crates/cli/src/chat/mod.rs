//! `samtal chat`: a conversation over [`samtal_chat::Session`].
//!
//! When stdin is not a terminal each input line is one user message and each answer is one
//! output line: line breaks inside an answer are written as spaces (`--json` keeps the text
//! exact), so that answer k is always line k. With `--json` each turn is one JSON object (see
//! `report::TurnJson`). On a terminal it is the REPL of `repl`.
//!
//! Conversations are saved in the conversation store (see [`samtal_chat::store`]) as each
//! exchange completes, unless `--no-save`; `--resume [ID]` continues one.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use samtal_chat::store;
use samtal_chat::{
    chat_params, ChatEvent, ContextPolicy, FormatChoice, GuardOptions, Session, SessionOptions,
};
use samtal_generation::Pipeline;

use crate::args::ModelArgs;
use crate::generate::{GrammarArgs, SettingsArgs};

mod repl;
mod report;

pub(crate) use report::model_record;
use report::{note_dropped, note_guard, note_withheld, print_json};

#[derive(Args, Debug)]
pub struct ChatArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// The persona: system prompt (template format) or introduction (transcript format).
    #[arg(long, visible_alias = "system")]
    pub persona: Option<String>,
    /// Prompt format [default: template when the model has a chat template, else transcript].
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// A built-in chat template instead of the model's (chatml, llama-2, llama-3, mistral,
    /// zephyr, gemma); implies --format template.
    #[arg(long, conflicts_with = "format")]
    pub template: Option<String>,
    /// The user's speaker label in the transcript format.
    #[arg(long, default_value = "Me")]
    pub user_label: String,
    /// The bot's speaker label in the transcript format.
    #[arg(long, default_value = "Computer")]
    pub bot_label: String,
    /// Token budget for prompt plus answer [default: the model's context length].
    #[arg(long)]
    pub context: Option<usize>,
    /// What to do when the conversation outgrows the budget.
    #[arg(long, value_enum, default_value = "drop-oldest")]
    pub context_policy: PolicyArg,
    /// End an answer once it holds this many characters.
    #[arg(long, visible_alias = "max-answer-length")]
    pub max_answer_chars: Option<usize>,
    #[command(flatten)]
    pub settings: SettingsArgs,
    #[command(flatten)]
    pub grammar: GrammarArgs,
    /// One JSON object per turn instead of the answer text.
    #[arg(long)]
    pub json: bool,
    /// Continue a saved conversation [default: the most recently updated]. It keeps the persona,
    /// format and sampler settings it was saved with (--persona replaces the persona); without
    /// --model it runs on the model it was saved with.
    #[arg(long, value_name = "ID", num_args = 0..=1, default_missing_value = "")]
    pub resume: Option<String>,
    /// Do not save this conversation.
    #[arg(long, conflicts_with = "resume")]
    pub no_save: bool,
    /// On a terminal, print time to first token and tokens/s (dimmed, on stderr) after each
    /// answer.
    #[arg(long)]
    pub stats: bool,
    /// Prompt-injection policy: off, flag (a suspicious message reaches the model marked as
    /// untrusted, and is shown as flagged) or block (it gets a fixed answer instead).
    #[arg(long, default_value = "flag")]
    pub guard: samtal_chat::GuardMode,
    /// Do not check answers for leaks of the persona (canary and long verbatim spans).
    #[arg(long)]
    pub no_leak_check: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum FormatArg {
    Template,
    Transcript,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum PolicyArg {
    /// Drop the oldest exchanges; the persona stays.
    DropOldest,
    /// Keep the first exchange and a rolling window of the latest.
    KeepFirst,
    /// Stop with an error.
    Error,
}

/// An answer on one line: each line break (`\r\n`, `\n` or `\r`) becomes a space.
fn one_line(text: &str) -> String {
    text.replace("\r\n", " ").replace(['\n', '\r'], " ")
}

pub fn run(a: ChatArgs) -> Result<()> {
    let stats = a.stats;
    let started = match a.resume.clone() {
        Some(id) => resume(a, &id)?,
        None => start(a)?,
    };
    let Started {
        mut session,
        json,
        pipeline,
        path,
    } = started;
    let id = session
        .conversation_id()
        .map_or_else(store::new_id, str::to_owned);
    if std::io::stdin().is_terminal() {
        repl::Repl {
            session,
            pipeline,
            model_path: path,
            json,
            stats,
            id,
            last: None,
        }
        .run()
    } else {
        batch(&mut session, &id, json)
    }
}

/// A session ready to chat, with what the REPL's `/load` and `/save` need.
struct Started {
    session: Session,
    json: bool,
    pipeline: Arc<Pipeline>,
    path: std::path::PathBuf,
}

/// A new conversation, saved unless `--no-save`.
fn start(a: ChatArgs) -> Result<Started> {
    let path = samtal_models::resolve(a.model.model.as_deref())?;
    crate::guard::install_for_sessions(a.guard);
    let pipeline = Arc::new(a.model.load_from(&path)?);
    let format = match (a.format, a.template) {
        (_, Some(name)) => FormatChoice::Template(Some(name)),
        (Some(FormatArg::Template), None) => FormatChoice::Template(None),
        (Some(FormatArg::Transcript), None) => FormatChoice::Transcript,
        (None, None) => FormatChoice::Auto,
    };
    let opts = SessionOptions {
        format,
        system: a.persona,
        user_label: a.user_label,
        bot_label: a.bot_label,
        context: a.context,
        policy: match a.context_policy {
            PolicyArg::DropOldest => ContextPolicy::DropOldest,
            PolicyArg::KeepFirst => ContextPolicy::KeepFirstExchange,
            PolicyArg::Error => ContextPolicy::Error,
        },
        params: Some(
            a.settings
                .overrides()?
                .apply(&chat_params(&pipeline.defaults)),
        ),
        max_answer_chars: a.max_answer_chars,
        guard: GuardOptions {
            mode: a.guard,
            leak_check: !a.no_leak_check,
            ..GuardOptions::default()
        },
    };
    let mut session = Session::new(pipeline.clone(), opts)?;
    session.set_grammar(a.grammar.grammar()?)?;
    if !a.no_save {
        let store = store::open_default().context("cannot open the conversation store")?;
        session.save_to(store, store::new_id(), model_record(&path)?);
    }
    Ok(Started {
        session,
        json: a.json,
        pipeline,
        path,
    })
}

/// A saved conversation continued: `id`, or the latest when it is empty.
fn resume(a: ChatArgs, id: &str) -> Result<Started> {
    let store = store::open_default().context("cannot open the conversation store")?;
    let id = if id.is_empty() {
        store
            .latest()?
            .context("there is no saved conversation to resume")?
    } else {
        crate::history::resolve_id(&*store, id)?
    };
    let conv = store.load(&id)?;
    let path = match a.model.model.as_deref() {
        Some(m) => samtal_models::resolve(Some(m))?,
        None => std::path::PathBuf::from(&conv.model_path),
    };
    let pipeline = Arc::new(a.model.load_from(&path)?);
    let record = model_record(&path)?;
    if record.fingerprint != conv.model_fingerprint {
        eprintln!(
            "note: conversation {id} was saved with other model weights ({}); continuing on {}",
            conv.model_path, record.path
        );
    }
    let mut session = Session::resume(pipeline.clone(), store, &conv, record)?;
    session.set_grammar(a.grammar.grammar()?)?;
    if let Some(persona) = a.persona {
        session.set_system(persona);
    }
    Ok(Started {
        session,
        json: a.json,
        pipeline,
        path,
    })
}

/// Non-interactive: one message per input line, one answer (or JSON object) per output line.
fn batch(session: &mut Session, id: &str, json: bool) -> Result<()> {
    let mut out = std::io::stdout().lock();
    for (k, line) in std::io::stdin().lock().lines().enumerate() {
        let line = line.context("cannot read stdin")?;
        let turn = k + 1;
        let reply = session
            .send(&line, None, &mut |ev| {
                if json {
                    return;
                }
                match ev {
                    ChatEvent::Dropped { turns, tokens } => note_dropped(turns, tokens),
                    ChatEvent::Guard(r) => note_guard(r),
                    ChatEvent::Withheld => note_withheld(),
                    _ => {}
                }
            })
            .with_context(|| format!("turn {turn}"))?;
        let written = if json {
            print_json(&mut out, turn, &reply, id)
        } else {
            writeln!(out, "{}", one_line(&reply.text))
                .and_then(|()| out.flush())
                .map_err(Into::into)
        };
        if let Err(e) = written {
            // A closed pipe (e.g. `| head`) ends the conversation quietly.
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return Ok(());
            }
            return Err(e);
        }
    }
    Ok(())
}
