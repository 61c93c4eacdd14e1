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

    /// Logits `(vocab)` for the last of `tokens`, run at absolute positions `pos..` (which must
    /// equal `cache.len()`); the tokens are appended to `cache`.
    fn forward(&self, tokens: &[u32], pos: usize, cache: &mut Cache) -> Result<Vec<f32>>;

    /// Logits `(n, vocab)` for every one of `tokens` (perplexity, parity tests).
    fn forward_all(&self, tokens: &[u32], pos: usize, cache: &mut Cache) -> Result<Vec<f32>>;
}

/// Which positions get logits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outputs {
    Last,
    All,
}

/// Prompt tokens per pass: a long prompt goes through the network in slices of this many, so
/// that the activations of a slice stay in the caches and memory does not grow with the prompt.
const UBATCH: usize = 128;

/// The part every model shares: check positions, run the body (which returns final-normed hidden
/// states `(n, hidden)` for the tokens at a position) over the prompt in slices of [`UBATCH`],
/// and apply the head only where logits are wanted.
///
/// The whole pass runs on a thread of the pool, so the calling thread hands work over once per
/// call rather than once per matrix product, and the pass's own thread takes part in every
/// product.
pub(crate) fn logits(
    cfg: &Config,
    tokens: &[u32],
    pos: usize,
    cache: &mut Cache,
    lm_head: &Linear,
    outputs: Outputs,
    body: impl Fn(&[u32], usize, &mut Cache) -> Result<Vec<f32>> + Sync,
) -> Result<Vec<f32>> {
    check(cfg, tokens, pos, cache)?;
    let h = cfg.hidden_size;
    rayon::scope(|_| {
        let mut out = Vec::new();
        let mut at = pos;
        for slice in tokens.chunks(UBATCH) {
            let xs = body(slice, at, cache)?;
            at += slice.len();
            let xs = match outputs {
                Outputs::Last if at < pos + tokens.len() => continue,
                Outputs::Last => &xs[xs.len() - h..],
                Outputs::All => &xs[..],
            };
            let start = out.len();
            out.resize(start + xs.len() / h * cfg.vocab_size, 0.0);
            lm_head.forward(xs, &mut out[start..]);
        }
        Ok(out)
    })
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
