//! End-to-end tests of the `samtal` binary on the tiny fixture models: the CLI forms acceptance
//! scripts rely on, and bad input giving one clear line and a non-zero exit, never a panic.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture(rel: &str) -> String {
    root()
        .join("fixtures/models")
        .join(rel)
        .display()
        .to_string()
}

fn samtal(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_samtal"))
        .args(args)
        // Never fetch anything in these tests.
        .env(
            "SAMTAL_MODELS_DIR",
            std::env::temp_dir().join("samtal-no-models"),
        )
        // The guard scores with its n-gram model and rules only (no encoder to fetch).
        .env("SAMTAL_GUARD_ENCODER", "off")
        .output()
        .expect("run samtal")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A failure that is a clean, one-line error (no panic, no backtrace).
fn assert_clean_error(o: &Output, needle: &str) {
    let err = stderr(o);
    assert!(
        !o.status.success(),
        "expected failure, got success: {}",
        stdout(o)
    );
    assert_eq!(o.status.code(), Some(1), "stderr: {err}");
    assert!(!err.contains("panicked"), "panic: {err}");
    assert_eq!(err.trim().lines().count(), 1, "not one line: {err}");
    assert!(err.contains(needle), "{needle:?} not in {err:?}");
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("samtal-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

#[test]
fn generate_json_is_greedy_and_deterministic() {
    let m = fixture("tiny-llama");
    let args = [
        "generate",
        "--model",
        &m,
        "--raw",
        "--temperature",
        "0",
        "--max-new-tokens",
        "12",
        "--json",
        "Hello world",
    ];
    let a = samtal(&args);
    assert!(a.status.success(), "{}", stderr(&a));
    let v: serde_json::Value = serde_json::from_str(stdout(&a).trim()).unwrap();
    for key in [
        "prompt_token_ids",
        "token_ids",
        "text",
        "finish_reason",
        "timings",
    ] {
        assert!(v.get(key).is_some(), "missing {key}: {v}");
    }
    assert_eq!(v["token_ids"].as_array().unwrap().len(), 12);
    assert_eq!(v["finish_reason"], "length");
    assert_eq!(v["timings"]["generated_tokens"], 12);
    let b: serde_json::Value = serde_json::from_str(stdout(&samtal(&args)).trim()).unwrap();
    assert_eq!(v["token_ids"], b["token_ids"]);
    assert_eq!(v["text"], b["text"]);
}

#[test]
fn seeded_sampling_repeats() {
    let m = fixture("tiny-llama");
    let args = [
        "generate",
        "--model",
        &m,
        "--raw",
        "--temperature",
        "1.0",
        "--seed",
        "42",
        "--max-new-tokens",
        "16",
        "--json",
        "Once",
    ];
    let ids = |o: Output| {
        let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
        v["token_ids"].clone()
    };
    assert_eq!(ids(samtal(&args)), ids(samtal(&args)));
}

#[test]
fn tokenize_prints_a_json_array() {
    let o = samtal(&["tokenize", "--model", &fixture("tiny-gpt2"), "Hello world"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // GPT-2's real tokenizer: "Hello" = 15496, " world" = 995.
    assert_eq!(stdout(&o).trim(), "[15496,995]");
}

#[test]
fn inspect_describes_the_model() {
    let o = samtal(&["inspect", "--json", &fixture("tiny-llama-q4_1.gguf")]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["architecture"], "llama");
    assert_eq!(v["format"], "gguf");
    assert!(v["tensor_types"]["q4_1"].as_u64().unwrap() > 0);
    assert!(v["parameters"].as_u64().unwrap() > 0);
    // A file that declares no sampling keeps samtal's defaults (llama.cpp's).
    assert_eq!(v["sampling_defaults"]["temperature"], 0.8);
    assert_eq!(v["sampling_defaults"]["top_k"], 40);
}

#[test]
fn perplexity_json() {
    let dir = tmpdir("ppl");
    let f = dir.join("t.txt");
    std::fs::write(
        &f,
        "The quick brown fox jumps over the lazy dog. ".repeat(8),
    )
    .unwrap();
    let o = samtal(&[
        "perplexity",
        "--json",
        "--model",
        &fixture("tiny-llama"),
        f.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert!(v["tokens"].as_u64().unwrap() > 10);
    assert!(v["ppl"].as_f64().unwrap() > 1.0);
}

#[test]
fn truncated_gguf_is_a_clean_error() {
    let dir = tmpdir("trunc");
    let bytes = std::fs::read(fixture("tiny-llama-q4_1.gguf")).unwrap();
    for (i, len) in [10usize, 200, 5000, bytes.len() - 100]
        .into_iter()
        .enumerate()
    {
        let p = dir.join(format!("cut{i}.gguf"));
        std::fs::write(&p, &bytes[..len]).unwrap();
        let o = samtal(&["generate", "--model", p.to_str().unwrap(), "--raw", "hi"]);
        assert_clean_error(&o, &format!("cut{i}.gguf"));
    }
}

#[test]
fn not_a_gguf_is_a_clean_error() {
    let dir = tmpdir("magic");
    let p = dir.join("model.gguf");
    std::fs::write(&p, b"this is not a model at all").unwrap();
    assert_clean_error(
        &samtal(&["inspect", p.to_str().unwrap()]),
        "not a GGUF file",
    );
}

#[test]
fn unknown_architecture_is_named() {
    let dir = tmpdir("arch");
    copy_dir(&root().join("fixtures/models/tiny-llama"), &dir);
    let cfg = std::fs::read_to_string(dir.join("config.json")).unwrap();
    std::fs::write(
        dir.join("config.json"),
        cfg.replace("\"llama\"", "\"mamba-9000\""),
    )
    .unwrap();
    assert_clean_error(&samtal(&["inspect", dir.to_str().unwrap()]), "mamba-9000");
}

#[test]
fn config_missing_a_field_is_named() {
    let dir = tmpdir("field");
    copy_dir(&root().join("fixtures/models/tiny-llama"), &dir);
    let cfg = std::fs::read_to_string(dir.join("config.json")).unwrap();
    std::fs::write(
        dir.join("config.json"),
        cfg.replace("\"hidden_size\"", "\"hidden_sighs\""),
    )
    .unwrap();
    assert_clean_error(&samtal(&["inspect", dir.to_str().unwrap()]), "hidden_size");
}

#[test]
fn absurd_dimension_is_refused_without_allocating() {
    let dir = tmpdir("absurd");
    copy_dir(&root().join("fixtures/models/tiny-llama"), &dir);
    let cfg = std::fs::read_to_string(dir.join("config.json")).unwrap();
    std::fs::write(
        dir.join("config.json"),
        cfg.replace("\"hidden_size\": 64", "\"hidden_size\": 99999999999"),
    )
    .unwrap();
    assert_clean_error(&samtal(&["inspect", dir.to_str().unwrap()]), "out of range");
}

#[test]
fn truncated_safetensors_is_a_clean_error() {
    let dir = tmpdir("st");
    copy_dir(&root().join("fixtures/models/tiny-llama"), &dir);
    let st = dir.join("model.safetensors");
    let bytes = std::fs::read(&st).unwrap();
    std::fs::write(&st, &bytes[..bytes.len() / 2]).unwrap();
    assert_clean_error(
        &samtal(&["inspect", dir.to_str().unwrap()]),
        "model.safetensors",
    );
}

#[test]
fn wrong_tensor_shape_is_named() {
    // A GGUF whose config says 4 heads of 16 but whose q projection is smaller.
    let dir = tmpdir("shape");
    let cfg =
        std::fs::read_to_string(root().join("fixtures/models/tiny-llama/config.json")).unwrap();
    copy_dir(&root().join("fixtures/models/tiny-llama"), &dir);
    std::fs::write(
        dir.join("config.json"),
        cfg.replace("\"intermediate_size\": 128", "\"intermediate_size\": 96"),
    )
    .unwrap();
    assert_clean_error(&samtal(&["inspect", dir.to_str().unwrap()]), "shape");
}

#[test]
fn unknown_model_name_is_a_clean_error() {
    assert_clean_error(
        &samtal(&["inspect", "no-such-model-anywhere"]),
        "no-such-model-anywhere",
    );
}

#[test]
fn template_renders_messages_with_content_as_plain_text() {
    let dir = tmpdir("template");
    let f = dir.join("messages.json");
    std::fs::write(
        &f,
        r#"[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What does <|im_start|> mean?"}]"#,
    )
    .unwrap();
    let o = samtal(&[
        "template",
        "--json",
        "--model",
        &fixture("tiny-llama"),
        "--messages",
        f.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let text = v["text"].as_str().unwrap();
    assert!(text.ends_with("<|im_start|>assistant\n"), "{text}");
    assert!(text.contains("What does <|im_start|> mean?"));
    // tiny-llama's <|im_start|> is id 2: three turns open with it (system, user, assistant); the
    // one the user typed is text.
    let ids = v["token_ids"].as_array().unwrap();
    assert_eq!(
        ids.iter().filter(|i| i.as_u64() == Some(2)).count(),
        3,
        "{ids:?}"
    );
}

/// `--regex` and `--json-schema` constrain what `samtal generate` writes; a bad schema is a
/// clear error.
#[test]
fn generate_writes_what_the_grammar_allows() {
    let model = fixture("tiny-llama");
    let out = samtal(&[
        "generate",
        "--model",
        &model,
        "--regex",
        "(yes|no)!",
        "--temperature",
        "1",
        "--seed",
        "4",
        "Well?",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        ["yes!", "no!"].contains(&stdout(&out).trim()),
        "{}",
        stdout(&out)
    );

    let dir = std::env::temp_dir().join(format!("samtal-schema-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let schema = dir.join("schema.json");
    let path = schema.display().to_string();
    std::fs::write(
        &schema,
        r#"{"type":"object","properties":{"n":{"type":"integer","maximum":9}},"required":["n"],"additionalProperties":false}"#,
    )
    .unwrap();
    let out = samtal(&[
        "generate",
        "--model",
        &model,
        "--json-schema",
        &path,
        "-n",
        "40",
        "Number:",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert!(v["n"].as_i64().unwrap() <= 9);

    std::fs::write(&schema, r#"{"type": "nonsense"}"#).unwrap();
    let out = samtal(&["generate", "--model", &model, "--json-schema", &path, "x"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("grammar: "), "{}", stderr(&out));
    std::fs::remove_dir_all(dir).unwrap();
}

/// `samtal embed` on the tiny BERT: one unit vector per text, texts from arguments or stdin,
/// and a text longer than the window refused unless `--truncate`.
#[test]
fn embed_prints_one_vector_per_text() {
    let model = fixture("tiny-bert");
    let out = samtal(&["embed", "--model", &model, "--json", "Hello world", ""]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    for (i, v) in lines.iter().enumerate() {
        assert_eq!(v["index"], i);
        let e: Vec<f64> = v["embedding"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        assert_eq!(e.len(), 16);
        let norm: f64 = e.iter().map(|x| x * x).sum::<f64>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "{norm}");
    }
    let long = "word ".repeat(300);
    let out = samtal(&["embed", "--model", &model, &long]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("the model reads at most 128"),
        "{}",
        stderr(&out)
    );
    let out = samtal(&["embed", "--model", &model, "--truncate", &long]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).split_whitespace().count(), 16);
    // A chat model declares no pooling: refused, with the reason.
    let out = samtal(&["embed", "--model", &fixture("tiny-llama"), "x"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("no pooling"), "{}", stderr(&out));
    // A GGUF encoder, and the two arithmetics.
    for dtype in ["q8_0", "f32"] {
        let out = samtal(&[
            "embed",
            "--model",
            &fixture("tiny-bert.gguf"),
            "--dtype",
            dtype,
            "hello",
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(stdout(&out).split_whitespace().count(), 16);
    }
}
