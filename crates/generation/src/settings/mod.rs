//! The one table of generation settings: every sampling and length setting a user can change,
//! with its names, the values it takes, its help text and where it lives in
//! [`GenerateParams`]. Every face reads this table: `samtal generate` and `samtal chat` make
//! their flags from it, the REPL's `/set` takes its keys, and the server its request fields. So
//! adding a setting means adding a row here and nothing else.
//!
//! Values come in as [`Overrides`], all optional, that layer in this order (a later layer wins):
//! samtal's built-in defaults ([`GenerateParams::default`]), the model's own configuration
//! (generation_config.json or a GGUF's `general.sampling.*` keys), a known model's card, and
//! the user. Every layer goes through the same checks ([`Setting::check`]).
//!
//! Names: a setting has samtal's name (the `/set` key, and the CLI flag with `-` for `_`), the
//! name on the HTTP API (OpenAI's where OpenAI has the setting, llama.cpp server's otherwise)
//! and aliases accepted by both (llama.cpp's CLI names, vLLM's).

mod overrides;
mod value;

use crate::params::GenerateParams;

pub use overrides::Overrides;
pub use value::{Kind, Value};

/// One generation setting.
#[derive(Debug)]
pub struct Setting {
    /// samtal's name: the REPL's `/set` key; the CLI flag is this with `-` for `_`.
    pub name: &'static str,
    /// The request field on the HTTP API.
    pub http: &'static str,
    /// Other names the CLI (with `-` for `_`) and the HTTP API accept.
    pub aliases: &'static [&'static str],
    /// A one-letter CLI flag, if the setting has one.
    pub short: Option<char>,
    pub help: &'static str,
    pub kind: Kind,
    /// The setting's value in resolved parameters.
    pub get: fn(&GenerateParams) -> Value,
    /// Writes a value that [`Setting::check`] accepted.
    put: fn(&mut GenerateParams, Value),
}

impl Setting {
    /// Every name the setting answers to: samtal's, the HTTP one, then the aliases.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        [self.name, self.http]
            .into_iter()
            .chain(self.aliases.iter().copied())
    }

    /// The CLI flag, without the dashes.
    pub fn flag(&self) -> String {
        self.name.replace('_', "-")
    }
}

/// Finds a setting by any of its names (`-` and `_` alike).
pub fn find(name: &str) -> Option<&'static Setting> {
    let name = name.replace('-', "_");
    SETTINGS.iter().find(|s| s.names().any(|n| n == name))
}

/// The names of every setting, for messages that list them.
pub fn names() -> String {
    SETTINGS
        .iter()
        .map(|s| s.name)
        .collect::<Vec<_>>()
        .join(", ")
}

fn float(v: Value) -> f32 {
    match v {
        Value::Float(x) => x as f32,
        Value::Int(n) => n as f32,
        _ => 0.0,
    }
}

fn int(v: Value) -> usize {
    match v {
        Value::Int(n) => usize::try_from(n).unwrap_or(usize::MAX),
        _ => 0,
    }
}

/// The settings, in the order help lists them.
pub static SETTINGS: &[Setting] = &[
    Setting {
        name: "temperature",
        http: "temperature",
        aliases: &["temp"],
        help: "Sampling temperature; 0 means greedy",
        short: None,
        kind: Kind::Float {
            min: 0.0,
            max: 2.0,
            min_exclusive: false,
        },
        get: |p| Value::Float(p.sampling.temperature.into()),
        put: |p, v| p.sampling.temperature = float(v),
    },
    Setting {
        name: "top_k",
        http: "top_k",
        aliases: &[],
        help: "Keep the K most likely tokens; 0 disables",
        short: None,
        kind: Kind::Int {
            min: 0,
            max: 1_000_000,
        },
        get: |p| Value::Int(p.sampling.top_k as u64),
        put: |p, v| p.sampling.top_k = int(v),
    },
    Setting {
        name: "top_p",
        http: "top_p",
        aliases: &[],
        help: "Nucleus sampling: keep the smallest set of tokens whose probability reaches P; 1 disables",
        short: None,
        kind: Kind::Float {
            min: 0.0,
            max: 1.0,
            min_exclusive: true,
        },
        get: |p| Value::Float(p.sampling.top_p.into()),
        put: |p, v| p.sampling.top_p = float(v),
    },
    Setting {
        name: "min_p",
        http: "min_p",
        aliases: &[],
        help: "Drop tokens less likely than P times the most likely one; 0 disables",
        short: None,
        kind: Kind::Float {
            min: 0.0,
            max: 1.0,
            min_exclusive: false,
        },
        get: |p| Value::Float(p.sampling.min_p.into()),
        put: |p, v| p.sampling.min_p = float(v),
    },
    Setting {
        name: "typical_p",
        http: "typical_p",
        aliases: &["typical"],
        help: "Locally typical sampling (Meister et al., 2022); 1 disables",
        short: None,
        kind: Kind::Float {
            min: 0.0,
            max: 1.0,
            min_exclusive: true,
        },
        get: |p| Value::Float(p.sampling.typical_p.into()),
        put: |p, v| p.sampling.typical_p = float(v),
    },
    Setting {
        name: "repetition_penalty",
        http: "repeat_penalty",
        aliases: &[],
        help: "CTRL-style penalty on tokens already seen (Keskar et al., 2019); 1 disables",
        short: None,
        kind: Kind::Float {
            min: 0.01,
            max: 10.0,
            min_exclusive: false,
        },
        get: |p| Value::Float(p.sampling.repetition_penalty.into()),
        put: |p, v| p.sampling.repetition_penalty = float(v),
    },
    Setting {
        name: "penalty_window",
        http: "repeat_last_n",
        aliases: &[],
        help: "How many of the last tokens the penalties look at; 0 means all",
        short: None,
        kind: Kind::Int {
            min: 0,
            max: 1_000_000,
        },
        get: |p| Value::Int(p.sampling.penalty_window as u64),
        put: |p, v| p.sampling.penalty_window = int(v),
    },
    Setting {
        name: "frequency_penalty",
        http: "frequency_penalty",
        aliases: &[],
        help: "Subtracted from a token's logit once per earlier occurrence (OpenAI's)",
        short: None,
        kind: Kind::Float {
            min: -2.0,
            max: 2.0,
            min_exclusive: false,
        },
        get: |p| Value::Float(p.sampling.frequency_penalty.into()),
        put: |p, v| p.sampling.frequency_penalty = float(v),
    },
    Setting {
        name: "presence_penalty",
        http: "presence_penalty",
        aliases: &[],
        help: "Subtracted from a token's logit once if it occurred (OpenAI's)",
        short: None,
        kind: Kind::Float {
            min: -2.0,
            max: 2.0,
            min_exclusive: false,
        },
        get: |p| Value::Float(p.sampling.presence_penalty.into()),
        put: |p, v| p.sampling.presence_penalty = float(v),
    },
    Setting {
        name: "no_repeat_ngram_size",
        http: "no_repeat_ngram_size",
        aliases: &[],
        help: "Forbid repeating any n-gram of this many tokens; 0 disables",
        short: None,
        kind: Kind::Int { min: 0, max: 1024 },
        get: |p| Value::Int(p.sampling.no_repeat_ngram_size as u64),
        put: |p, v| p.sampling.no_repeat_ngram_size = int(v),
    },
    Setting {
        name: "logit_bias",
        http: "logit_bias",
        aliases: &[],
        help: "Added to the logits of the given token ids: TOKEN_ID=BIAS (repeatable)",
        short: None,
        kind: Kind::Bias {
            max_entries: 300,
            limit: 100.0,
        },
        get: |p| Value::Bias(p.sampling.logit_bias.clone()),
        put: |p, v| {
            if let Value::Bias(b) = v {
                p.sampling.logit_bias = b;
            }
        },
    },
    Setting {
        name: "stop",
        http: "stop",
        aliases: &[],
        help: "A stop string (repeatable); adds to the model's end-of-generation tokens",
        short: None,
        kind: Kind::Strings {
            max: 16,
            max_len: 256,
        },
        get: |p| Value::Strings(p.stop.clone()),
        put: |p, v| {
            if let Value::Strings(s) = v {
                p.stop = s;
            }
        },
    },
    Setting {
        name: "seed",
        http: "seed",
        aliases: &[],
        help: "Seed for sampling; \"random\" (or -1) takes one from the clock",
        short: None,
        kind: Kind::Seed,
        get: |p| Value::Seed(p.sampling.seed),
        put: |p, v| {
            if let Value::Seed(s) = v {
                p.sampling.seed = s;
            }
        },
    },
    Setting {
        name: "max_new_tokens",
        http: "max_tokens",
        aliases: &["max_completion_tokens", "n_predict"],
        help: "The most tokens to generate",
        short: Some('n'),
        kind: Kind::Int {
            min: 1,
            max: 1_000_000,
        },
        get: |p| Value::Int(p.max_new_tokens as u64),
        put: |p, v| p.max_new_tokens = int(v),
    },
];

/// Checks every setting of resolved parameters against the table, naming the first one off.
pub(crate) fn check_all(p: &GenerateParams) -> crate::Result<()> {
    for s in SETTINGS {
        s.check((s.get)(p))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
