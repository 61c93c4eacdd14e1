//! End-to-end tests of saved conversations: `samtal chat` stores each exchange, `samtal history`
//! lists, shows, exports and removes them, `--resume` continues one under the same id, and a
//! chat killed with SIGKILL mid-answer keeps every exchange it had completed.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

fn tiny_llama() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/models/tiny-llama")
        .display()
        .to_string()
}

/// A scratch data directory, removed at the end.
struct DataDir(PathBuf);

impl DataDir {
    fn new(name: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        Self(std::env::temp_dir().join(format!(
            "samtal-history-{name}-{}-{nanos}",
            std::process::id()
        )))
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn samtal(data: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_samtal"));
    cmd.args(args)
        .env("SAMTAL_DATA_DIR", data)
        .env(
            "SAMTAL_MODELS_DIR",
            std::env::temp_dir().join("samtal-no-models"),
        )
        // The guard scores with its n-gram model and rules only (no encoder to fetch).
        .env("SAMTAL_GUARD_ENCODER", "off")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

fn spawn_chat(data: &Path, extra: &[&str], max_new_tokens: &str) -> Child {
    let m = tiny_llama();
    let mut args = vec![
        "chat",
        "--json",
        "--model",
        &m,
        "--temperature",
        "0",
        "--max-new-tokens",
        max_new_tokens,
    ];
    args.extend(extra);
    samtal(data, &args).spawn().unwrap()
}

/// Runs a chat with `input` on stdin; returns its per-turn JSON objects.
fn chat(data: &Path, extra: &[&str], input: &str) -> Vec<Value> {
    let mut child = spawn_chat(data, extra, "8");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn history(data: &Path, args: &[&str]) -> Output {
    let mut all = vec!["history"];
    all.extend(args);
    let o = samtal(data, &all).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o
}

fn history_json(data: &Path, args: &[&str]) -> Value {
    serde_json::from_slice(&history(data, args).stdout).unwrap()
}

/// The (role, text) pairs of a `history show --json` object.
fn turns(conv: &Value) -> Vec<(String, String)> {
    conv["turns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["role"].as_str().unwrap().to_owned(),
                t["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn chat_saves_history_shows_exports_and_resume_continues() {
    let data = DataDir::new("e2e");
    let out = chat(&data.0, &[], "Who are you?\nWhere is Paris?\n");
    assert_eq!(out.len(), 2);
    let id = out[0]["conversation_id"].as_str().unwrap().to_owned();
    assert_eq!(out[1]["conversation_id"], id.as_str());

    let list = history_json(&data.0, &["list", "--json"]);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], id.as_str());
    assert_eq!(list[0]["exchanges"], 2);
    assert_eq!(list[0]["first_message"], "Who are you?");

    let conv = history_json(&data.0, &["show", &id, "--json"]);
    let expected = vec![
        ("user".to_owned(), "Who are you?".to_owned()),
        (
            "assistant".to_owned(),
            out[0]["text"].as_str().unwrap().to_owned(),
        ),
        ("user".to_owned(), "Where is Paris?".to_owned()),
        (
            "assistant".to_owned(),
            out[1]["text"].as_str().unwrap().to_owned(),
        ),
    ];
    assert_eq!(turns(&conv), expected);
    assert!(conv["model_fingerprint"]
        .as_str()
        .unwrap()
        .starts_with("fp1:"));
    assert_eq!(conv["sampler"]["max_new_tokens"], 8);
    let answer = &conv["turns"][1];
    assert_eq!(answer["finish_reason"], out[0]["finish_reason"]);
    assert!(!answer["token_ids"].as_array().unwrap().is_empty());
    assert_eq!(answer["timings"]["prompt_tokens"], out[0]["prompt_tokens"]);

    // Export: the OpenAI messages shape, with a unique id prefix accepted.
    let exported = history_json(&data.0, &["export", &id[..8]]);
    let shape: Vec<(String, String)> = exported
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            assert_eq!(m.as_object().unwrap().len(), 2, "{m}");
            (
                m["role"].as_str().unwrap().to_owned(),
                m["content"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(shape, expected);

    // Resume by id: same conversation, its history prefilled, a third exchange appended.
    let more = chat(&data.0, &["--resume", &id], "Tell me more.\n");
    assert_eq!(more.len(), 1);
    assert_eq!(more[0]["conversation_id"], id.as_str());
    assert!(more[0]["prompt_tokens"].as_u64().unwrap() > out[1]["prompt_tokens"].as_u64().unwrap());
    let conv = history_json(&data.0, &["show", &id, "--json"]);
    let all = turns(&conv);
    assert_eq!(all.len(), 6);
    assert_eq!(all[..4], expected[..]);
    assert_eq!(all[4].1, "Tell me more.");
    assert_eq!(all[5].1, more[0]["text"].as_str().unwrap());

    // --resume without an id takes the latest; --no-save stores nothing.
    let again = chat(&data.0, &["--resume"], "Bye.\n");
    assert_eq!(again[0]["conversation_id"], id.as_str());
    let throwaway = chat(&data.0, &["--no-save"], "Not kept.\n");
    assert_ne!(throwaway[0]["conversation_id"], id.as_str());
    let list = history_json(&data.0, &["list", "--json"]);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["exchanges"], 4);

    let rm = history_json(&data.0, &["rm", &id, "--json"]);
    assert_eq!(rm["removed"], true);
    assert_eq!(
        history_json(&data.0, &["list", "--json"]),
        serde_json::json!([])
    );
    let missing = samtal(&data.0, &["history", "show", &id]).output().unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no saved conversation"));
}

#[test]
fn sigkill_mid_answer_keeps_every_completed_exchange() {
    let data = DataDir::new("kill");
    // A long answer budget (the tiny model has 256 positions) so that the third answer is still
    // being generated when the kill comes.
    let mut child = spawn_chat(&data.0, &[], "200");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut completed = Vec::new();
    for line in ["Who are you?", "Where is Paris?"] {
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
        let mut json = String::new();
        stdout.read_line(&mut json).unwrap();
        completed.push(serde_json::from_str::<Value>(&json).unwrap());
    }
    writeln!(stdin, "Tell me more about the third place.").unwrap();
    stdin.flush().unwrap();
    child.kill().unwrap(); // SIGKILL on Unix
    let status = child.wait().unwrap();
    assert!(!status.success());

    let id = completed[0]["conversation_id"].as_str().unwrap();
    let conv = history_json(&data.0, &["show", id, "--json"]);
    let all = turns(&conv);
    let expected = [
        ("user", "Who are you?"),
        ("assistant", completed[0]["text"].as_str().unwrap()),
        ("user", "Where is Paris?"),
        ("assistant", completed[1]["text"].as_str().unwrap()),
    ];
    for (k, (role, text)) in expected.iter().enumerate() {
        assert_eq!(
            (all[k].0.as_str(), all[k].1.as_str()),
            (*role, *text),
            "turn {k}"
        );
    }
    // The third exchange is either absent (killed mid-answer, the usual case) or, had it
    // finished first, complete: never a user turn without its answer.
    match all.len() {
        4 => {}
        6 => assert!(conv["turns"][5]["finish_reason"].is_string()),
        n => panic!("{n} turns: {all:?}"),
    }
}
