//! The conversation store in PostgreSQL, which several `samtal serve` replicas share: a pool of
//! connections (r2d2), the schema migrated once per pool under an advisory lock (two replicas
//! starting together do not race), and each save in one transaction that locks the
//! conversation's row (`FOR UPDATE`) and checks its version, so two replicas taking turns of one
//! conversation at once are serialised and the second is refused.
//!
//! A database that cannot be reached (down, restarting, a network cut) is
//! [`Error::StoreUnavailable`]: nothing was written, and the pool hands out fresh connections
//! once it is back (each is checked on checkout).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use postgres::NoTls;
use r2d2_postgres::PostgresConnectionManager;

use super::schema::{MIGRATIONS, SCHEMA_VERSION};
use super::{
    check_version, decode, decode_opt, encode_settings, encode_turn, seed_from_sql, seed_to_sql,
    Conversation, ConversationInfo, ConversationStore, ConversationSummary, NewTurn, Settings,
    StoredTurn,
};
use crate::{Error, Result};

/// How long a request waits for a connection (or to connect) before the store counts as
/// unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Connections per server: one per worker is plenty.
const MAX_CONNECTIONS: u32 = 16;

/// A connection pool to one database; cheap to clone.
#[derive(Clone)]
pub struct Pool(Arc<Inner>);

struct Inner {
    pool: r2d2::Pool<PostgresConnectionManager<NoTls>>,
    describe: String,
    migrated: OnceLock<()>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pool({})", self.0.describe)
    }
}

/// The URL with its password, if any, replaced by `***`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((user, host)) => {
            let user = user.split_once(':').map_or(user, |(u, _)| u);
            let stars = if rest[..rest.find('@').unwrap_or(0)].contains(':') {
                ":***"
            } else {
                ""
            };
            format!("{scheme}://{user}{stars}@{host}")
        }
        None => url.to_owned(),
    }
}

/// Maps a driver error: one from the server (a constraint, bad SQL) is a store error; one from
/// the connection (refused, closed, timed out) means the database is unreachable now.
fn pg(what: &'static str) -> impl Fn(postgres::Error) -> Error {
    move |e| {
        if e.as_db_error().is_some() {
            Error::Store {
                what,
                source: Box::new(e),
            }
        } else {
            Error::StoreUnavailable {
                message: format!("cannot {what}: {e}"),
            }
        }
    }
}

impl Pool {
    /// A pool for `url` (`postgres://user:password@host:port/database`); nothing is
    /// connected to until a store is opened.
    pub fn new(url: &str) -> Result<Self> {
        let mut config: postgres::Config = url.parse().map_err(|e| Error::Store {
            what: "read the store URL",
            source: Box::new(e),
        })?;
        config.connect_timeout(CONNECT_TIMEOUT);
        if config.get_application_name().is_none() {
            config.application_name("samtal");
        }
        let manager = PostgresConnectionManager::new(config, NoTls);
        let pool = r2d2::Pool::builder()
            .max_size(MAX_CONNECTIONS)
            .min_idle(Some(0))
            .connection_timeout(CONNECT_TIMEOUT)
            .build_unchecked(manager);
        Ok(Self(Arc::new(Inner {
            pool,
            describe: redact(url),
            migrated: OnceLock::new(),
        })))
    }

    pub fn describe(&self) -> &str {
        &self.0.describe
    }

    fn get(&self) -> Result<r2d2::PooledConnection<PostgresConnectionManager<NoTls>>> {
        self.0.pool.get().map_err(|e| Error::StoreUnavailable {
            message: format!("no connection to {}: {e}", self.0.describe),
        })
    }

    /// Whether the database answers now.
    pub fn ping(&self) -> Result<()> {
        self.get()?
            .simple_query("SELECT 1")
            .map(drop)
            .map_err(pg("reach the database"))
    }

    /// Brings the schema to [`SCHEMA_VERSION`], once per pool.
    fn migrate(&self) -> Result<()> {
        if self.0.migrated.get().is_some() {
            return Ok(());
        }
        let mut client = self.get()?;
        let mut tx = client
            .transaction()
            .map_err(pg("begin the schema update"))?;
        // Replicas that start together take turns here.
        tx.execute("SELECT pg_advisory_xact_lock(727357001)", &[])
            .map_err(pg("lock the schema"))?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS samtal_schema (version BIGINT NOT NULL)")
            .map_err(pg("create the schema table"))?;
        let version: i64 = match tx
            .query_opt("SELECT version FROM samtal_schema", &[])
            .map_err(pg("read the schema version"))?
        {
            Some(row) => row.get(0),
            None => {
                tx.execute("INSERT INTO samtal_schema (version) VALUES (0)", &[])
                    .map_err(pg("set the schema version"))?;
                0
            }
        };
        if !(0..=SCHEMA_VERSION).contains(&version) {
            return Err(Error::StoreSchema {
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        for step in &MIGRATIONS[version as usize..] {
            tx.batch_execute(step).map_err(pg("migrate the schema"))?;
        }
        tx.execute("UPDATE samtal_schema SET version = $1", &[&SCHEMA_VERSION])
            .map_err(pg("set the schema version"))?;
        tx.commit().map_err(pg("commit the schema"))?;
        let _ = self.0.migrated.set(());
        Ok(())
    }
}

/// The current time as the stores write it: UTC ISO 8601 with milliseconds.
const NOW: &str =
    r#"to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')"#;

/// The conversation store in a PostgreSQL database.
#[derive(Debug)]
pub struct PostgresStore {
    pool: Pool,
}

impl PostgresStore {
    /// A store on `pool`, its schema made or migrated if this pool has not yet.
    pub fn open(pool: &Pool) -> Result<Self> {
        pool.migrate()?;
        Ok(Self { pool: pool.clone() })
    }

    fn turns(&self, client: &mut postgres::Client, id: &str) -> Result<Vec<StoredTurn>> {
        let rows = client
            .query(
                "SELECT idx, role, text, token_ids, finish_reason, timings, seed, status, created
                   FROM turns WHERE conversation_id = $1 ORDER BY idx",
                &[&id],
            )
            .map_err(pg("read the turns"))?;
        let mut turns = Vec::with_capacity(rows.len());
        for r in rows {
            turns.push(StoredTurn {
                index: usize::try_from(r.get::<_, i64>(0)).unwrap_or(0),
                role: r.get(1),
                text: r.get(2),
                token_ids: decode_opt(id, "token ids", r.get(3))?,
                finish_reason: r.get(4),
                timings: decode_opt(id, "timings", r.get(5))?,
                seed: r.get::<_, Option<i64>>(6).map(seed_from_sql),
                status: r.get(7),
                created: r.get(8),
            });
        }
        Ok(turns)
    }
}

impl ConversationStore for PostgresStore {
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
        let mut client = self.pool.get()?;
        let mut tx = client.transaction().map_err(pg("begin a transaction"))?;
        // The row lock makes a second writer of this conversation wait here until the first
        // commits, and then read the version the first wrote.
        let found: Option<i64> = tx
            .query_opt(
                "SELECT version FROM conversations WHERE id = $1 FOR UPDATE",
                &[&id],
            )
            .map_err(pg("read the conversation's version"))?
            .map(|r| r.get(0));
        let version = check_version(id, found, expected)?;
        let head: [&(dyn postgres::types::ToSql + Sync); 10] = [
            &id,
            &info.model_path,
            &info.model_fingerprint,
            &info.format,
            &info.template,
            &info.options.system,
            &sampler,
            &seed,
            &options,
            &version,
        ];
        if found.is_none() {
            // Two writers creating one conversation at once both find nothing: the key makes
            // the second fail, and it is told so.
            tx.execute(
                &format!(
                    "INSERT INTO conversations
                         (id, created, updated, model_path, model_fingerprint, format, template,
                          persona, sampler, seed, options, version)
                     VALUES ($1, {NOW}, {NOW}, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
                ),
                &head,
            )
            .map_err(|e| match e.code() {
                Some(&postgres::error::SqlState::UNIQUE_VIOLATION) => {
                    Error::StoreConflict { id: id.to_owned() }
                }
                _ => pg("write the conversation")(e),
            })?;
        } else {
            tx.execute(
                &format!(
                    "UPDATE conversations SET updated = {NOW}, model_path = $2,
                         model_fingerprint = $3, format = $4, template = $5, persona = $6,
                         sampler = $7, seed = $8, options = $9, version = $10
                     WHERE id = $1"
                ),
                &head,
            )
            .map_err(pg("write the conversation"))?;
        }
        let keep = i64::try_from(keep).unwrap_or(i64::MAX);
        tx.execute(
            "DELETE FROM turns WHERE conversation_id = $1 AND idx >= $2",
            &[&id, &keep],
        )
        .map_err(pg("remove undone turns"))?;
        let insert = tx
            .prepare(&format!(
                "INSERT INTO turns (conversation_id, idx, role, text, token_ids, finish_reason,
                                    timings, seed, status, created)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, {NOW})"
            ))
            .map_err(pg("prepare the turn insert"))?;
        for (k, t) in new.iter().enumerate() {
            let (ids, timings) = encode_turn(t);
            let idx = keep.saturating_add(k as i64);
            let turn_seed = t.seed.map(seed_to_sql);
            tx.execute(
                &insert,
                &[
                    &id,
                    &idx,
                    &t.role,
                    &t.text,
                    &ids,
                    &t.finish_reason,
                    &timings,
                    &turn_seed,
                    &t.status.unwrap_or("ok"),
                ],
            )
            .map_err(pg("write a turn"))?;
        }
        tx.commit().map_err(pg("commit the turns"))?;
        Ok(version)
    }

    fn list(&self) -> Result<Vec<ConversationSummary>> {
        let rows = self
            .pool
            .get()?
            .query(
                "SELECT c.id, c.created, c.updated, c.model_path, c.format, c.persona,
                        (SELECT count(*) FROM turns t
                          WHERE t.conversation_id = c.id AND t.role = 'assistant'),
                        (SELECT t.text FROM turns t
                          WHERE t.conversation_id = c.id AND t.role = 'user'
                          ORDER BY t.idx LIMIT 1)
                   FROM conversations c ORDER BY c.updated DESC, c.id DESC",
                &[],
            )
            .map_err(pg("list the conversations"))?;
        Ok(rows
            .iter()
            .map(|r| ConversationSummary {
                id: r.get(0),
                created: r.get(1),
                updated: r.get(2),
                model_path: r.get(3),
                format: r.get(4),
                persona: r.get(5),
                exchanges: usize::try_from(r.get::<_, i64>(6)).unwrap_or(0),
                first_message: r.get(7),
            })
            .collect())
    }

    fn latest(&self) -> Result<Option<String>> {
        Ok(self
            .pool
            .get()?
            .query_opt(
                "SELECT id FROM conversations ORDER BY updated DESC, id DESC LIMIT 1",
                &[],
            )
            .map_err(pg("find the latest conversation"))?
            .map(|r| r.get(0)))
    }

    fn load(&self, id: &str) -> Result<Conversation> {
        let mut client = self.pool.get()?;
        let r = client
            .query_opt(
                "SELECT id, created, updated, model_path, model_fingerprint, format, template,
                        persona, sampler, seed, options, version
                   FROM conversations WHERE id = $1",
                &[&id],
            )
            .map_err(pg("read the conversation"))?
            .ok_or_else(|| Error::NoConversation(id.to_owned()))?;
        let sampler = decode(id, "sampler settings", r.get(8))?;
        let options = decode(id, "session options", r.get(10))?;
        let turns = self.turns(&mut client, id)?;
        Ok(Conversation {
            id: r.get(0),
            created: r.get(1),
            updated: r.get(2),
            model_path: r.get(3),
            model_fingerprint: r.get(4),
            format: r.get(5),
            template: r.get(6),
            persona: r.get(7),
            sampler,
            seed: r.get::<_, Option<i64>>(9).map(seed_from_sql),
            options,
            turns,
            version: r.get(11),
        })
    }

    fn version(&self, id: &str) -> Result<Option<i64>> {
        Ok(self
            .pool
            .get()?
            .query_opt("SELECT version FROM conversations WHERE id = $1", &[&id])
            .map_err(pg("read the conversation's version"))?
            .map(|r| r.get(0)))
    }

    fn remove(&mut self, id: &str) -> Result<bool> {
        let n = self
            .pool
            .get()?
            .execute("DELETE FROM conversations WHERE id = $1", &[&id])
            .map_err(pg("delete the conversation"))?;
        Ok(n > 0)
    }

    fn schema_version(&self) -> Result<i64> {
        Ok(self
            .pool
            .get()?
            .query_one("SELECT version FROM samtal_schema", &[])
            .map_err(pg("read the schema version"))?
            .get(0))
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn urls_lose_their_passwords() {
        assert_eq!(
            redact("postgres://me:secret@127.0.0.1:5432/db"),
            "postgres://me:***@127.0.0.1:5432/db"
        );
        assert_eq!(
            redact("postgres://me@localhost/db"),
            "postgres://me@localhost/db"
        );
        assert_eq!(redact("postgresql://host/db"), "postgresql://host/db");
    }
}
