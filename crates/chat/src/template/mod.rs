//! Chat templates compiled once with minijinja and rendered like transformers renders them.

mod encode;
mod presets;
mod pyjson;
mod strftime;

use std::borrow::Cow;
use std::fmt;

use minijinja::value::{Kwargs, Value};
use minijinja::{context, Environment, ErrorKind, UndefinedBehavior};
use serde::Serialize;

use crate::{Error, Message, Result};

pub use encode::{special_strings, Prompt};
pub use presets::PRESET_NAMES;

/// The name the template is stored under inside its environment.
const NAME: &str = "chat_template";

/// A compiled chat template plus the special-token strings it may use.
///
/// Rendering uses transformers' Jinja setup (`ImmutableSandboxedEnvironment(trim_blocks=True,
/// lstrip_blocks=True, extensions=[loopcontrols])`, trailing newline dropped) and passes
/// `messages`, `add_generation_prompt`, `bos_token`, `eos_token`, and `tools`/`documents` as none,
/// as `apply_chat_template` does.
#[derive(Clone)]
pub struct ChatTemplate {
    env: Environment<'static>,
    source: String,
    bos_token: String,
    eos_token: String,
}

impl fmt::Debug for ChatTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatTemplate")
            .field("source_len", &self.source.len())
            .field("bos_token", &self.bos_token)
            .field("eos_token", &self.eos_token)
            .finish_non_exhaustive()
    }
}

/// What `raise_exception` raised, kept as the error's source so that rendering can report the
/// template's own message rather than minijinja's wrapping of it.
#[derive(Debug)]
struct Raised(String);

impl fmt::Display for Raised {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Raised {}

fn raise_exception(message: String) -> std::result::Result<Value, minijinja::Error> {
    Err(
        minijinja::Error::new(ErrorKind::InvalidOperation, message.clone())
            .with_source(Raised(message)),
    )
}

fn strftime_now(format: String) -> String {
    strftime::format_now(&format)
}

/// transformers' `tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)`,
/// which replaces Jinja's HTML-escaping one.
fn tojson(
    value: &Value,
    ensure_ascii: Option<bool>,
    kwargs: Kwargs,
) -> std::result::Result<String, minijinja::Error> {
    let ensure_ascii = match ensure_ascii {
        Some(v) => v,
        None => kwargs.get::<Option<bool>>("ensure_ascii")?.unwrap_or(false),
    };
    let opts = pyjson::Options {
        ensure_ascii,
        indent: kwargs.get::<Option<Value>>("indent")?,
        separators: kwargs.get::<Option<Value>>("separators")?,
        sort_keys: kwargs.get::<Option<bool>>("sort_keys")?.unwrap_or(false),
    };
    kwargs.assert_all_used()?;
    pyjson::dumps(value, &opts)
}

/// transformers' `AssistantTracker` extension adds `{% generation %}…{% endgeneration %}`, which
/// only marks assistant text for training masks and renders its body unchanged. minijinja does
/// not know the tag, so it becomes an always-true `if`, which keeps the whitespace control.
fn rewrite_generation_tags(source: &str) -> Cow<'_, str> {
    if !source.contains("generation") {
        return Cow::Borrowed(source);
    }
    let mut out = String::with_capacity(source.len());
    let mut rest = source;
    while let Some(start) = rest.find("{%") {
        out.push_str(&rest[..start]);
        let tag = &rest[start..];
        let Some(end) = tag.find("%}") else {
            break;
        };
        let inner = &tag[2..end];
        let lead = inner.len() - inner.trim_start_matches(['-', '+']).len();
        let trail = inner.len() - inner.trim_end_matches(['-', '+']).len();
        let body = inner
            .get(lead..inner.len() - trail)
            .map(str::trim)
            .unwrap_or("");
        let replacement = match body {
            "generation" => Some("if true"),
            "endgeneration" => Some("endif"),
            _ => None,
        };
        match replacement {
            Some(r) => {
                out.push_str("{%");
                out.push_str(&inner[..lead]);
                out.push(' ');
                out.push_str(r);
                out.push(' ');
                out.push_str(&inner[inner.len() - trail..]);
                out.push_str("%}");
            }
            None => out.push_str(&tag[..end + 2]),
        }
        rest = &tag[end + 2..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

impl ChatTemplate {
    /// Compiles `source`. `bos_token`/`eos_token` are the strings the template sees as
    /// `bos_token`/`eos_token`; a missing one renders as the empty string (transformers would
    /// leave it undefined, which fails on `bos_token + ...`).
    pub fn new(source: &str, bos_token: Option<&str>, eos_token: Option<&str>) -> Result<Self> {
        let mut env = Environment::new();
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_keep_trailing_newline(false);
        env.set_undefined_behavior(UndefinedBehavior::Lenient);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_function("raise_exception", raise_exception);
        env.add_function("strftime_now", strftime_now);
        env.add_filter("tojson", tojson);
        env.add_template_owned(NAME, rewrite_generation_tags(source).into_owned())
            .map_err(Error::TemplateSyntax)?;
        Ok(Self {
            env,
            source: source.to_owned(),
            bos_token: bos_token.unwrap_or_default().to_owned(),
            eos_token: eos_token.unwrap_or_default().to_owned(),
        })
    }

    /// A built-in template by name (see [`PRESET_NAMES`]: chatml, llama-2, llama-3, mistral,
    /// zephyr, gemma), with its model family's BOS/EOS strings.
    pub fn preset(name: &str) -> Result<Self> {
        let p = presets::find(name).ok_or_else(|| Error::UnknownPreset {
            name: name.to_owned(),
            known: PRESET_NAMES.join(", "),
        })?;
        Self::new(p.source, p.bos_token, p.eos_token)
    }

    /// The source of a built-in template, to pair with other BOS/EOS strings via [`Self::new`].
    pub fn preset_source(name: &str) -> Option<&'static str> {
        presets::find(name).map(|p| p.source)
    }

    /// The template text as given.
    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn bos_token(&self) -> &str {
        &self.bos_token
    }

    pub fn eos_token(&self) -> &str {
        &self.eos_token
    }

    /// Renders the conversation; `add_generation_prompt` appends the opening of an assistant turn.
    pub fn render(&self, messages: &[Message], add_generation_prompt: bool) -> Result<String> {
        self.render_with(messages, add_generation_prompt, ())
    }

    /// Renders with extra template variables (a serializable map such as
    /// `{"date_string": "26 Jul 2024"}`), which may also override the standard ones, as keyword
    /// arguments to transformers' `apply_chat_template` do. `()` adds nothing.
    pub fn render_with(
        &self,
        messages: &[Message],
        add_generation_prompt: bool,
        extra: impl Serialize,
    ) -> Result<String> {
        let extra = Value::from_serialize(&extra);
        if !(extra.is_none() || extra.is_undefined() || extra.as_object().is_some()) {
            return Err(Error::BadContext(extra.kind().to_string()));
        }
        let ctx = context! {
            messages => Value::from_serialize(messages),
            add_generation_prompt => add_generation_prompt,
            bos_token => self.bos_token.as_str(),
            eos_token => self.eos_token.as_str(),
            tools => Value::from(()),
            documents => Value::from(()),
        };
        let ctx = if extra.as_object().is_some() {
            context! { ..extra, ..ctx }
        } else {
            ctx
        };
        let template = self.env.get_template(NAME).map_err(Error::TemplateSyntax)?;
        template.render(ctx).map_err(template_error)
    }
}

/// The template's own `raise_exception` message when there is one, minijinja's description
/// (with the template line) otherwise.
fn template_error(source: minijinja::Error) -> Error {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&source);
    let mut message = None;
    while let Some(e) = cause {
        if let Some(raised) = e.downcast_ref::<Raised>() {
            message = Some(raised.0.clone());
            break;
        }
        cause = e.source();
    }
    let message = message.unwrap_or_else(|| source.to_string());
    Error::Template { message, source }
}

#[cfg(test)]
mod tests;
