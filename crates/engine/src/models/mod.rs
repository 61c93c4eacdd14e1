//! The [`CausalLm`] trait and one file per architecture.

pub mod gpt2;
pub mod llama;

use crate::cache::Cache;
use crate::config::Config;
use crate::layers::linear::Linear;
use crate::{Error, Result};

/// A causal language model: token ids in, logits out. Implementations hold immutable weights
/// and are shared between sessions; all per-sequence state is in the [`Cache`].
pub trait CausalLm: Send + Sync + std::fmt::Debug {
    fn config(&self) -> &Config;

    /// A new, empty cache for one sequence.
    fn new_cache(&self) -> Cache;

    /// Runs `tokens` at absolute positions `pos..` and returns the final-normed hidden states
    /// `(n, hidden)`, appending to `cache`. Callers use [`CausalLm::forward`] or
    /// [`CausalLm::forward_all`], which check positions first.
    #[doc(hidden)]
    fn forward_hidden(&self, tokens: &[u32], pos: usize, cache: &mut Cache) -> Result<Vec<f32>>;

    #[doc(hidden)]
    fn lm_head(&self) -> &Linear;

    /// Logits `(vocab)` for the last of `tokens`; only the last position goes through the head.
    fn forward(&self, tokens: &[u32], pos: usize, cache: &mut Cache) -> Result<Vec<f32>> {
        check(self.config(), tokens, pos, cache)?;
        let xs = self.forward_hidden(tokens, pos, cache)?;
        let h = self.config().hidden_size;
        let mut logits = vec![0f32; self.config().vocab_size];
        self.lm_head().forward(&xs[xs.len() - h..], &mut logits);
        Ok(logits)
    }

    /// Logits `(n, vocab)` for every one of `tokens` (perplexity, parity tests).
    fn forward_all(&self, tokens: &[u32], pos: usize, cache: &mut Cache) -> Result<Vec<f32>> {
        check(self.config(), tokens, pos, cache)?;
        let xs = self.forward_hidden(tokens, pos, cache)?;
        let mut logits = vec![0f32; tokens.len() * self.config().vocab_size];
        self.lm_head().forward(&xs, &mut logits);
        Ok(logits)
    }
}

fn check(cfg: &Config, tokens: &[u32], pos: usize, cache: &Cache) -> Result<()> {
    if tokens.is_empty() {
        return Err(Error::EmptyInput);
    }
    if pos != cache.len() {
        return Err(Error::Position {
            pos,
            cached: cache.len(),
        });
    }
    if pos + tokens.len() > cfg.max_positions {
        return Err(Error::ContextOverflow {
            needed: pos + tokens.len(),
            max: cfg.max_positions,
        });
    }
    Ok(())
}
