//! Conversations for samtal: messages and the chat templates that turn them into a prompt.
//!
//! Chat templates are the Jinja programs HF models ship (tokenizer_config.json `chat_template`,
//! GGUF `tokenizer.chat_template`). [`ChatTemplate`] compiles one with minijinja, set up to render
//! like transformers' `apply_chat_template` (src/transformers/utils/chat_template_utils.py):
//! `trim_blocks` and `lstrip_blocks`, loop controls, `raise_exception`, `strftime_now`, a
//! `tojson` that writes what Python's `json.dumps` writes, and Python string methods.

mod template;

use serde::{Deserialize, Serialize};

pub use template::{ChatTemplate, PRESET_NAMES};

/// Errors from chat templating.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("the chat template does not compile: {0}")]
    TemplateSyntax(#[source] minijinja::Error),
    /// Rendering failed: the template called `raise_exception` (the message is its argument,
    /// e.g. "Conversation roles must alternate user/assistant/user/assistant/...") or hit an
    /// error such as an undefined variable.
    #[error("chat template error: {message}")]
    Template {
        message: String,
        #[source]
        source: minijinja::Error,
    },
    #[error("unknown chat template preset {name:?} (known: {known})")]
    UnknownPreset { name: String, known: String },
    #[error("extra template variables must be a map, got {0}")]
    BadContext(String),
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// One chat message in OpenAI's shape: `{"role": "user", "content": "..."}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub role: String,
    pub content: String,
}

impl Message {
    pub fn new(role: impl Into<String>, content: impl Into<String>) -> Self {
        Self {
            role: role.into(),
            content: content.into(),
        }
    }

    pub fn system(content: impl Into<String>) -> Self {
        Self::new("system", content)
    }

    pub fn user(content: impl Into<String>) -> Self {
        Self::new("user", content)
    }

    pub fn assistant(content: impl Into<String>) -> Self {
        Self::new("assistant", content)
    }
}
