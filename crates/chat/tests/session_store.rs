//! Sessions that save into a conversation store, on the tiny Llama fixture: every exchange is
//! committed with its answer's ids, finish reason and seed, and a resumed session continues the
//! conversation exactly as the original would have.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::Arc;

use samtal_chat::store::{self, SqliteStore, Store, DB_FILE};
use samtal_chat::{
    chat_params, GenerateParams, GuardOptions, ModelRecord, Session, SessionOptions,
};
use samtal_generation::{Pipeline, SamplingParams};

fn pipeline() -> Arc<Pipeline> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/models/tiny-llama");
    Arc::new(Pipeline::load(&dir, &Default::default()).unwrap())
}

fn opts() -> SessionOptions {
    SessionOptions {
        system: Some("You are terse.".into()),
        params: Some(GenerateParams {
            sampling: SamplingParams::greedy(),
            max_new_tokens: 6,
            ..chat_params(&GenerateParams::default())
        }),
        // One canary for every session here, so that a fresh session renders the prompts of
        // the saved one (a resumed session keeps the canary it was saved with).
        guard: GuardOptions {
            canary: Some("samtal-00000000000000aa".into()),
            ..GuardOptions::default()
        },
        ..SessionOptions::default()
    }
}

fn model() -> ModelRecord {
    ModelRecord {
        path: "fixtures/models/tiny-llama".into(),
        fingerprint: "fp1:test".into(),
    }
}

struct TempDb(PathBuf);

impl TempDb {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("samtal-session-store-{name}-{}", store::new_id()));
        Self(dir)
    }

    fn open(&self) -> Store {
        Box::new(SqliteStore::open(&self.0.join(DB_FILE)).unwrap())
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const QUESTIONS: [&str; 3] = ["Who are you?", "Where is Paris?", "Tell me more."];

#[test]
fn each_exchange_is_stored_and_a_resumed_session_continues_it() {
    let db = TempDb::new("resume");
    let p = pipeline();
    let mut s = Session::new(p.clone(), opts()).unwrap();
    let id = store::new_id();
    s.save_to(db.open(), id.clone(), model());
    assert_eq!(s.conversation_id(), Some(id.as_str()));
    assert!(
        db.open().list().unwrap().is_empty(),
        "nothing before a turn"
    );

    let mut replies = Vec::new();
    for q in &QUESTIONS[..2] {
        replies.push(s.send(q, None, &mut |_| {}).unwrap());
    }
    let conv = db.open().load(&id).unwrap();
    assert_eq!(conv.persona.as_deref(), Some("You are terse."));
    assert_eq!(conv.model_fingerprint, "fp1:test");
    assert_eq!(conv.format, "template");
    assert_eq!(conv.options.params, opts().params);
    assert_eq!(conv.messages(), s.messages());
    for (k, r) in replies.iter().enumerate() {
        let answer = &conv.turns[2 * k + 1];
        assert_eq!(answer.role, "assistant");
        assert_eq!(answer.text, r.text);
        assert_eq!(answer.token_ids.as_deref(), Some(&r.token_ids[..]));
        assert_eq!(
            answer.finish_reason.as_deref(),
            Some(r.finish_reason.as_str())
        );
        assert_eq!(answer.seed, Some(r.seed));
        let t = answer.timings.as_ref().unwrap();
        assert_eq!(t["prompt_tokens"], r.prompt_tokens);
        assert_eq!(t["prefill_tokens"], r.prefill_tokens);
    }
    drop(s);

    // The same three questions in one unsaved session: what the resumed one must answer.
    let mut whole = Session::new(p.clone(), opts()).unwrap();
    assert_eq!(whole.conversation_id(), None);
    let expected: Vec<_> = QUESTIONS
        .iter()
        .map(|q| whole.send(q, None, &mut |_| {}).unwrap())
        .collect();

    let mut resumed = Session::resume(p, db.open(), &conv, model()).unwrap();
    assert_eq!(resumed.messages(), conv.messages());
    assert!(resumed.cached_ids().is_empty());
    let third = resumed.send(QUESTIONS[2], None, &mut |_| {}).unwrap();
    assert_eq!(third.text, expected[2].text);
    assert_eq!(third.token_ids, expected[2].token_ids);
    assert_eq!(
        third.prefill_tokens, third.prompt_tokens,
        "the rebuilt cache prefills the whole conversation"
    );
    let conv = db.open().load(&id).unwrap();
    assert_eq!(conv.turns.len(), 6);
    assert_eq!(conv.messages(), whole.messages());
}

#[test]
fn undo_reset_and_persona_reach_the_store_on_save() {
    let db = TempDb::new("undo");
    let mut s = Session::new(pipeline(), opts()).unwrap();
    let id = store::new_id();
    s.save_to(db.open(), id.clone(), model());
    // Saving before any exchange creates nothing.
    s.save().unwrap();
    assert!(db.open().list().unwrap().is_empty());

    s.send("one", None, &mut |_| {}).unwrap();
    s.send("two", None, &mut |_| {}).unwrap();
    assert!(s.undo());
    s.set_system("You are kind.");
    s.save().unwrap();
    let conv = db.open().load(&id).unwrap();
    assert_eq!(conv.turns.len(), 2);
    assert_eq!(conv.turns[0].text, "one");
    assert_eq!(conv.persona.as_deref(), Some("You are kind."));

    // Undo without save: the next exchange replaces the undone one in the same transaction.
    s.send("three", None, &mut |_| {}).unwrap();
    assert!(s.undo());
    s.send("four", None, &mut |_| {}).unwrap();
    let texts: Vec<_> = db
        .open()
        .load(&id)
        .unwrap()
        .turns
        .into_iter()
        .filter(|t| t.role == "user")
        .map(|t| t.text)
        .collect();
    assert_eq!(texts, ["one", "four"]);

    s.reset();
    s.save().unwrap();
    let conv = db.open().load(&id).unwrap();
    assert!(
        conv.turns.is_empty(),
        "a reset empties the stored conversation"
    );
}
