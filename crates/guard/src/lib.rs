//! Guarding a chat against its untrusted text, before templating.
//!
//! - [`structural`]: escaping that makes it impossible for untrusted text to open a turn, in the
//!   transcript format and in chat templates whose markers are plain text;
//! - [`detect`]: a detector scoring how likely a text is a prompt injection (rules, a learned
//!   classifier, encoded payloads, long texts in windows);
//! - [`policy`]: what a deployment does with a score (`off`, `flag`, `block`);
//! - [`leak`]: a per-session canary and a verbatim-span check on replies;
//! - [`eval`]: the figures `samtal guard eval` reports;
//! - [`normalize`](mod@normalize): the normal form that every match is made on (NFKC, invisible characters
//!   removed, look-alikes folded, lower case).

pub mod detect;
pub mod eval;
pub mod leak;
pub mod normalize;
pub mod policy;
pub mod structural;
pub mod train;

pub use detect::{Assessment, Detector};
pub use leak::{Leak, LeakCheck};
pub use normalize::{fold, normalize, Folded};
pub use policy::{Mode, Policy, Verdict};
pub use structural::{escape_lines, opens_turn, Markers, LINE_ESCAPE};

/// Errors from the guard.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("guard model: {0}")]
    BadModel(String),
    #[error("{path}, line {line}: {message}")]
    BadData {
        path: std::path::PathBuf,
        line: usize,
        message: String,
    },
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, Error>;
