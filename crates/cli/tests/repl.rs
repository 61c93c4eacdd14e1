//! End-to-end tests of interactive `samtal chat`: the binary runs in a pseudo-terminal (opened
//! with libc, so no system package is needed), the test types into it and reads the screen.
#![allow(clippy::unwrap_used)]
#![cfg(unix)]

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::pty::{Term, PROMPT};

const ARGS: &[&str] = &["--no-save", "--temperature", "0", "--max-new-tokens", "8"];

fn tiny_llama() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/models/tiny-llama")
        .display()
        .to_string()
}

fn command() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_samtal"));
    // `--stats` only acts on a terminal, so the batch answer is unaffected.
    cmd.arg("chat")
        .arg("--stats")
        .args(["--model", &tiny_llama()])
        .args(ARGS)
        .env(
            "SAMTAL_MODELS_DIR",
            std::env::temp_dir().join("samtal-no-models"),
        )
        // The guard scores with its n-gram model and rules only (no encoder to fetch).
        .env("SAMTAL_GUARD_ENCODER", "off")
        .env(
            "SAMTAL_DATA_DIR",
            std::env::temp_dir().join("samtal-repl-test-data"),
        )
        .env("TERM", "xterm");
    cmd
}

/// The answer non-interactive `samtal chat` gives to `message` with the same settings.
fn batch_answer(message: &str) -> String {
    let mut child = command()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{message}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn repl_streams_answers_and_runs_commands() {
    let expected = batch_answer("Who are you?");
    assert!(!expected.is_empty(), "the tiny model gave an empty answer");

    let mut t = Term::spawn(command());
    t.wait_for("Type /help", 1);
    t.line("Who are you?\r");
    // Greedy decoding: the streamed answer is the batch answer; `--stats` adds the timings.
    t.wait_for(&expected, 1);
    t.wait_for("ms to first token,", 1);

    t.line("/undo\r");
    t.wait_for("[last exchange removed]", 1);
    t.line("/undo\r");
    t.wait_for("[nothing to undo]", 1);

    // A message continued over two lines with a trailing backslash.
    t.line("Hello\\\r");
    t.wait_for("… ", 1);
    t.line("there\r");
    t.line("/stats\r");
    t.wait_for("[1 exchanges,", 1);

    t.line("/reset\r");
    t.wait_for("[conversation reset]", 1);
    t.line("/stats\r");
    t.wait_for("[0 exchanges,", 1);

    t.line("/set temperature 0.5\r");
    t.wait_for("[temperature = 0.5]", 1);
    t.line("/set temperature hot\r");
    t.wait_for("temperature: \"hot\" is not a valid value", 1);
    t.line("/set top_p 2\r");
    t.wait_for("error: ", 2);
    t.line("/set colour blue\r");
    t.wait_for("unknown setting \"colour\"", 1);

    t.type_("\x04");
    assert_eq!(t.exit_code(), Some(0), "Ctrl-D exits cleanly");
}

#[test]
fn ctrl_c_at_the_prompt_exits() {
    let mut t = Term::spawn(command());
    t.wait_for("Type /help", 1);
    t.line("/help\r");
    t.wait_for("/load ID", 1);
    t.type_("\x03");
    assert_eq!(t.exit_code(), Some(0));
}

/// Ctrl-C while an answer streams stops it and keeps the REPL running. The tiny model is fast
/// enough to finish a whole answer before the key arrives on a loaded machine; then the key
/// lands at the prompt and exits, which is right too, so the test accepts either outcome (and
/// says which it saw). Run alone it cancels.
#[test]
fn ctrl_c_during_an_answer_cancels_it() {
    let mut t = Term::spawn(command());
    t.wait_for("Type /help", 1);
    t.line("/set max_new_tokens 100000\r");
    t.line("/set repetition_penalty 1\r");
    let prompts = t.text().matches(PROMPT).count();
    t.type_("Tell me a long story.\r");
    // Rustyline turns bracketed paste off as it hands the line over: the answer starts.
    t.wait_for("\x1b[?2004l", prompts);
    t.type_("\x03");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let cancelled = t.text().contains("[cancelled: the partial answer is kept]");
        if cancelled && t.text().matches(PROMPT).count() > prompts {
            // Still running after the answer was cut short, kept and marked.
            eprintln!("Ctrl-C cancelled the answer");
            t.line("/stats\r");
            t.wait_for("[1 exchanges,", 1);
            t.type_("\x04");
            break;
        }
        if t.child.try_wait().unwrap().is_some() {
            eprintln!("the answer finished before Ctrl-C, which then exited at the prompt");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "stuck; the screen:\n{}",
            t.text()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(t.exit_code(), Some(0));
}

/// `/save` starts storing a `--no-save` conversation and prints its id; `/load ID` in another
/// process brings it back.
#[test]
fn save_then_load_resumes_the_conversation() {
    let mut t = Term::spawn(command());
    t.wait_for("Type /help", 1);
    t.line("/save\r");
    t.wait_for("with the first exchange]", 1);
    t.line("Who are you?\r");
    t.line("/save\r");
    t.wait_for("[saved as ", 1);
    let text = t.text();
    let id = text
        .split("[saved as ")
        .nth(1)
        .and_then(|rest| rest.split(']').next())
        .unwrap()
        .to_owned();
    t.type_("\x04");
    assert_eq!(t.exit_code(), Some(0));

    let mut t = Term::spawn(command());
    t.wait_for("Type /help", 1);
    t.line("/stats\r");
    t.wait_for("[0 exchanges,", 1);
    t.line(&format!("/load {id}\r"));
    t.wait_for(&format!("[loaded {id}: 1 exchanges]"), 1);
    t.line("/stats\r");
    t.wait_for("[1 exchanges,", 1);
    t.line("/load nosuchid\r");
    t.wait_for("error: ", 1);
    t.type_("\x04");
    assert_eq!(t.exit_code(), Some(0));
}
