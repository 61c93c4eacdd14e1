//! BERT (Devlin et al., 2019), after transformers' modeling_bert.py, as sentence encoders such as
//! all-MiniLM-L6-v2 use it: learned absolute positions and token types, post-LayerNorm blocks,
//! bidirectional attention (every token reads the whole text), exact (erf) GELU. The output is
//! the last hidden states `(n, hidden)`; pooling them into one vector is [`crate::pooling`]'s.

use rayon::prelude::*;

use crate::cache::Cache;
use crate::config::Config;
use crate::layers::add;
use crate::layers::attention::Attention;
use crate::layers::linear::Linear;
use crate::layers::norm::LayerNorm;
use crate::weights::{Tensor, Weights};
use crate::{Error, LoadOptions, Result};

#[derive(Debug)]
struct Layer {
    q: Linear,
    k: Linear,
    v: Linear,
    o: Linear,
    attn_ln: LayerNorm,
    up: Linear,
    down: Linear,
    out_ln: LayerNorm,
}

/// A BERT encoder. Weights are immutable and the struct is shared; a call keeps its keys and
/// values in a cache of its own.
#[derive(Debug)]
pub struct Bert {
    cfg: Config,
    word: Tensor,
    /// `(max_positions, hidden)`
    positions: Vec<f32>,
    /// The embedding of token type 0, `(hidden)`: one text, no second segment.
    token_type: Vec<f32>,
    emb_ln: LayerNorm,
    layers: Vec<Layer>,
    attn: Attention,
}

/// GELU with the error function (transformers' `gelu`, BERT's `hidden_act`), not the tanh
/// approximation GPT-2 uses.
#[inline]
fn gelu_erf(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x / std::f32::consts::SQRT_2))
}

/// The error function, Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7, and f32
/// rounding adds as much again): f32 throughout, since it runs once per element of every
/// feed-forward layer.
fn erf(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let poly = t
        * (0.254_829_6
            + t * (-0.284_496_74 + t * (1.421_413_7 + t * (-1.453_152 + t * 1.061_405_4))));
    let y = 1.0 - poly * (-a * a).exp();
    y.copysign(x)
}

impl Bert {
    pub fn load(cfg: &Config, weights: &Weights, opts: &LoadOptions) -> Result<Self> {
        let h = cfg.hidden_size;
        // A bare BertModel names its tensors from `embeddings.`; a model inside a task head
        // (BertForMaskedLM, …) from `bert.embeddings.`.
        let pre = if weights.contains("bert.embeddings.word_embeddings.weight") {
            "bert."
        } else {
            ""
        };
        let word = weights
            .get_shaped(
                &format!("{pre}embeddings.word_embeddings.weight"),
                &[cfg.vocab_size, h],
            )?
            .convert(opts.dtype);
        let positions = weights
            .get_shaped(
                &format!("{pre}embeddings.position_embeddings.weight"),
                &[cfg.max_positions, h],
            )?
            .to_f32();
        let types = weights
            .get(&format!("{pre}embeddings.token_type_embeddings.weight"))?
            .to_f32();
        if types.len() < h {
            return Err(Error::MissingTensor(format!(
                "{pre}embeddings.token_type_embeddings.weight (one row of {h})"
            )));
        }
        let eps = cfg.norm_eps;
        let mut layers = Vec::with_capacity(cfg.n_layers);
        for i in 0..cfg.n_layers {
            let p = format!("{pre}encoder.layer.{i}");
            let lin = |name: &str, i_dim, o_dim| {
                Linear::load(weights, &format!("{p}.{name}"), i_dim, o_dim, true, opts)
            };
            let inter = cfg.intermediate_size;
            layers.push(Layer {
                q: lin("attention.self.query", h, h)?,
                k: lin("attention.self.key", h, h)?,
                v: lin("attention.self.value", h, h)?,
                o: lin("attention.output.dense", h, h)?,
                attn_ln: LayerNorm::load(
                    weights,
                    &format!("{p}.attention.output.LayerNorm"),
                    h,
                    eps,
                )?,
                up: lin("intermediate.dense", h, inter)?,
                down: lin("output.dense", inter, h)?,
                out_ln: LayerNorm::load(weights, &format!("{p}.output.LayerNorm"), h, eps)?,
            });
        }
        super::pack(
            layers
                .iter_mut()
                .flat_map(|l| {
                    [
                        &mut l.q,
                        &mut l.k,
                        &mut l.v,
                        &mut l.o,
                        &mut l.up,
                        &mut l.down,
                    ]
                })
                .collect(),
            weights,
            opts,
        );
        Ok(Self {
            cfg: cfg.clone(),
            word,
            positions,
            token_type: types[..h].to_vec(),
            emb_ln: LayerNorm::load(weights, &format!("{pre}embeddings.LayerNorm"), h, eps)?,
            layers,
            attn: Attention {
                n_heads: cfg.n_heads,
                n_kv_heads: cfg.n_heads,
                head_dim: cfg.head_dim,
                window: None,
                causal: false,
            },
        })
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The last hidden states `(n, hidden)` of one text's token ids (special tokens included).
    pub fn hidden(&self, tokens: &[u32]) -> Result<Vec<f32>> {
        Ok(self.hidden_batch(&[tokens])?.pop().unwrap_or_default())
    }

    /// The last hidden states of several texts in one pass. Their tokens are stacked into one
    /// matrix, so every linear layer reads its weights once for all of them; attention runs
    /// per text, over that text's own keys and values only, so texts of different lengths need
    /// no padding and never see each other.
    pub fn hidden_batch(&self, texts: &[&[u32]]) -> Result<Vec<Vec<f32>>> {
        let cfg = &self.cfg;
        let h = cfg.hidden_size;
        for t in texts {
            if t.is_empty() {
                return Err(Error::EmptyInput);
            }
            if t.len() > cfg.max_positions {
                return Err(Error::ContextOverflow {
                    needed: t.len(),
                    max: cfg.max_positions,
                });
            }
        }
        let all: Vec<u32> = texts.iter().flat_map(|t| t.iter().copied()).collect();
        let n = all.len();
        // Every buffer is row-major, one row per token of every text, text after text.
        let mut x = super::embed(&self.word, cfg, &all)?; // (n, hidden)
        let mut row = 0;
        for t in texts {
            for p in 0..t.len() {
                let r = &mut x[(row + p) * h..(row + p + 1) * h];
                add(r, &self.positions[p * h..(p + 1) * h]);
                add(r, &self.token_type);
            }
            row += t.len();
        }
        let mut xs = vec![0f32; n * h]; // (n, hidden)
        self.emb_ln.forward(&x, &mut xs);
        let mut q = vec![0f32; n * h]; // (n, n_heads * head_dim)
        let mut k = vec![0f32; n * h];
        let mut v = vec![0f32; n * h];
        let mut att = vec![0f32; n * h]; // (n, n_heads * head_dim): heads side by side
        let mut proj = vec![0f32; n * h];
        let mut up = vec![0f32; n * cfg.intermediate_size]; // (n, intermediate)
        rayon::scope(|_| {
            for l in &self.layers {
                Linear::forward_many(&[&l.q, &l.k, &l.v], &xs, &mut [&mut q, &mut k, &mut v]);
                let mut at = 0;
                for t in texts {
                    let rows = at * h..(at + t.len()) * h;
                    let mut cache = Cache::new(1, h);
                    let layer = &mut cache.layers[0];
                    layer.append(&k[rows.clone()], &v[rows.clone()], h);
                    self.attn
                        .forward(&q[rows.clone()], layer, 0, &mut att[rows]);
                    at += t.len();
                }
                l.o.forward(&att, &mut proj);
                // Post-LayerNorm: the residual sum is normed (BertSelfOutput, BertOutput).
                add(&mut proj, &xs);
                l.attn_ln.forward(&proj, &mut xs);
                l.up.forward(&xs, &mut up);
                up.par_chunks_mut(4096)
                    .for_each(|c| c.iter_mut().for_each(|u| *u = gelu_erf(*u)));
                l.down.forward(&up, &mut proj);
                add(&mut proj, &xs);
                l.out_ln.forward(&proj, &mut xs);
            }
        });
        let mut out = Vec::with_capacity(texts.len());
        let mut at = 0;
        for t in texts {
            out.push(xs[at * h..(at + t.len()) * h].to_vec());
            at += t.len();
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_matches_known_values() {
        for (x, want) in [
            (0.0f32, 0.0f32),
            (0.5, 0.520_499_9),
            (1.0, 0.842_700_8),
            (-1.0, -0.842_700_8),
            (2.5, 0.999_593),
        ] {
            assert!((erf(x) - want).abs() < 3e-7, "erf({x}) = {}", erf(x));
        }
    }
}
