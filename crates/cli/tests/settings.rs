//! Every generation setting in every face: the test walks the settings table and, for each
//! setting, gives an in-range and an out-of-range value to `samtal generate` (its flag),
//! `samtal chat`'s `/set` (on a terminal) and `samtal serve` (its request field). Each face must
//! accept the first and refuse the second with the table's own words.
#![allow(clippy::unwrap_used)]
#![cfg(unix)]

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::pty::Term;
use common::serve::{request, start};
use samtal_generation::settings::{Kind, Setting};
use samtal_generation::SETTINGS;
use serde_json::{json, Value};

fn tiny_llama() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/models/tiny-llama")
}

fn samtal() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_samtal"));
    cmd.env(
        "SAMTAL_MODELS_DIR",
        std::env::temp_dir().join("samtal-no-models"),
    )
    // The guard scores with its n-gram model and rules only (no encoder to fetch).
    .env("SAMTAL_GUARD_ENCODER", "off")
    .env(
        "SAMTAL_DATA_DIR",
        std::env::temp_dir().join("samtal-settings-test-data"),
    );
    cmd
}

/// A value a setting takes and one it refuses, as text (flags and `/set`) and as JSON.
struct Case {
    good_text: String,
    good_json: Value,
    bad_text: String,
    bad_json: Value,
}

fn case(s: &Setting) -> Case {
    match s.kind {
        Kind::Float { max, .. } => Case {
            good_text: max.to_string(),
            good_json: json!(max),
            bad_text: (max + 1.0).to_string(),
            bad_json: json!(max + 1.0),
        },
        Kind::Int { min, max } => Case {
            good_text: min.to_string(),
            good_json: json!(min),
            bad_text: (max + 1).to_string(),
            bad_json: json!(max + 1),
        },
        Kind::Seed => Case {
            good_text: "7".into(),
            good_json: json!(7),
            bad_text: "-2".into(),
            bad_json: json!(-2),
        },
        Kind::Bias { limit, .. } => Case {
            good_text: "1=1".into(),
            good_json: json!({"1": 1}),
            bad_text: format!("1={}", limit + 1.0),
            bad_json: json!({"1": limit + 1.0}),
        },
        Kind::Strings { max_len, .. } => Case {
            good_text: "END".into(),
            good_json: json!(["END"]),
            bad_text: "x".repeat(max_len + 1),
            bad_json: json!(["x".repeat(max_len + 1)]),
        },
        _ => panic!("no test values for {}'s kind", s.name),
    }
}

/// What follows `invalid NAME: ` in a message: the table's words about the value.
fn why<'a>(message: &'a str, name: &str) -> &'a str {
    let tag = format!("invalid {name}: ");
    let at = message
        .find(&tag)
        .unwrap_or_else(|| panic!("{message:?} does not name {name}"));
    message[at + tag.len()..].lines().next().unwrap_or_default()
}

#[test]
fn every_setting_is_taken_by_every_face_with_the_same_limits_and_words() {
    let model = tiny_llama();
    // The table's own words for each out-of-range value: what every face must say.
    let expected: Vec<String> = SETTINGS
        .iter()
        .map(|s| {
            let e = s.parse_text(&[&case(s).bad_text]).unwrap_err().to_string();
            why(&e, s.name).to_owned()
        })
        .collect();
    for (s, want) in SETTINGS.iter().zip(&expected) {
        let c = case(s);
        let json_words = s.parse_json(&c.bad_json).unwrap_err().to_string();
        assert_eq!(
            why(&json_words, s.name),
            want,
            "{}: text and JSON agree",
            s.name
        );
    }

    // samtal generate --FLAG VALUE
    for (s, want) in SETTINGS.iter().zip(&expected) {
        let c = case(s);
        let flag = format!("--{}", s.flag());
        let run = |value: &str| {
            let mut cmd = samtal();
            cmd.arg("generate").arg("--model").arg(&model);
            if s.name != "max_new_tokens" {
                cmd.args(["-n", "2"]);
            }
            cmd.arg(format!("{flag}={value}"))
                .arg("Hello")
                .output()
                .unwrap()
        };
        let ok = run(&c.good_text);
        assert!(
            ok.status.success(),
            "generate {flag} {}: {}",
            c.good_text,
            String::from_utf8_lossy(&ok.stderr)
        );
        let bad = run(&c.bad_text);
        assert!(!bad.status.success(), "generate {flag} {} ran", c.bad_text);
        let err = String::from_utf8_lossy(&bad.stderr);
        assert_eq!(why(&err, s.name), want, "generate {flag}");
    }

    // samtal chat, /set KEY VALUE on a terminal
    let mut cmd = samtal();
    cmd.args(["chat", "--no-save", "--model"])
        .arg(&model)
        .env("TERM", "xterm");
    let mut t = Term::spawn(cmd);
    t.wait_for("Type /help", 1);
    for (s, want) in SETTINGS.iter().zip(&expected) {
        let c = case(s);
        t.line(&format!("/set {} {}\r", s.name, c.good_text));
        t.wait_for(&format!("[{} = {}]", s.name, c.good_text), 1);
        t.line(&format!("/set {} {}\r", s.name, c.bad_text));
        t.wait_for(&format!("error: invalid {}: {want}", s.name), 1);
    }
    t.type_("\x04");
    assert_eq!(t.exit_code(), Some(0));

    // samtal serve, the request field (OpenAI's name, or llama.cpp's)
    let srv = start(&[]);
    for (s, want) in SETTINGS.iter().zip(&expected) {
        let c = case(s);
        for (value, good) in [(&c.good_json, true), (&c.bad_json, false)] {
            let mut body = json!({"prompt": "Hello", "max_tokens": 2});
            body[s.http] = value.clone();
            let (status, resp) =
                request(&srv.addr, "POST", "/v1/completions", &body.to_string(), &[]);
            let v: Value = serde_json::from_str(&resp).unwrap();
            if good {
                assert_eq!(status, 200, "{} = {value}: {resp}", s.http);
            } else {
                assert_eq!(status, 400, "{} = {value}: {resp}", s.http);
                assert_eq!(v["error"]["param"], s.http, "{resp}");
                let message = v["error"]["message"].as_str().unwrap();
                assert_eq!(why(message, s.http), want, "serve {}", s.http);
            }
        }
    }
}
