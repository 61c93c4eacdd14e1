//! Small GGUF tokenizer vocabularies built in code for unit tests.

use samtal_gguf::{Gguf, Metadata, Value, Writer};

pub(crate) const NORMAL: i32 = 1;
pub(crate) const UNKNOWN: i32 = 2;
pub(crate) const CONTROL: i32 = 3;
pub(crate) const USER_DEFINED: i32 = 4;
pub(crate) const BYTE: i32 = 6;

/// GGUF metadata under construction; `set` replaces a key, as the file format forbids duplicates.
#[derive(Clone, Debug, Default)]
pub(crate) struct Meta(Vec<(String, Value)>);

impl Meta {
    pub fn set(mut self, key: &str, value: Value) -> Self {
        self.0.retain(|(k, _)| k != key);
        self.0.push((key.to_owned(), value));
        self
    }

    pub fn remove(mut self, key: &str) -> Self {
        self.0.retain(|(k, _)| k != key);
        self
    }

    pub fn build(&self) -> Metadata {
        let mut w = Writer::new();
        for (k, v) in &self.0 {
            w.metadata(k, v.clone());
        }
        Gguf::parse(&w.to_bytes()).expect("valid GGUF").metadata
    }

    pub fn tokenizer(&self) -> crate::Tokenizer {
        crate::Tokenizer::from_gguf(&self.build()).expect("tokenizer")
    }
}

pub(crate) fn strings<S: AsRef<str>>(items: &[S]) -> Value {
    Value::Array(
        items
            .iter()
            .map(|s| Value::String(s.as_ref().to_owned()))
            .collect(),
    )
}

fn ints(items: &[i32]) -> Value {
    Value::Array(items.iter().map(|&i| Value::I32(i)).collect())
}

/// GPT-2's byte → printable character table (openai/gpt-2 encoder.py `bytes_to_unicode`).
pub(crate) fn byte_char(b: u8) -> char {
    let printable = |b: u8| matches!(b, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF);
    if printable(b) {
        return char::from(b);
    }
    let rank = (0..b).filter(|&x| !printable(x)).count() as u32;
    char::from_u32(256 + rank).expect("valid char")
}

pub(crate) fn byte_level_piece(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| byte_char(b)).collect()
}

/// A byte-level BPE vocabulary: the 256 byte tokens (id = byte), merges building "hello",
/// " world" and the first two bytes of most emoji (F0 9F), then special tokens:
/// `<s>` (BOS), `<|endoftext|>` (EOS), `<|im_start|>`, `<|im_end|>`, `<|my_eot|>` (the GGUF
/// end-of-turn id) — all CONTROL — and the USER_DEFINED `<tool>`.
pub(crate) fn byte_level() -> Meta {
    let merges: [(&[u8], &[u8]); 10] = [
        (b"h", b"e"),
        (b"l", b"l"),
        (b"he", b"ll"),
        (b"hell", b"o"),
        (b" ", b"w"),
        (b"o", b"r"),
        (b" w", b"or"),
        (b"l", b"d"),
        (b" wor", b"ld"),
        (b"\xF0", b"\x9F"),
    ];
    let mut tokens: Vec<String> = (0..=255u8).map(|b| byte_level_piece(&[b])).collect();
    let mut types = vec![NORMAL; 256];
    let mut merge_strings = Vec::new();
    for (a, b) in merges {
        let (a, b) = (byte_level_piece(a), byte_level_piece(b));
        merge_strings.push(format!("{a} {b}"));
        tokens.push(format!("{a}{b}"));
        types.push(NORMAL);
    }
    for (text, ty) in [
        ("<s>", CONTROL),
        ("<|endoftext|>", CONTROL),
        ("<|im_start|>", CONTROL),
        ("<|im_end|>", CONTROL),
        ("<|my_eot|>", CONTROL),
        ("<tool>", USER_DEFINED),
    ] {
        tokens.push(text.to_owned());
        types.push(ty);
    }
    let id = |t: &str| Value::U32(tokens.iter().position(|x| x == t).expect("token") as u32);
    Meta::default()
        .set("tokenizer.ggml.model", Value::String("gpt2".into()))
        .set("tokenizer.ggml.pre", Value::String("gpt-2".into()))
        .set("tokenizer.ggml.bos_token_id", id("<s>"))
        .set("tokenizer.ggml.eos_token_id", id("<|endoftext|>"))
        .set("tokenizer.ggml.eot_token_id", id("<|my_eot|>"))
        .set("tokenizer.ggml.tokens", strings(&tokens))
        .set("tokenizer.ggml.token_type", ints(&types))
        .set("tokenizer.ggml.merges", strings(&merge_strings))
}

/// A SentencePiece vocabulary: `<unk>`, `<s>`, `</s>`, the 256 `<0xNN>` byte tokens (ids
/// 3..=258), then pieces for "Hi" and "Hello" with scores that build `▁Hi` and `▁Hello`.
pub(crate) fn sentencepiece() -> Meta {
    let mut tokens: Vec<String> = vec!["<unk>".into(), "<s>".into(), "</s>".into()];
    let mut types = vec![UNKNOWN, CONTROL, CONTROL];
    let mut scores = vec![0.0f32; 3];
    for b in 0..=255u8 {
        tokens.push(format!("<0x{b:02X}>"));
        types.push(BYTE);
        scores.push(0.0);
    }
    for (piece, score) in [
        ("▁H", -1.0),
        ("ll", -2.0),
        ("▁He", -3.0),
        ("llo", -4.0),
        ("▁Hello", -5.0),
        ("▁Hi", -6.0),
        ("▁", -100.0),
        ("H", -101.0),
        ("i", -102.0),
        ("e", -103.0),
        ("l", -104.0),
        ("o", -105.0),
    ] {
        tokens.push(piece.to_owned());
        types.push(NORMAL);
        scores.push(score);
    }
    Meta::default()
        .set("tokenizer.ggml.model", Value::String("llama".into()))
        .set("tokenizer.ggml.tokens", strings(&tokens))
        .set("tokenizer.ggml.token_type", ints(&types))
        .set(
            "tokenizer.ggml.scores",
            Value::Array(scores.into_iter().map(Value::F32).collect()),
        )
        .set("tokenizer.ggml.bos_token_id", Value::U32(1))
        .set("tokenizer.ggml.eos_token_id", Value::U32(2))
        .set("tokenizer.ggml.unknown_token_id", Value::U32(0))
}
