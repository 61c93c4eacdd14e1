use super::*;

fn params() -> SamplingParams {
    SamplingParams {
        seed: Some(7),
        ..SamplingParams::greedy()
    }
}

/// Logits whose softmax is exactly `probs`.
fn logits_for(probs: &[f32]) -> Vec<f32> {
    probs.iter().map(|p| p.ln()).collect()
}

/// Draw counts over `n` samples.
fn histogram(p: SamplingParams, logits: &[f32], n: usize) -> Vec<usize> {
    let mut s = Sampler::new(p);
    let mut h = vec![0; logits.len()];
    for _ in 0..n {
        let mut l = logits.to_vec();
        h[s.sample(&mut l, &[]).token as usize] += 1;
    }
    h
}

#[test]
fn greedy_takes_argmax_lowest_index_on_ties() {
    let mut s = Sampler::new(params());
    let c = s.sample(&mut [0.1, 3.0, 3.0, -1.0], &[]);
    assert_eq!(c.token, 1);
    assert!(c.logprob < 0.0 && c.logprob > -1.0);
}

#[test]
fn logit_bias_changes_the_choice() {
    let mut p = params();
    p.logit_bias.insert(0, 5.0);
    let mut s = Sampler::new(p);
    assert_eq!(s.sample(&mut [1.0, 2.0, 3.0], &[]).token, 0);
}

#[test]
fn repetition_penalty_divides_positive_and_multiplies_negative() {
    let mut p = params();
    p.repetition_penalty = 2.0;
    let s = Sampler::new(p);
    let mut l = [4.0, -4.0, 4.0];
    s.process(&mut l, &[0, 1, 0]);
    assert_eq!(l, [2.0, -8.0, 4.0]);
}

#[test]
fn frequency_and_presence_penalties_follow_openai() {
    let mut p = params();
    p.frequency_penalty = 0.5;
    p.presence_penalty = 0.25;
    let s = Sampler::new(p);
    let mut l = [1.0, 1.0, 1.0];
    s.process(&mut l, &[0, 0, 0, 1]);
    assert_eq!(l, [1.0 - 1.5 - 0.25, 1.0 - 0.5 - 0.25, 1.0]);
}

#[test]
fn penalty_window_only_sees_recent_tokens() {
    let mut p = params();
    p.presence_penalty = 1.0;
    p.penalty_window = 2;
    let s = Sampler::new(p);
    let mut l = [0.0; 4];
    s.process(&mut l, &[0, 1, 2, 3]);
    assert_eq!(l, [0.0, 0.0, -1.0, -1.0]);
}

#[test]
fn no_repeat_ngram_bans_the_completion() {
    let mut p = params();
    p.no_repeat_ngram_size = 3;
    let s = Sampler::new(p);
    let mut l = [0.0; 6];
    // "1 2 5 ... 1 2" → 5 would repeat the 3-gram "1 2 5".
    s.process(&mut l, &[1, 2, 5, 3, 1, 2]);
    assert_eq!(l[5], f32::NEG_INFINITY);
    assert!(l.iter().enumerate().all(|(i, v)| i == 5 || *v == 0.0));
}

#[test]
fn top_k_one_is_greedy_even_when_hot() {
    let mut p = params();
    p.temperature = 5.0;
    p.top_k = 1;
    let h = histogram(p, &[1.0, 1.2, 0.5], 200);
    assert_eq!(h, vec![0, 200, 0]);
}

#[test]
fn top_k_keeps_only_k_tokens() {
    let mut p = params();
    p.temperature = 1.0;
    p.top_k = 2;
    let h = histogram(p, &logits_for(&[0.4, 0.1, 0.3, 0.2]), 2000);
    assert_eq!((h[1], h[3]), (0, 0));
    assert!(h[0] > h[2] && h[2] > 0);
}

#[test]
fn top_p_keeps_the_nucleus() {
    let mut p = params();
    p.temperature = 1.0;
    p.top_p = 0.7;
    // 0.5 + 0.3 >= 0.7: tokens 0 and 1 only.
    let h = histogram(p, &logits_for(&[0.5, 0.3, 0.15, 0.05]), 2000);
    assert_eq!((h[2], h[3]), (0, 0));
    let ratio = h[0] as f64 / h[1] as f64;
    assert!((ratio - 5.0 / 3.0).abs() < 0.3, "{h:?}");
}

#[test]
fn top_p_beyond_the_head_of_a_large_vocabulary() {
    // A flat distribution over 5,000 tokens: the 1,024-token head cannot reach 0.5.
    let mut p = params();
    p.temperature = 1.0;
    p.top_p = 0.5;
    let logits = vec![0.0; 5000];
    let h = histogram(p, &logits, 3000);
    let used = h.iter().filter(|&&c| c > 0).count();
    assert!(used > 1024, "only {used} tokens drawn");
    // Ties break by index: exactly the first 2,500 tokens are eligible.
    assert!(h[2500..].iter().all(|&c| c == 0));
}

#[test]
fn min_p_drops_unlikely_tokens() {
    let mut p = params();
    p.temperature = 1.0;
    p.min_p = 0.5;
    // p_max = 0.4: keep p >= 0.2.
    let h = histogram(p, &logits_for(&[0.4, 0.25, 0.2, 0.15]), 2000);
    assert_eq!(h[3], 0);
    assert!(h[0] > 0 && h[1] > 0 && h[2] > 0);
}

#[test]
fn typical_p_keeps_tokens_near_the_entropy() {
    let mut p = params();
    p.temperature = 1.0;
    p.typical_p = 0.5;
    // Entropy ≈ 1.19 nats; surprisals: 0.69, 1.39, 2.30, 2.30. Closest first: token 1 (0.2
    // off), then token 0 (0.5 off): 0.25 + 0.5 ≥ 0.5 → tokens 0 and 1.
    let h = histogram(p, &logits_for(&[0.5, 0.25, 0.1, 0.1]), 2000);
    assert_eq!((h[2], h[3]), (0, 0), "{h:?}");
    assert!(h[0] > 0 && h[1] > 0);
}

#[test]
fn temperature_flattens_and_sharpens() {
    let logits = logits_for(&[0.7, 0.3]);
    let mut p = params();
    p.temperature = 1.0;
    let base = histogram(p.clone(), &logits, 4000)[1];
    p.temperature = 3.0;
    let hot = histogram(p.clone(), &logits, 4000)[1];
    p.temperature = 0.2;
    let cold = histogram(p, &logits, 4000)[1];
    assert!(cold < base && base < hot, "{cold} {base} {hot}");
    // At T=1 the draw follows softmax: 30% ± 3%.
    assert!((base as f64 / 4000.0 - 0.3).abs() < 0.03, "{base}");
}

#[test]
fn same_seed_same_tokens_different_seed_different_tokens() {
    let logits: Vec<f32> = (0..100).map(|i| ((i * 37 % 17) as f32) * 0.1).collect();
    let run = |seed| {
        let mut p = params();
        p.temperature = 1.0;
        p.seed = Some(seed);
        let mut s = Sampler::new(p);
        (0..50)
            .map(|_| s.sample(&mut logits.clone(), &[]).token)
            .collect::<Vec<_>>()
    };
    assert_eq!(run(1), run(1));
    assert_ne!(run(1), run(2));
}
