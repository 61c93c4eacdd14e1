//! HF folders: `tokenizer.json` plus the transformers-side configuration around it.

use std::path::Path;

use serde_json::Value;
use tokenizers::AddedToken;

use crate::special::{bos_eos_processor, finish_eog, SpecialTokens};
use crate::{Error, Parts, TokenizerKind};

/// Reads an optional JSON file: `Ok(None)` when it does not exist.
fn read_json(path: &Path) -> crate::Result<Option<Value>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(Error::Io {
                path: path.to_owned(),
                source,
            })
        }
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|source| Error::Json {
            path: path.to_owned(),
            source,
        })
}

fn load_json(path: &Path) -> crate::Result<tokenizers::Tokenizer> {
    if !path.is_file() {
        return Err(Error::Io {
            path: path.to_owned(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        });
    }
    let mut t = tokenizers::Tokenizer::from_file(path).map_err(|source| Error::TokenizerJson {
        path: path.to_owned(),
        source,
    })?;
    // A tokenizer.json may carry the padding and truncation its trainer used (all-MiniLM's pads
    // every text to 128 tokens): samtal encodes one text at a time and decides about length
    // itself, so both are off.
    t.with_padding(None);
    t.with_truncation(None)
        .map_err(|source| Error::TokenizerJson {
            path: path.to_owned(),
            source,
        })?;
    Ok(t)
}

/// A special token in tokenizer_config.json / special_tokens_map.json: a string, or an
/// `AddedToken` object `{"content": ..., "lstrip": ..., ...}`.
fn token_entry(v: &Value) -> Option<AddedToken> {
    match v {
        Value::String(s) => Some(AddedToken::from(s.clone(), true)),
        Value::Object(o) => {
            let content = o.get("content")?.as_str()?;
            let flag =
                |k: &str, default: bool| o.get(k).and_then(Value::as_bool).unwrap_or(default);
            Some(
                AddedToken::from(content.to_owned(), flag("special", true))
                    .lstrip(flag("lstrip", false))
                    .rstrip(flag("rstrip", false))
                    .single_word(flag("single_word", false))
                    .normalized(flag("normalized", false)),
            )
        }
        _ => None,
    }
}

pub(crate) fn from_json(path: &Path) -> crate::Result<Parts> {
    let tokenizer = load_json(path)?;
    let vocab_size = vocab_size(&tokenizer);
    let mut eog = Vec::new();
    finish_eog(&mut eog, [], |t| tokenizer.token_to_id(t));
    Ok(Parts {
        tokenizer,
        kind: TokenizerKind::HfJson,
        special: SpecialTokens {
            eog,
            ..SpecialTokens::default()
        },
        chat_template: None,
        warnings: Vec::new(),
        vocab_size,
    })
}

pub(crate) fn from_folder(dir: &Path) -> crate::Result<Parts> {
    let mut tokenizer = load_json(&dir.join("tokenizer.json"))?;
    let config = read_json(&dir.join("tokenizer_config.json"))?.unwrap_or(Value::Null);
    let map = read_json(&dir.join("special_tokens_map.json"))?.unwrap_or(Value::Null);
    let mut warnings = Vec::new();

    // tokenizer_config.json wins over special_tokens_map.json, as in transformers.
    let named = |key: &str| {
        config
            .get(key)
            .and_then(token_entry)
            .or_else(|| map.get(key).and_then(token_entry))
    };
    let bos_entry = named("bos_token");
    let eos_entry = named("eos_token");
    let unk_entry = named("unk_token");
    let pad_entry = named("pad_token");

    // transformers adds the configured tokens the tokenizer does not know yet, as special
    // (tokenization_utils_tokenizers.py, `tokens_to_add`).
    let mut missing: Vec<AddedToken> = Vec::new();
    if let Some(Value::Object(decoder)) = config.get("added_tokens_decoder") {
        missing.extend(decoder.values().filter_map(token_entry));
    }
    missing.extend(
        [&bos_entry, &eos_entry, &unk_entry, &pad_entry]
            .into_iter()
            .flatten()
            .cloned(),
    );
    missing.retain(|t| tokenizer.token_to_id(&t.content).is_none());
    if !missing.is_empty() {
        let (special, plain): (Vec<_>, Vec<_>) = missing.into_iter().partition(|t| t.special);
        tokenizer.add_special_tokens(&special);
        tokenizer.add_tokens(&plain);
    }

    let id_of = |t: &Option<AddedToken>| t.as_ref().and_then(|t| tokenizer.token_to_id(&t.content));
    let (bos, eos) = (id_of(&bos_entry), id_of(&eos_entry));
    let (unk, pad) = (id_of(&unk_entry), id_of(&pad_entry));
    let bos_token = bos_entry.map(|t| t.content);
    let eos_token = eos_entry.map(|t| t.content);

    // transformers v5 rebuilds the post-processor from add_bos_token/add_eos_token when the
    // config names either, or when tokenizer.json has none (`update_post_processor`).
    let explicit_bos = config.get("add_bos_token").and_then(Value::as_bool);
    let explicit_eos = config.get("add_eos_token").and_then(Value::as_bool);
    if explicit_bos.is_some() || explicit_eos.is_some() || tokenizer.get_post_processor().is_none()
    {
        let add_bos = explicit_bos.unwrap_or(false);
        let add_eos = explicit_eos.unwrap_or(false);
        let pp = bos_eos_processor(
            bos_token.as_deref().zip(bos).filter(|_| add_bos),
            eos_token.as_deref().zip(eos).filter(|_| add_eos),
        )?;
        tokenizer.with_post_processor(pp);
    }
    // What `add_special_tokens` really adds, read off the post-processor's output.
    let (add_bos, add_eos) = match tokenizer.encode_fast("", true) {
        Ok(enc) => {
            let ids = enc.get_ids();
            (
                bos.is_some() && ids.first().copied() == bos,
                eos.is_some() && ids.last().copied() == eos,
            )
        }
        Err(e) => {
            warnings.push(format!("cannot probe the post-processor: {e}"));
            (false, false)
        }
    };

    let mut eog_ids = vec![eos];
    // generation_config.json's eos_token_id (an id or a list) also ends generation.
    if let Some(gen) = read_json(&dir.join("generation_config.json"))? {
        match gen.get("eos_token_id") {
            Some(Value::Array(ids)) => eog_ids.extend(ids.iter().map(json_id)),
            Some(v) => eog_ids.push(json_id(v)),
            None => {}
        }
    }
    let size = vocab_size(&tokenizer);
    eog_ids.retain(|id| id.is_some_and(|id| (id as usize) < size));
    let mut eog = Vec::new();
    finish_eog(&mut eog, eog_ids, |t| tokenizer.token_to_id(t));

    let chat_template = chat_template(dir, &config)?;
    Ok(Parts {
        tokenizer,
        kind: TokenizerKind::HfJson,
        special: SpecialTokens {
            bos,
            eos,
            bos_token,
            eos_token,
            unk,
            pad,
            add_bos,
            add_eos,
            eog,
        },
        chat_template,
        warnings,
        vocab_size: size,
    })
}

fn json_id(v: &Value) -> Option<u32> {
    v.as_u64().and_then(|id| u32::try_from(id).ok())
}

/// `chat_template.jinja` (transformers ≥ 4.47 saves it there), else tokenizer_config.json's
/// `chat_template`: a string, or a list of `{name, template}` of which "default" is used.
fn chat_template(dir: &Path, config: &Value) -> crate::Result<Option<String>> {
    let path = dir.join("chat_template.jinja");
    match std::fs::read_to_string(&path) {
        Ok(t) => return Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => return Err(Error::Io { path, source }),
    }
    Ok(match config.get("chat_template") {
        Some(Value::String(t)) => Some(t.clone()),
        Some(Value::Array(list)) => list
            .iter()
            .find(|e| e.get("name").and_then(Value::as_str) == Some("default"))
            .and_then(|e| e.get("template"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        _ => None,
    })
}

/// One more than the largest id of the model vocabulary and the added tokens.
fn vocab_size(tokenizer: &tokenizers::Tokenizer) -> usize {
    let model = tokenizer.get_vocab_size(false);
    let added = tokenizer
        .get_added_tokens_decoder()
        .keys()
        .map(|&id| id as usize + 1)
        .max()
        .unwrap_or(0);
    model.max(added)
}
