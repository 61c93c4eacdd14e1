//! Rotary position embeddings (Su et al., 2021, "RoFormer").
//!
//! Angles are computed as transformers computes them, in f32: `inv_freq[i] = 1 / theta^(2i/d)` and
//! `angle = pos * inv_freq[i]`, so positions far into the context rotate identically.

use crate::config::RopeStyle;

#[derive(Clone, Debug)]
pub struct Rope {
    inv_freq: Vec<f32>,
    style: RopeStyle,
}

impl Rope {
    pub fn new(head_dim: usize, theta: f32, style: RopeStyle) -> Self {
        let inv_freq = (0..head_dim / 2)
            .map(|i| 1.0 / theta.powf((2 * i) as f32 / head_dim as f32))
            .collect();
        Self { inv_freq, style }
    }

    /// `(cos, sin)` tables for `n` positions from `pos`, each `(n, head_dim/2)`.
    pub fn tables(&self, pos: usize, n: usize) -> (Vec<f32>, Vec<f32>) {
        let half = self.inv_freq.len();
        let mut cos = Vec::with_capacity(n * half);
        let mut sin = Vec::with_capacity(n * half);
        for t in 0..n {
            let p = (pos + t) as f32;
            for f in &self.inv_freq {
                let a = (p * f) as f64;
                cos.push(a.cos() as f32);
                sin.push(a.sin() as f32);
            }
        }
        (cos, sin)
    }

    /// Rotates every head of `xs` (`(n, n_heads * head_dim)`) in place.
    pub fn apply(&self, xs: &mut [f32], n_heads: usize, cos: &[f32], sin: &[f32]) {
        let half = self.inv_freq.len();
        let hd = 2 * half;
        for (t, row) in xs.chunks_exact_mut(n_heads * hd).enumerate() {
            let (c, s) = (
                &cos[t * half..(t + 1) * half],
                &sin[t * half..(t + 1) * half],
            );
            for head in row.chunks_exact_mut(hd) {
                match self.style {
                    RopeStyle::Half => {
                        let (a, b) = head.split_at_mut(half);
                        for i in 0..half {
                            let (x0, x1) = (a[i], b[i]);
                            a[i] = x0 * c[i] - x1 * s[i];
                            b[i] = x1 * c[i] + x0 * s[i];
                        }
                    }
                    RopeStyle::Interleaved => {
                        for i in 0..half {
                            let (x0, x1) = (head[2 * i], head[2 * i + 1]);
                            head[2 * i] = x0 * c[i] - x1 * s[i];
                            head[2 * i + 1] = x1 * c[i] + x0 * s[i];
                        }
                    }
                }
            }
        }
    }
}
