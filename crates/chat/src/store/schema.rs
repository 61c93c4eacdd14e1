//! The store's schema, as versioned migrations both databases run (their SQL is the common
//! subset: TEXT and BIGINT columns, ISO 8601 text timestamps), and the SQLite connection
//! settings that make a committed turn durable. SQLite keeps its version in `user_version`,
//! PostgreSQL in the one-row table `samtal_schema` (see `postgres.rs`).

use rusqlite::{Connection, TransactionBehavior};

use crate::{Error, Result};

/// The schema this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// `MIGRATIONS[v]` brings a database from version `v` to `v + 1`.
pub(super) const MIGRATIONS: &[&str] = &[V1, V2];

/// Version 1. Timestamps are UTC ISO 8601 text with milliseconds (`2025-01-31T12:00:00.123Z`), so
/// that they sort as text and read as dates in the `sqlite3` shell.
const V1: &str = "
CREATE TABLE conversations (
    id                TEXT PRIMARY KEY,
    created           TEXT NOT NULL,
    updated           TEXT NOT NULL,
    -- the model file or folder as given when the conversation last ran
    model_path        TEXT NOT NULL,
    -- see store::fingerprint: cheap and stable, not a full-file hash
    model_fingerprint TEXT NOT NULL,
    -- 'template' or 'transcript'
    format            TEXT NOT NULL,
    -- a preset name, or the template source the model shipped; NULL for the transcript format
    template          TEXT,
    persona           TEXT,
    -- the GenerateParams JSON the answers were generated with
    sampler           TEXT NOT NULL,
    -- the configured sampler seed; NULL when each turn draws its own (stored per turn)
    seed              BIGINT,
    -- the SessionOptions JSON a resumed session is rebuilt from
    options           TEXT NOT NULL
);
CREATE INDEX conversations_by_updated ON conversations (updated);
CREATE TABLE turns (
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    idx             BIGINT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    text            TEXT NOT NULL,
    -- JSON array; the generated ids for an answer, NULL for a user turn (its ids depend on the
    -- prompt format and are re-rendered from the text)
    token_ids       TEXT,
    finish_reason   TEXT,
    -- JSON: prompt_tokens, prefill_tokens, generated_tokens, ttft_ms, tokens_per_s, dropped_turns
    timings         TEXT,
    -- the seed the sampler used for an answer (u64 bits stored as i64)
    seed            BIGINT,
    -- 'ok', or the guard's mark: 'flagged' or 'blocked' (user turns), 'withheld' (answers)
    status          TEXT NOT NULL DEFAULT 'ok',
    created         TEXT NOT NULL,
    PRIMARY KEY (conversation_id, idx)
);
";

/// Version 2: how many times a conversation has been saved, so that two writers taking turns
/// of one conversation at once (two server replicas) are serialised: each save names the
/// version it read.
const V2: &str = "
ALTER TABLE conversations ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
";

/// Sets the connection up and brings the schema to [`SCHEMA_VERSION`].
pub fn prepare(conn: &mut Connection) -> Result<()> {
    let sql = |what: &'static str| {
        move |source: rusqlite::Error| Error::Store {
            what,
            source: Box::new(source),
        }
    };
    // Another process (a second `samtal chat`) may hold the write lock for a moment.
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(sql("set the busy timeout"))?;
    // WAL: readers (`samtal history`) never block the chat that is writing. synchronous=FULL
    // syncs the WAL at every commit, so a turn whose transaction committed survives a killed
    // process and a power cut alike; one fsync per turn is nothing next to generating it.
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(sql("switch to WAL"))?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(sql("set synchronous"))?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(sql("enable foreign keys"))?;

    // IMMEDIATE: two processes opening a new database at once must not both read version 0 and
    // then fail to upgrade their read locks (SQLITE_BUSY without waiting); the second waits
    // for the write lock and then finds the schema made.
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql("begin the schema update"))?;
    let version: i64 = tx
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(sql("read the schema version"))?;
    if !(0..=SCHEMA_VERSION).contains(&version) {
        return Err(Error::StoreSchema {
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    for step in &MIGRATIONS[version as usize..] {
        tx.execute_batch(step).map_err(sql("migrate the schema"))?;
    }
    if version != SCHEMA_VERSION {
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(sql("set the schema version"))?;
    }
    tx.commit().map_err(sql("commit the schema"))
}
