//! Flags shared by the commands that load a model.

use anyhow::Result;
use clap::Args;
use samtal_engine::{DType, Device, LoadOptions, Precision};
use samtal_generation::Pipeline;

#[derive(Args, Debug, Clone)]
pub struct ModelArgs {
    /// A GGUF file, a Hugging Face folder, or a known model name [default: $SAMTAL_MODEL, else
    /// SmolLM2-135M-Instruct Q4_1, fetched on first use]
    #[arg(long, short)]
    pub model: Option<String>,
    /// auto or cpu (the only device samtal runs on today).
    #[arg(long, default_value = "auto")]
    pub device: Device,
    /// Element type for dense weights: auto (as stored), f32, f16, bf16, or q8_0 (quantized at
    /// load).
    #[arg(long, default_value = "auto")]
    pub dtype: DType,
    /// How activations meet quantized weights: q8 (8-bit integer products, like llama.cpp) or
    /// f32 (slower; logits equal transformers' on the dequantized weights).
    #[arg(long, default_value = "q8")]
    pub precision: Precision,
    /// Worker threads [default: all cores].
    #[arg(long, short = 't')]
    pub threads: Option<usize>,
}

impl ModelArgs {
    pub fn load(&self) -> Result<Pipeline> {
        let path = samtal_models::resolve(self.model.as_deref())?;
        self.load_from(&path)
    }

    /// Loads the model at `path` (already resolved) with these flags.
    pub fn load_from(&self, path: &std::path::Path) -> Result<Pipeline> {
        if let Some(n) = self.threads {
            // Only fails if a pool already exists, which cannot happen before the first load.
            let _ = rayon::ThreadPoolBuilder::new()
                .num_threads(n.max(1))
                .build_global();
        }
        let opts = LoadOptions {
            dtype: self.dtype,
            device: self.device,
            precision: self.precision,
            pack_cache: pack_cache_dir(),
            adapter: None,
        };
        let mut p = Pipeline::load(path, &opts)?;
        if let Some(k) = samtal_models::known_file(path) {
            p.defaults = k.card()?.apply(&p.defaults);
        }
        Ok(p)
    }
}

/// Where repacked weights are kept: beside the models (`…/samtal/packed`), a cache of them.
pub fn pack_cache_dir() -> Option<std::path::PathBuf> {
    samtal_models::models_dir()
        .ok()
        .and_then(|d| d.parent().map(|p| p.join("packed")))
}
