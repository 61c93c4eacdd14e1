//! A model with everything needed to generate from it: tokenizer, end-of-generation set,
//! generation defaults and chat template, loaded from a GGUF file or a Hugging Face folder.

use std::path::Path;

use samtal_engine::{LoadOptions, Model};
use samtal_tokenizer::Tokenizer;

use crate::constraint::Grammars;
use crate::generate::Generator;
use crate::params::{GenerateParams, GenerationConfig};
use crate::Result;

#[derive(Clone, Debug)]
pub struct Pipeline {
    pub model: Model,
    pub tokenizer: Tokenizer,
    /// End-of-generation ids: the union of the tokenizer's (GGUF eos/eot/eom and known
    /// end-of-turn tokens) and generation_config.json's `eos_token_id`.
    pub eog: Vec<u32>,
    /// samtal's defaults with what the model recommends applied: generation_config.json, or a
    /// GGUF's `general.sampling.*` keys.
    pub defaults: GenerateParams,
    /// The grammar engine for this tokenizer, built on first use.
    grammars: std::sync::Arc<std::sync::OnceLock<Grammars>>,
}

impl Pipeline {
    pub fn load(path: &Path, opts: &LoadOptions) -> Result<Self> {
        // The tokenizer is built while the weights load (and are repacked).
        let (model, loaded) = Model::load_with(path, opts, |w| -> Result<_> {
            Ok(match w.gguf() {
                Some(g) => (
                    Tokenizer::from_gguf(&g.metadata)?,
                    GenerationConfig::from_gguf(&g.metadata)?,
                ),
                None => (
                    Tokenizer::from_hf_folder(path)?,
                    GenerationConfig::from_file(&path.join("generation_config.json"))?,
                ),
            })
        })?;
        let (tokenizer, gen_cfg) = loaded?;
        let mut eog: Vec<u32> = tokenizer.special().eog.clone();
        eog.extend(&gen_cfg.eos_token_ids);
        eog.sort_unstable();
        eog.dedup();
        Ok(Self {
            model,
            tokenizer,
            eog,
            defaults: gen_cfg.defaults()?,
            grammars: Default::default(),
        })
    }

    /// The grammar engine for constrained decoding (its token trie is built on first use).
    pub fn grammars(&self) -> Result<&Grammars> {
        if let Some(g) = self.grammars.get() {
            return Ok(g);
        }
        let g = Grammars::new(&self.tokenizer, &self.eog)?;
        Ok(self.grammars.get_or_init(|| g))
    }

    pub fn generator(&self) -> Generator<'_> {
        Generator {
            lm: self.model.lm().as_ref(),
            tokenizer: &self.tokenizer,
            eog: &self.eog,
        }
    }

    /// The chat template, if the model has one.
    pub fn chat_template(&self) -> Option<&str> {
        self.tokenizer.chat_template()
    }
}
