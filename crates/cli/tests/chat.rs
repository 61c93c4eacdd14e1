//! End-to-end tests of non-interactive `samtal chat` on the tiny Llama fixture: stdin lines in,
//! one answer or JSON object per line out, with the KV cache reused across turns.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn tiny_llama() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/models/tiny-llama")
        .display()
        .to_string()
}

/// Runs `samtal chat ARGS` with `input` on stdin (a pipe, so not a terminal).
fn chat(args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_samtal"))
        .arg("chat")
        .args(args)
        .env(
            "SAMTAL_MODELS_DIR",
            std::env::temp_dir().join("samtal-no-models"),
        )
        // The guard scores with its n-gram model and rules only (no encoder to fetch).
        .env("SAMTAL_GUARD_ENCODER", "off")
        // Saved conversations go to a scratch store, never the user's.
        .env(
            "SAMTAL_DATA_DIR",
            std::env::temp_dir().join("samtal-chat-test-data"),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

const THREE: &str =
    "Who are you?\nList 5 places I should visit in Paris.\nTell me more about the third place.\n";

#[test]
fn json_gives_one_object_per_turn_and_reuses_the_cache() {
    let m = tiny_llama();
    let args = [
        "--json",
        "--model",
        &m,
        "--temperature",
        "0",
        "--max-new-tokens",
        "8",
    ];
    let o = chat(&args, THREE);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    let stdout = String::from_utf8(o.stdout).unwrap();
    let turns: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(turns.len(), 3, "{stdout}");
    let keys = [
        "turn",
        "text",
        "finish_reason",
        "prompt_tokens",
        "prefill_tokens",
        "ttft_ms",
        "tokens_per_s",
        "dropped_turns",
        "conversation_id",
        "guard",
    ];
    let id = turns[0]["conversation_id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 32);
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()), "{id}");
    for (k, t) in turns.iter().enumerate() {
        let obj = t.as_object().unwrap();
        assert_eq!(obj.len(), keys.len(), "{t}");
        for key in keys {
            assert!(obj.contains_key(key), "missing {key}: {t}");
        }
        assert_eq!(t["turn"], k + 1);
        assert_eq!(t["conversation_id"], id.as_str());
        assert!(["allow", "flag"].contains(&t["guard"]["verdict"].as_str().unwrap()));
        assert!(["eos", "stop", "length", "loop"].contains(&t["finish_reason"].as_str().unwrap()));
        assert_eq!(t["dropped_turns"], 0);
        assert!(t["ttft_ms"].as_f64().unwrap() > 0.0);
    }
    let n = |k: usize, key: &str| turns[k][key].as_u64().unwrap();
    assert_eq!(n(0, "prefill_tokens"), n(0, "prompt_tokens"));
    assert!(n(1, "prompt_tokens") > n(0, "prompt_tokens"));
    assert!(n(2, "prompt_tokens") > n(1, "prompt_tokens"));
    // Turn 3 runs its own message through the model, not the whole conversation again.
    assert!(
        2 * n(2, "prefill_tokens") < n(2, "prompt_tokens"),
        "turn 3: {} of {} prompt tokens prefilled",
        n(2, "prefill_tokens"),
        n(2, "prompt_tokens")
    );

    // Greedy decoding is deterministic: the same input gives the same answers.
    let again = chat(&args, THREE);
    let texts = |s: &str| -> Vec<serde_json::Value> {
        s.lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["text"].clone())
            .collect()
    };
    assert_eq!(
        texts(&stdout),
        texts(&String::from_utf8_lossy(&again.stdout))
    );
}

#[test]
fn plain_output_is_one_line_per_answer_in_both_formats() {
    let m = tiny_llama();
    for format in ["template", "transcript"] {
        let o = chat(
            &[
                "--model",
                &m,
                "--format",
                format,
                "--temperature",
                "0",
                "--max-new-tokens",
                "12",
            ],
            THREE,
        );
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{format}: {stderr}");
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert_eq!(stdout.lines().count(), 3, "{format}: {stdout:?}");
    }
}

#[test]
fn a_full_context_under_the_error_policy_is_a_clean_error() {
    let m = tiny_llama();
    let o = chat(
        &[
            "--model",
            &m,
            "--context",
            "60",
            "--context-policy",
            "error",
            "--temperature",
            "0",
            "--max-new-tokens",
            "8",
        ],
        THREE,
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("context budget of 60"), "{stderr}");
    // The turns before the overflow were answered.
    assert!(!o.stdout.is_empty());
}
