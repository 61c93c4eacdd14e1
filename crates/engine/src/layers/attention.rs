//! Scaled dot-product attention over a KV cache, with grouped-query heads and an optional
//! sliding window (Mistral); causal for decoders, over every cached position for encoders.
//!
//! Shapes: `q` is `(n, n_heads * head_dim)` for `n` new tokens at absolute positions
//! `pos..pos+n`; the cache layer holds keys and values `(pos + n, n_kv_heads * head_dim)`. Token
//! `t` attends to positions `j` with `j <= pos + t` and, with a window `w`, `pos + t - j < w`
//! (transformers' sliding-window mask).

use rayon::prelude::*;

use crate::cache::LayerCache;
use crate::kernels::{attend, HeadView};

#[derive(Clone, Copy, Debug)]
pub struct Attention {
    pub n_heads: usize,
    pub n_kv_heads: usize,
    pub head_dim: usize,
    pub window: Option<usize>,
    /// Whether a token sees only the positions up to itself (decoders), or every position the
    /// cache holds (encoders such as BERT, which read the whole text at once).
    pub causal: bool,
}

impl Attention {
    /// Writes `(n, n_heads * head_dim)` into `out`.
    pub(crate) fn forward(&self, q: &[f32], layer: &LayerCache, pos: usize, out: &mut [f32]) {
        let hd = self.head_dim;
        let q_dim = self.n_heads * hd;
        let kv_dim = self.n_kv_heads * hd;
        let group = self.n_heads / self.n_kv_heads;
        let scale = 1.0 / (hd as f32).sqrt();
        let n = q.len() / q_dim;
        // One task per (token, key/value head): the query heads of a group share its keys and
        // values, which the kernel reads once for all of them. With too few such tasks to keep
        // the threads busy (decoding one token), one task per query head instead.
        let per_task = if n * self.n_kv_heads >= 4 * rayon::current_num_threads() {
            group
        } else {
            1
        };
        let work = |i: usize, o: &mut [f32], scores: &mut Vec<f32>| {
            let first_head = i * per_task;
            let (t, h) = (first_head / self.n_heads, first_head % self.n_heads);
            let p = pos + t;
            let start = self.window.map_or(0, |w| (p + 1).saturating_sub(w));
            let end = if self.causal {
                p + 1
            } else {
                layer.k.len() / kv_dim
            };
            let view = |data| HeadView {
                data,
                stride: kv_dim,
                offset: (h / group) * hd,
            };
            let first = t * q_dim + h * hd;
            let qs = &q[first..first + per_task * hd];
            attend(
                qs,
                hd,
                view(&layer.k),
                view(&layer.v),
                start..end,
                scale,
                scores,
                o,
            );
        };
        // Independent outputs, so no synchronisation. A single short decode step is cheaper on
        // one thread than handed out.
        if n == 1 && pos < 256 {
            let mut scores = Vec::with_capacity(per_task * (pos + 1));
            for (i, o) in out.chunks_mut(per_task * hd).enumerate() {
                work(i, o, &mut scores);
            }
            return;
        }
        out.par_chunks_mut(per_task * hd)
            .enumerate()
            .for_each_init(Vec::new, |scores, (i, o)| work(i, o, scores));
    }
}
