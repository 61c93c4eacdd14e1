//! `samtal generate`.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::{bail, Context, Result};
use clap::Args;
use samtal_chat::{special_strings, Message};
use samtal_generation::{GenerateParams, Pipeline};
use samtal_tokenizer::Encode;

use crate::args::ModelArgs;

#[derive(Args, Debug)]
pub struct GenerateArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Feed PROMPT to the model as it is, without the chat template.
    #[arg(long)]
    pub raw: bool,
    /// A system message placed before PROMPT (chat models).
    #[arg(long)]
    pub system: Option<String>,
    #[command(flatten)]
    pub sampling: SamplingArgs,
    /// Print one JSON object with ids, text, finish reason and timings instead of streaming.
    #[arg(long)]
    pub json: bool,
    pub prompt: String,
}

/// Sampling flags; anything not given keeps the model's default.
#[derive(Args, Debug, Default)]
pub struct SamplingArgs {
    /// 0 means greedy.
    #[arg(long)]
    pub temperature: Option<f32>,
    /// 0 disables.
    #[arg(long)]
    pub top_k: Option<usize>,
    #[arg(long)]
    pub top_p: Option<f32>,
    #[arg(long)]
    pub min_p: Option<f32>,
    #[arg(long)]
    pub typical_p: Option<f32>,
    #[arg(long, visible_alias = "repeat-penalty")]
    pub repetition_penalty: Option<f32>,
    /// Tokens the penalties look back over (0: all).
    #[arg(long, visible_alias = "repeat-last-n")]
    pub penalty_window: Option<usize>,
    #[arg(long)]
    pub frequency_penalty: Option<f32>,
    #[arg(long)]
    pub presence_penalty: Option<f32>,
    #[arg(long)]
    pub no_repeat_ngram_size: Option<usize>,
    /// TOKEN_ID=BIAS, repeatable.
    #[arg(long, value_parser = parse_bias)]
    pub logit_bias: Vec<(u32, f32)>,
    /// Stop string, repeatable; adds to the model's end-of-generation tokens.
    #[arg(long)]
    pub stop: Vec<String>,
    #[arg(long)]
    pub seed: Option<u64>,
    #[arg(long, short = 'n', visible_alias = "max-tokens")]
    pub max_new_tokens: Option<usize>,
}

fn parse_bias(s: &str) -> std::result::Result<(u32, f32), String> {
    let (id, b) = s.split_once('=').ok_or("expected TOKEN_ID=BIAS")?;
    Ok((
        id.trim().parse().map_err(|e| format!("token id: {e}"))?,
        b.trim().parse().map_err(|e| format!("bias: {e}"))?,
    ))
}

impl SamplingArgs {
    pub fn apply(&self, base: &GenerateParams) -> GenerateParams {
        let mut p = base.clone();
        let s = &mut p.sampling;
        macro_rules! set {
            ($($f:ident),*) => { $( if let Some(v) = self.$f { s.$f = v; } )* };
        }
        set!(
            temperature,
            top_k,
            top_p,
            min_p,
            typical_p,
            repetition_penalty,
            penalty_window,
            frequency_penalty,
            presence_penalty,
            no_repeat_ngram_size
        );
        if self.seed.is_some() {
            s.seed = self.seed;
        }
        if !self.logit_bias.is_empty() {
            s.logit_bias = self.logit_bias.iter().copied().collect::<BTreeMap<_, _>>();
        }
        p.stop.extend(self.stop.iter().cloned());
        if let Some(n) = self.max_new_tokens {
            p.max_new_tokens = n;
        }
        p
    }
}

/// The prompt's token ids: the chat template with a generation prompt when the model has one
/// (and `raw` is off), encoded as the chat session encodes it (content as plain text), else the
/// text as it is.
pub fn prompt_ids(p: &Pipeline, raw: bool, system: Option<&str>, prompt: &str) -> Result<Vec<u32>> {
    if raw || p.chat_template().is_none() {
        if system.is_some() {
            eprintln!("note: --system is ignored without a chat template");
        }
        return Ok(p.tokenizer.encode(prompt, Encode::default())?);
    }
    let tpl = crate::template::template_for(p, None)?;
    let mut msgs: Vec<Message> = system.map(Message::system).into_iter().collect();
    msgs.push(Message::user(prompt));
    let specials = special_strings(&p.tokenizer);
    Ok(tpl.encode(&p.tokenizer, &specials, &msgs, true)?.ids)
}

pub fn run(a: GenerateArgs) -> Result<()> {
    let p = a.model.load()?;
    let params = a.sampling.apply(&p.defaults);
    let ids = prompt_ids(&p, a.raw, a.system.as_deref(), &a.prompt)?;
    if ids.is_empty() {
        bail!("the prompt is empty");
    }
    let mut cache = p.model.lm().new_cache();
    let mut stdout = std::io::stdout().lock();
    let json = a.json;
    let mut write_err = None;
    let out = p
        .generator()
        .generate(&mut cache, &ids, &params, None, &mut |ev| {
            if json {
                return;
            }
            let text = ev.text();
            if !text.is_empty() {
                if let Err(e) = stdout
                    .write_all(text.as_bytes())
                    .and_then(|()| stdout.flush())
                {
                    write_err.get_or_insert(e);
                }
            }
        })
        .context("generation failed")?;
    if let Some(e) = write_err {
        // A closed pipe (e.g. `| head`) is not an error worth a message.
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(e.into());
        }
        return Ok(());
    }
    if json {
        let t = &out.timings;
        let obj = serde_json::json!({
            "prompt_token_ids": ids,
            "token_ids": out.token_ids,
            "text": out.text,
            "finish_reason": out.finish_reason.as_str(),
            "seed": out.seed,
            "timings": {
                "prompt_tokens": t.prompt_tokens,
                "prompt_ms": t.prompt_ms,
                "generated_tokens": t.generated_tokens,
                "generate_ms": t.generate_ms,
            },
        });
        writeln!(stdout, "{obj}")?;
    } else {
        writeln!(stdout)?;
    }
    Ok(())
}
