//! The [`CausalLm`] trait and one file per architecture.

pub mod bert;
pub mod gpt2;
pub mod llama;

use crate::cache::Cache;
use crate::config::Config;
use crate::layers::linear::Linear;
use crate::weights::{Tensor, Weights};
use crate::{Error, LoadOptions, Precision, Result};

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

    /// The final-normed hidden states `(n, hidden)` of `tokens`, without the head (decoder
    /// embedding models pool these).
    fn hidden_states(&self, tokens: &[u32], pos: usize, cache: &mut Cache) -> Result<Vec<f32>>;
}

/// What each model family writes: its layers, from token ids to final-normed hidden states.
/// The [`CausalLm`] surface (checks, prefill slices, the head) is shared by every family.
pub(crate) trait Transformer: Send + Sync + std::fmt::Debug {
    fn cfg(&self) -> &Config;

    /// Width of one position's key (and value) in the cache.
    fn kv_width(&self) -> usize;

    fn lm_head(&self) -> &Linear;

    /// Final-normed hidden states `(n, hidden)` for `tokens` at `pos..`, appended to `cache`.
    fn hidden(&self, tokens: &[u32], pos: usize, cache: &mut Cache) -> Result<Vec<f32>>;
}

impl<T: Transformer> CausalLm for T {
    fn config(&self) -> &Config {
        self.cfg()
    }

    fn new_cache(&self) -> Cache {
        Cache::new(self.cfg().n_layers, self.kv_width())
    }

    fn forward(&self, tokens: &[u32], pos: usize, cache: &mut Cache) -> Result<Vec<f32>> {
        logits(self, tokens, pos, cache, Outputs::Last)
    }

    fn forward_all(&self, tokens: &[u32], pos: usize, cache: &mut Cache) -> Result<Vec<f32>> {
        logits(self, tokens, pos, cache, Outputs::All)
    }

    fn hidden_states(&self, tokens: &[u32], pos: usize, cache: &mut Cache) -> Result<Vec<f32>> {
        logits(self, tokens, pos, cache, Outputs::Hidden)
    }
}

/// The embedding rows of `tokens`, `(n, hidden)`; a token outside the vocabulary is an error.
pub(crate) fn embed(embedding: &Tensor, cfg: &Config, tokens: &[u32]) -> Result<Vec<f32>> {
    let h = cfg.hidden_size;
    let mut x = vec![0f32; tokens.len() * h];
    let emb = embedding.mat();
    for (row, &tok) in x.chunks_exact_mut(h).zip(tokens) {
        if tok as usize >= cfg.vocab_size {
            return Err(Error::TokenOutOfRange {
                token: tok,
                vocab_size: cfg.vocab_size,
            });
        }
        emb.row(tok as usize, row);
    }
    Ok(x)
}

/// Which positions get logits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outputs {
    Last,
    All,
    /// Every position's hidden state, and no logits.
    Hidden,
}

/// Repacks linear layers for 8-bit products when `opts` asks for them (see [`prepare`]).
pub(crate) fn pack(linears: Vec<&mut Linear>, weights: &Weights, opts: &LoadOptions) {
    if opts.precision == Precision::Q8 {
        let mut ws: Vec<&mut Tensor> = linears.into_iter().map(Linear::weight_mut).collect();
        let cache = opts
            .pack_cache
            .as_deref()
            .and_then(|dir| weights.pack_cache_file(dir));
        Tensor::pack_all(&mut ws, cache.as_deref());
    }
}

/// Prepares a model's linear layers for its precision: for 8-bit products, every weight of a type
/// with a packed layout (every quantized type) is repacked (together, into one block, cached on disk when `opts` names a
/// directory). Returns the tensor the embedding should read: the head's (possibly repacked)
/// copy when the two are tied, so the file's pages are not kept mapped as well.
pub(crate) fn prepare(
    linears: Vec<&mut Linear>,
    lm_head: &mut Linear,
    embed: Tensor,
    tied: bool,
    weights: &Weights,
    opts: &LoadOptions,
) -> Tensor {
    let mut linears = linears;
    linears.push(lm_head);
    pack(linears, weights, opts);
    if tied {
        lm_head.weight().clone()
    } else {
        embed
    }
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
fn logits<T: Transformer + ?Sized>(
    model: &T,
    tokens: &[u32],
    pos: usize,
    cache: &mut Cache,
    outputs: Outputs,
) -> Result<Vec<f32>> {
    let cfg = model.cfg();
    check(cfg, tokens, pos, cache)?;
    let h = cfg.hidden_size;
    rayon::scope(|_| {
        let mut out = Vec::new();
        let mut at = pos;
        for slice in tokens.chunks(UBATCH) {
            let xs = model.hidden(slice, at, cache)?;
            at += slice.len();
            let xs = match outputs {
                Outputs::Last if at < pos + tokens.len() => continue,
                Outputs::Last => &xs[xs.len() - h..],
                Outputs::All => &xs[..],
                Outputs::Hidden => {
                    out.extend_from_slice(&xs);
                    continue;
                }
            };
            let start = out.len();
            out.resize(start + xs.len() / h * cfg.vocab_size, 0.0);
            model.lm_head().forward(xs, &mut out[start..]);
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
