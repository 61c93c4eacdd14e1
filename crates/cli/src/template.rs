//! `samtal template`: the prompt a conversation renders to, through the same encoder the chat
//! session uses (message content encoded as plain text, scaffolding with special tokens).

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use samtal_chat::{special_strings, ChatTemplate, Message};

use crate::args::ModelArgs;

#[derive(Args, Debug)]
pub struct TemplateArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// An OpenAI-style messages file: `[{"role": "...", "content": "..."}, ...]`.
    #[arg(long)]
    pub messages: PathBuf,
    /// Use a built-in template (chatml, llama-2, llama-3, mistral, zephyr, gemma) instead of the
    /// model's.
    #[arg(long)]
    pub template: Option<String>,
    /// Print `{"text": ..., "token_ids": [...]}` instead of the text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: TemplateArgs) -> Result<()> {
    let p = a.model.load()?;
    let text = std::fs::read_to_string(&a.messages)
        .with_context(|| format!("cannot read {}", a.messages.display()))?;
    let messages: Vec<Message> = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a JSON array of messages", a.messages.display()))?;
    let tpl = template_for(&p, a.template.as_deref())?;
    // A conversation that ends with the user's turn is waiting for the assistant.
    let add_generation_prompt = messages.last().is_none_or(|m| m.role != "assistant");
    let specials = special_strings(&p.tokenizer);
    let prompt = tpl.encode(&p.tokenizer, &specials, &messages, add_generation_prompt)?;
    if a.json {
        println!(
            "{}",
            serde_json::json!({"text": prompt.text, "token_ids": prompt.ids})
        );
    } else {
        print!("{}", prompt.text);
    }
    Ok(())
}

/// The model's chat template, or a named preset.
pub fn template_for(p: &samtal_generation::Pipeline, preset: Option<&str>) -> Result<ChatTemplate> {
    let sp = p.tokenizer.special();
    match preset {
        Some(name) => Ok(ChatTemplate::preset(name)?),
        None => {
            let src = p
                .chat_template()
                .context("this model has no chat template; pass --template NAME")?;
            Ok(ChatTemplate::new(
                src,
                sp.bos_token.as_deref(),
                sp.eos_token.as_deref(),
            )?)
        }
    }
}
