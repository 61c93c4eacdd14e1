//! Token ids → logits. The engine loads causal language models — GPT-2, Llama, Mistral, Qwen2 —
//! from GGUF files (quantized weights stay quantized in memory) or Hugging Face folders
//! (config.json + safetensors, memory-mapped), and runs them on the CPU with a per-sequence KV
//! cache. It knows nothing of text: see `samtal-tokenizer` and `samtal-generation`.
//!
//! ```
//! use samtal_engine::{CausalLm, LoadOptions, Model};
//! # let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/models/tiny-llama");
//! let model = Model::load(&dir, &LoadOptions::default())?;
//! let mut cache = model.lm().new_cache();
//! let logits = model.lm().forward(&[1, 2, 3], 0, &mut cache)?; // prefill three tokens
//! assert_eq!(logits.len(), model.config().vocab_size);
//! let next = logits.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(i, _)| i as u32);
//! let logits = model.lm().forward(&[next.unwrap_or(0)], 3, &mut cache)?; // one cached step
//! assert_eq!(cache.len(), 4);
//! # let _ = logits;
//! # Ok::<(), samtal_engine::Error>(())
//! ```

mod cache;
pub mod config;
pub mod encoder;
pub mod kernels;
pub mod layers;
pub mod models;
pub mod pooling;
pub mod weights;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use cache::Cache;
pub use config::{Arch, Config};
pub use encoder::Embedder;
pub use models::CausalLm;
pub use pooling::Pooling;
pub use weights::{Adapter, Tensor, Weights};

/// Errors from loading or running a model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {source}", path.display())]
    Gguf {
        path: PathBuf,
        #[source]
        source: samtal_gguf::Error,
    },
    #[error("{}: {message}", path.display())]
    Format { path: PathBuf, message: String },
    #[error("{}: {message}", path.display())]
    Config { path: PathBuf, message: String },
    #[error("{}: unknown architecture {name:?} (samtal runs gpt2, llama, mistral and qwen2)", path.display())]
    UnknownArchitecture { path: PathBuf, name: String },
    #[error("tensor {0:?} is missing")]
    MissingTensor(String),
    #[error("tensor {name:?} has shape {found:?}, expected {expected:?}")]
    Shape {
        name: String,
        expected: Vec<usize>,
        found: Vec<usize>,
    },
    #[error("token id {token} is outside the vocabulary ({vocab_size} tokens)")]
    TokenOutOfRange { token: u32, vocab_size: usize },
    #[error("position {pos} does not follow the {cached} cached positions")]
    Position { pos: usize, cached: usize },
    #[error("{needed} positions exceed the model's context length of {max}")]
    ContextOverflow { needed: usize, max: usize },
    #[error("no input tokens")]
    EmptyInput,
    /// An error about a tensor, with the file it came from.
    #[error("{}: {source}", path.display())]
    InFile {
        path: PathBuf,
        #[source]
        source: Box<Error>,
    },
}

impl Error {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// The element type dense weights are kept in. Quantized weights always stay quantized.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DType {
    /// Keep what the file stores.
    #[default]
    Auto,
    F32,
    F16,
    BF16,
    /// Matrices quantized at load to 8 bits per element in blocks of 32 with an f16 scale, as
    /// llama.cpp's `convert_hf_to_gguf.py --outtype q8_0` does (vectors stay f32): a quarter of
    /// f32's memory, and integer products (see [`Precision::Q8`]).
    Q8_0,
}

impl DType {
    pub(crate) fn from_ggml(ty: samtal_gguf::GgmlType) -> Self {
        match ty {
            samtal_gguf::GgmlType::F16 => DType::F16,
            samtal_gguf::GgmlType::BF16 => DType::BF16,
            _ => DType::F32,
        }
    }
}

impl std::str::FromStr for DType {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Ok(match s {
            "auto" => DType::Auto,
            "f32" => DType::F32,
            "f16" => DType::F16,
            "bf16" => DType::BF16,
            "q8_0" => DType::Q8_0,
            _ => return Err(format!("unknown dtype {s:?} (auto, f32, f16, bf16, q8_0)")),
        })
    }
}

/// How activations meet quantized weights, chosen when a model is loaded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Precision {
    /// Weights of every quantized type are repacked ([`kernels::packed`]) and activations quantized to 8 bits
    /// per 32-element block, llama.cpp's arithmetic: integer dot products, the fastest path.
    #[default]
    Q8,
    /// Activations stay f32: logits equal transformers' on the dequantized weights to rounding.
    F32,
}

impl std::str::FromStr for Precision {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "q8" => Ok(Precision::Q8),
            "f32" => Ok(Precision::F32),
            _ => Err(format!("unknown precision {s:?} (q8, f32)")),
        }
    }
}

/// Where the model runs. Only the CPU today; `Auto` will pick an accelerator once samtal has
/// a path for one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Device {
    #[default]
    Auto,
    Cpu,
}

impl std::str::FromStr for Device {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Ok(match s {
            "auto" => Device::Auto,
            "cpu" => Device::Cpu,
            _ => return Err(format!("unknown device {s:?} (auto or cpu)")),
        })
    }
}

/// How to load a model.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    pub dtype: DType,
    pub device: Device,
    /// How activations meet quantized weights (8-bit by default, like llama.cpp).
    pub precision: Precision,
    /// A directory where weights repacked for 8-bit products are kept between runs, so that a
    /// later load maps them instead of repacking (see [`Tensor::pack_all`]).
    pub pack_cache: Option<std::path::PathBuf>,
    /// A LoRA adapter laid over the weights as they load ([`weights::Adapter`]).
    pub adapter: Option<Arc<weights::Adapter>>,
}

/// A loaded model: the network, shared, and the weights it came from (whose GGUF metadata also
/// carries the tokenizer).
#[derive(Clone, Debug)]
pub struct Model {
    lm: Arc<dyn CausalLm>,
    weights: Arc<Weights>,
}

impl Model {
    /// Loads a GGUF file or a Hugging Face folder.
    pub fn load(path: &Path, opts: &LoadOptions) -> Result<Self> {
        Self::load_with(path, opts, |_| ()).map(|(m, ())| m)
    }

    /// Loads a model and runs `alongside` on its weights at the same time (a tokenizer can be
    /// built from the GGUF metadata while the weights are repacked).
    pub fn load_with<T: Send>(
        path: &Path,
        opts: &LoadOptions,
        alongside: impl FnOnce(&Weights) -> T + Send,
    ) -> Result<(Self, T)> {
        match opts.device {
            Device::Auto | Device::Cpu => {}
        }
        Self::load_from(path, opts, alongside).map_err(|e| match e {
            Error::MissingTensor(_) | Error::Shape { .. } => Error::InFile {
                path: path.to_path_buf(),
                source: Box::new(e),
            },
            e => e,
        })
    }

    fn load_from<T: Send>(
        path: &Path,
        opts: &LoadOptions,
        alongside: impl FnOnce(&Weights) -> T + Send,
    ) -> Result<(Self, T)> {
        let weights = Weights::open_for(path, opts)?;
        let cfg = match weights.gguf() {
            Some(g) => Config::from_gguf(&g.metadata, path, g.tensor("output.weight").is_some())?,
            None => Config::from_hf(&path.join("config.json"))?,
        };
        let build = || -> Result<Arc<dyn CausalLm>> {
            Ok(match cfg.arch {
                Arch::Gpt2 => Arc::new(models::gpt2::Gpt2::load(&cfg, &weights, opts)?),
                Arch::Llama | Arch::Mistral | Arch::Qwen2 => {
                    Arc::new(models::llama::Llama::load(&cfg, &weights, opts)?)
                }
                Arch::Bert => {
                    return Err(Error::Config {
                        path: path.to_path_buf(),
                        message: "this is an encoder (BERT): it embeds text, it does not \
                                  generate; use `samtal embed`"
                            .into(),
                    })
                }
            })
        };
        let (lm, extra) = rayon::join(build, || alongside(&weights));
        Ok((
            Self {
                lm: lm?,
                weights: Arc::new(weights),
            },
            extra,
        ))
    }

    /// The network.
    pub fn lm(&self) -> &Arc<dyn CausalLm> {
        &self.lm
    }

    pub fn config(&self) -> &Config {
        self.lm.config()
    }

    pub fn weights(&self) -> &Weights {
        &self.weights
    }

    /// GGUF metadata, when loaded from a GGUF file.
    pub fn gguf_metadata(&self) -> Option<&samtal_gguf::Metadata> {
        self.weights.gguf().map(|g| &g.metadata)
    }
}
