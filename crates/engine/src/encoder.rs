//! A sentence-embedding model: an encoder and how its hidden states become one vector, read
//! from a sentence-transformers folder (config.json, model.safetensors, `1_Pooling/config.json`,
//! `modules.json`, `sentence_bert_config.json`) or from a GGUF file as llama.cpp's converter
//! writes one (`bert` architecture, `{arch}.pooling_type`).

use std::path::Path;

use serde_json::Value;

use std::sync::Arc;

use crate::config::{Arch, Config};
use crate::models::bert::Bert;
use crate::models::CausalLm;
use crate::pooling::{normalize, Pooling};
use crate::weights::Weights;
use crate::{Error, LoadOptions, Result};

/// The network whose last hidden states are pooled.
#[derive(Debug)]
enum Network {
    /// A bidirectional encoder, many texts per pass.
    Bert(Box<Bert>),
    /// A decoder (Llama, Mistral, Qwen2) whose final-normed hidden states are pooled, usually
    /// at the last token (gte-Qwen2, e5-mistral and the like).
    Decoder(Arc<dyn CausalLm>),
}

/// Token ids in, one vector out.
#[derive(Debug)]
pub struct Embedder {
    network: Network,
    pub pooling: Pooling,
    /// Whether vectors are scaled to unit length (a `Normalize` module in modules.json).
    pub normalize: bool,
    /// The most tokens one text may have (`max_seq_length`, else the model's positions).
    pub max_tokens: usize,
    /// A linear classifier over the embedding, when the weights (or an adapter laid over
    /// them) have one.
    head: Option<Head>,
}

/// `classifier.weight` (labels × hidden) and `classifier.bias` (labels): logits from the
/// embedding exactly as [`Embedder::embed`] returns it (pooled, and unit length when the model
/// normalises).
#[derive(Debug)]
struct Head {
    weight: Vec<f32>,
    bias: Vec<f32>,
}

impl Head {
    fn load(weights: &Weights, hidden: usize) -> Result<Option<Self>> {
        if !weights.contains("classifier.weight") {
            return Ok(None);
        }
        let w = weights.get("classifier.weight")?;
        let labels = w.shape.first().copied().unwrap_or(0);
        let w = w.expect_shape(&[labels, hidden])?;
        let bias = weights.get_shaped("classifier.bias", &[labels])?.to_f32();
        Ok(Some(Self {
            weight: w.to_f32(),
            bias,
        }))
    }

    fn logits(&self, v: &[f32]) -> Vec<f32> {
        self.weight
            .chunks_exact(v.len())
            .zip(&self.bias)
            .map(|(row, b)| row.iter().zip(v).map(|(x, y)| x * y).sum::<f32>() + b)
            .collect()
    }
}

fn read_json(path: &Path) -> Result<Option<Value>> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| Error::Format {
                path: path.to_path_buf(),
                message: e.to_string(),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// The pooling a sentence-transformers folder declares; an error when it declares none that
/// is known, since a guess would give plausible but wrong vectors.
fn pooling_of(dir: &Path) -> Result<Pooling> {
    let path = dir.join("1_Pooling/config.json");
    let Some(cfg) = read_json(&path)? else {
        return Err(Error::Config {
            path,
            message: "no pooling configuration (1_Pooling/config.json): the model does not say \
                      how to turn its hidden states into one vector"
                .into(),
        });
    };
    let on = |k: &str| cfg.get(k).and_then(Value::as_bool) == Some(true);
    Ok(if on("pooling_mode_mean_tokens") {
        Pooling::Mean
    } else if on("pooling_mode_cls_token") {
        Pooling::Cls
    } else if on("pooling_mode_lasttoken") {
        Pooling::LastToken
    } else {
        return Err(Error::Config {
            path,
            message: "no supported pooling mode (mean, cls or last token) is on".into(),
        });
    })
}

impl Network {
    /// The network `cfg` describes, from the weights at `path` (a folder or a GGUF file).
    fn load(cfg: &Config, path: &Path, weights: &Weights, opts: &LoadOptions) -> Result<Self> {
        let in_file = |e: Error| match e {
            Error::MissingTensor(_) | Error::Shape { .. } => Error::InFile {
                path: path.to_path_buf(),
                source: Box::new(e),
            },
            e => e,
        };
        match cfg.arch {
            Arch::Bert => Ok(Network::Bert(Box::new(
                Bert::load(cfg, weights, opts).map_err(in_file)?,
            ))),
            Arch::Llama | Arch::Mistral | Arch::Qwen2 => Ok(Network::Decoder(Arc::clone(
                crate::Model::load(path, opts)?.lm(),
            ))),
            Arch::Gpt2 => Err(Error::Config {
                path: path.to_path_buf(),
                message: "gpt2 is not an encoder this samtal embeds with (bert, or a llama, \
                          mistral or qwen2 decoder with a pooling configuration)"
                    .into(),
            }),
        }
    }

    /// The last hidden states of each text: BERT's in one pass; a decoder's one text at a
    /// time, each in a cache of its own (causal attention: a text's states do not depend on
    /// anything after it, so no padding is needed either way).
    fn hidden_batch(&self, texts: &[&[u32]]) -> Result<Vec<Vec<f32>>> {
        match self {
            Network::Bert(b) => b.hidden_batch(texts),
            Network::Decoder(d) => texts
                .iter()
                .map(|t| {
                    let mut cache = d.new_cache();
                    d.hidden_states(t, 0, &mut cache)
                })
                .collect(),
        }
    }
}

/// The pooling a GGUF file declares (llama.cpp's `llama_pooling_type`).
fn gguf_pooling(md: &samtal_gguf::Metadata, arch: &str, path: &Path) -> Result<Pooling> {
    let key = format!("{arch}.pooling_type");
    let ty = md.u64(&key).map_err(|e| Error::Gguf {
        path: path.to_path_buf(),
        source: e,
    })?;
    let message = match ty {
        Some(1) => return Ok(Pooling::Mean),
        Some(2) => return Ok(Pooling::Cls),
        Some(3) => return Ok(Pooling::LastToken),
        None | Some(0) => format!(
            "no pooling ({key} is missing or none): the model does not say how to turn its \
             hidden states into one vector"
        ),
        Some(t) => format!("{key} = {t} is not a pooling samtal embeds with (mean, cls, last)"),
    };
    Err(Error::Config {
        path: path.to_path_buf(),
        message,
    })
}

impl Embedder {
    /// Loads a sentence-transformers folder or a GGUF file holding a BERT encoder.
    pub fn load(path: &Path, opts: &LoadOptions) -> Result<Self> {
        if path.is_file() {
            return Self::load_gguf(path, opts);
        }
        let dir = path;
        let cfg = Config::from_hf(&dir.join("config.json"))?;
        let pooling = pooling_of(dir)?;
        let weights = Weights::open_for(dir, opts)?;
        let network = Network::load(&cfg, dir, &weights, opts)?;
        let head = Head::load(&weights, cfg.hidden_size)?;
        let normalize = read_json(&dir.join("modules.json"))?
            .and_then(|m| m.as_array().cloned())
            .is_some_and(|mods| {
                mods.iter().any(|m| {
                    m.get("type")
                        .and_then(Value::as_str)
                        .is_some_and(|t| t.ends_with("Normalize"))
                })
            });
        let max_tokens = read_json(&dir.join("sentence_bert_config.json"))?
            .and_then(|c| c.get("max_seq_length").and_then(Value::as_u64))
            .map_or(cfg.max_positions, |n| (n as usize).min(cfg.max_positions));
        Ok(Self {
            network,
            pooling,
            normalize,
            max_tokens,
            head,
        })
    }

    /// A GGUF file: pooling from `{arch}.pooling_type`; vectors are scaled to unit length, as
    /// llama.cpp's server and `llama-embedding` scale them by default.
    fn load_gguf(path: &Path, opts: &LoadOptions) -> Result<Self> {
        let weights = Weights::open_for(path, opts)?;
        let Some(gguf) = weights.gguf() else {
            return Err(Error::Config {
                path: path.to_path_buf(),
                message: "not a GGUF file, nor a sentence-transformers folder".into(),
            });
        };
        let md = &gguf.metadata;
        let cfg = Config::from_gguf(md, path, gguf.tensor("output.weight").is_some())?;
        let pooling = gguf_pooling(md, cfg.arch.name(), path)?;
        let network = Network::load(&cfg, path, &weights, opts)?;
        Ok(Self {
            max_tokens: cfg.max_positions,
            head: Head::load(&weights, cfg.hidden_size)?,
            network,
            pooling,
            normalize: true,
        })
    }

    pub fn config(&self) -> &Config {
        match &self.network {
            Network::Bert(b) => b.config(),
            Network::Decoder(d) => d.config(),
        }
    }

    /// The length of a vector.
    pub fn dimension(&self) -> usize {
        self.config().hidden_size
    }

    /// One text's vector from its token ids (special tokens included); at most
    /// [`Embedder::max_tokens`] of them.
    pub fn embed(&self, tokens: &[u32]) -> Result<Vec<f32>> {
        Ok(self.embed_batch(&[tokens])?.pop().unwrap_or_default())
    }

    /// Several texts' vectors in one pass (see [`Bert::hidden_batch`]): the same vectors as
    /// one at a time, for less time.
    pub fn embed_batch(&self, texts: &[&[u32]]) -> Result<Vec<Vec<f32>>> {
        if let Some(t) = texts.iter().find(|t| t.len() > self.max_tokens) {
            return Err(Error::ContextOverflow {
                needed: t.len(),
                max: self.max_tokens,
            });
        }
        let hidden = self.network.hidden_batch(texts)?;
        Ok(hidden
            .iter()
            .map(|xs| {
                let mut v = self.pooling.pool(xs, self.dimension());
                if self.normalize {
                    normalize(&mut v);
                }
                v
            })
            .collect())
    }

    /// Whether the model classifies ([`Embedder::classify_batch`]).
    pub fn classifies(&self) -> bool {
        self.head.is_some()
    }

    /// Each text's classifier logits (one per label), from its embedding; an error when the
    /// model has no classifier.
    pub fn classify_batch(&self, texts: &[&[u32]]) -> Result<Vec<Vec<f32>>> {
        let Some(head) = &self.head else {
            return Err(Error::MissingTensor(
                "classifier.weight (this model embeds but does not classify)".into(),
            ));
        };
        Ok(self
            .embed_batch(texts)?
            .iter()
            .map(|v| head.logits(v))
            .collect())
    }

    /// The hidden states `(n, hidden)` before pooling, for parity tests.
    pub fn hidden(&self, tokens: &[u32]) -> Result<Vec<f32>> {
        Ok(self
            .network
            .hidden_batch(&[tokens])?
            .pop()
            .unwrap_or_default())
    }
}
