//! HF model folders (fixtures/models, made by scripts/make_tiny_models.py with transformers).

use std::path::{Path, PathBuf};

use samtal_tokenizer::{Encode, Error, Tokenizer, TokenizerKind};
use serde_json::{json, Value};

fn models() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/models")
}

fn golden(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/golden")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).expect("read golden")).expect("json")
}

/// A scratch folder holding tiny-llama's tokenizer.json and the given side files.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str, files: &[(&str, String)]) -> Self {
        let dir =
            std::env::temp_dir().join(format!("samtal-tokenizer-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::copy(
            models().join("tiny-llama/tokenizer.json"),
            dir.join("tokenizer.json"),
        )
        .expect("copy tokenizer.json");
        for (file, text) in files {
            std::fs::write(dir.join(file), text).expect("write");
        }
        Self(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn gpt2_folder_matches_transformers_ids() {
    let tok = Tokenizer::from_hf_folder(&models().join("tiny-gpt2")).expect("load");
    let g = golden("tiny-gpt2-text.json");
    let text = g["prompt_text"].as_str().unwrap();
    let expected: Vec<u32> = serde_json::from_value(g["prompt_ids"].clone()).unwrap();
    assert_eq!(tok.encode(text, Encode::default()).unwrap(), expected);
    assert_eq!(tok.decode(&expected, false).unwrap(), text);

    assert_eq!(tok.kind(), &TokenizerKind::HfJson);
    let special = tok.special();
    assert_eq!(special.bos, Some(50256));
    assert_eq!(special.eos, Some(50256));
    assert_eq!(special.eos_token.as_deref(), Some("<|endoftext|>"));
    assert!(!special.add_bos && !special.add_eos);
    assert_eq!(special.eog, vec![50256]);
    assert_eq!(tok.vocab_size(), 50257);
    assert!(tok.chat_template().is_none());

    // The bare tokenizer.json encodes the same way, without the config's names.
    let bare = Tokenizer::from_tokenizer_json(&models().join("tiny-gpt2/tokenizer.json")).unwrap();
    assert_eq!(bare.encode(text, Encode::default()).unwrap(), expected);
    assert_eq!(bare.special().bos, None);
    assert_eq!(bare.special().eog, vec![50256]);
}

#[test]
fn llama_folder_reads_config_and_chat_template() {
    let tok = Tokenizer::from_hf_folder(&models().join("tiny-llama")).expect("load");
    let special = tok.special();
    assert_eq!((special.bos, special.eos), (Some(0), Some(1)));
    assert_eq!(special.bos_token.as_deref(), Some("<s>"));
    // No add_bos_token in the config and a ByteLevel post-processor: nothing added.
    assert!(!special.add_bos);
    assert_eq!(
        tok.encode("", Encode::default()).unwrap(),
        Vec::<u32>::new()
    );
    // `</s>` (EOS) and `<|im_end|>` (ChatML end of turn) both end generation.
    assert_eq!(special.eog, vec![1, 3]);
    assert!(tok.chat_template().unwrap().contains("<|im_start|>"));
    assert!((0..4).all(|id| tok.is_special(id)));
    assert_eq!(
        tok.encode("<|im_start|>user", Encode::TEMPLATE).unwrap()[0],
        2
    );
    assert_ne!(tok.encode("<|im_start|>user", Encode::TEXT).unwrap()[0], 2);
}

#[test]
fn explicit_add_bos_token_rebuilds_the_post_processor() {
    let config = json!({
        "bos_token": {"content": "<s>", "lstrip": false, "special": true},
        "eos_token": "</s>",
        "add_bos_token": true,
        "add_eos_token": true,
    });
    let dir = Scratch::new("add-bos", &[("tokenizer_config.json", config.to_string())]);
    let tok = Tokenizer::from_hf_folder(&dir.0).expect("load");
    assert!(tok.special().add_bos && tok.special().add_eos);
    let text = tok.encode("hi", Encode::TEXT).unwrap();
    let mut expected = vec![0];
    expected.extend(&text);
    expected.push(1);
    assert_eq!(tok.encode("hi", Encode::default()).unwrap(), expected);
}

#[test]
fn side_files_fill_in_what_the_config_lacks() {
    let dir = Scratch::new(
        "side-files",
        &[
            (
                "tokenizer_config.json",
                json!({"model_max_length": 256}).to_string(),
            ),
            (
                "special_tokens_map.json",
                json!({"bos_token": "<s>", "eos_token": {"content": "<|im_end|>"}}).to_string(),
            ),
            (
                "chat_template.jinja",
                "{{ bos_token }}{{ messages[0]['content'] }}".to_owned(),
            ),
            (
                "generation_config.json",
                json!({"eos_token_id": [1, 3, 99999]}).to_string(),
            ),
        ],
    );
    let tok = Tokenizer::from_hf_folder(&dir.0).expect("load");
    assert_eq!(tok.special().bos, Some(0));
    assert_eq!(tok.special().eos, Some(3));
    // generation_config.json's ids join (the out-of-range one is dropped).
    assert_eq!(tok.special().eog, vec![1, 3]);
    assert_eq!(
        tok.chat_template(),
        Some("{{ bos_token }}{{ messages[0]['content'] }}")
    );
}

#[test]
fn configured_tokens_missing_from_the_vocabulary_are_added() {
    let config = json!({"eos_token": "<|custom_end|>", "pad_token": "<pad>"});
    let dir = Scratch::new("missing", &[("tokenizer_config.json", config.to_string())]);
    let tok = Tokenizer::from_hf_folder(&dir.0).expect("load");
    let eos = tok.special().eos.expect("eos added");
    assert!(eos >= 512 && tok.is_special(eos));
    assert_eq!(tok.vocab_size(), 514);
    assert_eq!(
        tok.encode("<|custom_end|>", Encode::TEMPLATE).unwrap(),
        vec![eos]
    );
    assert!(tok.special().is_eog(eos));
}

#[test]
fn missing_or_broken_files_are_errors() {
    let empty = Scratch::new(
        "broken",
        &[("tokenizer_config.json", "{not json".to_owned())],
    );
    assert!(matches!(
        Tokenizer::from_hf_folder(&empty.0),
        Err(Error::Json { .. })
    ));
    let nowhere = empty.0.join("no-such-dir");
    assert!(matches!(
        Tokenizer::from_hf_folder(&nowhere),
        Err(Error::Io { .. })
    ));
    std::fs::write(empty.0.join("tokenizer.json"), "{}").unwrap();
    assert!(matches!(
        Tokenizer::from_tokenizer_json(&empty.0.join("tokenizer.json")),
        Err(Error::TokenizerJson { .. })
    ));
}
