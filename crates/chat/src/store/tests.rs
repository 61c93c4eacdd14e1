//! One suite for the [`ConversationStore`] trait, run against SQLite always and against
//! PostgreSQL when `$SAMTAL_TEST_POSTGRES` names a server to make scratch databases on
//! (`scripts/test_replicas.sh` starts one and sets it); then SQLite's own checks.

use std::path::PathBuf;

use super::*;
use crate::FormatChoice;

/// A fresh database in its own temporary folder (removed by the caller through `TempDir`).
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "samtal-store-{name}-{}-{}",
            std::process::id(),
            new_id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn db(&self) -> PathBuf {
        self.0.join("nested").join(DB_FILE)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A scratch PostgreSQL database, dropped at the end.
struct PgDb {
    admin: String,
    name: String,
    location: StoreLocation,
}

impl PgDb {
    fn new(test: &str) -> Option<Self> {
        let admin = std::env::var("SAMTAL_TEST_POSTGRES").ok()?;
        let name = format!("samtal_test_{test}_{}", &new_id()[..8]);
        let mut client = ::postgres::Client::connect(&admin, ::postgres::NoTls).unwrap();
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        let location = StoreLocation::resolve(Some(&format!("{base}/{name}"))).unwrap();
        Some(Self {
            admin,
            name,
            location,
        })
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        if let Ok(mut c) = ::postgres::Client::connect(&self.admin, ::postgres::NoTls) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// Runs `check` with a way to open a fresh store, once per backend.
fn each_backend(test: &str, check: impl Fn(&dyn Fn() -> Store)) {
    let tmp = TempDir::new(test);
    let sqlite = StoreLocation::Sqlite(tmp.db());
    check(&|| sqlite.open().unwrap());
    match PgDb::new(test) {
        Some(db) => check(&|| db.location.open().unwrap()),
        None => eprintln!(
            "\n!!! SKIP (PostgreSQL half): set SAMTAL_TEST_POSTGRES to a server URL to run it\n"
        ),
    }
}

fn info(persona: Option<&str>) -> ConversationInfo {
    let mut options = SessionOptions {
        format: FormatChoice::Template(Some("chatml".into())),
        system: persona.map(str::to_owned),
        context: Some(512),
        params: Some(crate::chat_params(&Default::default())),
        ..Default::default()
    };
    if let Some(p) = options.params.as_mut() {
        p.sampling.seed = Some(u64::MAX - 1);
    }
    ConversationInfo {
        model_path: "/models/tiny.gguf".into(),
        model_fingerprint: "fp1:00".into(),
        format: "template".into(),
        template: Some("chatml".into()),
        options,
    }
}

fn exchange<'a>(user: &'a str, answer: &'a str, ids: &'a [u32]) -> [NewTurn<'a>; 2] {
    [
        NewTurn {
            role: "user",
            text: user,
            ..Default::default()
        },
        NewTurn {
            role: "assistant",
            text: answer,
            token_ids: Some(ids),
            finish_reason: Some("eos"),
            timings: Some(serde_json::json!({"prompt_tokens": 12, "ttft_ms": 1.5})),
            seed: Some(42),
            status: None,
        },
    ]
}

#[test]
fn a_conversation_round_trips_with_its_settings_and_turns() {
    each_backend("round", |open| {
        let mut store = open();
        let meta = info(Some("You are terse."));
        let v = store
            .save_turns("c1", &meta, 0, &exchange("Hi", "Hello.", &[5, 6, 7]), None)
            .unwrap();
        store
            .save_turns("c1", &meta, 2, &exchange("Again?", "Yes.", &[8]), Some(v))
            .unwrap();
        drop(store);
        round_trip(&*open(), &meta);
    });
}

fn round_trip(store: &dyn ConversationStore, meta: &ConversationInfo) {
    let c = store.load("c1").unwrap();
    assert_eq!(c.version, 2);
    assert_eq!(c.id, "c1");
    assert_eq!(c.model_path, "/models/tiny.gguf");
    assert_eq!(c.model_fingerprint, "fp1:00");
    assert_eq!(c.format, "template");
    assert_eq!(c.template.as_deref(), Some("chatml"));
    assert_eq!(c.persona.as_deref(), Some("You are terse."));
    assert_eq!(c.options, meta.options);
    assert_eq!(c.seed, Some(u64::MAX - 1), "u64 seeds survive i64 storage");
    assert_eq!(c.sampler["max_new_tokens"], crate::CHAT_MAX_NEW_TOKENS);
    let texts: Vec<_> = c
        .turns
        .iter()
        .map(|t| (t.index, t.role.as_str(), t.text.as_str()))
        .collect();
    assert_eq!(
        texts,
        [
            (0, "user", "Hi"),
            (1, "assistant", "Hello."),
            (2, "user", "Again?"),
            (3, "assistant", "Yes.")
        ]
    );
    let answer = &c.turns[1];
    assert_eq!(answer.token_ids.as_deref(), Some(&[5, 6, 7][..]));
    assert_eq!(answer.finish_reason.as_deref(), Some("eos"));
    assert_eq!(answer.seed, Some(42));
    assert_eq!(answer.status, "ok");
    assert_eq!(answer.timings.as_ref().unwrap()["prompt_tokens"], 12);
    assert_eq!(c.turns[0].token_ids, None);
    assert!(c.created.ends_with('Z') && c.created <= c.updated, "{c:?}");
}

#[test]
fn export_is_the_openai_messages_shape() {
    each_backend("export", |open| {
        let mut store = open();
        store
            .save_turns(
                "c",
                &info(Some("Be kind.")),
                0,
                &exchange("Hi", "Hey", &[1]),
                None,
            )
            .unwrap();
        let messages = store.load("c").unwrap().messages();
        assert_eq!(
            serde_json::to_value(&messages).unwrap(),
            serde_json::json!([
                {"role": "system", "content": "Be kind."},
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hey"},
            ])
        );
    });
}

#[test]
fn listing_puts_the_latest_updated_first_and_latest_finds_it() {
    each_backend("list", |open| {
        let mut store = open();
        assert_eq!(store.latest().unwrap(), None);
        assert!(store.list().unwrap().is_empty());
        let v = store
            .save_turns("old", &info(None), 0, &exchange("first", "a", &[1]), None)
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(5));
        store
            .save_turns("new", &info(None), 0, &exchange("second", "b", &[2]), None)
            .unwrap();
        assert_eq!(store.latest().unwrap().as_deref(), Some("new"));
        // Another exchange in "old" makes it the latest again.
        std::thread::sleep(std::time::Duration::from_millis(5));
        store
            .save_turns("old", &info(None), 2, &exchange("more", "c", &[3]), Some(v))
            .unwrap();
        let list = store.list().unwrap();
        let ids: Vec<_> = list.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["old", "new"]);
        assert_eq!(list[0].exchanges, 2);
        assert_eq!(list[0].first_message.as_deref(), Some("first"));
        assert_eq!(list[1].exchanges, 1);
        assert_eq!(store.latest().unwrap().as_deref(), Some("old"));
    });
}

#[test]
fn saving_from_a_lower_index_replaces_undone_turns() {
    each_backend("undo", |open| {
        let mut store = open();
        let meta = info(None);
        let v = store
            .save_turns("c", &meta, 0, &exchange("one", "1", &[1]), None)
            .unwrap();
        let v = store
            .save_turns("c", &meta, 2, &exchange("two", "2", &[2]), Some(v))
            .unwrap();
        // An undo of the second exchange, then a new one in its place.
        let v = store
            .save_turns("c", &meta, 2, &exchange("three", "3", &[3]), Some(v))
            .unwrap();
        let texts: Vec<_> = store
            .load("c")
            .unwrap()
            .turns
            .into_iter()
            .map(|t| t.text)
            .collect();
        assert_eq!(texts, ["one", "1", "three", "3"]);
        // A reset with nothing new empties the conversation but keeps it.
        store.save_turns("c", &meta, 0, &[], Some(v)).unwrap();
        assert!(store.load("c").unwrap().turns.is_empty());
    });
}

#[test]
fn a_save_from_a_stale_version_is_refused_and_writes_nothing() {
    each_backend("stale", |open| {
        let (mut a, mut b) = (open(), open());
        let meta = info(None);
        let v1 = a
            .save_turns("c", &meta, 0, &exchange("one", "1", &[1]), None)
            .unwrap();
        assert_eq!(b.version("c").unwrap(), Some(v1));
        assert_eq!(b.version("nothing").unwrap(), None);
        // A second writer that believes the conversation new.
        let err = b
            .save_turns("c", &meta, 0, &exchange("mine", "m", &[9]), None)
            .unwrap_err();
        assert!(
            matches!(&err, Error::StoreConflict { id } if id == "c"),
            "{err}"
        );
        // Both read v1; a saves first, b's save from v1 is refused.
        let v2 = a
            .save_turns("c", &meta, 2, &exchange("two", "2", &[2]), Some(v1))
            .unwrap();
        assert!(v2 > v1);
        let err = b
            .save_turns("c", &meta, 2, &exchange("other", "o", &[3]), Some(v1))
            .unwrap_err();
        assert!(matches!(err, Error::StoreConflict { .. }), "{err}");
        let texts: Vec<_> = b
            .load("c")
            .unwrap()
            .turns
            .into_iter()
            .map(|t| t.text)
            .collect();
        assert_eq!(texts, ["one", "1", "two", "2"]);
        // Having read v2, b may go on.
        b.save_turns("c", &meta, 4, &exchange("three", "3", &[4]), Some(v2))
            .unwrap();
    });
}

#[test]
fn writers_racing_on_one_conversation_are_serialised() {
    each_backend("race", |open| {
        let meta = info(None);
        let mut first = open();
        let v = first
            .save_turns("c", &meta, 0, &exchange("start", "s", &[1]), None)
            .unwrap();
        // Eight writers all read v and race to append their own exchange: one wins, the
        // others are refused, and the store holds the start and exactly one exchange.
        let stores: Vec<Store> = (0..8).map(|_| open()).collect();
        let results: Vec<bool> = std::thread::scope(|s| {
            let handles: Vec<_> = stores
                .into_iter()
                .enumerate()
                .map(|(k, mut st)| {
                    let meta = &meta;
                    s.spawn(move || {
                        let user = format!("user {k}");
                        let answer = format!("answer {k}");
                        match st.save_turns("c", meta, 2, &exchange(&user, &answer, &[2]), Some(v))
                        {
                            Ok(_) => true,
                            Err(Error::StoreConflict { .. }) => false,
                            Err(e) => panic!("{e}"),
                        }
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(results.iter().filter(|&&won| won).count(), 1, "{results:?}");
        let turns = first.load("c").unwrap().turns;
        assert_eq!(turns.len(), 4);
        let k = results.iter().position(|&won| won).unwrap();
        assert_eq!(turns[2].text, format!("user {k}"));
        assert_eq!(turns[3].text, format!("answer {k}"));
    });
}

#[test]
fn remove_deletes_the_conversation_and_its_turns() {
    each_backend("rm", |open| {
        let mut store = open();
        store
            .save_turns("gone", &info(None), 0, &exchange("x", "y", &[1]), None)
            .unwrap();
        store
            .save_turns("kept", &info(None), 0, &exchange("x", "y", &[1]), None)
            .unwrap();
        assert!(store.remove("gone").unwrap());
        assert!(!store.remove("gone").unwrap());
        assert!(matches!(store.load("gone"), Err(Error::NoConversation(id)) if id == "gone"));
        assert_eq!(store.load("kept").unwrap().turns.len(), 2);
        // Its turns went with it: a new conversation of that id starts empty.
        store
            .save_turns("gone", &info(None), 2, &exchange("a", "b", &[1]), None)
            .unwrap();
        let idx: Vec<_> = store
            .load("gone")
            .unwrap()
            .turns
            .iter()
            .map(|t| t.index)
            .collect();
        assert_eq!(idx, [2, 3]);
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    });
}

#[test]
fn the_schema_is_versioned_in_wal_mode_and_newer_versions_are_refused() {
    let tmp = TempDir::new("schema");
    let store = SqliteStore::open(&tmp.db()).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    let mode: String = store
        .conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    store
        .conn
        .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(store);
    match SqliteStore::open(&tmp.db()) {
        Err(Error::StoreSchema { found, supported }) => {
            assert_eq!((found, supported), (SCHEMA_VERSION + 1, SCHEMA_VERSION));
        }
        other => panic!("expected a schema error, got {other:?}"),
    }
}

#[test]
fn ids_are_32_hex_digits_and_distinct() {
    let (a, b) = (new_id(), new_id());
    assert_eq!(a.len(), 32);
    assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
    assert_ne!(a, b);
}

#[test]
fn a_version_1_database_is_migrated_and_its_conversations_kept() {
    let tmp = TempDir::new("migrate");
    std::fs::create_dir_all(tmp.db().parent().unwrap()).unwrap();
    {
        let conn = rusqlite::Connection::open(tmp.db()).unwrap();
        conn.execute_batch(schema::MIGRATIONS[0]).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute(
            "INSERT INTO conversations VALUES ('old', '2025-01-01T00:00:00.000Z',
                 '2025-01-01T00:00:00.000Z', '/m.gguf', 'fp', 'transcript', NULL, NULL, '{}',
                 NULL, '{}')",
            [],
        )
        .unwrap();
    }
    let mut store = SqliteStore::open(&tmp.db()).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(store.version("old").unwrap(), Some(0));
    store
        .save_turns("old", &info(None), 0, &exchange("x", "y", &[1]), Some(0))
        .unwrap();
    assert_eq!(store.load("old").unwrap().version, 1);
}
