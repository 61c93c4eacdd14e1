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
    let tmp = TempDir::new("round");
    let mut store = Store::open(&tmp.db()).unwrap();
    let meta = info(Some("You are terse."));
    store
        .save_turns("c1", &meta, 0, &exchange("Hi", "Hello.", &[5, 6, 7]))
        .unwrap();
    store
        .save_turns("c1", &meta, 2, &exchange("Again?", "Yes.", &[8]))
        .unwrap();
    drop(store);

    let store = Store::open(&tmp.db()).unwrap();
    let c = store.load("c1").unwrap();
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
    let tmp = TempDir::new("export");
    let mut store = Store::open(&tmp.db()).unwrap();
    store
        .save_turns(
            "c",
            &info(Some("Be kind.")),
            0,
            &exchange("Hi", "Hey", &[1]),
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
}

#[test]
fn listing_puts_the_latest_updated_first_and_latest_finds_it() {
    let tmp = TempDir::new("list");
    let mut store = Store::open(&tmp.db()).unwrap();
    assert_eq!(store.latest().unwrap(), None);
    assert!(store.list().unwrap().is_empty());
    store
        .save_turns("old", &info(None), 0, &exchange("first", "a", &[1]))
        .unwrap();
    store
        .save_turns("new", &info(None), 0, &exchange("second", "b", &[2]))
        .unwrap();
    assert_eq!(store.latest().unwrap().as_deref(), Some("new"));
    // Another exchange in "old" makes it the latest again.
    std::thread::sleep(std::time::Duration::from_millis(5));
    store
        .save_turns("old", &info(None), 2, &exchange("more", "c", &[3]))
        .unwrap();
    let list = store.list().unwrap();
    let ids: Vec<_> = list.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["old", "new"]);
    assert_eq!(list[0].exchanges, 2);
    assert_eq!(list[0].first_message.as_deref(), Some("first"));
    assert_eq!(list[1].exchanges, 1);
    assert_eq!(store.latest().unwrap().as_deref(), Some("old"));
}

#[test]
fn saving_from_a_lower_index_replaces_undone_turns() {
    let tmp = TempDir::new("undo");
    let mut store = Store::open(&tmp.db()).unwrap();
    let meta = info(None);
    store
        .save_turns("c", &meta, 0, &exchange("one", "1", &[1]))
        .unwrap();
    store
        .save_turns("c", &meta, 2, &exchange("two", "2", &[2]))
        .unwrap();
    // An undo of the second exchange, then a new one in its place.
    store
        .save_turns("c", &meta, 2, &exchange("three", "3", &[3]))
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
    store.save_turns("c", &meta, 0, &[]).unwrap();
    assert!(store.load("c").unwrap().turns.is_empty());
}

#[test]
fn remove_deletes_the_conversation_and_its_turns() {
    let tmp = TempDir::new("rm");
    let mut store = Store::open(&tmp.db()).unwrap();
    store
        .save_turns("gone", &info(None), 0, &exchange("x", "y", &[1]))
        .unwrap();
    store
        .save_turns("kept", &info(None), 0, &exchange("x", "y", &[1]))
        .unwrap();
    assert!(store.remove("gone").unwrap());
    assert!(!store.remove("gone").unwrap());
    assert!(matches!(store.load("gone"), Err(Error::NoConversation(id)) if id == "gone"));
    let orphans: i64 = store
        .conn
        .query_row(
            "SELECT count(*) FROM turns WHERE conversation_id = 'gone'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(orphans, 0, "turns cascade with their conversation");
    assert_eq!(store.load("kept").unwrap().turns.len(), 2);
}

#[test]
fn the_schema_is_versioned_in_wal_mode_and_newer_versions_are_refused() {
    let tmp = TempDir::new("schema");
    let store = Store::open(&tmp.db()).unwrap();
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
    match Store::open(&tmp.db()) {
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
