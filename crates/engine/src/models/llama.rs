//! Llama and the architectures that are Llama with a twist, written once for dense and quantized
//! weights: Mistral (sliding-window attention) and Qwen2 (q/k/v biases, large RoPE base).
//! Reference: transformers' modeling_llama.py / modeling_mistral.py / modeling_qwen2.py.

use crate::cache::Cache;
use crate::config::{Arch, Config};
use crate::layers::attention::Attention;
use crate::layers::linear::Linear;
use crate::layers::norm::RmsNorm;
use crate::layers::rope::Rope;
use crate::layers::{add, silu};
use crate::weights::{Tensor, Weights};
use crate::{LoadOptions, Result};

#[derive(Debug)]
struct Block {
    attn_norm: RmsNorm,
    q: Linear,
    k: Linear,
    v: Linear,
    o: Linear,
    ffn_norm: RmsNorm,
    gate: Linear,
    up: Linear,
    down: Linear,
}

#[derive(Debug)]
pub struct Llama {
    cfg: Config,
    embed: Tensor,
    blocks: Vec<Block>,
    norm: RmsNorm,
    lm_head: Linear,
    rope: Rope,
    attn: Attention,
}

impl Llama {
    pub fn load(cfg: &Config, weights: &Weights, opts: &LoadOptions) -> Result<Self> {
        let (h, hd) = (cfg.hidden_size, cfg.head_dim);
        let (q_dim, kv_dim) = (cfg.n_heads * hd, cfg.n_kv_heads * hd);
        let bias = cfg.arch == Arch::Qwen2;
        let embed = weights
            .get_shaped("model.embed_tokens.weight", &[cfg.vocab_size, h])?
            .convert(opts.dtype);
        let mut blocks = Vec::with_capacity(cfg.n_layers);
        for i in 0..cfg.n_layers {
            let p = format!("model.layers.{i}");
            let lin =
                |name: &str, i, o, b| Linear::load(weights, &format!("{p}.{name}"), i, o, b, opts);
            blocks.push(Block {
                attn_norm: RmsNorm::load(
                    weights,
                    &format!("{p}.input_layernorm.weight"),
                    h,
                    cfg.norm_eps,
                )?,
                q: lin("self_attn.q_proj", h, q_dim, bias)?,
                k: lin("self_attn.k_proj", h, kv_dim, bias)?,
                v: lin("self_attn.v_proj", h, kv_dim, bias)?,
                o: lin("self_attn.o_proj", q_dim, h, false)?,
                ffn_norm: RmsNorm::load(
                    weights,
                    &format!("{p}.post_attention_layernorm.weight"),
                    h,
                    cfg.norm_eps,
                )?,
                gate: lin("mlp.gate_proj", h, cfg.intermediate_size, false)?,
                up: lin("mlp.up_proj", h, cfg.intermediate_size, false)?,
                down: lin("mlp.down_proj", cfg.intermediate_size, h, false)?,
            });
        }
        let tied = cfg.tie_embeddings || !weights.contains("lm_head.weight");
        let mut lm_head = if tied {
            Linear::new(embed.clone(), None)?
        } else {
            Linear::load(weights, "lm_head", h, cfg.vocab_size, false, opts)?
        };
        let linears = blocks
            .iter_mut()
            .flat_map(|b| {
                [
                    &mut b.q,
                    &mut b.k,
                    &mut b.v,
                    &mut b.o,
                    &mut b.gate,
                    &mut b.up,
                    &mut b.down,
                ]
            })
            .collect();
        let embed = super::prepare(linears, &mut lm_head, embed, tied, weights, opts);
        Ok(Self {
            cfg: cfg.clone(),
            embed,
            blocks,
            norm: RmsNorm::load(weights, "model.norm.weight", h, cfg.norm_eps)?,
            lm_head,
            rope: Rope::new(hd, cfg.rope_theta, cfg.rope_style),
            attn: Attention {
                n_heads: cfg.n_heads,
                n_kv_heads: cfg.n_kv_heads,
                head_dim: hd,
                window: cfg.sliding_window,
                causal: true,
            },
        })
    }
}

impl super::Transformer for Llama {
    fn cfg(&self) -> &Config {
        &self.cfg
    }

    fn kv_width(&self) -> usize {
        self.cfg.n_kv_heads * self.cfg.head_dim
    }

    fn lm_head(&self) -> &Linear {
        &self.lm_head
    }

    fn hidden(&self, tokens: &[u32], pos: usize, cache: &mut Cache) -> Result<Vec<f32>> {
        let cfg = &self.cfg;
        let (n, h) = (tokens.len(), cfg.hidden_size);
        let (q_dim, kv_dim) = (cfg.n_heads * cfg.head_dim, cfg.n_kv_heads * cfg.head_dim);
        // Every buffer is row-major, one row per input token (n = tokens.len()).
        let mut x = super::embed(&self.embed, cfg, tokens)?; // (n, hidden): the residual stream
        let (cos, sin) = self.rope.tables(pos, n); // (n, head_dim / 2) each, positions pos..pos+n
        let mut xn = vec![0f32; n * h]; // (n, hidden): x after RMSNorm
        let mut q = vec![0f32; n * q_dim]; // (n, n_heads * head_dim)
        let mut k = vec![0f32; n * kv_dim]; // (n, n_kv_heads * head_dim)
        let mut v = vec![0f32; n * kv_dim]; // (n, n_kv_heads * head_dim)
        let mut att = vec![0f32; n * q_dim]; // (n, n_heads * head_dim): heads side by side
        let mut proj = vec![0f32; n * h]; // (n, hidden): o_proj and down_proj outputs
        let mut g = vec![0f32; n * cfg.intermediate_size]; // (n, intermediate): gate, then silu(gate) * up
        let mut u = vec![0f32; n * cfg.intermediate_size]; // (n, intermediate): up
        for (b, layer) in self.blocks.iter().zip(cache.layers.iter_mut()) {
            b.attn_norm.forward(&x, &mut xn);
            Linear::forward_many(&[&b.q, &b.k, &b.v], &xn, &mut [&mut q, &mut k, &mut v]);
            self.rope.apply(&mut q, cfg.n_heads, &cos, &sin);
            self.rope.apply(&mut k, cfg.n_kv_heads, &cos, &sin);
            layer.append(&k, &v, kv_dim);
            self.attn.forward(&q, layer, pos, &mut att);
            b.o.forward(&att, &mut proj);
            add(&mut x, &proj);
            b.ffn_norm.forward(&x, &mut xn);
            Linear::forward_many(&[&b.gate, &b.up], &xn, &mut [&mut g, &mut u]);
            for (g, u) in g.iter_mut().zip(&u) {
                *g = silu(*g) * u;
            }
            b.down.forward(&g, &mut proj);
            add(&mut x, &proj);
        }
        cache.advance(n);
        self.norm.forward(&x, &mut xn);
        Ok(xn)
    }
}
