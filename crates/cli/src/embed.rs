//! `samtal embed`: one vector per text, from a sentence-embedding model.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use samtal_engine::{Embedder, LoadOptions};
use samtal_tokenizer::{Encode, Tokenizer};

#[derive(Args, Debug)]
pub struct EmbedArgs {
    /// A sentence-transformers folder (config.json, model.safetensors, tokenizer.json,
    /// 1_Pooling/config.json) or a known model name [default: minilm, fetched on first use].
    #[arg(long, short)]
    pub model: Option<String>,
    /// Print one JSON object per text: {"index", "tokens", "embedding"}.
    #[arg(long)]
    pub json: bool,
    /// Cut texts longer than the model's window instead of refusing them.
    #[arg(long)]
    pub truncate: bool,
    /// Worker threads [default: all cores].
    #[arg(long, short = 't')]
    pub threads: Option<usize>,
    /// The texts; without any, one text per line of stdin.
    pub texts: Vec<String>,
}

/// A text's ids as the model reads it: `[CLS] … [SEP]`, cut to `max` (keeping the closing
/// token) when `truncate`, else an error naming the text.
pub fn ids_for(
    tokenizer: &Tokenizer,
    text: &str,
    max: usize,
    truncate: bool,
    index: usize,
) -> Result<Vec<u32>> {
    let mut ids = tokenizer.encode(
        text,
        Encode {
            add_special_tokens: true,
            parse_special: false,
        },
    )?;
    if ids.len() > max {
        if !truncate {
            bail!(
                "text {index} has {} tokens; the model reads at most {max} (pass --truncate to cut it)",
                ids.len()
            );
        }
        let last = ids[ids.len() - 1];
        ids.truncate(max.saturating_sub(1));
        ids.push(last);
    }
    Ok(ids)
}

pub fn run(a: EmbedArgs) -> Result<()> {
    if let Some(n) = a.threads {
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global();
    }
    let dir: PathBuf = crate::pull::resolve_embedder(a.model.as_deref())?;
    let embedder = Embedder::load(&dir, &LoadOptions::default())
        .with_context(|| format!("cannot load the encoder in {}", dir.display()))?;
    let tokenizer = Tokenizer::from_hf_folder(&dir)?;
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
    for (index, text) in texts.iter().enumerate() {
        let ids = ids_for(&tokenizer, text, embedder.max_tokens, a.truncate, index)?;
        let v = embedder.embed(&ids)?;
        let line = if a.json {
            serde_json::json!({"index": index, "tokens": ids.len(), "embedding": v}).to_string()
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
