//! Conversations for samtal: messages, the prompt formats that turn them into tokens (chat
//! templates, and the transcript format for base models), and [`Session`], which holds a
//! conversation with its KV cache, fits it to the context window and generates the answers.
//!
//! Chat templates are the Jinja programs HF models ship (tokenizer_config.json `chat_template`,
//! GGUF `tokenizer.chat_template`). [`ChatTemplate`] compiles one with minijinja, set up to render
//! like transformers' `apply_chat_template` (src/transformers/utils/chat_template_utils.py):
//! `trim_blocks` and `lstrip_blocks`, loop controls, `raise_exception`, `strftime_now`, a
//! `tojson` that writes what Python's `json.dumps` writes, and Python string methods.

mod session;
pub mod store;
mod template;
pub mod tools;
mod transcript;

use serde::{Deserialize, Serialize};

pub use samtal_generation::{CancelToken, Fault, FinishReason, GenerateParams, LoopGuard};
pub use samtal_guard::{Mode as GuardMode, Verdict};
pub use session::{
    chat_params, check_text as guard_check, guard_detector, install_guard_detector,
    install_guard_encoder, mark_untrusted, ChatEvent, ContextPolicy, FormatChoice, GuardOptions,
    GuardReport, Mark, ModelRecord, Reply, Session, SessionOptions, CHAT_MAX_NEW_TOKENS,
};
pub use store::{ConversationStore, Store, StoreLocation};
pub use template::{special_strings, ChatTemplate, Prompt, PRESET_NAMES};
pub use tools::{FunctionCall, ToolCall, ToolChoice, ToolFormat, Tools};
pub use transcript::Transcript;

/// Errors from chat templating and sessions.
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
    #[error(transparent)]
    Generation(#[from] samtal_generation::Error),
    #[error(transparent)]
    Tokenizer(#[from] samtal_tokenizer::Error),
    #[error("invalid {name}: {message}")]
    InvalidOption { name: &'static str, message: String },
    #[error("the model has no chat template; name a preset or use the transcript format")]
    NoTemplate,
    /// The template rewrites message content, so the content cannot be encoded apart from the
    /// scaffolding, and a message holds a special-token string that would become a control token.
    #[error("a {role} message contains a special-token string, and this chat template changes message content, so it cannot be kept as plain text")]
    UnsplittableContent { role: String },
    /// [`ContextPolicy::Error`]: the conversation no longer fits.
    #[error("the conversation needs {prompt} prompt tokens plus {answer} for the answer, more than the context budget of {budget}")]
    ContextFull {
        prompt: usize,
        answer: usize,
        budget: usize,
    },
    /// Even with every droppable exchange gone, the prompt leaves no room for an answer.
    #[error("the prompt needs {prompt} tokens with nothing left to drop, but the context budget is {budget}")]
    PromptTooLong { prompt: usize, budget: usize },
    /// The conversation store (SQLite or PostgreSQL) failed; `what` says at what.
    #[error("conversation store: cannot {what}")]
    Store {
        what: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The shared store cannot be reached now (the database is down or the network is):
    /// nothing was written, and the same request may succeed later.
    #[error("the conversation store is unreachable: {message}")]
    StoreUnavailable { message: String },
    /// Another writer (another server replica, another `samtal chat`) saved this conversation
    /// after this one last read it: nothing was written.
    #[error("conversation {id} was changed by another writer while this turn ran, and this turn was not saved; send it again")]
    StoreConflict { id: String },
    #[error("conversation store: {path}")]
    StoreIo {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The database was written by a newer samtal.
    #[error("conversation store has schema version {found}; this samtal knows versions up to {supported}")]
    StoreSchema { found: i64, supported: i64 },
    /// A stored value does not decode (a database edited by hand, or damaged).
    #[error("stored conversation {id}: {message}")]
    StoreData { id: String, message: String },
    #[error("no saved conversation {0:?}")]
    NoConversation(String),
    #[error("no data directory: set SAMTAL_DATA_DIR, XDG_DATA_HOME or HOME")]
    NoDataDir,
}

impl Error {
    /// Whose doing the error is (see [`samtal_generation::Fault`]). Written out for every
    /// variant, so that a new one must say.
    pub fn fault(&self) -> Fault {
        match self {
            Error::Generation(e) => e.fault(),
            Error::Template { .. }
            | Error::UnknownPreset { .. }
            | Error::BadContext(_)
            | Error::InvalidOption { .. }
            | Error::UnsplittableContent { .. }
            | Error::ContextFull { .. }
            | Error::PromptTooLong { .. }
            | Error::NoConversation(_) => Fault::Request,
            Error::TemplateSyntax(_)
            | Error::Tokenizer(_)
            | Error::NoTemplate
            | Error::Store { .. }
            | Error::StoreIo { .. }
            | Error::StoreSchema { .. }
            | Error::StoreData { .. }
            | Error::NoDataDir => Fault::Internal,
            Error::StoreConflict { .. } => Fault::Conflict,
            Error::StoreUnavailable { .. } => Fault::Unavailable,
        }
    }

    /// The request field an error is about: a generation setting (samtal's name), or the
    /// messages.
    pub fn param(&self) -> Option<&str> {
        match self {
            Error::Generation(e) => e.setting(),
            Error::Template { .. }
            | Error::UnsplittableContent { .. }
            | Error::ContextFull { .. }
            | Error::PromptTooLong { .. } => Some("messages"),
            Error::InvalidOption { name, .. } => Some(name),
            _ => None,
        }
    }
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// One chat message in OpenAI's shape: `{"role": "user", "content": "..."}`; an assistant
/// message may carry the tools it called, and a `tool` message answers one of them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub role: String,
    pub content: String,
    /// The calls an assistant message made (rendered by templates that know tools).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// The call a `tool` message answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

impl Message {
    pub fn new(role: impl Into<String>, content: impl Into<String>) -> Self {
        Self {
            role: role.into(),
            content: content.into(),
            tool_calls: Vec::new(),
            tool_call_id: None,
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
