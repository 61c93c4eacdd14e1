//! Generation: the decode loop over a [`samtal_engine::CausalLm`] — validated parameters, a chain
//! of logits processors with seeded sampling, stop strings held back while streaming, an
//! end-of-generation set, a loop detector and a character limit, streaming events and
//! cancellation.
//!
//! ```
//! use samtal_generation::{GenerateParams, Pipeline};
//! # let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/models/tiny-llama");
//! let p = Pipeline::load(&dir, &Default::default())?;
//! let prompt = p.tokenizer.encode("Hello", Default::default())?;
//! let params = GenerateParams { max_new_tokens: 8, ..p.defaults.clone() };
//! let mut cache = p.model.lm().new_cache();
//! let out = p.generator().generate(&mut cache, &prompt, &params, None, &mut |event| {
//!     let _ = event; // stream text deltas from here
//! })?;
//! assert!(out.token_ids.len() <= 8);
//! # Ok::<(), samtal_generation::Error>(())
//! ```

mod generate;
mod params;
mod perplexity;
mod pipeline;
mod rng;
mod sampler;
mod stop;

use std::path::PathBuf;

pub use generate::{CancelToken, Event, FinishReason, Generator, Output, Timings};
pub use params::{
    GenerateParams, GenerationConfig, LoopGuard, SamplingParams, MAX_STOP_LEN, MAX_STOP_STRINGS,
    MAX_TOP_LOGPROBS,
};
pub use perplexity::{perplexity, Perplexity};
pub use pipeline::Pipeline;
pub use sampler::{argmax, log_softmax_at, top_logprobs, Choice, Sampler};
pub use stop::{Fed, StopMatcher};

/// Errors from generation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error(transparent)]
    Engine(#[from] samtal_engine::Error),
    #[error(transparent)]
    Tokenizer(#[from] samtal_tokenizer::Error),
    #[error("invalid {name}: {message}")]
    InvalidParameter { name: &'static str, message: String },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    Config { path: PathBuf, message: String },
    #[error("the prompt is empty")]
    EmptyPrompt,
    #[error("the cache holds {cached} positions but the prompt has only {prompt}")]
    CacheAhead { cached: usize, prompt: usize },
    #[error("perplexity needs at least two tokens, got {0}")]
    TooShort(usize),
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, Error>;
