//! Teacher-forced perplexity: every token after the first is scored by the model's prediction
//! from the tokens before it, in windows of the context length when the text does not fit.

use samtal_engine::CausalLm;
use serde::Serialize;

use crate::sampler::log_softmax_at;
use crate::{Error, Result};

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Perplexity {
    /// Tokens in the text.
    pub tokens: usize,
    /// Tokens scored (`tokens - 1`).
    pub scored: usize,
    /// Mean negative log-likelihood, in nats.
    pub nll: f64,
    pub ppl: f64,
}

/// Tokens per forward pass: bounds the `(chunk, vocab)` logits buffer.
const CHUNK: usize = 128;

/// Scores `ids` in non-overlapping windows of `window` tokens; the last position of one window
/// predicts the first token of the next, so every token after the first is scored.
pub fn perplexity(lm: &dyn CausalLm, ids: &[u32], window: usize) -> Result<Perplexity> {
    if ids.len() < 2 {
        return Err(Error::TooShort(ids.len()));
    }
    let window = window.clamp(1, lm.config().max_positions);
    let vocab = lm.config().vocab_size;
    let mut nll = 0.0f64;
    let mut scored = 0usize;
    let mut cache = lm.new_cache();
    for (w, win) in ids.chunks(window).enumerate() {
        cache.reset();
        let base = w * window;
        for (c, chunk) in win.chunks(CHUNK).enumerate() {
            let pos = c * CHUNK;
            let logits = lm.forward_all(chunk, pos, &mut cache)?;
            for (i, row) in logits.chunks_exact(vocab).enumerate() {
                let next = base + pos + i + 1;
                if let Some(&target) = ids.get(next) {
                    nll -= log_softmax_at(row, target as usize) as f64;
                    scored += 1;
                }
            }
        }
    }
    let mean = nll / scored as f64;
    Ok(Perplexity {
        tokens: ids.len(),
        scored,
        nll: mean,
        ppl: mean.exp(),
    })
}
