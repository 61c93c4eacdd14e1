//! Validation, the loop guard, and the defaults a model's files set.

use super::*;

#[test]
fn validation_names_the_parameter() {
    let mut p = GenerateParams::default();
    p.sampling.top_p = 0.0;
    let e = p.validate(100).unwrap_err().to_string();
    assert!(e.contains("top_p"), "{e}");
    let mut p = GenerateParams::default();
    p.sampling.temperature = f32::NAN;
    assert!(p.validate(100).is_err());
    let mut p = GenerateParams::default();
    p.sampling.logit_bias.insert(100, 1.0);
    assert!(p.validate(100).is_err());
    p.sampling.logit_bias.clear();
    p.stop = vec![String::new()];
    assert!(p.validate(100).is_err());
    assert!(GenerateParams::default().validate(100).is_ok());
}

#[test]
fn loop_guard_finds_the_shortest_period_over_enough_tokens() {
    let g = LoopGuard::default();
    let cycle = |period: u32, len: usize| -> Vec<u32> {
        (0..len as u32).map(|i| 100 + i % period).collect()
    };
    // Period 4 needs 24 tokens (min_tokens dominates 4 * 3).
    assert_eq!(g.detect(&cycle(4, 23)), None);
    assert_eq!(g.detect(&cycle(4, 24)), Some(4));
    // Period 16 needs three full cycles.
    assert_eq!(g.detect(&cycle(16, 47)), None);
    assert_eq!(g.detect(&cycle(16, 48)), Some(16));
    // Longer cycles are not looked for.
    assert_eq!(g.detect(&cycle(17, 200)), None);
    // A single repeated token is a loop of period 1.
    assert_eq!(g.detect(&[7; 24]), Some(1));
    // A loop only counts at the end: fresh text after it resets the check.
    let mut v = cycle(3, 30);
    v.extend([1, 2]);
    assert_eq!(g.detect(&v), None);
    // Distinct tokens never loop.
    assert_eq!(g.detect(&(0..100).collect::<Vec<u32>>()), None);
}

#[test]
fn loop_guard_and_char_limit_are_validated() {
    let mut p = GenerateParams {
        loop_guard: Some(LoopGuard {
            max_period: 0,
            ..LoopGuard::default()
        }),
        ..GenerateParams::default()
    };
    assert!(p
        .validate(100)
        .unwrap_err()
        .to_string()
        .contains("loop_guard"));
    p.loop_guard = Some(LoopGuard {
        min_repeats: 1,
        ..LoopGuard::default()
    });
    assert!(p.validate(100).is_err());
    p.loop_guard = Some(LoopGuard::default());
    assert!(p.validate(100).is_ok());
    p.max_chars = Some(0);
    assert!(p
        .validate(100)
        .unwrap_err()
        .to_string()
        .contains("max_chars"));
    // Both are off unless asked for, and absent fields deserialize to off.
    let d: GenerateParams = serde_json::from_str("{}").unwrap();
    assert_eq!((d.loop_guard, d.max_chars), (None, None));
    let d: GenerateParams = serde_json::from_str(r#"{"loop_guard": {}}"#).unwrap();
    assert_eq!(d.loop_guard, Some(LoopGuard::default()));
}

#[test]
fn generation_config_sets_defaults() {
    let dir = std::env::temp_dir().join(format!("samtal-gc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("generation_config.json");
    std::fs::write(
        &path,
        r#"{"eos_token_id": [2, 7], "do_sample": true, "temperature": 0.6, "top_p": 0.9, "repetition_penalty": 1.1}"#,
    )
    .unwrap();
    let gc = GenerationConfig::from_file(&path).unwrap();
    assert_eq!(gc.eos_token_ids, vec![2, 7]);
    let d = gc.defaults().unwrap();
    assert_eq!(d.sampling.temperature, 0.6);
    assert_eq!(d.sampling.top_p, 0.9);
    assert_eq!(d.sampling.repetition_penalty, 1.1);
    assert_eq!(
        GenerationConfig::from_file(&dir.join("absent.json")).unwrap(),
        GenerationConfig::default()
    );
    std::fs::remove_dir_all(dir).unwrap();
}

fn gguf_metadata(pairs: &[(&str, samtal_gguf::Value)]) -> samtal_gguf::Metadata {
    let mut w = samtal_gguf::Writer::new();
    for (k, v) in pairs {
        w.metadata(k, v.clone());
    }
    samtal_gguf::Gguf::parse(&w.to_bytes()).unwrap().metadata
}

#[test]
fn gguf_sampling_keys_set_defaults() {
    use samtal_gguf::Value;
    let m = gguf_metadata(&[
        ("general.sampling.temp", Value::F32(0.2)),
        ("general.sampling.top_p", Value::F32(0.9)),
        ("general.sampling.top_k", Value::I32(-1)),
        ("general.sampling.penalty_repeat", Value::F32(1.05)),
        ("general.sampling.penalty_last_n", Value::I32(-1)),
    ]);
    let d = GenerationConfig::from_gguf(&m).unwrap().defaults().unwrap();
    assert_eq!(d.sampling.temperature, 0.2);
    assert_eq!(d.sampling.top_p, 0.9);
    assert_eq!(d.sampling.top_k, 0);
    assert_eq!(d.sampling.repetition_penalty, 1.05);
    assert_eq!(d.sampling.penalty_window, 0);
    // min_p was not declared: samtal's default stays.
    assert_eq!(d.sampling.min_p, SamplingParams::default().min_p);

    // A declared temperature of 0 means greedy.
    let m = gguf_metadata(&[("general.sampling.temp", Value::F32(0.0))]);
    let d = GenerationConfig::from_gguf(&m).unwrap().defaults().unwrap();
    assert_eq!(d.sampling, SamplingParams::greedy());

    // No keys: samtal's defaults, as before.
    let d = GenerationConfig::from_gguf(&gguf_metadata(&[])).unwrap();
    assert_eq!(d.defaults().unwrap(), GenerateParams::default());

    // A key of the wrong type names itself.
    let m = gguf_metadata(&[("general.sampling.top_p", Value::String("high".into()))]);
    let e = GenerationConfig::from_gguf(&m).unwrap_err().to_string();
    assert!(e.contains("general.sampling.top_p"), "{e}");
}
