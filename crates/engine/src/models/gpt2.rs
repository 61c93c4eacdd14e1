//! GPT-2 (Radford et al., 2019), after transformers' modeling_gpt2.py: learned positions,
//! pre-LayerNorm blocks, GELU (tanh approximation) and a head tied to the token embedding.
//! Hugging Face checkpoints store `Conv1D` weights as `[in, out]`; they are transposed at load
//! into the `(out, in)` layout of [`Linear`]. llama.cpp's converter already stored them
//! transposed in GGUF files.

use crate::cache::Cache;
use crate::config::Config;
use crate::layers::attention::Attention;
use crate::layers::linear::Linear;
use crate::layers::norm::LayerNorm;
use crate::layers::{add, gelu_tanh};
use crate::weights::{Tensor, Weights};
use crate::{LoadOptions, Result};

#[derive(Debug)]
struct Block {
    ln1: LayerNorm,
    qkv: Linear,
    proj: Linear,
    ln2: LayerNorm,
    fc: Linear,
    fc_proj: Linear,
}

#[derive(Debug)]
pub struct Gpt2 {
    cfg: Config,
    wte: Tensor,
    wpe: Vec<f32>,
    blocks: Vec<Block>,
    ln_f: LayerNorm,
    lm_head: Linear,
    attn: Attention,
}

/// Loads a Conv1D/Linear pair, transposing Hugging Face's `[in, out]` Conv1D weights.
fn conv1d(
    weights: &Weights,
    prefix: &str,
    i: usize,
    o: usize,
    opts: &LoadOptions,
) -> Result<Linear> {
    let w = weights.get(&format!("{prefix}.weight"))?;
    let w = if weights.gguf().is_some() {
        w.expect_shape(&[o, i])?
    } else {
        w.expect_shape(&[i, o])?.transpose()?
    };
    let b = weights.get(&format!("{prefix}.bias"))?;
    Linear::new(w.convert(opts.dtype), Some(b))
}

impl Gpt2 {
    pub fn load(cfg: &Config, weights: &Weights, opts: &LoadOptions) -> Result<Self> {
        let h = cfg.hidden_size;
        let wte = weights
            .get_shaped("transformer.wte.weight", &[cfg.vocab_size, h])?
            .convert(opts.dtype);
        let wpe = weights
            .get_shaped("transformer.wpe.weight", &[cfg.max_positions, h])?
            .to_f32();
        let mut blocks = Vec::with_capacity(cfg.n_layers);
        for i in 0..cfg.n_layers {
            let p = format!("transformer.h.{i}");
            blocks.push(Block {
                ln1: LayerNorm::load(weights, &format!("{p}.ln_1"), h, cfg.norm_eps)?,
                qkv: conv1d(weights, &format!("{p}.attn.c_attn"), h, 3 * h, opts)?,
                proj: conv1d(weights, &format!("{p}.attn.c_proj"), h, h, opts)?,
                ln2: LayerNorm::load(weights, &format!("{p}.ln_2"), h, cfg.norm_eps)?,
                fc: conv1d(
                    weights,
                    &format!("{p}.mlp.c_fc"),
                    h,
                    cfg.intermediate_size,
                    opts,
                )?,
                fc_proj: conv1d(
                    weights,
                    &format!("{p}.mlp.c_proj"),
                    cfg.intermediate_size,
                    h,
                    opts,
                )?,
            });
        }
        let tied = !(weights.gguf().is_some() && weights.contains("lm_head.weight"));
        let mut lm_head = if tied {
            Linear::new(wte.clone(), None)?
        } else {
            Linear::load(weights, "lm_head", h, cfg.vocab_size, false, opts)?
        };
        let linears = blocks
            .iter_mut()
            .flat_map(|b| [&mut b.qkv, &mut b.proj, &mut b.fc, &mut b.fc_proj])
            .collect();
        let wte = super::prepare(linears, &mut lm_head, wte, tied, weights, opts);
        Ok(Self {
            cfg: cfg.clone(),
            wte,
            wpe,
            blocks,
            ln_f: LayerNorm::load(weights, "transformer.ln_f", h, cfg.norm_eps)?,
            lm_head,
            attn: Attention {
                n_heads: cfg.n_heads,
                n_kv_heads: cfg.n_heads,
                head_dim: cfg.head_dim,
                window: None,
                causal: true,
            },
        })
    }
}

impl super::Transformer for Gpt2 {
    fn cfg(&self) -> &Config {
        &self.cfg
    }

    fn kv_width(&self) -> usize {
        self.cfg.hidden_size
    }

    fn lm_head(&self) -> &Linear {
        &self.lm_head
    }

    fn hidden(&self, tokens: &[u32], pos: usize, cache: &mut Cache) -> Result<Vec<f32>> {
        let cfg = &self.cfg;
        let (n, h) = (tokens.len(), cfg.hidden_size);
        let mut x = super::embed(&self.wte, cfg, tokens)?;
        for (t, row) in x.chunks_exact_mut(h).enumerate() {
            let p = pos + t;
            for (x, w) in row.iter_mut().zip(&self.wpe[p * h..(p + 1) * h]) {
                *x += w;
            }
        }
        let mut xn = vec![0f32; n * h];
        let mut qkv = vec![0f32; n * 3 * h];
        let mut q = vec![0f32; n * h];
        let mut att = vec![0f32; n * h];
        let mut proj = vec![0f32; n * h];
        let mut f = vec![0f32; n * cfg.intermediate_size];
        for (b, layer) in self.blocks.iter().zip(cache.layers.iter_mut()) {
            b.ln1.forward(&x, &mut xn);
            b.qkv.forward(&xn, &mut qkv);
            for (t, row) in qkv.chunks_exact(3 * h).enumerate() {
                q[t * h..(t + 1) * h].copy_from_slice(&row[..h]);
                layer.append(&row[h..2 * h], &row[2 * h..], h);
            }
            self.attn.forward(&q, layer, pos, &mut att);
            b.proj.forward(&att, &mut proj);
            add(&mut x, &proj);
            b.ln2.forward(&x, &mut xn);
            b.fc.forward(&xn, &mut f);
            for v in f.iter_mut() {
                *v = gelu_tanh(*v);
            }
            b.fc_proj.forward(&f, &mut proj);
            add(&mut x, &proj);
        }
        cache.advance(n);
        self.ln_f.forward(&x, &mut xn);
        Ok(xn)
    }
}
