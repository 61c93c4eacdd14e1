use samtal_gguf::Value;

use super::*;
use crate::test_vocab::{byte_level, byte_level_piece, sentencepiece};

fn id(tok: &Tokenizer, text: &str) -> u32 {
    tok.token_to_id(text)
        .unwrap_or_else(|| panic!("{text:?} not in vocab"))
}

/// Pushes every id and flushes, recording each step's output.
fn stream_steps(tok: &Tokenizer, ids: &[u32]) -> Vec<Option<String>> {
    let mut stream = tok.stream_with(false);
    let mut out: Vec<_> = ids.iter().map(|&i| stream.push(i).unwrap()).collect();
    out.push(stream.flush().unwrap());
    out
}

#[test]
fn tokenizer_is_shareable() {
    fn check<T: Clone + Send + Sync + std::fmt::Debug>() {}
    check::<Tokenizer>();
}

#[test]
fn parse_special_off_keeps_special_strings_as_text() {
    let tok = byte_level().tokenizer();
    let im_end = id(&tok, "<|im_end|>");
    let ids = tok.encode("<|im_end|>", Encode::TEXT).unwrap();
    assert!(ids.len() > 1 && !ids.contains(&im_end), "{ids:?}");
    assert!(ids.iter().all(|&i| !tok.is_special(i)));
    assert_eq!(tok.decode(&ids, true).unwrap(), "<|im_end|>");
    // Default options leave parsing off too.
    assert_eq!(tok.encode("<|im_end|>", Encode::default()).unwrap(), ids);
}

#[test]
fn parse_special_on_recognises_special_strings() {
    let tok = byte_level().tokenizer();
    let ids = tok
        .encode("<|im_start|>hello<|im_end|>", Encode::TEMPLATE)
        .unwrap();
    let hello = id(&tok, &byte_level_piece(b"hello"));
    assert_eq!(
        ids,
        vec![id(&tok, "<|im_start|>"), hello, id(&tok, "<|im_end|>")]
    );
    assert_eq!(
        tok.decode(&ids, false).unwrap(),
        "<|im_start|>hello<|im_end|>"
    );
    assert_eq!(tok.decode(&ids, true).unwrap(), "hello");
}

#[test]
fn user_defined_tokens_are_recognised_either_way() {
    let tok = byte_level().tokenizer();
    let tool = id(&tok, "<tool>");
    assert!(!tok.is_special(tool));
    for opts in [Encode::TEXT, Encode::TEMPLATE] {
        assert_eq!(tok.encode("<tool>", opts).unwrap(), vec![tool]);
    }
    // Not special, so decoding keeps it even when skipping special tokens.
    assert_eq!(tok.decode(&[tool], true).unwrap(), "<tool>");
}

#[test]
fn add_special_tokens_follows_add_bos_and_add_eos() {
    let plain = byte_level().tokenizer();
    assert!(!plain.special().add_bos);
    let hello = id(&plain, &byte_level_piece(b"hello"));
    assert_eq!(
        plain.encode("hello", Encode::default()).unwrap(),
        vec![hello]
    );

    let both = byte_level()
        .set("tokenizer.ggml.add_bos_token", Value::Bool(true))
        .set("tokenizer.ggml.add_eos_token", Value::Bool(true))
        .tokenizer();
    let (bos, eos) = (both.special().bos.unwrap(), both.special().eos.unwrap());
    assert!(both.special().add_bos && both.special().add_eos);
    assert_eq!(
        both.encode("hello", Encode::default()).unwrap(),
        vec![bos, hello, eos]
    );
    assert_eq!(both.encode("hello", Encode::TEXT).unwrap(), vec![hello]);
    assert_eq!(both.encode("", Encode::default()).unwrap(), vec![bos, eos]);

    // SentencePiece vocabularies add BOS unless the file says otherwise (llama.cpp's default).
    let spm = sentencepiece().tokenizer();
    let hi = id(&spm, "▁Hi");
    assert_eq!(spm.encode("Hi", Encode::default()).unwrap(), vec![1, hi]);
    assert_eq!(spm.encode("Hi", Encode::TEXT).unwrap(), vec![hi]);
    let no_bos = sentencepiece()
        .set("tokenizer.ggml.add_bos_token", Value::Bool(false))
        .tokenizer();
    assert_eq!(no_bos.encode("Hi", Encode::default()).unwrap(), vec![hi]);
}

#[test]
fn eog_is_eos_end_of_turn_ids_and_known_end_tokens() {
    let tok = byte_level().tokenizer();
    let special = tok.special();
    let mut expected = vec![
        id(&tok, "<|endoftext|>"),
        id(&tok, "<|my_eot|>"),
        id(&tok, "<|im_end|>"),
    ];
    expected.sort_unstable();
    assert_eq!(special.eog, expected);
    assert!(special.is_eog(id(&tok, "<|im_end|>")));
    assert!(!special.is_eog(id(&tok, "<s>")));
    assert!(!special.is_eog(id(&tok, "<|im_start|>")));
    assert_eq!(special.bos_token.as_deref(), Some("<s>"));
    assert_eq!(special.eos_token.as_deref(), Some("<|endoftext|>"));
}

#[test]
fn decode_rejects_ids_outside_the_vocabulary() {
    let tok = byte_level().tokenizer();
    let n = tok.vocab_size() as u32;
    assert!(matches!(
        tok.decode(&[0, n], false),
        Err(Error::UnknownId { id, .. }) if id == n
    ));
    let mut stream = tok.stream();
    assert!(stream.push(n).is_err());
    // The bad id did not poison the stream.
    assert_eq!(stream.push(u32::from(b'a')).unwrap().as_deref(), Some("a"));
}

#[test]
fn stream_holds_an_emoji_split_over_byte_level_pieces() {
    let tok = byte_level().tokenizer();
    let ids = tok.encode("😀", Encode::TEXT).unwrap();
    // F0 9F merged into one piece, then 98 and 80 as single bytes.
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert_eq!(
        stream_steps(&tok, &ids),
        vec![None, None, Some("😀".to_owned()), None]
    );

    let text = "hello 😀 world 中文";
    let ids = tok.encode(text, Encode::TEXT).unwrap();
    let steps = stream_steps(&tok, &ids);
    assert!(steps.iter().flatten().all(|s| !s.contains('\u{FFFD}')));
    assert_eq!(steps.into_iter().flatten().collect::<String>(), text);
}

#[test]
fn stream_holds_cjk_split_over_byte_fallback_tokens() {
    let tok = sentencepiece().tokenizer();
    let ids = tok.encode("中", Encode::TEXT).unwrap();
    let byte = |b: u8| 3 + u32::from(b);
    assert_eq!(ids, vec![id(&tok, "▁"), byte(0xE4), byte(0xB8), byte(0xAD)]);
    // The leading `▁` decodes to nothing at the start of the text (SentencePiece's dummy
    // prefix), and the character only once its last byte is in.
    assert_eq!(
        stream_steps(&tok, &ids),
        vec![None, None, None, Some("中".to_owned()), None]
    );

    let text = "Hello 😀 Hi";
    let ids = tok.encode(text, Encode::TEXT).unwrap();
    let steps = stream_steps(&tok, &ids);
    assert!(steps.iter().flatten().all(|s| !s.contains('\u{FFFD}')));
    assert_eq!(steps.into_iter().flatten().collect::<String>(), text);
}

#[test]
fn flush_releases_bytes_that_never_formed_a_character() {
    let tok = sentencepiece().tokenizer();
    let hello = id(&tok, "▁Hello");
    let lone = 3 + 0xE4;
    let ids = [hello, lone];
    let steps = stream_steps(&tok, &ids);
    assert_eq!(
        steps,
        vec![Some("Hello".to_owned()), None, Some("\u{FFFD}".to_owned())]
    );
    assert_eq!(tok.decode(&ids, false).unwrap(), "Hello\u{FFFD}");
}

#[test]
fn stream_skips_special_tokens_by_default() {
    let tok = byte_level().tokenizer();
    let ids = tok
        .encode("<|im_start|>hello<|im_end|>", Encode::TEMPLATE)
        .unwrap();
    let mut stream = tok.stream();
    let mut text: String = ids
        .iter()
        .filter_map(|&i| stream.push(i).unwrap())
        .collect();
    text.extend(stream.flush().unwrap());
    assert_eq!(text, "hello");
}
