//! The default model's tokenizer against goldens from HF tokenizers
//! (fixtures/golden/smollm2/tokenize.json, made by scripts/make_smollm2_goldens.py).
//!
//! The model file is not in the repository: it is found through `SAMTAL_MODEL` (the file, or the
//! folder holding it), then `$XDG_CACHE_HOME/samtal/models/`, then `~/.cache/samtal/models/`.
//! Without it the test is skipped with a message; CI downloads the model first.

use std::io::Write;
use std::path::{Path, PathBuf};

use samtal_tokenizer::{Encode, Tokenizer};
use serde::Deserialize;

const MODEL_FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";

fn find_model() -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(p) = std::env::var_os("SAMTAL_MODEL").map(PathBuf::from) {
        candidates.push(p.join(MODEL_FILE));
        candidates.push(p);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")));
    if let Some(cache) = cache {
        candidates.push(cache.join("samtal/models").join(MODEL_FILE));
    }
    if let Some(home) = std::env::var_os("HOME") {
        candidates.push(
            PathBuf::from(home)
                .join(".cache/samtal/models")
                .join(MODEL_FILE),
        );
    }
    candidates.into_iter().find(|p| p.is_file())
}

#[derive(Deserialize)]
struct Case {
    text: String,
    parse_special: bool,
    #[serde(default)]
    add_special_tokens: bool,
    ids: Vec<u32>,
    #[serde(default)]
    decodes_to_text: Option<bool>,
}

fn golden_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/golden/smollm2/tokenize.json")
}

#[test]
fn smollm2_gguf_matches_hf_tokenizers() {
    let Some(model) = find_model() else {
        // Straight to stderr: libtest captures `eprintln!`, and a skip must be seen.
        let _ = writeln!(
            std::io::stderr(),
            "\n*** SKIPPED smollm2_gguf_matches_hf_tokenizers: {MODEL_FILE} not found (set \
             SAMTAL_MODEL or put it in ~/.cache/samtal/models/) ***\n"
        );
        return;
    };
    let file = samtal_gguf::MappedGguf::open(&model).expect("open the model");
    let tok = Tokenizer::from_gguf(&file.gguf.metadata).expect("build the tokenizer");
    assert!(tok.warnings().is_empty(), "{:?}", tok.warnings());

    let text = std::fs::read_to_string(golden_path()).expect("read tokenize.json");
    let cases: Vec<Case> = serde_json::from_str(&text).expect("parse tokenize.json");
    assert!(cases.len() >= 60, "only {} cases", cases.len());
    assert!(cases.iter().any(|c| !c.parse_special));

    let mut failures = Vec::new();
    for case in &cases {
        let opts = Encode {
            add_special_tokens: case.add_special_tokens,
            parse_special: case.parse_special,
        };
        let ids = tok.encode(&case.text, opts).expect("encode");
        if ids != case.ids {
            failures.push(format!(
                "{:?} (parse_special {})\n  expected {:?}\n  got      {:?}",
                case.text, case.parse_special, case.ids, ids
            ));
        }
        if case.decodes_to_text == Some(true) {
            let decoded = tok.decode(&case.ids, false).expect("decode");
            if decoded != case.text {
                failures.push(format!(
                    "decode({:?}) = {decoded:?}, want {:?}",
                    case.ids, case.text
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} SmolLM2 cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );

    // SmolLM2's special tokens as the GGUF states them, plus `<|endoftext|>` found by text.
    let special = tok.special();
    assert_eq!(special.bos, Some(1));
    assert_eq!(special.eos, Some(2));
    assert!(!special.add_bos);
    assert_eq!(special.eog, vec![0, 2]);
    assert!(tok
        .chat_template()
        .is_some_and(|t| t.contains("<|im_start|>")));
}
