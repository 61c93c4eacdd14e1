//! Saved conversations, behind one trait ([`ConversationStore`]) with two implementations: an
//! SQLite database (WAL) in the user's data directory, the embedded default, and PostgreSQL,
//! which several `samtal serve` replicas share.
//!
//! Each completed exchange (the user turn and its answer) is written in one transaction when the
//! answer is complete, together with what the conversation runs with (model path and
//! fingerprint, format, template, persona, sampler settings): a process killed mid-answer loses
//! that answer and nothing before it, and a conversation can be resumed or replayed from what is
//! stored. Every save names the conversation's version the writer last saw, so two writers that
//! take turns of one conversation at once are serialised: the second is refused
//! ([`Error::StoreConflict`]) and writes nothing, never interleaves. The schemas and their
//! versioned migrations are in `schema.rs`, the same steps for both databases.

mod fingerprint;
mod postgres;
mod schema;
mod sqlite;

use std::path::PathBuf;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{Error, Message, Result, SessionOptions};

pub use fingerprint::fingerprint;
pub use postgres::PostgresStore;
pub use schema::SCHEMA_VERSION;
pub use sqlite::SqliteStore;

/// The database's file name inside the data directory.
pub const DB_FILE: &str = "conversations.sqlite3";

/// samtal's data directory: `$SAMTAL_DATA_DIR`, else `$XDG_DATA_HOME/samtal`, else
/// `~/.local/share/samtal` (the XDG base-directory default); `None` when none can be found.
pub fn data_dir() -> Option<PathBuf> {
    let var = |name| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(d) = var("SAMTAL_DATA_DIR") {
        return Some(PathBuf::from(d));
    }
    let base = match var("XDG_DATA_HOME") {
        Some(x) => PathBuf::from(x),
        None => PathBuf::from(var("HOME")?).join(".local").join("share"),
    };
    Some(base.join("samtal"))
}

/// A fresh conversation id: 32 hex digits hashed from the time, the process and a counter.
/// Unique enough for one user's conversations, and no random-number dependency for it.
pub fn new_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = Sha256::new();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    h.update(now.to_le_bytes());
    h.update(std::process::id().to_le_bytes());
    h.update(COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What a conversation runs with; written with each exchange, so the stored values are those of
/// its latest turn.
#[derive(Clone, Debug, PartialEq)]
pub struct ConversationInfo {
    pub model_path: String,
    /// See [`fingerprint`].
    pub model_fingerprint: String,
    /// `"template"` or `"transcript"`.
    pub format: String,
    /// A preset name or the model's template source; `None` for the transcript format.
    pub template: Option<String>,
    /// Everything a resumed session is rebuilt from: persona, format, labels, context, policy,
    /// sampler settings (with the seed).
    pub options: SessionOptions,
}

/// One turn to append.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewTurn<'a> {
    /// `"user"` or `"assistant"`.
    pub role: &'a str,
    pub text: &'a str,
    pub token_ids: Option<&'a [u32]>,
    pub finish_reason: Option<&'a str>,
    pub timings: Option<serde_json::Value>,
    pub seed: Option<u64>,
    /// `None` for "ok"; the guard's mark otherwise ("flagged", "blocked", "withheld").
    pub status: Option<&'a str>,
}

/// A stored turn.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StoredTurn {
    pub index: usize,
    pub role: String,
    pub text: String,
    pub token_ids: Option<Vec<u32>>,
    pub finish_reason: Option<String>,
    pub timings: Option<serde_json::Value>,
    pub seed: Option<u64>,
    /// `"ok"`, or the guard's mark: `"flagged"` or `"blocked"` on a user turn, `"withheld"` on
    /// an answer that leaked the system prompt.
    pub status: String,
    pub created: String,
}

/// A line of `history list`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConversationSummary {
    pub id: String,
    pub created: String,
    pub updated: String,
    pub model_path: String,
    pub format: String,
    pub persona: Option<String>,
    /// Completed exchanges (user turn + answer).
    pub exchanges: usize,
    /// The first user message.
    pub first_message: Option<String>,
}

/// A whole stored conversation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Conversation {
    pub id: String,
    pub created: String,
    pub updated: String,
    pub model_path: String,
    pub model_fingerprint: String,
    pub format: String,
    pub template: Option<String>,
    pub persona: Option<String>,
    /// The sampler settings (`GenerateParams` JSON).
    pub sampler: serde_json::Value,
    pub seed: Option<u64>,
    #[serde(skip)]
    pub options: SessionOptions,
    pub turns: Vec<StoredTurn>,
    /// How many times it has been saved: what the next save must name (see
    /// [`ConversationStore::save_turns`]).
    #[serde(skip)]
    pub version: i64,
}

impl Conversation {
    /// The conversation in OpenAI's messages shape: the persona as a system message, then the
    /// turns.
    pub fn messages(&self) -> Vec<Message> {
        self.persona
            .iter()
            .map(|p| Message::system(p.clone()))
            .chain(
                self.turns
                    .iter()
                    .map(|t| Message::new(t.role.clone(), t.text.clone())),
            )
            .collect()
    }
}

/// Where conversations are kept. Implemented by [`SqliteStore`] and [`PostgresStore`]; one test
/// suite runs against both.
pub trait ConversationStore: Send + std::fmt::Debug {
    /// In one transaction: records `info` for conversation `id` (creating it on its first
    /// exchange), removes its stored turns from index `keep` on (what an undo or reset left
    /// behind), and appends `new` from there. `expected` is the conversation's version as this
    /// writer last saw it (`None`: it believes the conversation new); if the store holds
    /// another, nothing is written and the answer is [`Error::StoreConflict`]. Returns the new
    /// version.
    fn save_turns(
        &mut self,
        id: &str,
        info: &ConversationInfo,
        keep: usize,
        new: &[NewTurn<'_>],
        expected: Option<i64>,
    ) -> Result<i64>;

    /// Every conversation, the most recently updated first.
    fn list(&self) -> Result<Vec<ConversationSummary>>;

    /// The id of the most recently updated conversation.
    fn latest(&self) -> Result<Option<String>>;

    /// Conversation `id` with all its turns in order.
    fn load(&self, id: &str) -> Result<Conversation>;

    /// Conversation `id`'s version; `None` when there is no such conversation.
    fn version(&self, id: &str) -> Result<Option<i64>>;

    /// Deletes conversation `id` and its turns; false when there was none.
    fn remove(&mut self, id: &str) -> Result<bool>;

    /// The schema version of the open database.
    fn schema_version(&self) -> Result<i64>;
}

/// An open conversation store, of either kind.
pub type Store = Box<dyn ConversationStore>;

/// Where the conversation store is: an SQLite file, or a PostgreSQL database (with its
/// connection pool, shared by every store opened from it). Cheap to clone.
#[derive(Clone, Debug)]
pub enum StoreLocation {
    Sqlite(PathBuf),
    Postgres(postgres::Pool),
}

/// The variable that names the store when no `--store` does.
pub const STORE_ENV: &str = "SAMTAL_STORE";

impl StoreLocation {
    /// `given` (a `postgres://` or `postgresql://` URL, or an SQLite file's path), else
    /// `$SAMTAL_STORE`, else the SQLite file in [`data_dir`]. Nothing is connected to yet.
    pub fn resolve(given: Option<&str>) -> Result<Self> {
        let env = std::env::var(STORE_ENV).ok().filter(|v| !v.is_empty());
        match given.map(str::to_owned).or(env) {
            Some(s) if s.starts_with("postgres://") || s.starts_with("postgresql://") => {
                Ok(StoreLocation::Postgres(postgres::Pool::new(&s)?))
            }
            Some(s) => Ok(StoreLocation::Sqlite(PathBuf::from(s))),
            None => Ok(StoreLocation::Sqlite(
                data_dir().ok_or(Error::NoDataDir)?.join(DB_FILE),
            )),
        }
    }

    /// Opens the store (creating or migrating its schema the first time).
    pub fn open(&self) -> Result<Store> {
        Ok(match self {
            StoreLocation::Sqlite(path) => Box::new(SqliteStore::open(path)?),
            StoreLocation::Postgres(pool) => Box::new(PostgresStore::open(pool)?),
        })
    }

    /// Whether the store answers now: [`Error::StoreUnavailable`] when it does not.
    pub fn ping(&self) -> Result<()> {
        match self {
            StoreLocation::Sqlite(path) => SqliteStore::open(path).map(drop),
            StoreLocation::Postgres(pool) => pool.ping(),
        }
    }

    /// The path, or the URL without its password, for messages and `/health`.
    pub fn describe(&self) -> String {
        match self {
            StoreLocation::Sqlite(path) => path.display().to_string(),
            StoreLocation::Postgres(pool) => pool.describe().to_owned(),
        }
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn kind(&self) -> &'static str {
        match self {
            StoreLocation::Sqlite(_) => "sqlite",
            StoreLocation::Postgres(_) => "postgres",
        }
    }
}

/// Opens the store [`StoreLocation::resolve`] finds without a `--store`.
pub fn open_default() -> Result<Store> {
    StoreLocation::resolve(None)?.open()
}

/// Seeds are u64; the databases' integers are i64. The bits are stored as they are.
fn seed_to_sql(seed: u64) -> i64 {
    i64::from_ne_bytes(seed.to_ne_bytes())
}

fn seed_from_sql(v: i64) -> u64 {
    u64::from_ne_bytes(v.to_ne_bytes())
}

/// What a save writes of a conversation's settings, as both databases store them: the session
/// options and the sampler settings as JSON text, the configured seed as i64 bits.
struct Settings {
    options: String,
    sampler: String,
    seed: Option<i64>,
}

fn encode_settings(id: &str, info: &ConversationInfo) -> Result<Settings> {
    let encode = |what: &str, v: serde_json::Result<String>| {
        v.map_err(|e| Error::StoreData {
            id: id.to_owned(),
            message: format!("cannot encode the {what}: {e}"),
        })
    };
    let params = info.options.params.clone().unwrap_or_default();
    Ok(Settings {
        options: encode("session options", serde_json::to_string(&info.options))?,
        sampler: encode("sampler settings", serde_json::to_string(&params))?,
        seed: params.sampling.seed.map(seed_to_sql),
    })
}

/// A turn's JSON columns: its token ids and its timings.
fn encode_turn(t: &NewTurn<'_>) -> (Option<String>, Option<String>) {
    let ids = t
        .token_ids
        .map(|ids| serde_json::to_string(ids).unwrap_or_else(|_| "[]".into()));
    (ids, t.timings.as_ref().map(serde_json::Value::to_string))
}

/// A stored JSON column read back; one that does not decode (a database edited by hand, or
/// damaged) is an error naming the conversation and the column.
fn decode<T: serde::de::DeserializeOwned>(id: &str, what: &str, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| Error::StoreData {
        id: id.to_owned(),
        message: format!("bad {what}: {e}"),
    })
}

/// [`decode`] for a column that may be NULL.
fn decode_opt<T: serde::de::DeserializeOwned>(
    id: &str,
    what: &str,
    text: Option<String>,
) -> Result<Option<T>> {
    text.map(|t| decode(id, what, &t)).transpose()
}

/// What a save finds against what its writer expects: whether it may go on.
fn check_version(id: &str, found: Option<i64>, expected: Option<i64>) -> Result<i64> {
    if found == expected {
        Ok(found.unwrap_or(0) + 1)
    } else {
        Err(Error::StoreConflict { id: id.to_owned() })
    }
}

#[cfg(test)]
mod tests;
