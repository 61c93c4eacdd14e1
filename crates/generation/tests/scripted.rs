//! The decode loop against a scripted fake model: a model that emits a fixed token sequence, so
//! stop strings across token boundaries, hold-back while streaming, end-of-generation, limits
//! and cancellation are tested exactly.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use samtal_engine::config::{Arch, Config, RopeStyle};
use samtal_engine::{Cache, CausalLm};
use samtal_generation::{
    CancelToken, Event, FinishReason, GenerateParams, Generator, SamplingParams,
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
    let mut cache = lm.new_cache();
    let mut deltas = Vec::new();
    let out = g
        .generate(&mut cache, &[5, 6], params, cancel, &mut |e| match e {
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
