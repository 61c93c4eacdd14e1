//! llama.cpp's tokenizer test vectors (models/ggml-vocab-*.gguf{,.inp,.out}, checked by its
//! tests/test-tokenizer-0.cpp). The expected ids were produced with HF tokenizers, and llama.cpp
//! tokenizes them with `add_special = false, parse_special = false`, as done here.

use std::path::{Path, PathBuf};

use samtal_tokenizer::{Encode, Tokenizer, TokenizerKind};

fn vocab_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/vocab")
}

fn load(name: &str) -> Tokenizer {
    load_from(&vocab_dir(), name).unwrap_or_else(|e| panic!("{e}"))
}

fn load_from(dir: &Path, name: &str) -> Result<Tokenizer, String> {
    let path = dir.join(format!("ggml-vocab-{name}.gguf"));
    let file = samtal_gguf::MappedGguf::open(&path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    Tokenizer::from_gguf(&file.gguf.metadata)
        .map_err(|e| format!("cannot build the tokenizer of {name}: {e}"))
}

/// Reads the vectors exactly as test-tokenizer-0.cpp's `read_tests` does: inputs separated by
/// "\n__ggml_vocab_test__\n", one line of space-separated ids per input.
fn vectors(dir: &Path, name: &str) -> Vec<(String, Vec<u32>)> {
    let base = dir.join(format!("ggml-vocab-{name}.gguf"));
    let read = |ext: &str| {
        let path = base.with_extension(format!("gguf.{ext}"));
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
    };
    let raw = read("inp");
    let sep = "\n__ggml_vocab_test__\n";
    let mut inputs = Vec::new();
    let mut rest = raw.as_str();
    while !rest.is_empty() {
        match rest.find(sep) {
            Some(i) => {
                inputs.push(rest[..i].to_owned());
                rest = &rest[i + sep.len()..];
            }
            None => {
                inputs.push(rest.to_owned());
                break;
            }
        }
    }
    let outputs: Vec<Vec<u32>> = read("out")
        .lines()
        .map(|line| {
            line.split_whitespace()
                .map(|t| t.parse().expect("an id"))
                .collect()
        })
        .collect();
    assert_eq!(inputs.len(), outputs.len(), "{name}: inputs vs outputs");
    assert!(inputs.len() > 40, "{name}: only {} vectors", inputs.len());
    inputs.into_iter().zip(outputs).collect()
}

/// Encodes every vector and checks the ids, the decode round trip, and that streaming one id at
/// a time yields the same text as decoding all at once. All failures are reported together.
fn check(name: &str) {
    let failures = failures(&vocab_dir(), &load(name), name);
    assert!(failures.is_empty(), "{name}: {}", failures.join("\n"));
}

fn failures(dir: &Path, tok: &Tokenizer, name: &str) -> Vec<String> {
    let mut failures = Vec::new();
    let cases = vectors(dir, name);
    for (text, expected) in &cases {
        let ids = tok.encode(text, Encode::TEXT).expect("encode");
        if &ids != expected {
            failures.push(format!(
                "ids for {text:?}\n  expected {expected:?}\n  got      {ids:?}"
            ));
        }
        // decode(encode(x)) == x, and the same for the reference ids in case ours differ.
        let round_trip = tok.decode(&ids, false).expect("decode");
        if &round_trip != text {
            failures.push(format!("decode(encode({text:?})) = {round_trip:?}"));
        }
        let decoded = tok.decode(expected, false).expect("decode");
        if &decoded != text {
            failures.push(format!(
                "decode({expected:?}) = {decoded:?}, input {text:?}"
            ));
        }
        let mut stream = tok.stream_with(false);
        let mut streamed = String::new();
        for &id in expected {
            streamed.extend(stream.push(id).expect("push"));
        }
        streamed.extend(stream.flush().expect("flush"));
        if streamed != decoded {
            failures.push(format!(
                "stream of {expected:?} gave {streamed:?}, decode gave {decoded:?}"
            ));
        }
    }
    if !failures.is_empty() {
        failures.insert(
            0,
            format!("{} problems in {} vectors:", failures.len(), cases.len()),
        );
    }
    if !tok.warnings().is_empty() {
        failures.push(format!("warnings: {:?}", tok.warnings()));
    }
    failures
}

/// Every `ggml-vocab-*.gguf` with vectors in `$SAMTAL_LLAMA_CPP_VOCABS` (llama.cpp's models/
/// folder), for checking pre-tokenizers beyond the five committed vocabularies. Vocabulary
/// types samtal does not read (WordPiece, Unigram, …) are listed, not failed.
#[test]
fn extra_vocabs_from_env() {
    let Some(dir) = std::env::var_os("SAMTAL_LLAMA_CPP_VOCABS").map(PathBuf::from) else {
        eprintln!("SAMTAL_LLAMA_CPP_VOCABS not set: extra llama.cpp vocabularies not checked");
        return;
    };
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("read SAMTAL_LLAMA_CPP_VOCABS")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|f| {
            Some(
                f.strip_prefix("ggml-vocab-")?
                    .strip_suffix(".gguf.out")?
                    .to_owned(),
            )
        })
        .collect();
    names.sort();
    let mut report = Vec::new();
    let mut failed = false;
    for name in names {
        match load_from(&dir, &name) {
            Ok(tok) => {
                let f = failures(&dir, &tok, &name);
                failed |= !f.is_empty();
                report.push(format!(
                    "{name}: {}",
                    if f.is_empty() {
                        "ok".to_owned()
                    } else {
                        f.join("\n")
                    }
                ));
            }
            Err(e) => report.push(format!("{name}: not supported ({e})")),
        }
    }
    eprintln!("{}", report.join("\n"));
    assert!(!failed, "{}", report.join("\n"));
}

#[test]
fn gpt2() {
    check("gpt-2");
}

#[test]
fn llama_spm() {
    check("llama-spm");
}

#[test]
fn llama_bpe() {
    check("llama-bpe");
}

#[test]
fn qwen2() {
    check("qwen2");
}

#[test]
fn phi3() {
    check("phi-3");
}

#[test]
fn kinds_and_special_tokens_follow_the_metadata() {
    let spm = load("llama-spm");
    assert_eq!(spm.kind(), &TokenizerKind::GgufSpm);
    assert_eq!(spm.special().bos, Some(1));
    assert_eq!(spm.special().eos, Some(2));
    assert!(spm.special().add_bos);
    assert_eq!(
        spm.encode("Hello", Encode::default()).unwrap(),
        vec![1, 15043]
    );
    assert_eq!(spm.encode("", Encode::default()).unwrap(), vec![1]);
    assert!(spm.is_special(1) && spm.is_special(2) && !spm.is_special(15043));

    let bpe = load("llama-bpe");
    assert_eq!(
        bpe.kind(),
        &TokenizerKind::GgufBpe {
            pre: "llama-bpe".to_owned()
        }
    );
    // Llama 3 GGUFs without tokenizer.ggml.add_bos_token get BOS by llama.cpp's default.
    assert!(bpe.special().add_bos);
    assert_eq!(
        bpe.encode("Hello", Encode::default()).unwrap(),
        vec![128000, 9906]
    );
    let eot = bpe.token_to_id("<|eot_id|>").unwrap();
    assert!(bpe.special().is_eog(eot));
    assert!(bpe.special().is_eog(128001));
    assert!(!bpe.special().is_eog(128000));

    let gpt2 = load("gpt-2");
    assert!(!gpt2.special().add_bos);
    assert_eq!(gpt2.special().eog, vec![50256]);
    assert_eq!(
        gpt2.encode("Hello", Encode::default()).unwrap(),
        vec![15496]
    );

    let qwen = load("qwen2");
    let im_end = qwen.token_to_id("<|im_end|>").unwrap();
    // `</s>` is an ordinary token in Qwen2's vocabulary, but llama.cpp's end-of-generation list
    // names it, so it ends generation there too.
    let s_end = qwen.token_to_id("</s>").unwrap();
    assert_eq!(qwen.special().eog, vec![s_end, 151643, im_end]);
    assert!(qwen.chat_template().unwrap().contains("<|im_start|>"));
}

#[test]
fn phi3_chat_tokens_eat_the_whitespace_after_them() {
    let tok = load("phi-3");
    let user = tok.token_to_id("<|user|>").unwrap();
    let end = tok.token_to_id("<|end|>").unwrap();
    let ids = tok
        .encode("<|user|>\nHi<|end|>\n", Encode::TEMPLATE)
        .unwrap();
    // RSTRIP drops the newlines, and a space prefix follows each special token.
    let hi = tok.encode("Hi", Encode::TEXT).unwrap();
    let mut expected = vec![user];
    expected.extend(&hi);
    expected.push(end);
    assert_eq!(ids, expected);
    // `</s>` is USER_DEFINED in this file, but llama.cpp treats it as control.
    assert!(tok.is_special(tok.token_to_id("</s>").unwrap()));
    assert_ne!(tok.encode("</s>", Encode::TEXT).unwrap().len(), 1);
}
