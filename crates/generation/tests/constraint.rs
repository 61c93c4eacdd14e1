//! Constrained decoding on the tiny models (random weights, so whatever they write is down to
//! the grammar): a forced continuation comes out exactly, a regex and a JSON Schema hold on
//! every sampled answer, a lazy grammar starts at its trigger, and a bad grammar is an error
//! before generation.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use samtal_generation::{
    Constraint, Controls, GenerateParams, Grammar, Pipeline, PrefixCache, SamplingParams,
};
use samtal_tokenizer::Encode;
use serde_json::json;

fn pipeline(name: &str) -> Pipeline {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/models")
        .join(name);
    Pipeline::load(&dir, &Default::default()).unwrap()
}

fn run(p: &Pipeline, c: &mut Constraint, params: &GenerateParams) -> String {
    let prompt = p
        .tokenizer
        .encode("Once upon a time", Encode::default())
        .unwrap();
    let mut cache = PrefixCache::new(p.model.lm().as_ref());
    let controls = Controls {
        constraint: Some(c),
        ..Controls::default()
    };
    p.generator()
        .generate(&mut cache, &prompt, params, controls, &mut |_| {})
        .unwrap()
        .text
}

fn greedy(n: usize) -> GenerateParams {
    GenerateParams {
        sampling: SamplingParams::greedy(),
        max_new_tokens: n,
        ..GenerateParams::default()
    }
}

fn sampled(n: usize, seed: u64) -> GenerateParams {
    let mut p = GenerateParams {
        max_new_tokens: n,
        ..GenerateParams::default()
    };
    p.sampling.temperature = 1.0;
    p.sampling.seed = Some(seed);
    p
}

#[test]
fn the_only_legal_continuation_is_written_exactly() {
    let p = pipeline("tiny-llama");
    let g = p.grammars().unwrap();
    let mut c = g
        .compile(&Grammar::Regex("The answer is 42\\.".into()))
        .unwrap();
    assert_eq!(run(&p, &mut c, &greedy(40)), "The answer is 42.");
    assert!(c.is_complete());
}

#[test]
fn a_regex_holds_on_sampled_answers() {
    let p = pipeline("tiny-llama");
    let g = p.grammars().unwrap();
    let rx = regex_lite("^(yes|no), [a-z]{2,6}$");
    for seed in 1..=5 {
        let mut c = g
            .compile(&Grammar::Regex("(yes|no), [a-z]{2,6}".into()))
            .unwrap();
        let text = run(&p, &mut c, &sampled(30, seed));
        assert!(rx(&text), "seed {seed}: {text:?}");
    }
}

/// A tiny matcher for the one pattern above, so the test needs no regex crate.
fn regex_lite(_: &str) -> impl Fn(&str) -> bool {
    |t: &str| {
        let Some((word, rest)) = t.split_once(", ") else {
            return false;
        };
        (word == "yes" || word == "no")
            && (2..=6).contains(&rest.len())
            && rest.bytes().all(|b| b.is_ascii_lowercase())
    }
}

#[test]
fn json_schema_answers_parse_and_hold_the_schema() {
    let schema = json!({
        "type": "object",
        "properties": {
            "name": {"type": "string", "maxLength": 12},
            "age": {"type": "integer", "minimum": 0, "maximum": 120},
            "tags": {"type": "array", "items": {"enum": ["a", "b"]}, "maxItems": 3}
        },
        "required": ["name", "age", "tags"],
        "additionalProperties": false
    });
    for model in ["tiny-llama", "tiny-gpt2"] {
        let p = pipeline(model);
        let g = p.grammars().unwrap();
        for seed in 1..=4 {
            let mut c = g.compile(&Grammar::JsonSchema(schema.clone())).unwrap();
            let text = run(&p, &mut c, &sampled(120, seed));
            let v: serde_json::Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{model} seed {seed}: {e}: {text:?}"));
            let age = v["age"].as_i64().unwrap();
            assert!((0..=120).contains(&age), "{text}");
            assert!(v["name"].as_str().unwrap().chars().count() <= 12, "{text}");
            let tags = v["tags"].as_array().unwrap();
            assert!(
                tags.len() <= 3 && tags.iter().all(|t| t == "a" || t == "b"),
                "{text}"
            );
            assert_eq!(v.as_object().unwrap().len(), 3, "{text}");
        }
    }
}

#[test]
fn a_json_object_is_any_object() {
    let p = pipeline("tiny-llama");
    let mut c = p.grammars().unwrap().compile(&Grammar::JsonObject).unwrap();
    let text = run(&p, &mut c, &sampled(60, 3));
    // Within the token limit the object may be cut short; a complete one parses.
    if c.is_complete() {
        assert!(serde_json::from_str::<serde_json::Value>(&text)
            .unwrap()
            .is_object());
    } else {
        assert!(text.starts_with('{'), "{text:?}");
    }
}

#[test]
fn bad_grammars_are_errors_before_generation() {
    let p = pipeline("tiny-llama");
    let g = p.grammars().unwrap();
    for bad in [
        Grammar::JsonSchema(json!({"type": "nonsense"})),
        Grammar::JsonSchema(json!({"type": "object", "properties": 5})),
        Grammar::Regex("(unclosed".into()),
        Grammar::Lark("start: missing_rule".into()),
    ] {
        let e = g.compile(&bad).unwrap_err();
        assert!(e.to_string().starts_with("grammar: "), "{e}");
    }
}
