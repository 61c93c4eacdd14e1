//! Guarding a chat against its untrusted text, before templating.
//!
//! - [`structural`]: escaping that makes it impossible for untrusted text to open a turn, in the
//!   transcript format and in chat templates whose markers are plain text;
//! - [`normalize`]: the normal form that every match is made on (NFKC, invisible characters
//!   removed, look-alikes folded, lower case).

pub mod normalize;
pub mod structural;

pub use normalize::{fold, normalize, Folded};
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
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, Error>;
