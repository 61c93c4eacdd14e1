//! The default model, SmolLM2-135M-Instruct Q4_1, on the 8-bit path against llama.cpp's own
//! output (fixtures/golden/smollm2/llama_cpp_greedy.json, made by
//! scripts/make_llama_cpp_goldens.py --smollm2): the first step's top-5 logits and the greedy
//! answers to three chat prompts, from the stored prompt ids (no tokenizer involved). The
//! first step's best token must be llama.cpp's and its top-5 logits near llama.cpp's; the
//! greedy answers must agree up to the first near tie.
//!
//! The model is found through `SAMTAL_MODEL` or the cache directory (`.ci/run` fetches it with
//! `samtal pull`). Without it this test prints a loud SKIP and passes.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use samtal_engine::{kernels, LoadOptions, Model, Precision};
use serde_json::Value;

fn model_path() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("SAMTAL_MODEL").map(PathBuf::from),
        std::env::var_os("XDG_CACHE_HOME")
            .map(|d| PathBuf::from(d).join("samtal/models/SmolLM2-135M-Instruct.Q4_1.gguf")),
        std::env::var_os("HOME")
            .map(|d| PathBuf::from(d).join(".cache/samtal/models/SmolLM2-135M-Instruct.Q4_1.gguf")),
    ];
    let found = candidates.into_iter().flatten().find(|p| p.is_file());
    if found.is_none() {
        eprintln!(
            "\n!!! SKIP: SmolLM2-135M-Instruct.Q4_1.gguf not found (set SAMTAL_MODEL or run \
             `samtal pull`); the default-model llama.cpp parity test did not run !!!\n"
        );
    }
    found
}

/// The SIMD switch is process-wide: tests that compute take turns.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn ids(v: &Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u32)
        .collect()
}

fn argmax(v: &[f32]) -> u32 {
    let mut best = 0;
    for (i, x) in v.iter().enumerate() {
        if *x > v[best] {
            best = i;
        }
    }
    best as u32
}

/// On the tiny models the 8-bit path equals llama.cpp to 2e-5 (tests/parity.rs). Through 30
/// layers it does not: a last-bit difference anywhere (summation order, the attention kernel)
/// flips the rounding of some 8-bit activations, and from there each engine carries its own
/// quantization noise. llama.cpp's own batched and one-token paths differ by up to 1.0 logit
/// on these prompts; samtal's scalar and AVX2 paths by 0.2, and either from llama.cpp by up to
/// 0.8 (from transformers' exact logits, llama.cpp by up to 0.3, samtal by up to 0.8).
const FIRST_STEP_TOLERANCE: f64 = 1.0;

/// Near ties that the last bit of a sum can flip: llama.cpp itself gives different answers from
/// its batched and one-token paths past such steps, so greedy agreement is required only
/// before the first step whose llama.cpp margin (top-1 minus top-2) is below this.
const NEAR_TIE: f64 = 0.05;

fn check(model: &Model, golden: &Value) {
    let lm = model.lm();
    for case in golden["cases"].as_array().unwrap() {
        let prompt = ids(&case["prompt_ids"]);
        let want = ids(&case["greedy_ids"]);
        let margins: Vec<f64> = case["greedy_margins"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m.as_f64().unwrap())
            .collect();
        let mut cache = lm.new_cache();
        let mut logits = lm.forward(&prompt, 0, &mut cache).unwrap();
        for pair in case["first_step_top5"].as_array().unwrap() {
            let (id, value) = (
                pair[0].as_u64().unwrap() as usize,
                pair[1].as_f64().unwrap(),
            );
            let d = (logits[id] as f64 - value).abs();
            assert!(
                d <= FIRST_STEP_TOLERANCE,
                "first-step logit of {id}: {} vs llama.cpp {value} ({})",
                logits[id],
                kernels::kernel_path()
            );
        }
        let mut got = Vec::new();
        for _ in 0..want.len() {
            let next = argmax(&logits);
            got.push(next);
            if next == 2 {
                break;
            }
            logits = lm.forward(&[next], cache.len(), &mut cache).unwrap();
        }
        let sure = margins.iter().take_while(|m| **m >= NEAR_TIE).count();
        let same = got.iter().zip(&want).take_while(|(a, b)| a == b).count();
        eprintln!(
            "{}: {same} of {} greedy tokens as llama.cpp (required: {sure}; {})",
            case["messages"][1]["content"],
            want.len(),
            kernels::kernel_path()
        );
        assert_eq!(
            got[..sure],
            want[..sure],
            "{}",
            case["messages"][1]["content"]
        );
    }
}

#[test]
fn default_model_q8_matches_llama_cpp() {
    let Some(path) = model_path() else { return };
    let _turn = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let golden: Value = serde_json::from_str(
        &std::fs::read_to_string(
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../fixtures/golden/smollm2/llama_cpp_greedy.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let opts = LoadOptions {
        precision: Precision::Q8,
        ..LoadOptions::default()
    };
    let model = Model::load(&path, &opts).unwrap();
    // One test, both kernel paths in sequence: the SIMD switch is process-wide.
    for simd in [true, false] {
        kernels::set_simd(simd);
        check(&model, &golden);
    }
    kernels::set_simd(true);
}

/// Repacked weights kept on disk: the second load maps the file the first one wrote and
/// computes the same logits.
#[test]
fn packed_weights_cache_round_trips() {
    let Some(path) = model_path() else { return };
    let _turn = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = std::env::temp_dir().join(format!("samtal-pack-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let opts = LoadOptions {
        pack_cache: Some(dir.clone()),
        ..LoadOptions::default()
    };
    let logits = |m: &Model| {
        let lm = m.lm();
        let mut cache = lm.new_cache();
        lm.forward(&[1, 9690, 198, 2683, 359], 0, &mut cache)
            .unwrap()
    };
    let first = Model::load(&path, &opts).unwrap();
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
    assert_eq!(files.len(), 1, "one cache file");
    let len = files[0].metadata().unwrap().len();
    assert!(len > 90 << 20, "the whole model's packed weights: {len}");
    let second = Model::load(&path, &opts).unwrap();
    assert_eq!(logits(&first), logits(&second));
    let plain = Model::load(&path, &LoadOptions::default()).unwrap();
    assert_eq!(logits(&first), logits(&plain));
    let _ = std::fs::remove_dir_all(&dir);
}
