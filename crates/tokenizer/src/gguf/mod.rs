//! Tokenizers rebuilt from GGUF `tokenizer.*` metadata, following llama.cpp's `llama_vocab::load`
//! (src/llama-vocab.cpp) for defaults and special-token handling.

mod pretok;
mod spm;

use samtal_gguf::Metadata;
use tokenizers::decoders::byte_fallback::ByteFallback;
use tokenizers::decoders::fuse::Fuse;
use tokenizers::decoders::sequence::Sequence as DecoderSequence;
use tokenizers::decoders::strip::Strip;
use tokenizers::decoders::DecoderWrapper;
use tokenizers::models::bpe::BPE;
use tokenizers::normalizers::{Prepend, Replace, Sequence as NormalizerSequence};
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::sequence::Sequence as PreSequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::{AddedToken, NormalizerWrapper, SplitDelimiterBehavior};

use crate::special::{bos_eos_processor, finish_eog, SpecialTokens, EOG_TEXTS};
use crate::{Error, Parts, TokenizerKind};

/// GGUF token types (llama.h `llama_token_type`).
const TYPE_NORMAL: i64 = 1;
const TYPE_UNKNOWN: i64 = 2;
const TYPE_CONTROL: i64 = 3;
const TYPE_USER_DEFINED: i64 = 4;

/// SentencePiece's word-boundary mark, standing for a space.
const SPM_SPACE: &str = "\u{2581}";

/// The vocabulary arrays every GGUF tokenizer has.
struct Vocab {
    tokens: Vec<String>,
    types: Vec<i64>,
    /// Piece string → id; the last of duplicate strings wins, as in llama.cpp's `token_to_id`.
    /// (The map type HF's BPE takes, so that it is handed over without rehashing.)
    ids: ahash::AHashMap<String, u32>,
}

pub(crate) fn build(md: &Metadata) -> crate::Result<Parts> {
    let model = md.require_str("tokenizer.ggml.model")?;
    let mut warnings = Vec::new();
    let vocab = read_vocab(md, &mut warnings)?;
    let n = vocab.tokens.len();

    let (mut tokenizer, kind, add_bos_default) = match model {
        "gpt2" => {
            let pre = match md.str("tokenizer.ggml.pre")? {
                Some(pre) => pre.to_owned(),
                None => {
                    warnings.push(
                        "no tokenizer.ggml.pre: using llama.cpp's default pre-tokenizer, which \
                         degrades most models; reconvert the GGUF"
                            .to_owned(),
                    );
                    "default".to_owned()
                }
            };
            let spec = pretok::spec(&pre);
            if !spec.known {
                warnings.push(format!(
                    "unknown pre-tokenizer {pre:?}: falling back to GPT-2's split rule"
                ));
            }
            let add_bos_default = spec.add_bos_default;
            let tokenizer = byte_level_bpe(md, &vocab, &spec, &mut warnings)?;
            (tokenizer, TokenizerKind::GgufBpe { pre }, add_bos_default)
        }
        "llama" => (
            sentencepiece(md, &vocab, &mut warnings)?,
            TokenizerKind::GgufSpm,
            true,
        ),
        "bert" => (wordpiece(md, &vocab)?, TokenizerKind::GgufWpm, true),
        other => {
            return Err(Error::Unsupported(format!(
                "GGUF tokenizer.ggml.model {other:?} (samtal reads \"gpt2\" byte-level BPE, \
                 \"llama\" SentencePiece and \"bert\" WordPiece vocabularies)"
            )))
        }
    };

    // llama.cpp's defaults for SentencePiece vocabularies; BPE ones have none worth keeping.
    let spm = kind == TokenizerKind::GgufSpm;
    let token_id = |key: &str, default: Option<u32>, warnings: &mut Vec<String>| {
        special_id(md, key, default, n, warnings)
    };
    let bos = token_id(
        "tokenizer.ggml.bos_token_id",
        spm.then_some(1),
        &mut warnings,
    )?;
    let eos = token_id(
        "tokenizer.ggml.eos_token_id",
        spm.then_some(2),
        &mut warnings,
    )?;
    let unk = token_id(
        "tokenizer.ggml.unknown_token_id",
        spm.then_some(0),
        &mut warnings,
    )?;
    let pad = token_id("tokenizer.ggml.padding_token_id", None, &mut warnings)?;
    let mut eog_ids = vec![eos];
    for key in [
        "tokenizer.ggml.eot_token_id",
        "tokenizer.ggml.eom_token_id",
        "tokenizer.ggml.fim_pad_token_id",
        "tokenizer.ggml.fim_rep_token_id",
        "tokenizer.ggml.fim_sep_token_id",
    ] {
        eog_ids.push(token_id(key, None, &mut warnings)?);
    }

    let mut add_bos = md
        .bool("tokenizer.ggml.add_bos_token")?
        .unwrap_or(add_bos_default);
    let add_eos = md.bool("tokenizer.ggml.add_eos_token")?.unwrap_or(false);
    let text_of = |id: Option<u32>| id.map(|id| vocab.tokens[id as usize].clone());
    if add_bos && bos.is_none() {
        warnings.push("add_bos_token is set but there is no BOS token".to_owned());
        add_bos = false;
    }
    let add_eos = add_eos && eos.is_some();
    let with_text = |id: Option<u32>| id.map(|id| (vocab.tokens[id as usize].as_str(), id));
    tokenizer.with_post_processor(bos_eos_processor(
        with_text(bos.filter(|_| add_bos)),
        with_text(eos.filter(|_| add_eos)),
    )?);

    let mut eog = Vec::new();
    finish_eog(&mut eog, eog_ids, |t| vocab.ids.get(t).copied());
    let special = SpecialTokens {
        bos,
        eos,
        bos_token: text_of(bos),
        eos_token: text_of(eos),
        unk,
        pad,
        add_bos,
        add_eos,
        eog,
    };
    Ok(Parts {
        tokenizer,
        kind,
        special,
        chat_template: md.str("tokenizer.chat_template")?.map(str::to_owned),
        warnings,
        vocab_size: n,
    })
}

fn read_vocab(md: &Metadata, warnings: &mut Vec<String>) -> crate::Result<Vocab> {
    let raw = md
        .str_array("tokenizer.ggml.tokens")?
        .ok_or_else(|| samtal_gguf::Error::MissingKey("tokenizer.ggml.tokens".to_owned()))?;
    if raw.is_empty() || u32::try_from(raw.len()).is_err() {
        return Err(Error::InvalidVocab(format!(
            "tokenizer.ggml.tokens has {} entries",
            raw.len()
        )));
    }
    let tokens: Vec<String> = raw
        .iter()
        .enumerate()
        .map(|(i, t)| {
            // llama.cpp renames empty pieces so they cannot match anything.
            if t.is_empty() {
                format!("[EMPTY_{i}]")
            } else {
                (*t).to_owned()
            }
        })
        .collect();
    let mut types = match md.i64_array("tokenizer.ggml.token_type")? {
        Some(types) if types.len() >= tokens.len() => types,
        Some(types) => {
            return Err(Error::InvalidVocab(format!(
                "tokenizer.ggml.token_type has {} entries for {} tokens",
                types.len(),
                tokens.len()
            )))
        }
        None => vec![TYPE_NORMAL; tokens.len()],
    };
    types.truncate(tokens.len());
    let mut ids = ahash::AHashMap::with_capacity(tokens.len());
    for (i, t) in tokens.iter().enumerate() {
        if ids.insert(t.clone(), i as u32).is_some() {
            warnings.push(format!("duplicate token {t:?}: id {i} wins"));
        }
    }
    // llama.cpp forces end-of-turn-looking tokens to CONTROL whatever the file says (Phi-3 ships
    // `</s>` as USER_DEFINED), so that user text can never produce them.
    for text in EOG_TEXTS {
        if let Some(&id) = ids.get(*text) {
            types[id as usize] = TYPE_CONTROL;
        }
    }
    Ok(Vocab { tokens, types, ids })
}

/// The vocabulary in the map type HF's BPE builder takes.
fn bpe_vocab(vocab: &Vocab) -> tokenizers::models::bpe::Vocab {
    vocab.ids.clone()
}

/// An optional token-id key, ignored with a warning when it points outside the vocabulary.
fn special_id(
    md: &Metadata,
    key: &str,
    default: Option<u32>,
    n: usize,
    warnings: &mut Vec<String>,
) -> crate::Result<Option<u32>> {
    let id = match md.u64(key)? {
        Some(id) => Some(id),
        None => default.map(u64::from),
    };
    Ok(match id {
        Some(id) if id < n as u64 => Some(id as u32),
        Some(id) => {
            warnings.push(format!("{key} = {id} is outside the vocabulary; ignored"));
            None
        }
        None => None,
    })
}

fn byte_level_bpe(
    md: &Metadata,
    vocab: &Vocab,
    spec: &pretok::PreTokenizerSpec,
    warnings: &mut Vec<String>,
) -> crate::Result<tokenizers::Tokenizer> {
    let raw = md
        .str_array("tokenizer.ggml.merges")?
        .ok_or_else(|| samtal_gguf::Error::MissingKey("tokenizer.ggml.merges".to_owned()))?;
    let mut merges = Vec::with_capacity(raw.len());
    let mut skipped = 0usize;
    let mut joined = String::new();
    for merge in raw {
        // "a b": split at the first space after the first character (llama.cpp does the same,
        // so that a merge whose left side is itself a space still parses).
        let first = merge.chars().next().map_or(0, char::len_utf8);
        let Some(pos) = merge[first..].find(' ').map(|p| p + first) else {
            skipped += 1;
            continue;
        };
        let (left, right) = (&merge[..pos], &merge[pos + 1..]);
        // HF's BPE refuses merges naming unknown tokens; llama.cpp just never completes them.
        let known = |s: &str| vocab.ids.contains_key(s);
        joined.clear();
        joined.push_str(left);
        joined.push_str(right);
        if known(left) && known(right) && known(&joined) {
            merges.push((left.to_owned(), right.to_owned()));
        } else {
            skipped += 1;
        }
    }
    if skipped > 0 {
        warnings.push(format!(
            "{skipped} merges were malformed or named tokens outside the vocabulary; skipped"
        ));
    }
    let model = BPE::builder()
        .vocab_and_merges(bpe_vocab(vocab), merges)
        .ignore_merges(spec.ignore_merges)
        .build()
        .map_err(|e| Error::Build(e.to_string()))?;

    let mut steps = Vec::with_capacity(spec.regexes.len() + 1);
    for re in &spec.regexes {
        let split = Split::new(
            SplitPattern::Regex((*re).to_owned()),
            SplitDelimiterBehavior::Isolated,
            false,
        )
        .map_err(|e| Error::Build(format!("pre-tokenizer regex {re:?}: {e}")))?;
        steps.push(PreTokenizerWrapper::Split(split));
    }
    // Bytes to GPT-2's printable stand-ins, after the regexes have split the raw text.
    steps.push(PreTokenizerWrapper::ByteLevel(ByteLevel::new(
        false, true, false,
    )));

    let mut tokenizer = tokenizers::Tokenizer::new(model);
    tokenizer
        .with_pre_tokenizer(Some(PreSequence::new(steps)))
        .with_decoder(Some(ByteLevel::default()));
    add_vocab_specials(&mut tokenizer, vocab, |_| false);
    Ok(tokenizer)
}

fn sentencepiece(
    md: &Metadata,
    vocab: &Vocab,
    warnings: &mut Vec<String>,
) -> crate::Result<tokenizers::Tokenizer> {
    let scores = match md.f32_array("tokenizer.ggml.scores")? {
        Some(s) if s.len() >= vocab.tokens.len() => s,
        Some(s) => {
            return Err(Error::InvalidVocab(format!(
                "tokenizer.ggml.scores has {} entries for {} tokens",
                s.len(),
                vocab.tokens.len()
            )))
        }
        None => {
            warnings.push("no tokenizer.ggml.scores: all pieces score 0".to_owned());
            vec![0.0; vocab.tokens.len()]
        }
    };
    let merges = spm::merges_from_scores(&vocab.tokens, &scores, &vocab.ids);
    let unk = md
        .u64("tokenizer.ggml.unknown_token_id")?
        .unwrap_or(0)
        .try_into()
        .ok()
        .and_then(|id: usize| vocab.tokens.get(id))
        .cloned();
    let mut builder = BPE::builder()
        .vocab_and_merges(bpe_vocab(vocab), merges)
        .byte_fallback(true)
        .fuse_unk(true);
    if let Some(unk) = unk {
        builder = builder.unk_token(unk);
    }
    let model = builder.build().map_err(|e| Error::Build(e.to_string()))?;

    if md.bool("tokenizer.ggml.remove_extra_whitespaces")? == Some(true) {
        warnings.push(
            "tokenizer.ggml.remove_extra_whitespaces is set but not implemented; whitespace runs \
             are kept"
                .to_owned(),
        );
    }
    // llama.cpp: a space goes in front of the text and after every special token, then spaces
    // become `▁`. HF's `Prepend` normalizer runs on each stretch between added tokens, which is
    // the same thing.
    let add_space_prefix = md.bool("tokenizer.ggml.add_space_prefix")?.unwrap_or(true);
    let replace = |from: &str, to: &str| {
        Replace::new(from, to).map_err(|e| Error::Build(format!("replace {from:?}: {e}")))
    };
    let mut normalizers = Vec::new();
    if add_space_prefix {
        normalizers.push(NormalizerWrapper::Prepend(Prepend::new(
            SPM_SPACE.to_owned(),
        )));
    }
    normalizers.push(NormalizerWrapper::Replace(replace(" ", SPM_SPACE)?));
    // The inverse, as transformers' LlamaConverter decodes: `▁` → space, `<0xNN>` → bytes, and the
    // one space the encoder added at the front dropped again.
    let mut decoders = vec![
        DecoderWrapper::Replace(replace(SPM_SPACE, " ")?),
        DecoderWrapper::ByteFallback(ByteFallback::new()),
        DecoderWrapper::Fuse(Fuse::new()),
    ];
    if add_space_prefix {
        decoders.push(DecoderWrapper::Strip(Strip::new(' ', 1, 0)));
    }

    let mut tokenizer = tokenizers::Tokenizer::new(model);
    tokenizer
        .with_normalizer(Some(NormalizerSequence::new(normalizers)))
        .with_decoder(Some(DecoderSequence::new(decoders)));

    // llama.cpp gives Phi-3's chat tokens RSTRIP (whitespace after them is eaten), as its HF
    // tokenizer does, except for these.
    let name = md.str("general.name")?.unwrap_or("").to_lowercase();
    let phi3 = name.contains("phi-3") || name.contains("phi3");
    add_vocab_specials(&mut tokenizer, vocab, |text| {
        phi3 && !matches!(text, "<unk>" | "<s>" | "<|endoftext|>")
    });
    Ok(tokenizer)
}

/// BERT's WordPiece from the "phantom space" vocabulary llama.cpp's converter writes: a piece
/// that starts a word carries a leading `▁`, a continuation has none (it had `##`), control
/// tokens are as they were. Turned back into the `##` vocabulary, with BERT's normalizer (clean
/// text, CJK characters apart, lowercase and accents stripped when the file says lowercase) and
/// pre-tokenizer (whitespace and punctuation), as transformers' BertTokenizerFast reads it.
fn wordpiece(md: &Metadata, vocab: &Vocab) -> crate::Result<tokenizers::Tokenizer> {
    use tokenizers::decoders::wordpiece::WordPiece as WordPieceDecoder;
    use tokenizers::models::wordpiece::WordPiece;
    use tokenizers::normalizers::bert::BertNormalizer;
    use tokenizers::pre_tokenizers::bert::BertPreTokenizer;

    let mut pieces = ahash::AHashMap::with_capacity(vocab.tokens.len());
    for (i, (text, &ty)) in vocab.tokens.iter().zip(&vocab.types).enumerate() {
        let piece = if ty == TYPE_CONTROL {
            text.clone()
        } else if let Some(word) = text.strip_prefix(SPM_SPACE) {
            word.to_owned()
        } else {
            format!("##{text}")
        };
        pieces.entry(piece).or_insert(i as u32);
    }
    let unk = md
        .u64("tokenizer.ggml.unknown_token_id")?
        .and_then(|id| vocab.tokens.get(usize::try_from(id).ok()?))
        .cloned()
        .unwrap_or_else(|| "[UNK]".to_owned());
    let model = WordPiece::builder()
        .vocab(pieces)
        .unk_token(unk)
        .continuing_subword_prefix("##".to_owned())
        .max_input_chars_per_word(100)
        .build()
        .map_err(|e| Error::Build(e.to_string()))?;
    let lowercase = md
        .bool("tokenizer.ggml.normalizer.lowercase")?
        .unwrap_or(true);
    let mut tokenizer = tokenizers::Tokenizer::new(model);
    tokenizer
        .with_normalizer(Some(BertNormalizer::new(true, true, None, lowercase)))
        .with_pre_tokenizer(Some(BertPreTokenizer))
        .with_decoder(Some(WordPieceDecoder::default()));
    add_vocab_specials(&mut tokenizer, vocab, |_| false);
    Ok(tokenizer)
}

/// Registers CONTROL and UNKNOWN tokens as special added tokens and USER_DEFINED ones as plain
/// added tokens, so the first are matched in text only with `parse_special` and the second
/// always, as llama.cpp's `tokenizer_st_partition` does.
fn add_vocab_specials(
    tokenizer: &mut tokenizers::Tokenizer,
    vocab: &Vocab,
    rstrip: impl Fn(&str) -> bool,
) {
    let mut special = Vec::new();
    let mut user = Vec::new();
    for (i, (text, &ty)) in vocab.tokens.iter().zip(&vocab.types).enumerate() {
        if vocab.ids.get(text) != Some(&(i as u32)) {
            continue;
        }
        match ty {
            TYPE_CONTROL | TYPE_UNKNOWN => special.push(
                AddedToken::from(text.clone(), true)
                    .normalized(false)
                    .rstrip(rstrip(text)),
            ),
            TYPE_USER_DEFINED => user.push(
                AddedToken::from(text.clone(), false)
                    .normalized(false)
                    .rstrip(rstrip(text)),
            ),
            _ => {}
        }
    }
    tokenizer.add_special_tokens(&special);
    tokenizer.add_tokens(&user);
}

#[cfg(test)]
mod tests;
