//! Sentence embeddings for every face: an encoder with its tokenizer, text in and vectors out,
//! with the one rule for texts longer than the model's window (an error, or cut keeping the
//! closing token, as sentence-transformers cuts).

use std::path::Path;

use samtal_engine::{Embedder, LoadOptions};
use samtal_tokenizer::{Encode, Tokenizer};

use crate::{Error, Result};

/// The element type encoders load with unless told otherwise, on every face: matrices
/// quantized to 8 bits at load (about twice f32's speed, vectors within cosine 0.998 of the
/// reference's, see the engine's encoder tests); `f32` gives the reference's arithmetic.
pub const EMBEDDING_DTYPE: &str = "q8_0";

/// An embedding model, loaded.
#[derive(Debug)]
pub struct EmbeddingModel {
    embedder: Embedder,
    pub tokenizer: Tokenizer,
}

/// One text's vector and how many tokens it took.
#[derive(Clone, Debug, PartialEq)]
pub struct Embedding {
    pub vector: Vec<f32>,
    pub tokens: usize,
}

impl EmbeddingModel {
    /// Loads a sentence-transformers folder or a GGUF file (its tokenizer from its metadata).
    pub fn load(path: &Path, opts: &LoadOptions) -> Result<Self> {
        let embedder = Embedder::load(path, opts)?;
        let tokenizer = if path.is_file() {
            let file =
                samtal_gguf::MappedGguf::open(path).map_err(samtal_tokenizer::Error::from)?;
            Tokenizer::from_gguf(&file.gguf.metadata)?
        } else {
            Tokenizer::from_hf_folder(path)?
        };
        Ok(Self {
            embedder,
            tokenizer,
        })
    }

    pub fn dimension(&self) -> usize {
        self.embedder.dimension()
    }

    /// The most tokens one text may take.
    pub fn max_tokens(&self) -> usize {
        self.embedder.max_tokens
    }

    /// A text's ids as the model reads them (`[CLS] … [SEP]`); past the window an error, or
    /// with `truncate` cut to it with the closing token kept.
    pub fn ids(&self, text: &str, truncate: bool) -> Result<Vec<u32>> {
        let mut ids = self.tokenizer.encode(
            text,
            Encode {
                add_special_tokens: true,
                parse_special: false,
            },
        )?;
        let max = self.max_tokens();
        if ids.len() > max {
            if !truncate {
                return Err(Error::TooLong {
                    tokens: ids.len(),
                    max,
                });
            }
            let last = ids[ids.len() - 1];
            ids.truncate(max.saturating_sub(1));
            ids.push(last);
        }
        Ok(ids)
    }

    pub fn embed_text(&self, text: &str, truncate: bool) -> Result<Embedding> {
        let ids = self.ids(text, truncate)?;
        self.embed_ids(&ids)
    }

    /// A long text's ids in windows of at most `max` tokens (capped at the model's window),
    /// each wrapped in the text's special tokens (`[CLS] … [SEP]`), starting every `stride`
    /// tokens of the text, the last one reaching its end; a text that fits is one window.
    /// How a classifier reads a text of any length (its score is the highest window's).
    pub fn windows(&self, text: &str, max: usize, stride: usize) -> Result<Vec<Vec<u32>>> {
        let encode = |add_special_tokens| {
            self.tokenizer.encode(
                text,
                Encode {
                    add_special_tokens,
                    parse_special: false,
                },
            )
        };
        let full = encode(true)?;
        let max = max.min(self.max_tokens());
        if full.len() <= max {
            return Ok(vec![full]);
        }
        let bare = encode(false)?;
        let extra = full.len().saturating_sub(bare.len());
        let Some(k) = (0..=extra).find(|&k| full[k..k + bare.len()] == bare[..]) else {
            return Err(Error::InvalidParameter {
                name: "input",
                message: "the tokenizer's special tokens do not wrap the text, so it cannot be \
                          read in windows"
                    .into(),
            });
        };
        let body = max.saturating_sub(extra);
        if body == 0 {
            return Err(Error::TooLong {
                tokens: full.len(),
                max,
            });
        }
        let (prefix, suffix) = (&full[..k], &full[k + bare.len()..]);
        let stride = stride.clamp(1, body);
        let mut out = Vec::new();
        let mut start = 0;
        loop {
            let end = (start + body).min(bare.len());
            out.push([prefix, &bare[start..end], suffix].concat());
            if end == bare.len() {
                return Ok(out);
            }
            start += stride;
        }
    }

    /// Checks ids before a pass: in the vocabulary, within the window, not empty.
    fn check_ids<'a>(&self, texts: &'a [Vec<u32>]) -> Result<Vec<&'a [u32]>> {
        let vocab = self.embedder.config().vocab_size;
        for ids in texts {
            if let Some(id) = ids.iter().find(|&&id| id as usize >= vocab) {
                return Err(Error::InvalidParameter {
                    name: "input",
                    message: format!("token {id} is outside the vocabulary of {vocab}"),
                });
            }
            if ids.len() > self.max_tokens() {
                return Err(Error::TooLong {
                    tokens: ids.len(),
                    max: self.max_tokens(),
                });
            }
            if ids.is_empty() {
                return Err(Error::EmptyPrompt);
            }
        }
        Ok(texts.iter().map(Vec::as_slice).collect())
    }

    /// The vectors of several texts' ids (each as [`EmbeddingModel::ids`] or the caller gives
    /// them), in one pass.
    pub fn embed_batch(&self, texts: &[Vec<u32>]) -> Result<Vec<Embedding>> {
        let vectors = self.embedder.embed_batch(&self.check_ids(texts)?)?;
        Ok(vectors
            .into_iter()
            .zip(texts)
            .map(|(vector, ids)| Embedding {
                vector,
                tokens: ids.len(),
            })
            .collect())
    }

    /// Whether the model has a classifier over its embeddings.
    pub fn classifies(&self) -> bool {
        self.embedder.classifies()
    }

    /// The classifier logits of several texts' ids, in one pass.
    pub fn classify_batch(&self, texts: &[Vec<u32>]) -> Result<Vec<Vec<f32>>> {
        Ok(self.embedder.classify_batch(&self.check_ids(texts)?)?)
    }

    /// The vector of ids given as they are (the caller's special tokens included).
    pub fn embed_ids(&self, ids: &[u32]) -> Result<Embedding> {
        self.embed_batch(&[ids.to_vec()])?
            .pop()
            .ok_or(Error::EmptyPrompt)
    }
}
