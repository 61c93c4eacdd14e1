//! The conversation store in an SQLite file: the embedded default.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::{
    check_version, decode, decode_opt, encode_settings, encode_turn, schema, seed_from_sql,
    seed_to_sql, Conversation, ConversationInfo, ConversationStore, ConversationSummary, NewTurn,
    Settings, StoredTurn,
};
use crate::{Error, Result};

/// The conversation store in an SQLite file (WAL, one fsync per committed exchange).
#[derive(Debug)]
pub struct SqliteStore {
    pub(super) conn: Connection,
    path: PathBuf,
}

/// Maps a rusqlite error to [`Error::Store`] naming what failed.
fn sql(what: &'static str) -> impl Fn(rusqlite::Error) -> Error {
    move |source| Error::Store {
        what,
        source: Box::new(source),
    }
}

impl SqliteStore {
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
        let mut turns = Vec::new();
        for row in rows {
            let (idx, role, text, ids, finish_reason, timings, seed, status, created) =
                row.map_err(sql("read a turn"))?;
            turns.push(StoredTurn {
                index: usize::try_from(idx).unwrap_or(0),
                role,
                text,
                token_ids: decode_opt(id, "token ids", ids)?,
                finish_reason,
                timings: decode_opt(id, "timings", timings)?,
                seed: seed.map(seed_from_sql),
                status,
                created,
            });
        }
        Ok(turns)
    }
}

impl ConversationStore for SqliteStore {
    fn save_turns(
        &mut self,
        id: &str,
        info: &ConversationInfo,
        keep: usize,
        new: &[NewTurn<'_>],
        expected: Option<i64>,
    ) -> Result<i64> {
        let Settings {
            options,
            sampler,
            seed,
        } = encode_settings(id, info)?;
        // IMMEDIATE: take the write lock (waiting for it) before reading anything, so another
        // writer cannot make the upgrade from a read lock fail.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql("begin a transaction"))?;
        let found: Option<i64> = tx
            .query_row(
                "SELECT version FROM conversations WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql("read the conversation's version"))?;
        let version = check_version(id, found, expected)?;
        tx.execute(
            "INSERT INTO conversations
                 (id, created, updated, model_path, model_fingerprint, format, template, persona,
                  sampler, seed, options, version)
             VALUES (?1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
                     ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
             ON CONFLICT (id) DO UPDATE SET
                 updated = excluded.updated, model_path = excluded.model_path,
                 model_fingerprint = excluded.model_fingerprint, format = excluded.format,
                 template = excluded.template, persona = excluded.persona,
                 sampler = excluded.sampler, seed = excluded.seed, options = excluded.options,
                 version = excluded.version",
            params![
                id,
                info.model_path,
                info.model_fingerprint,
                info.format,
                info.template,
                info.options.system,
                sampler,
                seed,
                options,
                version
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
                let (ids, timings) = encode_turn(t);
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
        tx.commit().map_err(sql("commit the turns"))?;
        Ok(version)
    }

    fn list(&self) -> Result<Vec<ConversationSummary>> {
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

    fn latest(&self) -> Result<Option<String>> {
        self.conn
            .query_row(
                "SELECT id FROM conversations ORDER BY updated DESC, rowid DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql("find the latest conversation"))
    }

    fn load(&self, id: &str) -> Result<Conversation> {
        let head = self
            .conn
            .query_row(
                "SELECT id, created, updated, model_path, model_fingerprint, format, template,
                        persona, sampler, seed, options, version
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
                        r.get::<_, i64>(11)?,
                    ))
                },
            )
            .optional()
            .map_err(sql("read the conversation"))?
            .ok_or_else(|| Error::NoConversation(id.to_owned()))?;
        let ([id, created, updated, model_path, model_fingerprint, format], template, persona) =
            (head.0, head.1, head.2);
        let sampler = decode(&id, "sampler settings", &head.3)?;
        let options = decode(&id, "session options", &head.5)?;
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
            version: head.6,
        })
    }

    fn version(&self, id: &str) -> Result<Option<i64>> {
        self.conn
            .query_row(
                "SELECT version FROM conversations WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql("read the conversation's version"))
    }

    fn remove(&mut self, id: &str) -> Result<bool> {
        let n = self
            .conn
            .execute("DELETE FROM conversations WHERE id = ?1", [id])
            .map_err(sql("delete the conversation"))?;
        Ok(n > 0)
    }

    fn schema_version(&self) -> Result<i64> {
        self.conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(sql("read the schema version"))
    }
}
