//! Every token's bytes ([`Tokenizer::token_bytes`]), what a grammar engine matches against:
//! for GPT-2 byte-level BPE, SentencePiece (llama-spm, phi-3), Llama 3 BPE and Qwen2
//! vocabularies, the bytes of the ids of each of llama.cpp's test inputs concatenate back to
//! the input, byte for byte, and special tokens are marked.

use std::path::{Path, PathBuf};

use samtal_tokenizer::{Encode, Tokenizer, TokenizerKind};

fn vocab_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/vocab")
}

fn load(name: &str) -> Tokenizer {
    let path = vocab_dir().join(format!("ggml-vocab-{name}.gguf"));
    let file = samtal_gguf::MappedGguf::open(&path).unwrap_or_else(|e| panic!("{e}"));
    Tokenizer::from_gguf(&file.gguf.metadata).unwrap_or_else(|e| panic!("{e}"))
}

fn inputs(name: &str) -> Vec<String> {
    let path = vocab_dir().join(format!("ggml-vocab-{name}.gguf.inp"));
    let raw = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{e}"));
    raw.split("\n__ggml_vocab_test__\n")
        .map(str::to_owned)
        .collect()
}

fn round_trips(tok: &Tokenizer, texts: &[String], what: &str) {
    let bytes = tok.token_bytes();
    assert_eq!(bytes.len(), tok.vocab_size(), "{what}");
    let spm = matches!(tok.kind(), TokenizerKind::GgufSpm);
    let mut checked = 0;
    for text in texts {
        let ids = tok
            .encode(text, Encode::TEXT)
            .unwrap_or_else(|e| panic!("{e}"));
        let joined: Vec<u8> = ids
            .iter()
            .flat_map(|&id| bytes[id as usize].bytes.clone())
            .collect();
        // SentencePiece writes the text after a space of its own (add_dummy_prefix).
        let expected = if spm && !text.is_empty() {
            format!(" {text}")
        } else {
            text.clone()
        };
        assert_eq!(
            String::from_utf8_lossy(&joined),
            expected,
            "{what}: {text:?} as {ids:?}"
        );
        checked += 1;
    }
    assert!(checked > 40, "{what}: {checked} inputs");
}

#[test]
fn byte_level_bpe_tokens_round_trip() {
    for name in ["gpt-2", "llama-bpe", "qwen2"] {
        round_trips(&load(name), &inputs(name), name);
    }
}

#[test]
fn sentencepiece_tokens_round_trip() {
    for name in ["llama-spm", "phi-3"] {
        round_trips(&load(name), &inputs(name), name);
    }
}

#[test]
fn special_tokens_are_marked_with_their_text() {
    let tok = load("qwen2");
    let bytes = tok.token_bytes();
    let end = tok
        .token_to_id("<|im_end|>")
        .unwrap_or_else(|| panic!("no <|im_end|>"));
    assert!(bytes[end as usize].special);
    assert_eq!(bytes[end as usize].bytes, b"<|im_end|>");
    let hello = tok
        .encode("Hello", Encode::TEXT)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(hello.iter().all(|&id| !bytes[id as usize].special));
    // SentencePiece's byte pieces are single bytes.
    let spm = load("llama-spm");
    let nl = spm
        .token_to_id("<0x0A>")
        .unwrap_or_else(|| panic!("no <0x0A>"));
    assert_eq!(spm.token_bytes()[nl as usize].bytes, b"\n");
}

/// Every token on its own: where a token's bytes are whole UTF-8, they are what the tokenizer
/// decodes the token to (SentencePiece drops a leading space on the first token decoded, so
/// that one space is allowed for).
#[test]
fn every_tokens_bytes_match_its_decoding() {
    for name in ["gpt-2", "qwen2", "llama-spm", "phi-3"] {
        let tok = load(name);
        let spm = matches!(tok.kind(), TokenizerKind::GgufSpm);
        let bytes = tok.token_bytes();
        let mut checked = 0;
        for (id, b) in bytes.iter().enumerate() {
            let Ok(text) = std::str::from_utf8(&b.bytes) else {
                continue; // part of a character: decodes to U+FFFD on its own
            };
            if b.special || b.bytes.is_empty() {
                continue;
            }
            let decoded = tok
                .decode(&[id as u32], false)
                .unwrap_or_else(|e| panic!("{e}"));
            let want = if spm {
                text.strip_prefix(' ').unwrap_or(text)
            } else {
                text
            };
            assert_eq!(decoded, want, "{name}: token {id}");
            checked += 1;
        }
        assert!(
            checked > bytes.len() / 2,
            "{name}: {checked} of {}",
            bytes.len()
        );
    }
}
