use samtal_gguf::Value;

use crate::test_vocab::{byte_level, byte_level_piece, sentencepiece, strings};
use crate::{Encode, Error, TokenizerKind};

#[test]
fn unsupported_models_are_named() {
    let md = byte_level()
        .set("tokenizer.ggml.model", Value::String("rwkv".into()))
        .build();
    match crate::Tokenizer::from_gguf(&md) {
        Err(Error::Unsupported(msg)) => assert!(msg.contains("\"rwkv\""), "{msg}"),
        other => panic!("expected Unsupported, got {other:?}"),
    }
}

#[test]
fn missing_vocabulary_is_an_error() {
    for key in [
        "tokenizer.ggml.model",
        "tokenizer.ggml.tokens",
        "tokenizer.ggml.merges",
    ] {
        let md = byte_level().remove(key).build();
        assert!(
            matches!(
                crate::Tokenizer::from_gguf(&md),
                Err(Error::Gguf(samtal_gguf::Error::MissingKey(k))) if k == key
            ),
            "{key}"
        );
    }
}

#[test]
fn short_token_type_array_is_an_error() {
    let md = byte_level()
        .set(
            "tokenizer.ggml.token_type",
            Value::Array(vec![Value::I32(1)]),
        )
        .build();
    assert!(matches!(
        crate::Tokenizer::from_gguf(&md),
        Err(Error::InvalidVocab(_))
    ));
}

#[test]
fn unknown_pre_tokenizer_falls_back_to_gpt2_with_a_warning() {
    let tok = byte_level()
        .set("tokenizer.ggml.pre", Value::String("brand-new".into()))
        .tokenizer();
    assert!(tok.warnings().iter().any(|w| w.contains("brand-new")));
    assert_eq!(
        tok.kind(),
        &TokenizerKind::GgufBpe {
            pre: "brand-new".into()
        }
    );
    let ids = tok.encode("hello world", Encode::TEXT).unwrap();
    let expected = [byte_level_piece(b"hello"), byte_level_piece(b" world")]
        .map(|p| tok.token_to_id(&p).unwrap());
    assert_eq!(ids, expected);
}

#[test]
fn missing_pre_tokenizer_uses_llama_cpp_default_with_a_warning() {
    let tok = byte_level().remove("tokenizer.ggml.pre").tokenizer();
    assert!(tok
        .warnings()
        .iter()
        .any(|w| w.contains("tokenizer.ggml.pre")));
    assert_eq!(
        tok.kind(),
        &TokenizerKind::GgufBpe {
            pre: "default".into()
        }
    );
}

#[test]
fn out_of_range_special_ids_are_dropped_with_a_warning() {
    let tok = byte_level()
        .set("tokenizer.ggml.bos_token_id", Value::U32(1_000_000))
        .set("tokenizer.ggml.add_bos_token", Value::Bool(true))
        .tokenizer();
    assert_eq!(tok.special().bos, None);
    assert!(!tok.special().add_bos);
    assert!(tok.warnings().iter().any(|w| w.contains("bos_token_id")));
    assert!(tok.warnings().iter().any(|w| w.contains("no BOS")));
}

#[test]
fn merges_outside_the_vocabulary_are_skipped_with_a_warning() {
    let good = byte_level().tokenizer();
    let mut merges = vec!["no_space_here".to_owned(), "x unknown-piece".to_owned()];
    merges.extend(
        [
            (&b"h"[..], &b"e"[..]),
            (b"l", b"l"),
            (b"he", b"ll"),
            (b"hell", b"o"),
        ]
        .map(|(a, b)| format!("{} {}", byte_level_piece(a), byte_level_piece(b))),
    );
    let tok = byte_level()
        .set("tokenizer.ggml.merges", strings(&merges))
        .tokenizer();
    assert!(tok.warnings().iter().any(|w| w.starts_with("2 merges")));
    assert_eq!(
        tok.encode("hello", Encode::TEXT).unwrap(),
        good.encode("hello", Encode::TEXT).unwrap()
    );
}

#[test]
fn sentencepiece_merges_by_score_and_falls_back_to_bytes() {
    let tok = sentencepiece().tokenizer();
    assert_eq!(tok.kind(), &TokenizerKind::GgufSpm);
    assert!(tok.warnings().is_empty(), "{:?}", tok.warnings());
    let id = |t: &str| tok.token_to_id(t).unwrap();
    assert_eq!(
        tok.encode("Hello Hi", Encode::TEXT).unwrap(),
        vec![id("▁Hello"), id("▁Hi")]
    );
    // 'x' is not a piece: its byte token stands in.
    assert_eq!(
        tok.encode("Hix", Encode::TEXT).unwrap(),
        vec![id("▁Hi"), 3 + u32::from(b'x')]
    );
    assert_eq!(
        tok.decode(&[id("▁Hi"), 3 + u32::from(b'x')], false)
            .unwrap(),
        "Hix"
    );
    // A leading space survives the round trip: only the dummy prefix is stripped.
    let ids = tok.encode(" Hi", Encode::TEXT).unwrap();
    assert_eq!(ids, vec![id("▁"), id("▁Hi")]);
    assert_eq!(tok.decode(&ids, false).unwrap(), " Hi");
    assert!(tok.is_special(0) && tok.is_special(1) && !tok.is_special(id("▁Hi")));
}

#[test]
fn sentencepiece_without_space_prefix() {
    let tok = sentencepiece()
        .set("tokenizer.ggml.add_space_prefix", Value::Bool(false))
        .tokenizer();
    let id = |t: &str| tok.token_to_id(t).unwrap();
    assert_eq!(
        tok.encode("Hi Hi", Encode::TEXT).unwrap(),
        vec![id("H"), id("i"), id("▁Hi")]
    );
    assert_eq!(tok.decode(&[id("▁Hi")], false).unwrap(), " Hi");
}

#[test]
fn sentencepiece_special_tokens_get_a_space_after_them() {
    // llama.cpp puts the dummy-prefix space after every special token, as HF's legacy Llama
    // tokenizer does.
    let tok = sentencepiece().tokenizer();
    let hi = tok.token_to_id("▁Hi").unwrap();
    assert_eq!(tok.encode("<s>Hi", Encode::TEMPLATE).unwrap(), vec![1, hi]);
}

#[test]
fn empty_pieces_are_renamed() {
    let mut tokens: Vec<String> = (0..=255u8).map(|b| byte_level_piece(&[b])).collect();
    tokens.push(String::new());
    let tok = byte_level()
        .set("tokenizer.ggml.tokens", strings(&tokens))
        .set(
            "tokenizer.ggml.token_type",
            Value::Array(vec![Value::I32(1); tokens.len()]),
        )
        .set("tokenizer.ggml.merges", strings::<&str>(&[]))
        .remove("tokenizer.ggml.bos_token_id")
        .remove("tokenizer.ggml.eos_token_id")
        .remove("tokenizer.ggml.eot_token_id")
        .tokenizer();
    assert_eq!(tok.id_to_token(256).as_deref(), Some("[EMPTY_256]"));
    assert_eq!(tok.vocab_size(), 257);
}
