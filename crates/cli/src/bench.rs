//! `samtal bench`, llama-bench style: random tokens, one warm-up, medians of repetitions.

use std::time::Instant;

use anyhow::{bail, Result};
use clap::Args;
use samtal_engine::CausalLm;

use crate::args::ModelArgs;

#[derive(Args, Debug)]
pub struct BenchArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Prompt lengths to time prompt processing with, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "128,512")]
    pub prompt_tokens: Vec<usize>,
    /// Tokens to time decoding with (0 skips it).
    #[arg(long, default_value_t = 128)]
    pub gen_tokens: usize,
    #[arg(long, default_value_t = 5)]
    pub repetitions: usize,
    #[arg(long)]
    pub json: bool,
}

/// Deterministic token ids in `[0, vocab)` (a small LCG: the timings must not depend on them).
fn tokens(n: usize, vocab: usize, seed: u64) -> Vec<u32> {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((x >> 33) % vocab as u64) as u32
        })
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Prompt processing: tokens/s for one prefill of `n` tokens into an empty cache.
fn pp(lm: &dyn CausalLm, n: usize, seed: u64) -> Result<f64> {
    let ids = tokens(n, lm.config().vocab_size, seed);
    let mut cache = lm.new_cache();
    let t = Instant::now();
    lm.forward(&ids, 0, &mut cache)?;
    Ok(n as f64 / t.elapsed().as_secs_f64())
}

/// Decoding: tokens/s for `n` single-token steps from an empty cache.
fn tg(lm: &dyn CausalLm, n: usize, seed: u64) -> Result<f64> {
    let ids = tokens(n, lm.config().vocab_size, seed);
    let mut cache = lm.new_cache();
    let t = Instant::now();
    for (pos, id) in ids.iter().enumerate() {
        lm.forward(&[*id], pos, &mut cache)?;
    }
    Ok(n as f64 / t.elapsed().as_secs_f64())
}

/// Peak resident set size of this process, from /proc (Linux); 0 elsewhere.
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

pub fn run(a: BenchArgs) -> Result<()> {
    if a.repetitions == 0 {
        bail!("--repetitions must be at least 1");
    }
    let t = Instant::now();
    let p = a.model.load()?;
    let load_ms = t.elapsed().as_secs_f64() * 1e3;
    let lm = p.model.lm().as_ref();
    let max = lm.config().max_positions;
    if let Some(n) = a
        .prompt_tokens
        .iter()
        .chain([&a.gen_tokens])
        .find(|&&n| n > max)
    {
        bail!("{n} tokens exceed the model's context length of {max}");
    }
    let mut pp_res = serde_json::Map::new();
    let mut ttft = serde_json::Map::new();
    for &n in a.prompt_tokens.iter().filter(|&&n| n > 0) {
        pp(lm, n, 0)?; // warm-up
        let runs = (0..a.repetitions)
            .map(|r| pp(lm, n, r as u64 + 1))
            .collect::<Result<Vec<_>>>()?;
        let tps = median(runs);
        pp_res.insert(n.to_string(), tps.into());
        ttft.insert(n.to_string(), (n as f64 / tps * 1e3).into());
    }
    let mut tg_res = serde_json::Map::new();
    if a.gen_tokens > 0 {
        tg(lm, a.gen_tokens.min(16), 0)?; // warm-up
        let runs = (0..a.repetitions)
            .map(|r| tg(lm, a.gen_tokens, r as u64 + 1))
            .collect::<Result<Vec<_>>>()?;
        tg_res.insert(a.gen_tokens.to_string(), median(runs).into());
    }
    let out = serde_json::json!({
        "pp": pp_res,
        "tg": tg_res,
        "ttft_ms": ttft,
        "load_ms": load_ms,
        "peak_rss_mb": peak_rss_mb(),
        "threads": rayon::current_num_threads(),
        "kernels": samtal_engine::kernels::kernel_path(),
    });
    if a.json {
        println!("{out}");
    } else {
        println!("{}", serde_json::to_string_pretty(&out)?);
    }
    Ok(())
}
