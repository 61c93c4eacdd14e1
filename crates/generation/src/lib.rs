//! Generation: the decode loop over a [`samtal_engine::CausalLm`] — validated parameters, a chain
//! of logits processors with seeded sampling, stop strings held back while streaming, an
//! end-of-generation set, a loop detector and a character limit, streaming events and
//! cancellation.
//!
//! ```
//! use samtal_generation::{GenerateParams, Pipeline, PrefixCache};
//! # let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/models/tiny-llama");
//! let p = Pipeline::load(&dir, &Default::default())?;
//! let prompt = p.tokenizer.encode("Hello", Default::default())?;
//! let params = GenerateParams { max_new_tokens: 8, ..p.defaults.clone() };
//! let mut cache = PrefixCache::new(p.model.lm().as_ref());
//! let out = p.generator().generate(&mut cache, &prompt, &params, Default::default(), &mut |event| {
//!     let _ = event; // stream text deltas from here
//! })?;
//! assert!(out.token_ids.len() <= 8);
//! # Ok::<(), samtal_generation::Error>(())
//! ```

pub mod constraint;
mod embed;
mod generate;
mod params;
mod perplexity;
mod pipeline;
mod prefix;
mod rng;
mod sampler;
pub mod settings;
mod stop;

use std::path::PathBuf;

pub use constraint::{Constraint, Grammar, Grammars};
pub use embed::{Embedding, EmbeddingModel, EMBEDDING_DTYPE};
pub use generate::{
    CancelToken, Controls, Event, FinishReason, Generator, Output, TextCheck, Timings,
};
pub use params::{GenerateParams, GenerationConfig, LoopGuard, SamplingParams, MAX_TOP_LOGPROBS};
pub use perplexity::{perplexity, Perplexity};
pub use pipeline::Pipeline;
pub use prefix::PrefixCache;
pub use sampler::{argmax, log_softmax_at, top_logprobs, Choice, Sampler};
pub use settings::{Overrides, Setting, SETTINGS};
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
    /// A grammar that does not compile, a schema feature the engine lacks, or a grammar that
    /// no token can satisfy any more.
    #[error("grammar: {0}")]
    Grammar(String),
    /// A text longer than an embedding model's window (without truncation).
    #[error("the text has {tokens} tokens; the model reads at most {max} (ask for truncation to cut it)")]
    TooLong { tokens: usize, max: usize },
    #[error("unknown setting {name:?}; one of {known}")]
    UnknownSetting { name: String, known: String },
    #[error("perplexity needs at least two tokens, got {0}")]
    TooShort(usize),
}

/// Whose doing an error is: the request's (a setting out of range, an empty prompt), or the
/// system's (a model that fails, a file that cannot be read). A server answers the first with
/// a 400 and logs the second. Two more are nobody's fault and worth a retry: another writer
/// changed what the request was about meanwhile (409), or a service samtal depends on, such
/// as a shared conversation store, is unreachable for now (503).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    Request,
    Internal,
    Conflict,
    Unavailable,
}

impl Error {
    /// Whose doing the error is. Written out for every variant, so that a new one must say.
    pub fn fault(&self) -> Fault {
        match self {
            Error::InvalidParameter { .. }
            | Error::UnknownSetting { .. }
            | Error::Grammar(_)
            | Error::TooLong { .. }
            | Error::EmptyPrompt
            | Error::TooShort(_) => Fault::Request,
            Error::Engine(_) | Error::Tokenizer(_) | Error::Io { .. } | Error::Config { .. } => {
                Fault::Internal
            }
        }
    }

    /// The setting an error is about (samtal's name), if it is about one.
    pub fn setting(&self) -> Option<&str> {
        match self {
            Error::InvalidParameter { name, .. } => Some(name),
            Error::UnknownSetting { name, .. } => Some(name),
            _ => None,
        }
    }
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, Error>;
