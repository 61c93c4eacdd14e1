//! The architecture config (`cfg`), read from a Hugging Face `config.json` or from GGUF metadata.

use std::path::Path;

use samtal_gguf::Metadata;
use serde_json::Value;

use crate::{Error, Result};

/// The architectures samtal implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Arch {
    Gpt2,
    Llama,
    Mistral,
    Qwen2,
    /// A BERT encoder (sentence embeddings), not a causal language model.
    Bert,
}

impl Arch {
    pub fn name(self) -> &'static str {
        match self {
            Arch::Gpt2 => "gpt2",
            Arch::Llama => "llama",
            Arch::Mistral => "mistral",
            Arch::Qwen2 => "qwen2",
            Arch::Bert => "bert",
        }
    }

    fn parse(name: &str, origin: &Path) -> Result<Self> {
        Ok(match name {
            "gpt2" => Arch::Gpt2,
            "llama" => Arch::Llama,
            "mistral" => Arch::Mistral,
            "qwen2" => Arch::Qwen2,
            "bert" => Arch::Bert,
            other => {
                return Err(Error::UnknownArchitecture {
                    path: origin.to_path_buf(),
                    name: other.to_owned(),
                })
            }
        })
    }
}

/// How RoPE pairs dimensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RopeStyle {
    /// Dimension `i` pairs with `i + head_dim/2` (Hugging Face's `rotate_half`, llama.cpp's NEOX).
    Half,
    /// Dimension `2i` pairs with `2i+1` (Meta's original layout; llama.cpp's GGUF llama files,
    /// whose Q/K weights convert_hf_to_gguf.py permuted into this order).
    Interleaved,
}

/// Architecture hyper-parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub arch: Arch,
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub n_layers: usize,
    pub n_heads: usize,
    pub n_kv_heads: usize,
    pub head_dim: usize,
    pub intermediate_size: usize,
    /// The context length the model was trained for.
    pub max_positions: usize,
    pub norm_eps: f32,
    pub rope_theta: f32,
    pub rope_style: RopeStyle,
    /// Mistral's sliding window: a position attends to at most this many positions (itself
    /// included).
    pub sliding_window: Option<usize>,
    pub tie_embeddings: bool,
}

/// Limits beyond which a config is treated as corrupt rather than allocated.
const MAX_DIM: usize = 1 << 17;
const MAX_LAYERS: usize = 1024;
const MAX_VOCAB: usize = 1 << 22;

impl Config {
    /// Reads `config.json` from a Hugging Face folder.
    pub fn from_hf(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let v: Value = serde_json::from_str(&text).map_err(|e| Error::Format {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let get = |k: &str| -> Result<usize> {
            v.get(k)
                .and_then(Value::as_u64)
                .map(|x| x as usize)
                .ok_or_else(|| Error::Config {
                    path: path.to_path_buf(),
                    message: format!("missing or non-integer field {k:?}"),
                })
        };
        let opt_f = |k: &str| v.get(k).and_then(Value::as_f64);
        let model_type =
            v.get("model_type")
                .and_then(Value::as_str)
                .ok_or_else(|| Error::Config {
                    path: path.to_path_buf(),
                    message: "missing field \"model_type\"".into(),
                })?;
        let arch = Arch::parse(model_type, path)?;
        let cfg = if arch == Arch::Bert {
            let hidden = get("hidden_size")?;
            let n_heads = get("num_attention_heads")?;
            let act = v
                .get("hidden_act")
                .and_then(Value::as_str)
                .unwrap_or("gelu");
            if act != "gelu" {
                return Err(Error::Config {
                    path: path.to_path_buf(),
                    message: format!("hidden_act {act:?} is not supported (gelu)"),
                });
            }
            Config {
                arch,
                vocab_size: get("vocab_size")?,
                hidden_size: hidden,
                n_layers: get("num_hidden_layers")?,
                n_heads,
                n_kv_heads: n_heads,
                head_dim: hidden / n_heads.max(1),
                intermediate_size: get("intermediate_size")?,
                max_positions: get("max_position_embeddings")?,
                norm_eps: opt_f("layer_norm_eps").unwrap_or(1e-12) as f32,
                rope_theta: 0.0,
                rope_style: RopeStyle::Half,
                sliding_window: None,
                tie_embeddings: false,
            }
        } else if arch == Arch::Gpt2 {
            let hidden = get("n_embd")?;
            let n_heads = get("n_head")?;
            Config {
                arch,
                vocab_size: get("vocab_size")?,
                hidden_size: hidden,
                n_layers: get("n_layer")?,
                n_heads,
                n_kv_heads: n_heads,
                head_dim: hidden / n_heads.max(1),
                intermediate_size: v
                    .get("n_inner")
                    .and_then(Value::as_u64)
                    .map_or(4 * hidden, |x| x as usize),
                max_positions: get("n_positions")?,
                norm_eps: opt_f("layer_norm_epsilon").unwrap_or(1e-5) as f32,
                rope_theta: 0.0,
                rope_style: RopeStyle::Half,
                sliding_window: None,
                tie_embeddings: true,
            }
        } else {
            let hidden = get("hidden_size")?;
            let n_heads = get("num_attention_heads")?;
            let n_kv_heads = v
                .get("num_key_value_heads")
                .and_then(Value::as_u64)
                .map_or(n_heads, |x| x as usize);
            let head_dim = v
                .get("head_dim")
                .and_then(Value::as_u64)
                .map_or(hidden / n_heads.max(1), |x| x as usize);
            // transformers 5 nests RoPE settings under "rope_parameters"; older configs keep
            // "rope_theta" and "rope_scaling" at the top level.
            let rope = v.get("rope_parameters").filter(|r| r.is_object());
            let rope_theta = opt_f("rope_theta")
                .or_else(|| {
                    rope.and_then(|r| r.get("rope_theta"))
                        .and_then(Value::as_f64)
                })
                .unwrap_or(10000.0);
            let rope_type = rope
                .and_then(|r| r.get("rope_type"))
                .or_else(|| {
                    v.get("rope_scaling")
                        .and_then(|s| s.get("rope_type").or(s.get("type")))
                })
                .and_then(Value::as_str)
                .unwrap_or("default");
            if rope_type != "default" {
                return Err(Error::Config {
                    path: path.to_path_buf(),
                    message: format!("RoPE scaling {rope_type:?} is not supported yet"),
                });
            }
            let sliding_window = match arch {
                Arch::Mistral => v.get("sliding_window").and_then(Value::as_u64),
                Arch::Qwen2
                    if v.get("use_sliding_window").and_then(Value::as_bool) == Some(true) =>
                {
                    v.get("sliding_window").and_then(Value::as_u64)
                }
                _ => None,
            };
            Config {
                arch,
                vocab_size: get("vocab_size")?,
                hidden_size: hidden,
                n_layers: get("num_hidden_layers")?,
                n_heads,
                n_kv_heads,
                head_dim,
                intermediate_size: get("intermediate_size")?,
                max_positions: get("max_position_embeddings")?,
                norm_eps: opt_f("rms_norm_eps").unwrap_or(1e-6) as f32,
                rope_theta: rope_theta as f32,
                rope_style: RopeStyle::Half,
                sliding_window: sliding_window.map(|w| w as usize),
                tie_embeddings: v
                    .get("tie_word_embeddings")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            }
        };
        cfg.validate(path)
    }

    /// Reads llama.cpp's `{arch}.*` metadata keys.
    pub fn from_gguf(md: &Metadata, path: &Path, has_output: bool) -> Result<Self> {
        let gg = |e: samtal_gguf::Error| Error::Gguf {
            path: path.to_path_buf(),
            source: e,
        };
        let arch_name = md.require_str("general.architecture").map_err(gg)?;
        let arch = Arch::parse(arch_name, path)?;
        let key = |k: &str| format!("{arch_name}.{k}");
        let req = |k: &str| md.require_u64(&key(k)).map(|x| x as usize).map_err(gg);
        let hidden = req("embedding_length")?;
        let n_heads = req("attention.head_count")?;
        let n_kv_heads = md
            .u64(&key("attention.head_count_kv"))
            .map_err(gg)?
            .map_or(n_heads, |x| x as usize);
        let vocab_size = match md.u64(&key("vocab_size")).map_err(gg)? {
            Some(v) => v as usize,
            None => md
                .get("tokenizer.ggml.tokens")
                .and_then(|v| v.as_array())
                .map(<[_]>::len)
                .ok_or_else(|| Error::Config {
                    path: path.to_path_buf(),
                    message: "no vocab_size and no tokenizer.ggml.tokens".into(),
                })?,
        };
        let eps_key = if matches!(arch, Arch::Gpt2 | Arch::Bert) {
            "attention.layer_norm_epsilon"
        } else {
            "attention.layer_norm_rms_epsilon"
        };
        let head_dim = md
            .u64(&key("attention.key_length"))
            .map_err(gg)?
            .map_or(hidden / n_heads.max(1), |x| x as usize);
        let cfg = Config {
            arch,
            vocab_size,
            hidden_size: hidden,
            n_layers: req("block_count")?,
            n_heads,
            n_kv_heads,
            head_dim,
            intermediate_size: req("feed_forward_length")?,
            max_positions: req("context_length")?,
            norm_eps: md.f64(&key(eps_key)).map_err(gg)?.unwrap_or(1e-5) as f32,
            rope_theta: md
                .f64(&key("rope.freq_base"))
                .map_err(gg)?
                .unwrap_or(10000.0) as f32,
            // llama.cpp uses NEOX (half) rotation for qwen2 and the original interleaved one for
            // llama-arch files, whose Q/K rows the converter permuted (llama-model.cpp,
            // llama_model_rope_type).
            rope_style: match arch {
                Arch::Qwen2 => RopeStyle::Half,
                _ => RopeStyle::Interleaved,
            },
            sliding_window: md
                .u64(&key("attention.sliding_window"))
                .map_err(gg)?
                .map(|w| w as usize)
                .filter(|_| arch == Arch::Mistral),
            tie_embeddings: !has_output,
        };
        cfg.validate(path)
    }

    fn validate(self, path: &Path) -> Result<Self> {
        let bad = |message: String| Error::Config {
            path: path.to_path_buf(),
            message,
        };
        for (name, v, max) in [
            ("hidden size", self.hidden_size, MAX_DIM),
            ("intermediate size", self.intermediate_size, MAX_DIM * 4),
            ("layer count", self.n_layers, MAX_LAYERS),
            ("head count", self.n_heads, MAX_DIM),
            ("key/value head count", self.n_kv_heads, MAX_DIM),
            ("head dimension", self.head_dim, MAX_DIM),
            ("vocabulary size", self.vocab_size, MAX_VOCAB),
            ("context length", self.max_positions, 1 << 24),
        ] {
            if v == 0 || v > max {
                return Err(bad(format!("{name} {v} is out of range (1..={max})")));
            }
        }
        if !self.n_heads.is_multiple_of(self.n_kv_heads) {
            return Err(bad(format!(
                "{} heads cannot be grouped over {} key/value heads",
                self.n_heads, self.n_kv_heads
            )));
        }
        if self.arch != Arch::Gpt2 && !self.head_dim.is_multiple_of(2) {
            return Err(bad(format!("head dimension {} is odd", self.head_dim)));
        }
        if self.arch == Arch::Gpt2 && self.head_dim * self.n_heads != self.hidden_size {
            return Err(bad("n_embd is not a multiple of n_head".into()));
        }
        if !(self.norm_eps.is_finite() && self.norm_eps > 0.0) {
            return Err(bad(format!("norm epsilon {} is invalid", self.norm_eps)));
        }
        if self.sliding_window == Some(0) {
            return Err(bad("sliding window of 0".into()));
        }
        Ok(self)
    }
}
