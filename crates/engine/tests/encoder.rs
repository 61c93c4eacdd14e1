//! The BERT encoder against sentence-transformers (fixtures/golden/encoders, made by
//! scripts/make_encoder_goldens.py): pooled, normalized embeddings within cosine 0.9999 of the
//! reference for every case (varied lengths, several scripts, emoji, the empty string), and,
//! every value within 1e-5 too, and, on the tiny model, the last hidden states within 1e-4.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use samtal_engine::{DType, Embedder, LoadOptions};
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn golden(name: &str) -> Value {
    let path = root().join("fixtures/golden/encoders").join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

fn ids(v: &Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u32)
        .collect()
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| f64::from(*x) * f64::from(*y))
        .sum();
    let na: f64 = a.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    dot / (na * nb)
}

fn check(dir: &Path, gold: &Value) -> f64 {
    let e = Embedder::load(dir, &LoadOptions::default()).unwrap();
    assert_eq!(e.dimension() as u64, gold["dimension"].as_u64().unwrap());
    assert_eq!(
        e.max_tokens as u64,
        gold["max_seq_length"].as_u64().unwrap()
    );
    let mut worst = 1.0f64;
    for case in gold["cases"].as_array().unwrap() {
        let got = e.embed(&ids(&case["ids"])).unwrap();
        let want = floats(&case["embedding"]);
        let c = cosine(&got, &want);
        assert!(c >= 0.9999, "{:?}: cosine {c}", case["text"]);
        // Cosine alone forgives too much on vectors that all point one way (a missing bias
        // still scores 0.99998 on the tiny model): every value must agree as well.
        let max = got
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(max < 1e-5, "{:?}: max |diff| {max}", case["text"]);
        worst = worst.min(c);
    }
    // All texts in one pass give the same vectors as one at a time.
    let all: Vec<Vec<u32>> = gold["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| ids(&c["ids"]))
        .collect();
    let refs: Vec<&[u32]> = all.iter().map(Vec::as_slice).collect();
    let batch = e.embed_batch(&refs).unwrap();
    for (case, got) in gold["cases"].as_array().unwrap().iter().zip(&batch) {
        let one = e.embed(&ids(&case["ids"])).unwrap();
        let max = got
            .iter()
            .zip(&one)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(max < 1e-6, "{:?}: batched vs alone {max}", case["text"]);
    }
    worst
}

#[test]
fn the_tiny_encoder_matches_sentence_transformers() {
    let dir = root().join("fixtures/models/tiny-bert");
    let gold = golden("tiny-bert.json");
    let worst = check(&dir, &gold);
    eprintln!("tiny-bert: worst cosine {worst}");
    let e = Embedder::load(&dir, &LoadOptions::default()).unwrap();
    for h in gold["hidden"].as_array().unwrap() {
        let got = e.hidden(&ids(&h["ids"])).unwrap();
        let want: Vec<f32> = h["last_hidden_state"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(floats)
            .collect();
        assert_eq!(got.len(), want.len());
        let max = got
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(max < 1e-4, "case {}: max |diff| {max}", h["case"]);
    }
}

/// all-MiniLM-L6-v2 itself, from `samtal pull minilm` (the folder in $SAMTAL_ENCODER, as
/// scripts/test.sh sets it).
#[test]
fn minilm_matches_sentence_transformers() {
    let Some(dir) = std::env::var_os("SAMTAL_ENCODER") else {
        eprintln!(
            "\n!!! SKIP: set SAMTAL_ENCODER to the all-MiniLM-L6-v2 folder to run this test\n"
        );
        return;
    };
    let worst = check(Path::new(&dir), &golden("minilm.json"));
    eprintln!("all-MiniLM-L6-v2: worst cosine {worst}");
}

/// The 8-bit path (`--dtype q8_0`: matrices quantized at load, activations quantized per
/// block, integer products) against the reference's f32 vectors: the worst cosine over the
/// golden cases, which the README reports, bounded here. On all-MiniLM-L6-v2 it is about
/// 0.9995 for text and 0.998 for the empty string (two tokens, nothing to average out).
fn check_8_bit(dir: &Path, gold: &Value, bound: f64) -> f64 {
    let opts = LoadOptions {
        dtype: DType::Q8_0,
        ..LoadOptions::default()
    };
    let e = Embedder::load(dir, &opts).unwrap();
    let mut worst = 1.0f64;
    for case in gold["cases"].as_array().unwrap() {
        let got = e.embed(&ids(&case["ids"])).unwrap();
        let c = cosine(&got, &floats(&case["embedding"]));
        assert!(c >= bound, "{:?}: 8-bit cosine {c}", case["text"]);
        worst = worst.min(c);
    }
    worst
}

#[test]
fn the_8_bit_path_stays_close_to_f32_on_the_tiny_encoder() {
    let dir = root().join("fixtures/models/tiny-bert");
    let worst = check_8_bit(&dir, &golden("tiny-bert.json"), 0.999);
    eprintln!("tiny-bert, 8-bit: worst cosine {worst}");
}

#[test]
fn the_8_bit_path_stays_close_to_f32_on_minilm() {
    let Some(dir) = std::env::var_os("SAMTAL_ENCODER") else {
        eprintln!(
            "\n!!! SKIP: set SAMTAL_ENCODER to the all-MiniLM-L6-v2 folder to run this test\n"
        );
        return;
    };
    let worst = check_8_bit(Path::new(&dir), &golden("minilm.json"), 0.995);
    eprintln!("all-MiniLM-L6-v2, 8-bit: worst cosine {worst}");
}

/// A decoder embedding model (a Qwen2 with last-token pooling, as gte-Qwen2 and
/// Qwen3-Embedding are laid out) against sentence-transformers, from
/// scripts/make_decoder_embedding_golden.py.
#[test]
fn a_decoder_with_last_token_pooling_matches_sentence_transformers() {
    let dir = root().join("fixtures/models/tiny-qwen2-embed");
    let worst = check(&dir, &golden("tiny-qwen2-embed.json"));
    eprintln!("tiny-qwen2-embed: worst cosine {worst}");
}

#[test]
fn an_encoder_refuses_what_it_cannot_read() {
    let dir = root().join("fixtures/models/tiny-bert");
    let e = Embedder::load(&dir, &LoadOptions::default()).unwrap();
    assert!(e.embed(&[]).is_err());
    assert!(e.embed(&vec![101; e.max_tokens + 1]).is_err());
    assert!(e.embed(&[101, u32::MAX, 102]).is_err());
    // A chat model's folder has no pooling configuration, and the error says so.
    let llama = root().join("fixtures/models/tiny-llama");
    let err = Embedder::load(&llama, &LoadOptions::default()).unwrap_err();
    assert!(err.to_string().contains("pooling"), "{err}");
}
