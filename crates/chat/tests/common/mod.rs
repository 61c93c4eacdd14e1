//! The scripted fake network and session helpers shared by the session tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use samtal_chat::{
    chat_params, ChatEvent, GenerateParams, GuardMode, GuardOptions, Reply, Session, SessionOptions,
};
use samtal_engine::config::{Arch, Config, RopeStyle};
use samtal_engine::{Cache, CausalLm};
use samtal_generation::{Pipeline, SamplingParams};
use samtal_tokenizer::{Encode, Tokenizer};

/// `<|im_end|>` in the tiny vocabulary: the end of a ChatML turn, in the end-of-generation set.
pub const IM_END: u32 = 3;

#[derive(Debug, Default)]
struct State {
    /// Turns started (prefills seen).
    turn: usize,
    /// Position in the current answer.
    step: usize,
    last: Option<u32>,
    /// Tokens each prefill ran.
    prefills: Vec<usize>,
}

/// Answers turn `k` with `answers[k % answers.len()]`, then `IM_END` forever. A call that feeds
/// back the token it just chose is a decode step; any other call is a new turn's prefill.
#[derive(Debug)]
pub struct Replier {
    cfg: Config,
    answers: Vec<Vec<u32>>,
    state: Mutex<State>,
}

impl Replier {
    pub fn new(vocab: usize, answers: Vec<Vec<u32>>) -> Self {
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
            answers,
            state: Mutex::new(State::default()),
        }
    }

    pub fn prefills(&self) -> Vec<usize> {
        self.state.lock().unwrap().prefills.clone()
    }
}

impl CausalLm for Replier {
    fn config(&self) -> &Config {
        &self.cfg
    }
    fn new_cache(&self) -> Cache {
        Cache::new(1, 8)
    }
    fn forward(
        &self,
        tokens: &[u32],
        pos: usize,
        cache: &mut Cache,
    ) -> samtal_engine::Result<Vec<f32>> {
        // The generator must feed exactly what the cache does not hold.
        assert_eq!(pos, cache.len(), "position does not follow the cache");
        cache.advance(tokens.len());
        let mut s = self.state.lock().unwrap();
        if tokens.len() == 1 && s.last == Some(tokens[0]) {
            s.step += 1;
        } else {
            s.turn += 1;
            s.step = 0;
            s.prefills.push(tokens.len());
        }
        let answer = &self.answers[(s.turn - 1) % self.answers.len()];
        let next = answer.get(s.step).copied().unwrap_or(IM_END);
        s.last = Some(next);
        let mut logits = vec![0.0; self.cfg.vocab_size];
        logits[next as usize] = 10.0;
        Ok(logits)
    }
    fn forward_all(&self, _: &[u32], _: usize, _: &mut Cache) -> samtal_engine::Result<Vec<f32>> {
        unimplemented!("not used by sessions")
    }
    fn hidden_states(&self, _: &[u32], _: usize, _: &mut Cache) -> samtal_engine::Result<Vec<f32>> {
        unimplemented!("not used by sessions")
    }
}

pub fn pipeline() -> Arc<Pipeline> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/models/tiny-llama");
    Arc::new(Pipeline::load(&dir, &Default::default()).unwrap())
}

pub fn text_ids(tok: &Tokenizer, text: &str) -> Vec<u32> {
    tok.encode(text, Encode::TEXT).unwrap()
}

pub fn greedy(max_new_tokens: usize) -> GenerateParams {
    GenerateParams {
        sampling: SamplingParams::greedy(),
        max_new_tokens,
        ..chat_params(&GenerateParams::default())
    }
}

/// A session over `answers` (each followed by `<|im_end|>`), and the fake model to inspect;
/// without the guard, whose own tests are in session_guard.rs.
pub fn session(answers: &[&str], opts: SessionOptions) -> (Session, Arc<Replier>, Tokenizer) {
    let opts = SessionOptions {
        guard: GuardOptions {
            mode: GuardMode::Off,
            leak_check: false,
            ..GuardOptions::default()
        },
        ..opts
    };
    guarded_session(answers, opts)
}

/// [`session`] with the guard as `opts` set it.
pub fn guarded_session(
    answers: &[&str],
    opts: SessionOptions,
) -> (Session, Arc<Replier>, Tokenizer) {
    let p = pipeline();
    let tok = p.tokenizer.clone();
    let answers = answers
        .iter()
        .map(|a| {
            let mut ids = text_ids(&tok, a);
            ids.push(IM_END);
            ids
        })
        .collect();
    let lm = Arc::new(Replier::new(tok.vocab_size(), answers));
    let opts = SessionOptions {
        params: opts.params.or(Some(greedy(32))),
        ..opts
    };
    let s = Session::with_lm(p, lm.clone(), opts).unwrap();
    (s, lm, tok)
}

/// Sends `text`, checking that the streamed text is the reply's; returns the reply and events.
pub fn send(s: &mut Session, text: &str) -> (Reply, Vec<(usize, usize)>) {
    let mut streamed = String::new();
    let mut dropped = Vec::new();
    let r = s
        .send(text, None, &mut |e| match e {
            ChatEvent::Text(t) => streamed.push_str(t),
            ChatEvent::Dropped { turns, tokens } => dropped.push((turns, tokens)),
            _ => {}
        })
        .unwrap();
    assert_eq!(
        streamed.trim_end(),
        r.text,
        "streamed text must be the reply"
    );
    (r, dropped)
}
