//! `samtal generate`.

use std::io::Write;

use anyhow::{bail, Context, Result};
use clap::Args;
use samtal_chat::{special_strings, Message};
use samtal_generation::settings::Kind;
use samtal_generation::{Controls, Grammar, Overrides, Pipeline, PrefixCache, SETTINGS};
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
    pub settings: SettingsArgs,
    #[command(flatten)]
    pub grammar: GrammarArgs,
    /// Print one JSON object with ids, text, finish reason and timings instead of streaming.
    #[arg(long)]
    pub json: bool,
    pub prompt: String,
}

/// The generation settings as flags, one per row of the settings table
/// ([`samtal_generation::settings`]): `--NAME` with `-` for `_`, the HTTP name and the aliases
/// as visible aliases. Anything not given keeps the model's default.
#[derive(Debug, Default, Clone)]
pub struct SettingsArgs {
    /// The values given, by setting name, in table order.
    given: Vec<(&'static str, Vec<String>)>,
}

impl clap::FromArgMatches for SettingsArgs {
    fn from_arg_matches(m: &clap::ArgMatches) -> std::result::Result<Self, clap::Error> {
        let mut s = Self::default();
        s.update_from_arg_matches(m)?;
        Ok(s)
    }

    fn update_from_arg_matches(
        &mut self,
        m: &clap::ArgMatches,
    ) -> std::result::Result<(), clap::Error> {
        for setting in SETTINGS {
            if let Some(values) = m.get_many::<String>(setting.name) {
                self.given.retain(|(n, _)| *n != setting.name);
                self.given.push((setting.name, values.cloned().collect()));
            }
        }
        Ok(())
    }
}

impl Args for SettingsArgs {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        SETTINGS.iter().fold(cmd, |cmd, s| {
            let list = matches!(s.kind, Kind::Bias { .. } | Kind::Strings { .. });
            let mut arg = clap::Arg::new(s.name)
                .long(s.flag())
                .help(s.help)
                .value_name(match s.kind {
                    Kind::Bias { .. } => "TOKEN_ID=BIAS",
                    Kind::Strings { .. } => "TEXT",
                    _ => "N",
                })
                .allow_negative_numbers(true)
                .action(if list {
                    clap::ArgAction::Append
                } else {
                    clap::ArgAction::Set
                });
            for alias in s.names().skip(1) {
                if alias != s.name {
                    arg = arg.visible_alias(alias.replace('_', "-"));
                }
            }
            if let Some(c) = s.short {
                arg = arg.short(c);
            }
            cmd.arg(arg)
        })
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

impl SettingsArgs {
    /// The flags as the user's layer of settings, each value checked.
    pub fn overrides(&self) -> std::result::Result<Overrides, samtal_generation::Error> {
        let mut o = Overrides::default();
        for (name, values) in &self.given {
            let texts: Vec<&str> = values.iter().map(String::as_str).collect();
            o.set_text(name, &texts)?;
        }
        Ok(o)
    }
}

/// A grammar the output must match: structured output.
#[derive(Args, Debug, Default, Clone)]
#[group(multiple = false)]
pub struct GrammarArgs {
    /// The output is JSON valid under this JSON Schema (a file).
    #[arg(long, value_name = "FILE")]
    pub json_schema: Option<std::path::PathBuf>,
    /// The output matches this regular expression (the whole of it).
    #[arg(long, value_name = "RE")]
    pub regex: Option<String>,
    /// The output matches this Lark grammar (a file, llguidance's dialect).
    #[arg(long, value_name = "FILE.lark")]
    pub grammar: Option<std::path::PathBuf>,
}

impl GrammarArgs {
    /// The grammar the flags name, with its file read and, for a schema, parsed.
    pub fn grammar(&self) -> Result<Option<Grammar>> {
        let read = |p: &std::path::Path| {
            std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))
        };
        Ok(match (&self.json_schema, &self.regex, &self.grammar) {
            (Some(p), _, _) => {
                let schema = serde_json::from_str(&read(p)?)
                    .with_context(|| format!("{} is not JSON", p.display()))?;
                Some(Grammar::JsonSchema(schema))
            }
            (_, Some(rx), _) => Some(Grammar::Regex(rx.clone())),
            (_, _, Some(p)) => Some(Grammar::Lark(read(p)?)),
            _ => None,
        })
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
    let params = a.settings.overrides()?.apply(&p.defaults);
    let ids = prompt_ids(&p, a.raw, a.system.as_deref(), &a.prompt)?;
    if ids.is_empty() {
        bail!("the prompt is empty");
    }
    let mut constraint = match a.grammar.grammar()? {
        Some(g) => Some(p.grammars()?.compile(&g)?),
        None => None,
    };
    let mut cache = PrefixCache::new(p.model.lm().as_ref());
    let controls = Controls {
        constraint: constraint.as_mut(),
        ..Controls::default()
    };
    let mut stdout = std::io::stdout().lock();
    let json = a.json;
    let mut write_err = None;
    let out = p
        .generator()
        .generate(&mut cache, &ids, &params, controls, &mut |ev| {
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
                "constraint_us": t.constraint_us,
            },
        });
        writeln!(stdout, "{obj}")?;
    } else {
        writeln!(stdout)?;
    }
    Ok(())
}
