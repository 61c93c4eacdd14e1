//! Causal scaled dot-product attention over a KV cache, with grouped-query heads and an optional
//! sliding window (Mistral).
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
}

impl Attention {
    /// Writes `(n, n_heads * head_dim)` into `out`.
    pub(crate) fn forward(&self, q: &[f32], layer: &LayerCache, pos: usize, out: &mut [f32]) {
        let hd = self.head_dim;
        let q_dim = self.n_heads * hd;
        let kv_dim = self.n_kv_heads * hd;
        let group = self.n_heads / self.n_kv_heads;
        let scale = 1.0 / (hd as f32).sqrt();
        let work = |i: usize, o: &mut [f32], scores: &mut Vec<f32>| {
            let (t, h) = (i / self.n_heads, i % self.n_heads);
            let p = pos + t;
            let start = self.window.map_or(0, |w| (p + 1).saturating_sub(w));
            let kvh = h / group;
            let view = |data| HeadView {
                data,
                stride: kv_dim,
                offset: kvh * hd,
            };
            let qh = &q[t * q_dim + h * hd..t * q_dim + (h + 1) * hd];
            attend(
                qh,
                view(&layer.k),
                view(&layer.v),
                start..p + 1,
                scale,
                scores,
                o,
            );
        };
        // One task per (token, head): independent outputs, so no synchronisation. A single short
        // decode step is cheaper on one thread than handed out.
        let n = q.len() / q_dim;
        if n == 1 && pos < 256 {
            let mut scores = Vec::with_capacity(pos + 1);
            for (i, o) in out.chunks_mut(hd).enumerate() {
                work(i, o, &mut scores);
            }
            return;
        }
        out.par_chunks_mut(hd)
            .enumerate()
            .for_each_init(Vec::new, |scores, (i, o)| work(i, o, scores));
    }
}
