//! End-to-end tests of interactive `samtal chat`: the binary runs in a pseudo-terminal (opened
//! with libc, so no system package is needed), the test types into it and reads the screen.
#![allow(clippy::unwrap_used)]
#![cfg(unix)]

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// rustyline switches bracketed paste on as each prompt starts.
const PROMPT: &str = "\x1b[?2004h";

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
        .env(
            "SAMTAL_DATA_DIR",
            std::env::temp_dir().join("samtal-repl-test-data"),
        )
        .env("TERM", "xterm");
    cmd
}

/// `samtal chat` on a pseudo-terminal, with everything it wrote so far.
struct Term {
    child: Child,
    master: File,
    screen: Arc<Mutex<Vec<u8>>>,
}

impl Term {
    fn spawn() -> Self {
        let (mut master, mut slave) = (0, 0);
        let size = libc::winsize {
            ws_row: 24,
            ws_col: 200,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: openpty writes two fds into the given integers and reads `size`.
        let rc = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                &size,
            )
        };
        assert_eq!(rc, 0, "openpty failed");
        // SAFETY: both fds were just opened and are owned here.
        let (master, slave) = unsafe { (File::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        let mut cmd = command();
        cmd.stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave));
        // SAFETY: only async-signal-safe calls between fork and exec. A new session with the
        // pty as controlling terminal, so that Ctrl-C sends SIGINT as on a real terminal.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().unwrap();
        drop(cmd);
        let screen = Arc::new(Mutex::new(Vec::new()));
        let (mut reader, mut answerer) = (master.try_clone().unwrap(), master.try_clone().unwrap());
        let sink = screen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // Ends with EIO once the child has closed the terminal.
            while let Ok(n @ 1..) = reader.read(&mut buf) {
                // rustyline asks where the cursor is; a terminal would answer.
                if buf[..n].windows(4).any(|w| w == b"\x1b[6n") {
                    let _ = answerer.write_all(b"\x1b[1;1R");
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Self {
            child,
            master,
            screen,
        }
    }

    /// The screen so far as text: carriage returns removed, line breaks as spaces.
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.screen.lock().unwrap())
            .replace('\r', "")
            .replace('\n', " ")
    }

    /// Waits until the screen shows `needle` `count` times.
    fn wait_for(&self, needle: &str, count: usize) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.text().matches(needle).count() < count {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {needle:?}; the screen:\n{}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Types a line once the prompt is up and waits for the next prompt: rustyline discards
    /// what is typed while an answer is streaming, as the terminal switches modes.
    fn line(&mut self, keys: &str) {
        let prompts = self.text().matches(PROMPT).count();
        self.wait_for(PROMPT, prompts.max(1));
        self.type_(keys);
        self.wait_for(PROMPT, prompts.max(1) + 1);
    }

    fn type_(&mut self, keys: &str) {
        self.master.write_all(keys.as_bytes()).unwrap();
        self.master.flush().unwrap();
    }

    /// Waits for the process to exit; its exit code.
    fn exit_code(&mut self) -> Option<i32> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("samtal chat did not exit; the screen:\n{}", self.text());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
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

    let mut t = Term::spawn();
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
    let mut t = Term::spawn();
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
    let mut t = Term::spawn();
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
    let mut t = Term::spawn();
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

    let mut t = Term::spawn();
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
