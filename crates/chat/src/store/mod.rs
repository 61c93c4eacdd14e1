//! Saved conversations: an SQLite database (WAL) in the user's data directory.
//!
//! Each completed exchange (the user turn and its answer) is written in one transaction when the
//! answer is complete, together with what the conversation runs with (model path and
//! fingerprint, format, template, persona, sampler settings): a process killed mid-answer loses
//! that answer and nothing before it, and a conversation can be resumed or replayed from what is
//! stored. The schema is in `store/schema.rs`; its version is SQLite's `user_version`.

mod fingerprint;
mod schema;

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{Error, Message, Result, SessionOptions};

pub use fingerprint::fingerprint;
pub use schema::SCHEMA_VERSION;

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

/// The conversation database.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

/// Maps a rusqlite error to [`Error::Store`] naming what failed.
fn sql(what: &'static str) -> impl Fn(rusqlite::Error) -> Error {
    move |source| Error::Store { what, source }
}

/// Seeds are u64; SQLite integers are i64. The bits are stored as they are.
fn seed_to_sql(seed: u64) -> i64 {
    i64::from_ne_bytes(seed.to_ne_bytes())
}

fn seed_from_sql(v: i64) -> u64 {
    u64::from_ne_bytes(v.to_ne_bytes())
}

impl Store {
    /// Opens (creating if needed) the database in [`data_dir`].
    pub fn open_default() -> Result<Self> {
        let dir = data_dir().ok_or(Error::NoDataDir)?;
        Self::open(&dir.join(DB_FILE))
    }

    /// Opens (creating if needed) the database at `path`, and its folder.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| Error::StoreIo {
                path: dir.to_owned(),
                source,
            })?;
        }
        let mut conn = Connection::open(path).map_err(sql("open the database"))?;
        schema::prepare(&mut conn)?;
        Ok(Self {
            conn,
            path: path.to_owned(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// In one transaction: records `info` for conversation `id` (creating it on its first
    /// exchange), removes its stored turns from index `keep` on (what an undo or reset left
    /// behind), and appends `new` from there.
    pub fn save_turns(
        &mut self,
        id: &str,
        info: &ConversationInfo,
        keep: usize,
        new: &[NewTurn<'_>],
    ) -> Result<()> {
        let options = serde_json::to_string(&info.options).map_err(|e| Error::StoreData {
            id: id.to_owned(),
            message: format!("cannot encode the session options: {e}"),
        })?;
        let params = info.options.params.clone().unwrap_or_default();
        let sampler = serde_json::to_string(&params).map_err(|e| Error::StoreData {
            id: id.to_owned(),
            message: format!("cannot encode the sampler settings: {e}"),
        })?;
        let seed = params.sampling.seed.map(seed_to_sql);
        // IMMEDIATE: take the write lock (waiting for it) before reading anything, so another
        // writer cannot make the upgrade from a read lock fail.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql("begin a transaction"))?;
        tx.execute(
            "INSERT INTO conversations
                 (id, created, updated, model_path, model_fingerprint, format, template, persona,
                  sampler, seed, options)
             VALUES (?1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
                     ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (id) DO UPDATE SET
                 updated = excluded.updated, model_path = excluded.model_path,
                 model_fingerprint = excluded.model_fingerprint, format = excluded.format,
                 template = excluded.template, persona = excluded.persona,
                 sampler = excluded.sampler, seed = excluded.seed, options = excluded.options",
            params![
                id,
                info.model_path,
                info.model_fingerprint,
                info.format,
                info.template,
                info.options.system,
                sampler,
                seed,
                options
            ],
        )
        .map_err(sql("write the conversation"))?;
        let keep = i64::try_from(keep).unwrap_or(i64::MAX);
        tx.execute(
            "DELETE FROM turns WHERE conversation_id = ?1 AND idx >= ?2",
            params![id, keep],
        )
        .map_err(sql("remove undone turns"))?;
        {
            let mut insert = tx
                .prepare(
                    "INSERT INTO turns (conversation_id, idx, role, text, token_ids, finish_reason,
                                        timings, seed, status, created)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,
                             strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
                )
                .map_err(sql("prepare the turn insert"))?;
            for (k, t) in new.iter().enumerate() {
                let ids = t
                    .token_ids
                    .map(|ids| serde_json::to_string(ids).unwrap_or_else(|_| "[]".into()));
                let timings = t.timings.as_ref().map(serde_json::Value::to_string);
                insert
                    .execute(params![
                        id,
                        keep.saturating_add(k as i64),
                        t.role,
                        t.text,
                        ids,
                        t.finish_reason,
                        timings,
                        t.seed.map(seed_to_sql),
                        t.status.unwrap_or("ok"),
                    ])
                    .map_err(sql("write a turn"))?;
            }
        }
        tx.commit().map_err(sql("commit the turns"))
    }

    /// Every conversation, the most recently updated first.
    pub fn list(&self) -> Result<Vec<ConversationSummary>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT c.id, c.created, c.updated, c.model_path, c.format, c.persona,
                        (SELECT count(*) FROM turns t
                          WHERE t.conversation_id = c.id AND t.role = 'assistant'),
                        (SELECT t.text FROM turns t
                          WHERE t.conversation_id = c.id AND t.role = 'user'
                          ORDER BY t.idx LIMIT 1)
                   FROM conversations c ORDER BY c.updated DESC, c.rowid DESC",
            )
            .map_err(sql("prepare the listing"))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(ConversationSummary {
                    id: r.get(0)?,
                    created: r.get(1)?,
                    updated: r.get(2)?,
                    model_path: r.get(3)?,
                    format: r.get(4)?,
                    persona: r.get(5)?,
                    exchanges: r.get::<_, i64>(6)?.try_into().unwrap_or(0),
                    first_message: r.get(7)?,
                })
            })
            .map_err(sql("list the conversations"))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(sql("read the listing"))
    }

    /// The id of the most recently updated conversation.
    pub fn latest(&self) -> Result<Option<String>> {
        self.conn
            .query_row(
                "SELECT id FROM conversations ORDER BY updated DESC, rowid DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql("find the latest conversation"))
    }

    /// Conversation `id` with all its turns in order.
    pub fn load(&self, id: &str) -> Result<Conversation> {
        let head = self
            .conn
            .query_row(
                "SELECT id, created, updated, model_path, model_fingerprint, format, template,
                        persona, sampler, seed, options
                   FROM conversations WHERE id = ?1",
                [id],
                |r| {
                    Ok((
                        [
                            r.get::<_, String>(0)?,
                            r.get(1)?,
                            r.get(2)?,
                            r.get(3)?,
                            r.get(4)?,
                            r.get(5)?,
                        ],
                        r.get::<_, Option<String>>(6)?,
                        r.get::<_, Option<String>>(7)?,
                        r.get::<_, String>(8)?,
                        r.get::<_, Option<i64>>(9)?,
                        r.get::<_, String>(10)?,
                    ))
                },
            )
            .optional()
            .map_err(sql("read the conversation"))?
            .ok_or_else(|| Error::NoConversation(id.to_owned()))?;
        let ([id, created, updated, model_path, model_fingerprint, format], template, persona) =
            (head.0, head.1, head.2);
        let bad = |what: &str, e: serde_json::Error| Error::StoreData {
            id: id.clone(),
            message: format!("bad {what}: {e}"),
        };
        let sampler = serde_json::from_str(&head.3).map_err(|e| bad("sampler settings", e))?;
        let options = serde_json::from_str(&head.5).map_err(|e| bad("session options", e))?;
        let turns = self.turns(&id)?;
        Ok(Conversation {
            id,
            created,
            updated,
            model_path,
            model_fingerprint,
            format,
            template,
            persona,
            sampler,
            seed: head.4.map(seed_from_sql),
            options,
            turns,
        })
    }

    fn turns(&self, id: &str) -> Result<Vec<StoredTurn>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT idx, role, text, token_ids, finish_reason, timings, seed, status, created
                   FROM turns WHERE conversation_id = ?1 ORDER BY idx",
            )
            .map_err(sql("prepare the turn query"))?;
        let rows = stmt
            .query_map([id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, Option<i64>>(6)?,
                    r.get::<_, String>(7)?,
                    r.get::<_, String>(8)?,
                ))
            })
            .map_err(sql("read the turns"))?;
        let bad = |what: &str, e: serde_json::Error| Error::StoreData {
            id: id.to_owned(),
            message: format!("bad {what}: {e}"),
        };
        let mut turns = Vec::new();
        for row in rows {
            let (idx, role, text, ids, finish_reason, timings, seed, status, created) =
                row.map_err(sql("read a turn"))?;
            turns.push(StoredTurn {
                index: usize::try_from(idx).unwrap_or(0),
                role,
                text,
                token_ids: ids
                    .map(|s| serde_json::from_str(&s))
                    .transpose()
                    .map_err(|e| bad("token ids", e))?,
                finish_reason,
                timings: timings
                    .map(|s| serde_json::from_str(&s))
                    .transpose()
                    .map_err(|e| bad("timings", e))?,
                seed: seed.map(seed_from_sql),
                status,
                created,
            });
        }
        Ok(turns)
    }

    /// Deletes conversation `id` and its turns; false when there was none.
    pub fn remove(&mut self, id: &str) -> Result<bool> {
        let n = self
            .conn
            .execute("DELETE FROM conversations WHERE id = ?1", [id])
            .map_err(sql("delete the conversation"))?;
        Ok(n > 0)
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64> {
        self.conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(sql("read the schema version"))
    }
}

#[cfg(test)]
mod tests;
