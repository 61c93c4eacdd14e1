//! The chain of logits processors and the token choice.
//!
//! Order follows transformers' `generate`: logit bias and penalties on the raw logits, then
//! temperature, top-k, top-p, min-p and typical-p, then a seeded draw. The vocabulary is never
//! sorted whole unless typical-p asks for it: top-k uses a selection, top-p first tries the 1,024
//! most likely tokens and sorts everything only when they do not reach `top_p`.

use std::collections::HashMap;

use crate::params::SamplingParams;
use crate::rng::Rng;

/// Chooses tokens; holds the random state of one generation.
#[derive(Clone, Debug)]
pub struct Sampler {
    params: SamplingParams,
    rng: Rng,
    /// The seed actually used (reported so a run can be replayed).
    pub seed: u64,
}

/// What was chosen.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Choice {
    pub token: u32,
    /// Natural log-probability of `token` under the penalised distribution at temperature 1.
    pub logprob: f32,
}

impl Sampler {
    pub fn new(params: SamplingParams) -> Self {
        let seed = params.seed.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64)
        });
        Self {
            params,
            rng: Rng::new(seed),
            seed,
        }
    }

    /// Picks the next token. `logits` is modified in place; `history` is every token so far
    /// (prompt and generated).
    pub fn sample(&mut self, logits: &mut [f32], history: &[u32]) -> Choice {
        self.process(logits, history);
        let token = if self.params.is_greedy() {
            argmax(logits)
        } else {
            self.draw(logits)
        };
        Choice {
            token,
            logprob: log_softmax_at(logits, token as usize),
        }
    }

    /// Bias, penalties and n-gram bans: everything that changes logits before the warpers.
    pub fn process(&self, logits: &mut [f32], history: &[u32]) {
        let p = &self.params;
        for (&id, &b) in &p.logit_bias {
            if let Some(l) = logits.get_mut(id as usize) {
                *l += b;
            }
        }
        let window = if p.penalty_window == 0 {
            history
        } else {
            &history[history.len().saturating_sub(p.penalty_window)..]
        };
        if p.repetition_penalty != 1.0 || p.frequency_penalty != 0.0 || p.presence_penalty != 0.0 {
            let mut counts: HashMap<u32, u32> = HashMap::new();
            for &t in window {
                *counts.entry(t).or_insert(0) += 1;
            }
            for (&t, &c) in &counts {
                let Some(l) = logits.get_mut(t as usize) else {
                    continue;
                };
                // CTRL's penalty as transformers applies it: divide positive logits, multiply
                // negative ones, so the token always becomes less likely.
                if p.repetition_penalty != 1.0 {
                    *l = if *l > 0.0 {
                        *l / p.repetition_penalty
                    } else {
                        *l * p.repetition_penalty
                    };
                }
                *l -= c as f32 * p.frequency_penalty + p.presence_penalty;
            }
        }
        let n = p.no_repeat_ngram_size;
        if n > 0 && history.len() >= n {
            let prefix = &history[history.len() - (n - 1)..];
            for start in 0..=history.len() - n {
                if &history[start..start + n - 1] == prefix {
                    if let Some(l) = logits.get_mut(history[start + n - 1] as usize) {
                        *l = f32::NEG_INFINITY;
                    }
                }
            }
        }
    }

    fn draw(&mut self, logits: &[f32]) -> u32 {
        let p = &self.params;
        let inv_t = 1.0 / p.temperature;
        // (token, scaled logit), finite only.
        let mut cand: Vec<(u32, f32)> = logits
            .iter()
            .enumerate()
            .filter(|(_, l)| l.is_finite())
            .map(|(i, l)| (i as u32, l * inv_t))
            .collect();
        if cand.is_empty() {
            // Everything was banned; fall back to the unprocessed argmax rather than fail.
            return argmax(logits);
        }
        let desc = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        if p.top_k > 0 && p.top_k < cand.len() {
            cand.select_nth_unstable_by(p.top_k - 1, desc);
            cand.truncate(p.top_k);
        }
        if p.top_p < 1.0 {
            let keep = top_p_len(&mut cand, p.top_p, desc);
            cand.truncate(keep);
        }
        if p.min_p > 0.0 {
            let max = cand.iter().map(|c| c.1).fold(f32::NEG_INFINITY, f32::max);
            // p_i >= min_p * p_max  <=>  l_i >= l_max + ln(min_p)
            let floor = max + p.min_p.ln();
            cand.retain(|c| c.1 >= floor);
        }
        if p.typical_p < 1.0 {
            typical(&mut cand, p.typical_p, desc);
        }
        let max = cand.iter().map(|c| c.1).fold(f32::NEG_INFINITY, f32::max);
        let total: f64 = cand.iter().map(|c| ((c.1 - max) as f64).exp()).sum();
        let mut r = self.rng.next_f64() * total;
        for c in &cand {
            r -= ((c.1 - max) as f64).exp();
            if r < 0.0 {
                return c.0;
            }
        }
        cand[cand.len() - 1].0
    }
}

/// How many of the most likely candidates make up `top_p` of the mass (at least one). Leaves
/// `cand` sorted in its first returned elements.
fn top_p_len(
    cand: &mut [(u32, f32)],
    top_p: f32,
    desc: impl Fn(&(u32, f32), &(u32, f32)) -> std::cmp::Ordering + Copy,
) -> usize {
    let max = cand.iter().map(|c| c.1).fold(f32::NEG_INFINITY, f32::max);
    let total: f64 = cand.iter().map(|c| ((c.1 - max) as f64).exp()).sum();
    let target = top_p as f64 * total;
    let walk = |cand: &[(u32, f32)]| {
        let mut acc = 0.0;
        for (i, c) in cand.iter().enumerate() {
            acc += ((c.1 - max) as f64).exp();
            // transformers keeps tokens while the mass *before* them is below top_p.
            if acc >= target {
                return Some(i + 1);
            }
        }
        None
    };
    const HEAD: usize = 1024;
    if cand.len() > HEAD {
        cand.select_nth_unstable_by(HEAD - 1, desc);
        cand[..HEAD].sort_unstable_by(desc);
        if let Some(n) = walk(&cand[..HEAD]) {
            return n;
        }
    }
    cand.sort_unstable_by(desc);
    walk(cand).unwrap_or(cand.len()).max(1)
}

/// Locally typical sampling: keep the tokens whose surprisal is closest to the entropy until
/// their mass reaches `mass`.
fn typical(
    cand: &mut Vec<(u32, f32)>,
    mass: f32,
    desc: impl Fn(&(u32, f32), &(u32, f32)) -> std::cmp::Ordering,
) {
    let max = cand.iter().map(|c| c.1).fold(f32::NEG_INFINITY, f32::max);
    let total: f64 = cand.iter().map(|c| ((c.1 - max) as f64).exp()).sum();
    let logz = total.ln();
    let logp = |l: f32| (l - max) as f64 - logz;
    let entropy: f64 = cand.iter().map(|c| -logp(c.1).exp() * logp(c.1)).sum();
    let mut scored: Vec<(f64, (u32, f32))> = cand
        .iter()
        .map(|&c| ((-logp(c.1) - entropy).abs(), c))
        .collect();
    scored.sort_by(|a, b| a.0.total_cmp(&b.0).then(desc(&a.1, &b.1)));
    let mut acc = 0.0;
    let mut keep = scored.len();
    for (i, (_, c)) in scored.iter().enumerate() {
        acc += logp(c.1).exp();
        if acc >= mass as f64 {
            keep = i + 1;
            break;
        }
    }
    *cand = scored.into_iter().take(keep).map(|(_, c)| c).collect();
}

/// Index of the largest logit; the lowest index wins ties (as `torch.argmax`).
pub fn argmax(logits: &[f32]) -> u32 {
    let mut best = 0;
    for (i, &l) in logits.iter().enumerate() {
        if l > logits[best] {
            best = i;
        }
    }
    best as u32
}

/// `log_softmax(logits)[i]`.
/// The `n` most likely tokens of `logits` with their log-probabilities, most likely first (ties
/// by lower id).
pub fn top_logprobs(logits: &[f32], n: usize) -> Vec<(u32, f32)> {
    if n == 0 {
        return Vec::new();
    }
    let mut top: Vec<(u32, f32)> = Vec::with_capacity(n + 1);
    for (i, &l) in logits.iter().enumerate() {
        if !l.is_finite() || (top.len() == n && top.last().is_some_and(|t| l <= t.1)) {
            continue;
        }
        let at = top.partition_point(|t| t.1 >= l);
        top.insert(at, (i as u32, l));
        top.truncate(n);
    }
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let z: f64 = logits
        .iter()
        .filter(|l| l.is_finite())
        .map(|l| ((l - max) as f64).exp())
        .sum();
    let lz = z.ln();
    top.into_iter()
        .map(|(i, l)| (i, ((l - max) as f64 - lz) as f32))
        .collect()
}

pub fn log_softmax_at(logits: &[f32], i: usize) -> f32 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let z: f64 = logits
        .iter()
        .filter(|l| l.is_finite())
        .map(|l| ((l - max) as f64).exp())
        .sum();
    ((logits[i] - max) as f64 - z.ln()) as f32
}

#[cfg(test)]
mod tests;
