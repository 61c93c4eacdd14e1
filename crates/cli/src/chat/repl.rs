//! The interactive `samtal chat`, when stdin is a terminal: line editing and in-session history
//! (rustyline), multi-line input, slash commands, streamed answers, and Ctrl-C that stops the
//! answer being generated rather than the program.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use rustyline::error::ReadlineError;
use rustyline::DefaultEditor;
use samtal_chat::store;
use samtal_chat::{CancelToken, ChatEvent, FinishReason, Reply, Session};
use samtal_generation::{Overrides, Pipeline, SETTINGS};

use super::report::{model_record, note_dropped, note_guard, note_withheld, print_json, save};

const HELP: &str = "\
Type a message and press Enter; end a line with \\ to continue the message on the next line.
Commands:
  /help               this text
  /system TEXT        set the persona (empty: remove it)
  /reset              forget the conversation (the persona stays)
  /undo               drop the last exchange
  /set KEY VALUE      change a generation setting (/set alone lists them)
  /save               store the conversation and print its id
  /load ID            continue a stored conversation (see `samtal history list`)
  /stats              exchanges, tokens in the cache, last time to first token and tokens/s
  /quit               exit (so do Ctrl-D and Ctrl-C at the prompt)
Ctrl-C while an answer is streaming stops it; the partial answer is kept, marked cancelled.";

#[derive(Debug)]
pub struct Repl {
    pub session: Session,
    /// The loaded model, shared with conversations that `/load` resumes.
    pub pipeline: Arc<Pipeline>,
    pub model_path: PathBuf,
    pub json: bool,
    /// Print timings after each answer.
    pub stats: bool,
    /// The conversation id `--json` reports when the session does not save.
    pub id: String,
    /// The last answer, for `/stats`.
    pub last: Option<Reply>,
}

/// A dimmed note on stderr (plain when stderr is not a terminal).
fn note(msg: &str) {
    if std::io::stderr().is_terminal() {
        eprintln!("\x1b[2m{msg}\x1b[0m");
    } else {
        eprintln!("{msg}");
    }
}

impl Repl {
    pub fn run(mut self) -> Result<()> {
        // The token of the answer being generated. rustyline reads Ctrl-C at the prompt as a
        // key (the terminal is in raw mode there), so a SIGINT arrives only while the terminal
        // is cooked: during an answer, which it cancels, or in between, where it exits.
        let active: Arc<Mutex<Option<CancelToken>>> = Arc::default();
        let handler_slot = active.clone();
        if let Err(e) = ctrlc::set_handler(move || {
            match handler_slot.lock().ok().and_then(|slot| slot.clone()) {
                Some(token) => token.cancel(),
                None => std::process::exit(130),
            }
        }) {
            eprintln!("warning: Ctrl-C will not stop answers: {e}");
        }
        let mut editor = DefaultEditor::new().context("cannot set up line editing")?;
        eprintln!("Type /help for commands, Ctrl-D to exit.");
        let mut turn = 0;
        loop {
            let Some(input) = read_message(&mut editor)? else {
                return Ok(());
            };
            let trimmed = input.trim();
            if trimmed.is_empty() {
                continue;
            }
            if trimmed.starts_with('/') {
                if !self.command(trimmed) {
                    return Ok(());
                }
                continue;
            }
            turn += 1;
            let token = CancelToken::new();
            if let Ok(mut slot) = active.lock() {
                *slot = Some(token.clone());
            }
            let result = self.answer(&input, &token, turn);
            if let Ok(mut slot) = active.lock() {
                *slot = None;
            }
            match result {
                Ok(true) => {}
                Ok(false) => turn -= 1,
                Err(e) => return Err(e),
            }
        }
    }

    /// Generates and streams one answer; `Ok(false)` when the turn could not run (reported).
    fn answer(&mut self, input: &str, token: &CancelToken, turn: usize) -> Result<bool> {
        let json = self.json;
        let mut out = std::io::stdout().lock();
        let mut write_err = None;
        let result = self.session.send(input, Some(token), &mut |ev| match ev {
            ChatEvent::Dropped { turns, tokens } => note_dropped(turns, tokens),
            ChatEvent::Guard(r) => note_guard(r),
            ChatEvent::Withheld => {
                let _ = out.write_all(b"\n");
                note_withheld();
            }
            ChatEvent::Text(t) if !json => {
                if let Err(e) = out.write_all(t.as_bytes()).and_then(|()| out.flush()) {
                    write_err.get_or_insert(e);
                }
            }
            _ => {}
        });
        if let Some(e) = write_err {
            return Err(e.into());
        }
        let reply = match result {
            Ok(reply) => reply,
            // A turn that cannot run (the context is full, say) is reported; the loop goes on.
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(false);
            }
        };
        if json {
            let id = self
                .session
                .conversation_id()
                .unwrap_or(&self.id)
                .to_owned();
            print_json(&mut out, turn, &reply, &id)?;
        } else {
            writeln!(out)?;
            out.flush()?;
        }
        drop(out);
        if reply.finish_reason == FinishReason::Cancelled {
            note("[cancelled: the partial answer is kept]");
        }
        if self.stats {
            note(&format!(
                "[{} tokens, {:.0} ms to first token, {:.1} tokens/s]",
                reply.generated_tokens, reply.ttft_ms, reply.tokens_per_s
            ));
        }
        self.last = Some(reply);
        Ok(true)
    }

    /// Runs a slash command; false when it ends the REPL.
    fn command(&mut self, line: &str) -> bool {
        let (cmd, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let rest = rest.trim();
        match cmd {
            "/quit" | "/exit" => return false,
            "/help" => eprintln!("{HELP}"),
            "/reset" => {
                self.session.reset();
                save(&mut self.session);
                self.last = None;
                eprintln!("[conversation reset]");
            }
            "/undo" => {
                let undone = self.session.undo();
                save(&mut self.session);
                eprintln!(
                    "[{}]",
                    if undone {
                        "last exchange removed"
                    } else {
                        "nothing to undo"
                    }
                );
            }
            "/system" => {
                self.session.set_system(rest);
                save(&mut self.session);
                eprintln!(
                    "[persona {}]",
                    if rest.is_empty() { "removed" } else { "set" }
                );
            }
            "/set" => match self.set(rest) {
                Ok(msg) => {
                    save(&mut self.session);
                    eprintln!("[{msg}]");
                }
                Err(e) => eprintln!("error: {e}"),
            },
            "/save" => match self.save_now() {
                Ok(msg) => eprintln!("[{msg}]"),
                Err(e) => eprintln!("error: {e:#}"),
            },
            "/load" => match self.load(rest) {
                Ok(msg) => eprintln!("[{msg}]"),
                Err(e) => eprintln!("error: {e:#}"),
            },
            "/stats" => eprintln!("[{}]", self.stats_line()),
            _ => eprintln!("error: unknown command {cmd}; /help lists them"),
        }
        true
    }

    /// `/set KEY VALUE`: any setting of the settings table, by any of its names, checked as
    /// the CLI flags and the server check it, before the session sees it.
    fn set(&mut self, args: &str) -> Result<String, String> {
        let usage = || {
            let keys: Vec<String> = SETTINGS
                .iter()
                .map(|s| {
                    format!(
                        "  {:<22}{} [now {}]",
                        s.name,
                        s.help,
                        (s.get)(self.session.params())
                    )
                })
                .collect();
            format!("usage: /set KEY VALUE, KEY one of:\n{}", keys.join("\n"))
        };
        let (key, value) = args
            .trim()
            .split_once(char::is_whitespace)
            .map(|(k, v)| (k, v.trim()))
            .filter(|(_, v)| !v.is_empty())
            .ok_or_else(usage)?;
        let mut o = Overrides::default();
        o.set_text(key, &[value]).map_err(|e| e.to_string())?;
        let p = o.apply(self.session.params());
        p.validate(self.pipeline.tokenizer.vocab_size())
            .map_err(|e| e.to_string())?;
        *self.session.params_mut() = p;
        Ok(format!("{key} = {value}"))
    }

    /// `/save`: a session started with `--no-save` starts saving under a new id.
    fn save_now(&mut self) -> Result<String> {
        if self.session.conversation_id().is_none() {
            let store = store::open_default().context("cannot open the conversation store")?;
            let record = model_record(&self.model_path)?;
            self.session.save_to(store, store::new_id(), record);
        }
        self.session
            .save()
            .context("the conversation was not saved")?;
        let id = self.session.conversation_id().unwrap_or(&self.id);
        // The store records a conversation with its first exchange (see `Session::save`).
        Ok(
            if self.session.messages().iter().any(|m| m.role == "user") {
                format!("saved as {id}")
            } else {
                format!("will be saved as {id} with the first exchange")
            },
        )
    }

    /// `/load ID`: continues a stored conversation on the model already loaded.
    fn load(&mut self, given: &str) -> Result<String> {
        anyhow::ensure!(!given.is_empty(), "usage: /load ID");
        let store = store::open_default().context("cannot open the conversation store")?;
        let id = crate::history::resolve_id(&*store, given)?;
        let conv = store.load(&id)?;
        let record = model_record(&self.model_path)?;
        if record.fingerprint != conv.model_fingerprint {
            note(&format!(
                "[conversation {id} was saved with other model weights ({}); continuing on {}]",
                conv.model_path, record.path
            ));
        }
        self.session = Session::resume(self.pipeline.clone(), store, &conv, record)?;
        self.last = None;
        let exchanges = conv.turns.len() / 2;
        Ok(format!("loaded {id}: {exchanges} exchanges"))
    }

    fn stats_line(&self) -> String {
        let turns = self
            .session
            .messages()
            .iter()
            .filter(|m| m.role == "user")
            .count();
        let cached = self.session.cached_ids().len();
        let last = self.last.as_ref().map_or_else(
            || "no answer yet".to_owned(),
            |r| {
                format!(
                    "last answer: {:.0} ms to first token, {:.1} tokens/s",
                    r.ttft_ms, r.tokens_per_s
                )
            },
        );
        format!(
            "{turns} exchanges, {cached} tokens in the cache of {}, {last}",
            self.session.budget()
        )
    }
}

/// One message from the terminal: lines ending in `\` continue it. `None` on Ctrl-D or Ctrl-C
/// at the prompt, which end the REPL.
fn read_message(editor: &mut DefaultEditor) -> Result<Option<String>> {
    let mut message = String::new();
    let mut prompt = "> ";
    loop {
        match editor.readline(prompt) {
            Ok(line) => {
                if !line.trim().is_empty() {
                    // A history failure only costs recall of this line.
                    let _ = editor.add_history_entry(line.as_str());
                }
                match line.strip_suffix('\\') {
                    Some(head) => {
                        message.push_str(head);
                        message.push('\n');
                        prompt = "… ";
                    }
                    None => {
                        message.push_str(&line);
                        return Ok(Some(message));
                    }
                }
            }
            Err(ReadlineError::Interrupted | ReadlineError::Eof) => {
                eprintln!();
                return Ok(None);
            }
            Err(e) => return Err(e).context("cannot read the terminal"),
        }
    }
}
