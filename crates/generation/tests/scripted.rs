//! The decode loop against a scripted fake model: a model that emits a fixed token sequence, so
//! stop strings across token boundaries, hold-back while streaming, end-of-generation, limits,
//! loop detection and cancellation are tested exactly.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use samtal_engine::config::{Arch, Config, RopeStyle};
use samtal_engine::{Cache, CausalLm};
use samtal_generation::{
    CancelToken, Controls, Event, FinishReason, GenerateParams, Generator, LoopGuard, PrefixCache,
    SamplingParams, TextCheck,
};
use samtal_tokenizer::{Encode, Tokenizer};

/// Emits `script[i]` as the argmax at generation step `i`, then token 0 forever.
#[derive(Debug)]
struct Scripted {
    cfg: Config,
    script: Vec<u32>,
    delay: Duration,
    calls: AtomicUsize,
}

impl Scripted {
    fn new(vocab: usize, script: Vec<u32>) -> Self {
        Self {
            cfg: Config {
                arch: Arch::Llama,
                vocab_size: vocab,
                hidden_size: 8,
                n_layers: 1,
                n_heads: 1,
                n_kv_heads: 1,
                head_dim: 8,
                intermediate_size: 8,
                max_positions: 4096,
                norm_eps: 1e-5,
                rope_theta: 10000.0,
                rope_style: RopeStyle::Half,
                sliding_window: None,
                tie_embeddings: true,
            },
            script,
            delay: Duration::ZERO,
            calls: AtomicUsize::new(0),
        }
    }
}

impl CausalLm for Scripted {
    fn config(&self) -> &Config {
        &self.cfg
    }
    fn new_cache(&self) -> Cache {
        Cache::new(1, 8)
    }
    fn forward(
        &self,
        tokens: &[u32],
        _pos: usize,
        cache: &mut Cache,
    ) -> samtal_engine::Result<Vec<f32>> {
        std::thread::sleep(self.delay);
        cache.advance(tokens.len());
        let step = self.calls.fetch_add(1, Ordering::SeqCst);
        let mut logits = vec![0.0; self.cfg.vocab_size];
        logits[self.script.get(step).copied().unwrap_or(0) as usize] = 10.0;
        Ok(logits)
    }
    fn forward_all(&self, _: &[u32], _: usize, _: &mut Cache) -> samtal_engine::Result<Vec<f32>> {
        unimplemented!("not used by generation")
    }
    fn hidden_states(&self, _: &[u32], _: usize, _: &mut Cache) -> samtal_engine::Result<Vec<f32>> {
        unimplemented!("not used by generation")
    }
}

fn tokenizer() -> Tokenizer {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/models/tiny-llama");
    Tokenizer::from_hf_folder(&dir).unwrap()
}

/// Token ids of `text` one piece per token, so that `pieces` fixes the token boundaries.
fn ids_of(tok: &Tokenizer, pieces: &[&str]) -> Vec<u32> {
    pieces
        .iter()
        .flat_map(|p| {
            tok.encode(
                p,
                Encode {
                    add_special_tokens: false,
                    parse_special: false,
                },
            )
            .unwrap()
        })
        .collect()
}

fn greedy(max_new_tokens: usize, stop: &[&str]) -> GenerateParams {
    GenerateParams {
        sampling: SamplingParams::greedy(),
        max_new_tokens,
        stop: stop.iter().map(|s| s.to_string()).collect(),
        ..GenerateParams::default()
    }
}

struct Run {
    text: String,
    reason: FinishReason,
    /// Text released by each event, in order.
    deltas: Vec<String>,
    tokens: usize,
}

fn run(
    tok: &Tokenizer,
    lm: &Scripted,
    eog: &[u32],
    params: &GenerateParams,
    cancel: Option<&CancelToken>,
) -> Run {
    let g = Generator {
        lm,
        tokenizer: tok,
        eog,
    };
    let mut cache = PrefixCache::new(lm);
    let mut deltas = Vec::new();
    let controls = Controls {
        cancel,
        ..Controls::default()
    };
    let out = g
        .generate(&mut cache, &[5, 6], params, controls, &mut |e| match e {
            Event::Token { text, .. } | Event::Flush { text } => deltas.push(text.to_string()),
            _ => {}
        })
        .unwrap();
    assert_eq!(
        deltas.concat(),
        out.text,
        "streamed text must equal the final text"
    );
    Run {
        text: out.text,
        reason: out.finish_reason,
        deltas,
        tokens: out.token_ids.len(),
    }
}

#[test]
fn stop_string_across_tokens_is_excluded_and_held_back() {
    let tok = tokenizer();
    let script = ids_of(&tok, &["Hello", " there", "\n", "M", "e", ":", " I", " am"]);
    let lm = Scripted::new(tok.vocab_size(), script);
    let r = run(&tok, &lm, &[], &greedy(50, &["\nMe:"]), None);
    assert_eq!(r.text, "Hello there");
    assert_eq!(r.reason, FinishReason::Stop);
    // While "\n", "\nM", "\nMe" could still become the stop, nothing of them was streamed.
    assert!(r.deltas.iter().all(|d| !d.contains('\n')), "{:?}", r.deltas);
}

#[test]
fn held_text_is_released_when_it_is_not_a_stop() {
    let tok = tokenizer();
    let script = ids_of(&tok, &["Hi", "\n", "M", "o", "re"]);
    let lm = Scripted::new(tok.vocab_size(), script.clone());
    let r = run(&tok, &lm, &[], &greedy(script.len(), &["\nMe:"]), None);
    assert_eq!(r.text, "Hi\nMore");
    assert_eq!(r.reason, FinishReason::Length);
}

#[test]
fn partial_stop_at_the_end_is_flushed() {
    let tok = tokenizer();
    let script = ids_of(&tok, &["go", " ", "ST"]);
    let lm = Scripted::new(tok.vocab_size(), script.clone());
    let r = run(&tok, &lm, &[], &greedy(script.len(), &["STOP"]), None);
    assert_eq!(r.text, "go ST");
    assert_eq!(r.deltas.last().map(String::as_str), Some("ST"));
}

#[test]
fn end_of_generation_token_ends_without_text() {
    let tok = tokenizer();
    let eos = tok.special().eos.unwrap();
    let mut script = ids_of(&tok, &["Done", "."]);
    script.push(eos);
    let until_eos = script.len();
    script.extend(ids_of(&tok, &["never"]));
    let lm = Scripted::new(tok.vocab_size(), script);
    let r = run(&tok, &lm, &[eos], &greedy(50, &[]), None);
    assert_eq!(r.text, "Done.");
    assert_eq!(r.reason, FinishReason::Eos);
    assert_eq!(r.tokens, until_eos);
}

#[test]
fn user_stop_ids_add_to_the_model_set() {
    let tok = tokenizer();
    let script = ids_of(&tok, &["a", "b", "c"]);
    let b = script[1];
    let lm = Scripted::new(tok.vocab_size(), script);
    let mut p = greedy(50, &[]);
    p.stop_token_ids = vec![b];
    let r = run(&tok, &lm, &[tok.special().eos.unwrap()], &p, None);
    assert_eq!((r.text.as_str(), r.reason), ("a", FinishReason::Eos));
}

#[test]
fn token_limit_gives_length() {
    let tok = tokenizer();
    let lm = Scripted::new(tok.vocab_size(), ids_of(&tok, &["x"; 20]));
    let r = run(&tok, &lm, &[], &greedy(7, &[]), None);
    assert_eq!((r.tokens, r.reason), (7, FinishReason::Length));
}

#[test]
fn cancellation_from_another_thread() {
    let tok = tokenizer();
    let mut lm = Scripted::new(tok.vocab_size(), ids_of(&tok, &["x"; 200]));
    lm.delay = Duration::from_millis(5);
    let cancel = CancelToken::new();
    let remote = cancel.clone();
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(60));
        remote.cancel();
    });
    let r = run(&tok, &lm, &[], &greedy(200, &[]), Some(&cancel));
    canceller.join().unwrap();
    assert_eq!(r.reason, FinishReason::Cancelled);
    assert!(r.tokens < 200, "{} tokens", r.tokens);
}

#[test]
fn utf8_split_across_tokens_is_never_emitted_in_halves() {
    let tok = tokenizer();
    // The tiny tokenizer has no merges for these characters: byte-level pieces, several per char.
    let script = ids_of(&tok, &["é", "🌊", "ok"]);
    assert!(script.len() > 3);
    let lm = Scripted::new(tok.vocab_size(), script.clone());
    let r = run(&tok, &lm, &[], &greedy(script.len(), &[]), None);
    assert_eq!(r.text, "é🌊ok");
    assert!(
        r.deltas.iter().all(|d| !d.contains('\u{fffd}')),
        "{:?}",
        r.deltas
    );
}

/// `cycle` repeated until the script holds `len` tokens.
fn looping(cycle: &[u32], len: usize) -> Vec<u32> {
    cycle.iter().copied().cycle().take(len).collect()
}

fn with_guard(max_new_tokens: usize) -> GenerateParams {
    GenerateParams {
        loop_guard: Some(LoopGuard::default()),
        ..greedy(max_new_tokens, &[])
    }
}

#[test]
fn a_looping_model_is_stopped_with_finish_reason_loop() {
    let tok = tokenizer();
    // "The cat sat." is six tokens in the tiny vocabulary.
    let cycle = ids_of(&tok, &["The", " cat", " sat", "."]);
    assert_eq!(cycle.len(), 6);
    let lm = Scripted::new(tok.vocab_size(), looping(&cycle, 200));
    let r = run(&tok, &lm, &[], &with_guard(200), None);
    assert_eq!(r.reason, FinishReason::Loop);
    assert_eq!(FinishReason::Loop.as_str(), "loop");
    // Period 6 is caught as soon as 24 tokens (four cycles) repeat, not later.
    assert_eq!(r.tokens, 24);
    assert_eq!(r.text, "The cat sat.".repeat(4));
}

#[test]
fn the_loop_guard_is_off_by_default() {
    let tok = tokenizer();
    let cycle = ids_of(&tok, &["The", " cat", " sat", "."]);
    let lm = Scripted::new(tok.vocab_size(), looping(&cycle, 200));
    let r = run(&tok, &lm, &[], &greedy(60, &[]), None);
    assert_eq!((r.tokens, r.reason), (60, FinishReason::Length));
}

#[test]
fn loops_longer_than_the_guard_period_are_left_to_the_limits() {
    let tok = tokenizer();
    // 17 distinct single-byte tokens: one more than the default max_period.
    let cycle: Vec<u32> = ids_of(
        &tok,
        &[
            "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q",
        ],
    );
    assert_eq!(cycle.len(), 17);
    let lm = Scripted::new(tok.vocab_size(), looping(&cycle, 120));
    let r = run(&tok, &lm, &[], &with_guard(100), None);
    assert_eq!((r.tokens, r.reason), (100, FinishReason::Length));
    // The same cycle less one token (period 16) is caught after three cycles.
    let lm = Scripted::new(tok.vocab_size(), looping(&cycle[..16], 120));
    let r = run(&tok, &lm, &[], &with_guard(100), None);
    assert_eq!((r.tokens, r.reason), (48, FinishReason::Loop));
}

#[test]
fn varied_text_is_not_a_loop() {
    let tok = tokenizer();
    let words: Vec<String> = (0..60).map(|i| format!(" w{i}")).collect();
    let pieces: Vec<&str> = words.iter().map(String::as_str).collect();
    let script = ids_of(&tok, &pieces);
    let lm = Scripted::new(tok.vocab_size(), script.clone());
    let r = run(&tok, &lm, &[], &with_guard(script.len()), None);
    assert_eq!(r.reason, FinishReason::Length);
    assert_eq!(r.tokens, script.len());
}

#[test]
fn the_character_limit_cuts_the_text_and_gives_length() {
    let tok = tokenizer();
    let script = ids_of(&tok, &["Hello", " world", " again"]);
    let lm = Scripted::new(tok.vocab_size(), script.clone());
    let mut p = greedy(50, &[]);
    p.max_chars = Some(8);
    let r = run(&tok, &lm, &[], &p, None);
    assert_eq!(
        (r.text.as_str(), r.reason),
        ("Hello wo", FinishReason::Length)
    );
    // Generation stopped at the token that reached the limit, before the script's end.
    let upto_wo = ids_of(&tok, &["Hello", " wo"]).len();
    assert!(
        r.tokens <= upto_wo + 1 && r.tokens < script.len(),
        "{} tokens",
        r.tokens
    );
}

#[test]
fn the_character_limit_counts_characters_not_bytes() {
    let tok = tokenizer();
    let script = ids_of(&tok, &["é", "🌊", "ok"]);
    let lm = Scripted::new(tok.vocab_size(), script);
    let mut p = greedy(50, &[]);
    p.max_chars = Some(2);
    let r = run(&tok, &lm, &[], &p, None);
    assert_eq!((r.text.as_str(), r.reason), ("é🌊", FinishReason::Length));
}

#[test]
fn text_that_ends_within_the_character_limit_keeps_its_reason() {
    let tok = tokenizer();
    let eos = tok.special().eos.unwrap();
    let mut script = ids_of(&tok, &["Hi", "\n", "M"]);
    script.push(eos);
    let lm = Scripted::new(tok.vocab_size(), script.clone());
    let mut p = greedy(50, &["\nMe:"]);
    p.max_chars = Some(100);
    let r = run(&tok, &lm, &[eos], &p, None);
    // The held-back "\nM" is flushed at the end and fits the limit.
    assert_eq!((r.text.as_str(), r.reason), ("Hi\nM", FinishReason::Eos));
    // A tighter limit cuts the flushed text and reports the cut.
    p.max_chars = Some(3);
    let lm = Scripted::new(tok.vocab_size(), script);
    let r = run(&tok, &lm, &[eos], &p, None);
    assert_eq!((r.text.as_str(), r.reason), ("Hi\n", FinishReason::Length));
}

/// Stops once the decoded text contains a word.
struct Forbid(&'static str);

impl TextCheck for Forbid {
    fn check(&mut self, text: &str) -> Option<&'static str> {
        text.contains(self.0).then_some("forbidden")
    }
}

#[test]
fn a_text_check_stops_before_the_matching_text_is_streamed() {
    let tok = tokenizer();
    let script = ids_of(&tok, &["Hello", " sec", "ret", " word", " more"]);
    let lm = Scripted::new(tok.vocab_size(), script);
    let g = Generator {
        lm: &lm,
        tokenizer: &tok,
        eog: &[],
    };
    let mut cache = PrefixCache::new(&lm);
    let mut check = Forbid("secret");
    let mut deltas = String::new();
    let controls = Controls {
        check: Some(&mut check),
        ..Controls::default()
    };
    let out = g
        .generate(&mut cache, &[5, 6], &greedy(50, &[]), controls, &mut |e| {
            deltas.push_str(e.text())
        })
        .unwrap();
    assert_eq!(out.finish_reason, FinishReason::ContentFilter);
    assert_eq!(out.filtered, Some("forbidden"));
    // The token that completed the match was never emitted, nor anything after it.
    assert!(!deltas.contains("secret"), "{deltas:?}");
    assert!(
        deltas.starts_with("Hello") && !deltas.contains("word"),
        "{deltas:?}"
    );
    assert_eq!(out.text, deltas);
}

#[test]
fn the_callers_stop_strings_add_to_the_settings() {
    let tok = tokenizer();
    let script = ids_of(&tok, &["Hello", " there", "\n", "Me", ":", " I"]);
    let lm = Scripted::new(tok.vocab_size(), script);
    let g = Generator {
        lm: &lm,
        tokenizer: &tok,
        eog: &[],
    };
    let mut cache = PrefixCache::new(&lm);
    let format_stops = ["\nMe:".to_owned()];
    let controls = Controls {
        stops: &format_stops,
        ..Controls::default()
    };
    let out = g
        .generate(
            &mut cache,
            &[5, 6],
            &greedy(50, &["zzz"]),
            controls,
            &mut |_| {},
        )
        .unwrap();
    assert_eq!(
        (out.text.as_str(), out.finish_reason),
        ("Hello there", FinishReason::Stop)
    );
}

#[test]
fn the_prefix_cache_is_reused_only_as_far_as_the_ids_agree() {
    let tok = tokenizer();
    let lm = Scripted::new(tok.vocab_size(), vec![7, 8, 9]);
    let g = Generator {
        lm: &lm,
        tokenizer: &tok,
        eog: &[],
    };
    let mut cache = PrefixCache::new(&lm);
    let p = greedy(2, &[]);
    let out = g
        .generate(&mut cache, &[5, 6, 7], &p, Controls::default(), &mut |_| {})
        .unwrap();
    assert_eq!(out.timings.prefill_tokens, 3);
    // The cache holds the prompt and the answer but its last token, which was never run.
    let mut held = vec![5, 6, 7];
    held.extend(&out.token_ids[..out.token_ids.len() - 1]);
    assert_eq!(cache.ids(), held.as_slice());
    // A prompt that extends what is held prefills only the new part...
    let mut next = cache.ids().to_vec();
    next.extend([11, 12]);
    let out = g
        .generate(&mut cache, &next, &p, Controls::default(), &mut |_| {})
        .unwrap();
    assert_eq!(out.timings.prefill_tokens, 2);
    // ...and one that differs early prefills from the difference on.
    let out = g
        .generate(
            &mut cache,
            &[5, 9, 9, 9],
            &p,
            Controls::default(),
            &mut |_| {},
        )
        .unwrap();
    assert_eq!(out.timings.prefill_tokens, 3);
    // The same prompt again still runs its last token, for the logits.
    let again = cache.ids()[..4].to_vec();
    let out = g
        .generate(&mut cache, &again, &p, Controls::default(), &mut |_| {})
        .unwrap();
    assert_eq!(out.timings.prefill_tokens, 1);
}

#[test]
fn a_lazy_grammar_is_free_until_its_trigger_then_holds() {
    let tok = tokenizer();
    let eos = tok.special().eos.unwrap();
    let script = ids_of(&tok, &["Sure", " <", "call", ">", "x", "y", "z", "w"]);
    let lm = Scripted::new(tok.vocab_size(), script);
    let g = Generator {
        lm: &lm,
        tokenizer: &tok,
        eog: &[eos],
    };
    let grammars = samtal_generation::Grammars::new(&tok, &[eos]).unwrap();
    let mut c = grammars
        .compile(&samtal_generation::Grammar::Regex("[0-9]{2}".into()))
        .unwrap()
        .lazy("<call>", false);
    let mut cache = PrefixCache::new(&lm);
    let controls = Controls {
        constraint: Some(&mut c),
        ..Controls::default()
    };
    let out = g
        .generate(&mut cache, &[5, 6], &greedy(30, &[]), controls, &mut |_| {})
        .unwrap();
    // Free text up to the trigger, then the grammar instead of the model's "xyzw", then only
    // the end.
    let rest = out
        .text
        .strip_prefix("Sure <call>")
        .unwrap_or_else(|| panic!("{:?}", out.text));
    assert!(
        rest.len() == 2 && rest.bytes().all(|b| b.is_ascii_digit()),
        "{:?}",
        out.text
    );
    assert_eq!(out.finish_reason, FinishReason::Eos);
    assert!(c.is_complete());
}
