//! Text ↔ token ids for samtal: HF `tokenizer.json` folders and GGUF tokenizer metadata behind one
//! [`Tokenizer`], with the special tokens, the end-of-generation set and UTF-8-safe streaming.
//!
//! Both sources become a `tokenizers::Tokenizer` (HF's Rust library). GGUF vocabularies are
//! rebuilt in code to behave like llama.cpp's tokenizers (src/llama-vocab.cpp), which in turn
//! match HF's: byte-level BPE for `tokenizer.ggml.model == "gpt2"`, SentencePiece-style BPE with
//! byte fallback for `"llama"`. llama.cpp's own test vectors (tests/test-tokenizer-0.cpp) check
//! this crate in `tests/llama_cpp_vectors.rs`.
//!
//! Special-token strings inside user text are a prompt-injection hazard: [`Encode::parse_special`]
//! is off by default, so `"<|im_end|>"` typed by a user becomes ordinary text tokens. Only
//! template scaffolding should be encoded with it on.

mod bytes;
mod gguf;
mod hf;
mod special;
mod stream;
#[cfg(test)]
mod test_vocab;

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use bytes::TokenBytes;
pub use special::{SpecialTokens, EOG_TEXTS};
pub use stream::DecodeStream;

/// Errors from loading or running a tokenizer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid JSON in {path}: {source}")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot load {path}: {source}")]
    TokenizerJson {
        path: PathBuf,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error(transparent)]
    Gguf(#[from] samtal_gguf::Error),
    #[error("GGUF tokenizer metadata: {0}")]
    InvalidVocab(String),
    #[error("unsupported tokenizer: {0}")]
    Unsupported(String),
    #[error("cannot build the tokenizer: {0}")]
    Build(String),
    #[error("encoding failed: {0}")]
    Encode(String),
    #[error("decoding failed: {0}")]
    Decode(String),
    #[error("token id {id} is outside the vocabulary of {vocab_size} tokens")]
    UnknownId { id: u32, vocab_size: usize },
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Where a tokenizer came from, which decides its quirks.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenizerKind {
    /// A HF `tokenizer.json`.
    HfJson,
    /// GGUF `tokenizer.ggml.model == "gpt2"`: byte-level BPE with the named pre-tokenizer.
    GgufBpe { pre: String },
    /// GGUF `tokenizer.ggml.model == "llama"`: SentencePiece BPE with byte fallback.
    GgufSpm,
    /// GGUF `tokenizer.ggml.model == "bert"`: WordPiece (BERT-family encoders).
    GgufWpm,
}

/// Options for [`Tokenizer::encode`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Encode {
    /// Add what transformers' `tokenizer(text)` adds: BOS for Llama-style tokenizers whose
    /// `add_bos_token` is set, nothing for GPT-2 or SmolLM2.
    pub add_special_tokens: bool,
    /// Recognise special-token strings in the text as single ids. Off, `"<|im_start|>"` is
    /// tokenized as ordinary text (transformers' `split_special_tokens=True`, llama.cpp's
    /// `parse_special=false`). Non-special added tokens are recognised either way, as in both.
    pub parse_special: bool,
}

impl Default for Encode {
    fn default() -> Self {
        Self {
            add_special_tokens: true,
            parse_special: false,
        }
    }
}

impl Encode {
    /// Untrusted text such as message content: nothing added, special strings stay text.
    pub const TEXT: Self = Self {
        add_special_tokens: false,
        parse_special: false,
    };
    /// A rendered chat template: the template writes BOS itself when the model wants it
    /// (transformers' `apply_chat_template(tokenize=True)` encodes with
    /// `add_special_tokens=False`), and its special strings are real special tokens.
    pub const TEMPLATE: Self = Self {
        add_special_tokens: false,
        parse_special: true,
    };
}

/// A tokenizer: text to ids and back. Cheap to clone (shared), `Send + Sync`.
#[derive(Clone)]
pub struct Tokenizer {
    inner: Arc<Inner>,
}

struct Inner {
    /// Recognises special-token strings (`encode_special_tokens == false`).
    parse: tokenizers::Tokenizer,
    /// Treats special-token strings as text. `tokenizers` keeps this switch on the tokenizer
    /// rather than per call, so a second copy serves `parse_special == false`. Copying a large
    /// vocabulary takes tens of milliseconds, so it is made on a background thread after
    /// loading (or on first use, whichever comes first) rather than delaying the load.
    plain: std::sync::OnceLock<tokenizers::Tokenizer>,
    kind: TokenizerKind,
    special: SpecialTokens,
    special_ids: HashSet<u32>,
    chat_template: Option<String>,
    warnings: Vec<String>,
    vocab_size: usize,
}

/// What a loader hands to [`Tokenizer::from_parts`].
pub(crate) struct Parts {
    pub tokenizer: tokenizers::Tokenizer,
    pub kind: TokenizerKind,
    pub special: SpecialTokens,
    pub chat_template: Option<String>,
    pub warnings: Vec<String>,
    pub vocab_size: usize,
}

impl fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokenizer")
            .field("kind", &self.inner.kind)
            .field("vocab_size", &self.inner.vocab_size)
            .field("special", &self.inner.special)
            .field("warnings", &self.inner.warnings)
            .finish_non_exhaustive()
    }
}

impl Tokenizer {
    /// Loads a HF model folder: `tokenizer.json`, plus `tokenizer_config.json` (special tokens,
    /// `add_bos_token`/`add_eos_token`, chat template), `special_tokens_map.json`,
    /// `chat_template.jinja` and `generation_config.json` (end-of-generation ids) when present.
    pub fn from_hf_folder(dir: &Path) -> Result<Self> {
        Self::from_parts(hf::from_folder(dir)?)
    }

    /// Loads a bare `tokenizer.json`; special tokens are whatever it marks special.
    pub fn from_tokenizer_json(path: &Path) -> Result<Self> {
        Self::from_parts(hf::from_json(path)?)
    }

    /// Builds the tokenizer a GGUF file describes in its `tokenizer.*` metadata.
    pub fn from_gguf(md: &samtal_gguf::Metadata) -> Result<Self> {
        Self::from_parts(gguf::build(md)?)
    }

    fn from_parts(parts: Parts) -> Result<Self> {
        let Parts {
            tokenizer: parse,
            kind,
            special,
            chat_template,
            warnings,
            vocab_size,
        } = parts;
        let special_ids = parse
            .get_added_tokens_decoder()
            .into_iter()
            .filter(|(_, t)| t.special)
            .map(|(id, _)| id)
            .collect();
        let tokenizer = Self {
            inner: Arc::new(Inner {
                parse,
                plain: std::sync::OnceLock::new(),
                kind,
                special,
                special_ids,
                chat_template,
                warnings,
                vocab_size,
            }),
        };
        let warm = tokenizer.clone();
        // Without threads to be had, the copy is simply made on first use.
        let _ = std::thread::Builder::new()
            .name("samtal-tokenizer-copy".into())
            .spawn(move || {
                warm.plain();
            });
        Ok(tokenizer)
    }

    /// The tokenizer that treats special-token strings as text.
    fn plain(&self) -> &tokenizers::Tokenizer {
        self.inner.plain.get_or_init(|| {
            let mut plain = self.inner.parse.clone();
            plain.set_encode_special_tokens(true);
            plain
        })
    }

    /// Encodes `text` to ids.
    pub fn encode(&self, text: &str, opts: Encode) -> Result<Vec<u32>> {
        let tokenizer = if opts.parse_special {
            &self.inner.parse
        } else {
            self.plain()
        };
        let encoding = tokenizer
            .encode_fast(text, opts.add_special_tokens)
            .map_err(|e| Error::Encode(e.to_string()))?;
        Ok(encoding.get_ids().to_vec())
    }

    /// Decodes ids to text; `skip_special` drops special tokens (BOS, `<|im_end|>`, …).
    pub fn decode(&self, ids: &[u32], skip_special: bool) -> Result<String> {
        if let Some(&id) = ids.iter().find(|&&id| id as usize >= self.inner.vocab_size) {
            return Err(Error::UnknownId {
                id,
                vocab_size: self.inner.vocab_size,
            });
        }
        self.inner
            .parse
            .decode(ids, skip_special)
            .map_err(|e| Error::Decode(e.to_string()))
    }

    /// An incremental decoder that skips special tokens, for showing generated text.
    pub fn stream(&self) -> DecodeStream<'_> {
        DecodeStream::new(self, true)
    }

    /// An incremental decoder with an explicit choice about special tokens.
    pub fn stream_with(&self, skip_special: bool) -> DecodeStream<'_> {
        DecodeStream::new(self, skip_special)
    }

    /// Number of token ids (one more than the largest id).
    pub fn vocab_size(&self) -> usize {
        self.inner.vocab_size
    }

    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.parse.token_to_id(token)
    }

    /// The token's vocabulary string (byte-level BPE tokens show `Ġ` for a space, SentencePiece
    /// ones `▁`); use [`Tokenizer::decode`] for text.
    pub fn id_to_token(&self, id: u32) -> Option<String> {
        self.inner.parse.id_to_token(id)
    }

    /// Whether `id` is a control token (GGUF token type CONTROL or UNKNOWN) or an added token
    /// marked special in tokenizer.json.
    pub fn is_special(&self, id: u32) -> bool {
        self.inner.special_ids.contains(&id)
    }

    pub fn special(&self) -> &SpecialTokens {
        &self.inner.special
    }

    pub fn kind(&self) -> &TokenizerKind {
        &self.inner.kind
    }

    /// The model's Jinja chat template, if it ships one.
    pub fn chat_template(&self) -> Option<&str> {
        self.inner.chat_template.as_deref()
    }

    /// Things the loader had to guess or work around (an unknown GGUF pre-tokenizer, merges
    /// naming tokens outside the vocabulary, …). Empty for a clean load.
    pub fn warnings(&self) -> &[String] {
        &self.inner.warnings
    }
}

#[cfg(test)]
mod tests;
