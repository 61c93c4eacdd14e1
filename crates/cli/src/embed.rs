//! `samtal embed`: one vector per text, from a sentence-embedding model.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use samtal_engine::{DType, LoadOptions};
use samtal_generation::EmbeddingModel;

#[derive(Args, Debug)]
pub struct EmbedArgs {
    /// A sentence-transformers folder (config.json, model.safetensors, tokenizer.json,
    /// 1_Pooling/config.json), a GGUF embedding model (`bert`, or a decoder with
    /// `pooling_type`), or a known model name [default: minilm, fetched on first use].
    #[arg(long, short)]
    pub model: Option<String>,
    /// Print one JSON object per text: {"index", "tokens", "embedding"}.
    #[arg(long)]
    pub json: bool,
    /// Cut texts longer than the model's window (keeping the closing token) instead of
    /// refusing them.
    #[arg(long)]
    pub truncate: bool,
    /// Print how long embedding took (texts, tokens, ms, texts/s) on stderr.
    #[arg(long)]
    pub stats: bool,
    /// Element type of the weights: q8_0 (quantized at load, 8-bit integer products, the
    /// fastest) or f32 (the reference's arithmetic).
    #[arg(long, default_value = samtal_generation::EMBEDDING_DTYPE)]
    pub dtype: DType,
    /// Worker threads [default: all cores].
    #[arg(long, short = 't')]
    pub threads: Option<usize>,
    /// The texts; without any, one text per line of stdin.
    pub texts: Vec<String>,
}

pub fn run(a: EmbedArgs) -> Result<()> {
    if let Some(n) = a.threads {
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global();
    }
    let dir: PathBuf = samtal_models::resolve_embedder(a.model.as_deref())?;
    let opts = LoadOptions {
        dtype: a.dtype,
        ..LoadOptions::default()
    };
    let model = EmbeddingModel::load(&dir, &opts)
        .with_context(|| format!("cannot load the encoder in {}", dir.display()))?;
    let texts: Vec<String> = if a.texts.is_empty() {
        std::io::stdin()
            .lock()
            .lines()
            .collect::<std::io::Result<_>>()
            .context("cannot read stdin")?
    } else {
        a.texts
    };
    let mut out = std::io::stdout().lock();
    let ids = texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            model
                .ids(t, a.truncate)
                .with_context(|| format!("text {i}"))
        })
        .collect::<Result<Vec<_>>>()?;
    // In passes of 32 texts: the weights are read once a pass.
    let started = std::time::Instant::now();
    let mut embedded = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(32) {
        embedded.extend(model.embed_batch(chunk)?);
    }
    if a.stats {
        let ms = started.elapsed().as_secs_f64() * 1e3;
        let tokens: usize = embedded.iter().map(|e| e.tokens).sum();
        eprintln!(
            "embedded {} texts ({tokens} tokens) in {ms:.1} ms: {:.1} texts/s",
            embedded.len(),
            embedded.len() as f64 / (ms / 1e3)
        );
    }
    for (index, e) in embedded.into_iter().enumerate() {
        let v = e.vector;
        let line = if a.json {
            serde_json::json!({"index": index, "tokens": e.tokens, "embedding": v}).to_string()
        } else {
            v.iter()
                .map(|x| format!("{x:.7}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        if let Err(e) = writeln!(out, "{line}") {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return Ok(());
            }
            return Err(e.into());
        }
    }
    Ok(())
}
