//! `samtal`: run open language models locally.

mod args;
mod bench;
mod chat;
mod embed;
mod generate;
mod guard;
mod history;
mod inspect;
mod serve;
mod template;

use std::io::Write;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use args::ModelArgs;

#[derive(Parser, Debug)]
#[command(
    name = "samtal",
    version,
    about = "A local-first chatbot engine: run open language models on your own machine."
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Generate a continuation or, on a chat model, an answer to PROMPT.
    Generate(generate::GenerateArgs),
    /// One vector per text from a sentence-embedding model (texts as arguments or stdin lines).
    Embed(embed::EmbedArgs),
    /// Chat with a model: one message per line on stdin when it is not a terminal.
    Chat(chat::ChatArgs),
    /// Score texts for prompt injection; evaluate or train the detector.
    #[command(subcommand)]
    Guard(guard::GuardCmd),
    /// List, show, export or delete saved conversations.
    History(history::HistoryArgs),
    /// Print the token ids of TEXT as a JSON array.
    Tokenize {
        #[command(flatten)]
        model: ModelArgs,
        /// Recognise special-token strings such as <|im_start|> in TEXT.
        #[arg(long)]
        parse_special: bool,
        text: String,
    },
    /// Teacher-forced perplexity of a text file.
    Perplexity {
        #[command(flatten)]
        model: ModelArgs,
        #[arg(long)]
        json: bool,
        file: std::path::PathBuf,
    },
    /// Fetch a model into the cache directory: a known name (default: the default model), a
    /// known encoder (minilm), or a hub model, hf.co/OWNER/REPO or hf.co/OWNER/REPO:QUANT (a
    /// GGUF repo's file of that quant, default Q4_K_M; or a safetensors repo), resumable and
    /// checked.
    Pull { name: Option<String> },
    /// The models in the cache directory, by the names --model takes.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove a model from the cache directory (a name `samtal list` shows; hf.co/OWNER/REPO
    /// removes everything cached of the repo).
    Rm { name: String },
    /// Serve the OpenAI-compatible API and the web chat page.
    Serve(serve::ServeArgs),
    /// Print the prompt a messages file renders to with the chat template.
    Template(template::TemplateArgs),
    /// Time prompt processing and decoding (llama-bench style).
    Bench(bench::BenchArgs),
    /// Describe a model: architecture, parameters, tensor types, tokenizer, special tokens.
    Inspect {
        /// A GGUF file, a Hugging Face folder or a known model name.
        model: String,
        #[arg(long)]
        json: bool,
    },
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        // One line per cause, no backtrace: bad input is a message, not a crash.
        let mut msg = format!("error: {e}");
        for cause in e.chain().skip(1) {
            msg.push_str(&format!(": {cause}"));
        }
        eprintln!("{msg}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Cmd::Generate(a) => generate::run(a),
        Cmd::Embed(a) => embed::run(a),
        Cmd::Chat(a) => chat::run(a),
        Cmd::History(c) => history::run(c),
        Cmd::Guard(c) => guard::run(c),
        Cmd::Tokenize {
            model,
            parse_special,
            text,
        } => {
            let p = model.load()?;
            let ids = p.tokenizer.encode(
                &text,
                samtal_tokenizer::Encode {
                    add_special_tokens: true,
                    parse_special,
                },
            )?;
            println!("{}", serde_json::to_string(&ids)?);
            Ok(())
        }
        Cmd::Perplexity { model, json, file } => {
            let p = model.load()?;
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let ids = p
                .tokenizer
                .encode(&text, samtal_tokenizer::Encode::default())?;
            let window = p.model.config().max_positions;
            let r = samtal_generation::perplexity(p.model.lm().as_ref(), &ids, window)?;
            if json {
                println!("{}", serde_json::json!({"tokens": r.tokens, "ppl": r.ppl}));
            } else {
                println!(
                    "{} tokens, {} scored, perplexity {:.4}",
                    r.tokens, r.scored, r.ppl
                );
            }
            Ok(())
        }
        Cmd::List { json } => {
            let all = samtal_models::list::cached()?;
            if json {
                println!("{}", serde_json::to_string(&all)?);
            } else if all.is_empty() {
                eprintln!("no models in {}", samtal_models::models_dir()?.display());
            } else {
                for c in &all {
                    println!(
                        "{:<48} {:>9.1} MB  {}",
                        c.name,
                        c.bytes as f64 / 1e6,
                        c.path.display()
                    );
                }
            }
            Ok(())
        }
        Cmd::Rm { name } => {
            for p in samtal_models::list::remove(&name)? {
                println!("removed {}", p.display());
            }
            Ok(())
        }
        Cmd::Pull { name } => {
            if let Some(r) = name.as_deref().and_then(samtal_models::hub::HubRef::parse) {
                let path = samtal_models::hub::pull(&r?, false)?;
                println!("{}", path.display());
                return Ok(());
            }
            if let Some(dir) = name.as_deref().and_then(|n| {
                samtal_models::ENCODERS
                    .iter()
                    .find(|k| k.name == n.to_ascii_lowercase() || k.aliases.contains(&n))
            }) {
                let dir = samtal_models::encoder::pull(dir, false)?;
                println!("{}", dir.display());
                return Ok(());
            }
            let k = match name.as_deref() {
                None => samtal_models::DEFAULT,
                Some(n) => samtal_models::find(n).with_context(|| {
                    let names: Vec<&str> = samtal_models::KNOWN.iter().map(|k| k.name).collect();
                    format!("unknown model {n:?}; known: {}", names.join(", "))
                })?,
            };
            let path = samtal_models::pull(k, false)?;
            // Loading once repacks the weights for 8-bit products and keeps them in the cache,
            // so the first chat starts as fast as later ones.
            let opts = samtal_engine::LoadOptions {
                pack_cache: args::pack_cache_dir(),
                ..samtal_engine::LoadOptions::default()
            };
            if let Err(e) = samtal_engine::Model::load(&path, &opts) {
                eprintln!("warning: {} does not load: {e}", path.display());
            }
            let mut out = std::io::stdout();
            writeln!(out, "{}", path.display())?;
            Ok(())
        }
        Cmd::Inspect { model, json } => inspect::run(&model, json),
        Cmd::Bench(a) => bench::run(a),
        Cmd::Template(a) => template::run(a),
        Cmd::Serve(a) => serve::run(a),
    }
}
