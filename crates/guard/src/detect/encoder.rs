//! The learned part that reads meaning rather than wording: all-MiniLM-L6-v2 fine-tuned end
//! to end to tell injections from benign text (`scripts/train_guard_encoder.py`), run by
//! samtal's own encoder. Only the fine-tuning's updates are built in (a LoRA adapter of about
//! a megabyte with the classifier head, [`ADAPTER`]); the 90 MB base is the model `samtal pull
//! minilm` fetches.
//!
//! A text longer than the encoder's window is read in overlapping windows and scored by its
//! highest window, so an attack cannot hide at the end of a long document.

use std::path::Path;
use std::sync::Arc;

use samtal_engine::{Adapter, DType, LoadOptions};
use samtal_generation::EmbeddingModel;

use crate::{Error, Result};

/// The fine-tuning's updates and the classifier head (see the module notes).
pub const ADAPTER: &[u8] = include_bytes!("../../model/encoder.safetensors");

/// Texts per encoder pass when a long text has many windows.
const BATCH: usize = 16;

/// The most windows the encoder reads of one text (about 16,000 tokens at the shipped
/// window): a longer text is read in this many windows spread evenly over it, first and last
/// included, so that a megabyte costs about a second, not a minute. The n-gram layers still
/// read all of it.
pub const MAX_WINDOWS: usize = 64;

/// The encoder classifier, loaded.
#[derive(Debug)]
pub struct EncoderModel {
    model: EmbeddingModel,
    /// Tokens per window (the length it was trained at) and the step between windows.
    pub window: usize,
    pub stride: usize,
}

fn bad(what: &str, e: impl std::fmt::Display) -> Error {
    Error::BadModel(format!("guard encoder: {what}: {e}"))
}

impl EncoderModel {
    /// The built-in adapter over the base model at `base` (a sentence-transformers folder of
    /// all-MiniLM-L6-v2), its matrices in `dtype`.
    pub fn load(base: &Path, dtype: DType) -> Result<Self> {
        let adapter = Adapter::from_bytes(ADAPTER, Path::new("<built-in guard adapter>"))
            .map_err(|e| bad("the built-in adapter", e))?;
        Self::load_with(base, adapter, dtype)
    }

    /// `adapter` (as the training script writes one) over the base model at `base`.
    pub fn load_with(base: &Path, adapter: Adapter, dtype: DType) -> Result<Self> {
        let number = |key: &str, default: usize| {
            adapter
                .metadata
                .get(key)
                .map_or(Ok(default), |v| v.parse::<usize>())
                .map_err(|e| bad(&format!("metadata {key}"), e))
        };
        let window = number("max_tokens", 256)?;
        let stride = number("stride", 128)?;
        let opts = LoadOptions {
            dtype,
            adapter: Some(Arc::new(adapter)),
            ..LoadOptions::default()
        };
        let model = EmbeddingModel::load(base, &opts)
            .map_err(|e| bad(&format!("cannot load it over {}", base.display()), e))?;
        if !model.classifies() {
            return Err(bad(
                "the adapter",
                "it has no classifier head (classifier.weight)",
            ));
        }
        Ok(Self {
            model,
            window,
            stride,
        })
    }

    /// The windows the encoder reads of `text` (see [`MAX_WINDOWS`]).
    pub fn windows(&self, text: &str) -> Result<Vec<Vec<u32>>> {
        let mut all = self
            .model
            .windows(text, self.window, self.stride)
            .map_err(|e| bad("tokenizing", e))?;
        let n = all.len();
        if n <= MAX_WINDOWS {
            return Ok(all);
        }
        let keep: Vec<usize> = (0..MAX_WINDOWS)
            .map(|i| i * (n - 1) / (MAX_WINDOWS - 1))
            .collect();
        Ok(keep
            .into_iter()
            .map(|i| std::mem::take(&mut all[i]))
            .collect())
    }

    /// The classifier's logit for `text`: the highest over its windows.
    pub fn logit(&self, text: &str) -> Result<f32> {
        let windows = self.windows(text)?;
        let mut best = f32::NEG_INFINITY;
        for chunk in windows.chunks(BATCH) {
            for logits in self
                .model
                .classify_batch(chunk)
                .map_err(|e| bad("scoring", e))?
            {
                best = best.max(logits.first().copied().unwrap_or(f32::NEG_INFINITY));
            }
        }
        Ok(best)
    }
}
