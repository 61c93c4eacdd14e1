//! A sentence-embedding model: an encoder and how its hidden states become one vector, read
//! from a sentence-transformers folder (config.json, model.safetensors, `1_Pooling/config.json`,
//! `modules.json`, `sentence_bert_config.json`).

use std::path::Path;

use serde_json::Value;

use crate::config::{Arch, Config};
use crate::models::bert::Bert;
use crate::pooling::{normalize, Pooling};
use crate::weights::Weights;
use crate::{Error, LoadOptions, Result};

/// Token ids in, one vector out.
#[derive(Debug)]
pub struct Embedder {
    bert: Bert,
    pub pooling: Pooling,
    /// Whether vectors are scaled to unit length (a `Normalize` module in modules.json).
    pub normalize: bool,
    /// The most tokens one text may have (`max_seq_length`, else the model's positions).
    pub max_tokens: usize,
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

impl Embedder {
    /// Loads a sentence-transformers folder holding a BERT encoder.
    pub fn load(dir: &Path, opts: &LoadOptions) -> Result<Self> {
        let cfg = Config::from_hf(&dir.join("config.json"))?;
        if cfg.arch != Arch::Bert {
            return Err(Error::Config {
                path: dir.join("config.json"),
                message: format!(
                    "{} is not an encoder this samtal embeds with (bert)",
                    cfg.arch.name()
                ),
            });
        }
        let weights = Weights::open(dir)?;
        let bert = Bert::load(&cfg, &weights, opts)?;
        let pooling = pooling_of(dir)?;
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
            bert,
            pooling,
            normalize,
            max_tokens,
        })
    }

    pub fn config(&self) -> &Config {
        self.bert.config()
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
        let hidden = self.bert.hidden_batch(texts)?;
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

    /// The hidden states `(n, hidden)` before pooling, for parity tests.
    pub fn hidden(&self, tokens: &[u32]) -> Result<Vec<f32>> {
        self.bert.hidden(tokens)
    }
}
