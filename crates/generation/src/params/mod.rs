//! Generation parameters, validated before use, and the defaults a model's
//! generation_config.json sets.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::settings::{Overrides, Value};
use crate::{Error, Result};

/// How the next token is chosen. `temperature == 0` means greedy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SamplingParams {
    pub temperature: f32,
    /// Keep the `k` most likely tokens; 0 disables.
    pub top_k: usize,
    /// Nucleus sampling: keep the smallest set whose probability reaches `top_p`; 1 disables.
    pub top_p: f32,
    /// Drop tokens less likely than `min_p` times the most likely one; 0 disables.
    pub min_p: f32,
    /// Locally typical sampling (Meister et al., 2022); 1 disables.
    pub typical_p: f32,
    /// CTRL-style penalty on tokens already seen (Keskar et al., 2019); 1 disables.
    pub repetition_penalty: f32,
    /// How many of the last tokens the repetition, frequency and presence penalties look at;
    /// 0 means all of them (prompt included).
    pub penalty_window: usize,
    /// OpenAI's frequency penalty: subtracted once per previous occurrence.
    pub frequency_penalty: f32,
    /// OpenAI's presence penalty: subtracted once if the token occurred.
    pub presence_penalty: f32,
    /// Forbid repeating any n-gram of this size; 0 disables.
    pub no_repeat_ngram_size: usize,
    /// Added to the logits of the given token ids.
    pub logit_bias: BTreeMap<u32, f32>,
    /// Seed for sampling; `None` takes one from the clock (and reports it).
    pub seed: Option<u64>,
}

/// The defaults users of llama.cpp and Ollama expect: mild sampling, a light repetition penalty
/// over the last 64 tokens (small models loop without one).
impl Default for SamplingParams {
    fn default() -> Self {
        Self {
            temperature: 0.8,
            top_k: 40,
            top_p: 0.95,
            min_p: 0.05,
            typical_p: 1.0,
            repetition_penalty: 1.1,
            penalty_window: 64,
            frequency_penalty: 0.0,
            presence_penalty: 0.0,
            no_repeat_ngram_size: 0,
            logit_bias: BTreeMap::new(),
            seed: None,
        }
    }
}

impl SamplingParams {
    /// Plain greedy decoding with no processors: what transformers does with `do_sample=False`
    /// and no penalties.
    pub fn greedy() -> Self {
        Self {
            temperature: 0.0,
            top_k: 0,
            top_p: 1.0,
            min_p: 0.0,
            repetition_penalty: 1.0,
            ..Self::default()
        }
    }

    pub fn is_greedy(&self) -> bool {
        self.temperature == 0.0
    }
}

/// Everything one generation call needs besides the prompt.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GenerateParams {
    pub sampling: SamplingParams,
    pub max_new_tokens: usize,
    /// Stop strings: generation ends when the text contains one; it is not part of the output.
    /// They add to the model's end-of-generation tokens, never replace them.
    pub stop: Vec<String>,
    /// Extra token ids that end generation, on top of the model's set.
    pub stop_token_ids: Vec<u32>,
    /// Report the log-probability of each chosen token.
    pub logprobs: bool,
    /// With `logprobs`, also report this many most likely tokens at each step (at most
    /// [`MAX_TOP_LOGPROBS`]).
    pub top_logprobs: usize,
    /// End generation (finish reason "loop") once the answer repeats itself; off by default, as
    /// raw continuations may legitimately repeat. Chat turns switch it on.
    pub loop_guard: Option<LoopGuard>,
    /// End generation (finish reason "length") once the emitted text holds this many characters
    /// (Unicode scalar values); the text is cut there.
    pub max_chars: Option<usize>,
}

impl Default for GenerateParams {
    fn default() -> Self {
        Self {
            sampling: SamplingParams::default(),
            max_new_tokens: 256,
            stop: Vec::new(),
            stop_token_ids: Vec::new(),
            logprobs: false,
            top_logprobs: 0,
            loop_guard: None,
            max_chars: None,
        }
    }
}

/// The most alternatives [`GenerateParams::top_logprobs`] may ask for (OpenAI's limit).
pub const MAX_TOP_LOGPROBS: usize = 20;

/// An n-gram loop detector over the generated tokens.
///
/// It fires when the last `max(min_tokens, period * min_repeats)` generated tokens are periodic
/// with some period `1 ..= max_period`: each token equals the one `period` places before it.
/// With the defaults (16, 3, 24) that is a phrase of up to 8 tokens seen 3+ times in a row over
/// 24 tokens, a 16-token sentence seen 3 times (48 tokens), or one token 24 times. Requiring
/// 24 tokens keeps short legitimate repetition ("no, no, no", a row of dashes in a table) from
/// firing; a loop longer than 16 tokens per cycle is left to the token and character limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LoopGuard {
    /// Longest cycle looked for, in tokens.
    pub max_period: usize,
    /// How many times a cycle must occur back to back.
    pub min_repeats: usize,
    /// The fewest trailing tokens that must be periodic, whatever the period.
    pub min_tokens: usize,
}

impl Default for LoopGuard {
    fn default() -> Self {
        Self {
            max_period: 16,
            min_repeats: 3,
            min_tokens: 24,
        }
    }
}

/// Bounds on [`LoopGuard`]: the check runs after every token and costs at most
/// `max_period * max(min_tokens, max_period * min_repeats)` comparisons.
const MAX_LOOP_PERIOD: usize = 256;
const MAX_LOOP_SPAN: usize = 4096;

impl LoopGuard {
    /// The period of the loop `generated` ends in, if it ends in one (the shortest such period).
    pub fn detect(&self, generated: &[u32]) -> Option<usize> {
        (1..=self.max_period).find(|&period| {
            let span = self.span(period);
            generated.len() >= span && {
                let tail = &generated[generated.len() - span..];
                (period..span).all(|i| tail[i] == tail[i - period])
            }
        })
    }

    /// How many trailing tokens must repeat with `period`.
    fn span(&self, period: usize) -> usize {
        period.saturating_mul(self.min_repeats).max(self.min_tokens)
    }

    pub fn validate(&self) -> Result<()> {
        let bad = |message: String| {
            Err(Error::InvalidParameter {
                name: "loop_guard",
                message,
            })
        };
        if !(1..=MAX_LOOP_PERIOD).contains(&self.max_period) {
            return bad(format!(
                "max_period {} must be in 1..={MAX_LOOP_PERIOD}",
                self.max_period
            ));
        }
        if self.min_repeats < 2 {
            return bad(format!(
                "min_repeats {} must be at least 2",
                self.min_repeats
            ));
        }
        if self.span(self.max_period) > MAX_LOOP_SPAN {
            return bad(format!(
                "max(min_tokens, max_period * min_repeats) must be at most {MAX_LOOP_SPAN}"
            ));
        }
        Ok(())
    }
}

impl GenerateParams {
    /// Checks every setting against the settings table (see [`crate::settings`]), then what
    /// the table cannot know: token ids against the vocabulary, the loop guard, the logprob
    /// and character limits.
    pub fn validate(&self, vocab_size: usize) -> Result<()> {
        crate::settings::check_all(self)?;
        if let Some(g) = &self.loop_guard {
            g.validate()?;
        }
        if self.top_logprobs > MAX_TOP_LOGPROBS {
            return Err(Error::InvalidParameter {
                name: "top_logprobs",
                message: format!("{} is more than {MAX_TOP_LOGPROBS}", self.top_logprobs),
            });
        }
        if self.max_chars == Some(0) {
            return Err(Error::InvalidParameter {
                name: "max_chars",
                message: "0; the character limit must be at least 1".into(),
            });
        }
        let out_of_range = |id: &u32| *id as usize >= vocab_size;
        if let Some(id) = self.sampling.logit_bias.keys().find(|id| out_of_range(id)) {
            return Err(Error::InvalidParameter {
                name: "logit_bias",
                message: format!("token {id} is outside the vocabulary of {vocab_size}"),
            });
        }
        if let Some(id) = self.stop_token_ids.iter().find(|id| out_of_range(id)) {
            return Err(Error::InvalidParameter {
                name: "stop_token_ids",
                message: format!("token {id} is outside the vocabulary of {vocab_size}"),
            });
        }
        Ok(())
    }
}

/// The subset of Hugging Face's generation_config.json samtal uses.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GenerationConfig {
    pub eos_token_ids: Vec<u32>,
    pub do_sample: Option<bool>,
    pub temperature: Option<f32>,
    pub top_k: Option<usize>,
    pub top_p: Option<f32>,
    pub min_p: Option<f32>,
    pub typical_p: Option<f32>,
    pub repetition_penalty: Option<f32>,
    /// How many of the last tokens the repetition penalty looks at (0: all).
    pub penalty_window: Option<usize>,
    pub no_repeat_ngram_size: Option<usize>,
    pub max_new_tokens: Option<usize>,
}

impl GenerationConfig {
    /// Reads `generation_config.json`; a missing file gives the empty config.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => {
                return Err(Error::Io {
                    path: path.to_path_buf(),
                    source: e,
                })
            }
        };
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| Error::Config {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let f = |k: &str| {
            v.get(k)
                .and_then(serde_json::Value::as_f64)
                .map(|x| x as f32)
        };
        let u = |k: &str| {
            v.get(k)
                .and_then(serde_json::Value::as_u64)
                .map(|x| x as usize)
        };
        let eos_token_ids = match v.get("eos_token_id") {
            Some(serde_json::Value::Number(n)) => {
                n.as_u64().map(|x| x as u32).into_iter().collect()
            }
            Some(serde_json::Value::Array(a)) => a
                .iter()
                .filter_map(serde_json::Value::as_u64)
                .map(|x| x as u32)
                .collect(),
            _ => Vec::new(),
        };
        Ok(Self {
            eos_token_ids,
            do_sample: v.get("do_sample").and_then(serde_json::Value::as_bool),
            temperature: f("temperature"),
            top_k: u("top_k"),
            top_p: f("top_p"),
            min_p: f("min_p"),
            typical_p: f("typical_p"),
            repetition_penalty: f("repetition_penalty"),
            penalty_window: None,
            no_repeat_ngram_size: u("no_repeat_ngram_size"),
            max_new_tokens: u("max_new_tokens"),
        })
    }

    /// The sampling settings a GGUF file recommends in llama.cpp's `general.sampling.*` keys
    /// (llama.cpp seeds its sampler defaults from them). A temperature of 0 means greedy; keys
    /// that are absent keep samtal's defaults, and a key of the wrong type is an error that
    /// names it.
    pub fn from_gguf(meta: &samtal_gguf::Metadata) -> Result<Self> {
        const PREFIX: &str = "general.sampling.";
        let num = |k: &str| -> Result<Option<f64>> {
            meta.f64(&format!("{PREFIX}{k}"))
                .map_err(|e| Error::InvalidParameter {
                    name: "general.sampling",
                    message: e.to_string(),
                })
        };
        let temperature = num("temp")?.map(|x| x as f32);
        let top_k = num("top_k")?;
        let top_p = num("top_p")?.map(|x| x as f32);
        let min_p = num("min_p")?.map(|x| x as f32);
        let repetition_penalty = num("penalty_repeat")?.map(|x| x as f32);
        // llama.cpp: -1 means the whole context, which is samtal's 0.
        let last_n = num("penalty_last_n")?;
        let any = [
            temperature.is_some(),
            top_k.is_some(),
            top_p.is_some(),
            min_p.is_some(),
        ]
        .contains(&true);
        let do_sample = match temperature {
            Some(t) => Some(t > 0.0),
            None if any => Some(true),
            None => None,
        };
        Ok(Self {
            do_sample,
            temperature: temperature.or(any.then(|| SamplingParams::default().temperature)),
            // llama.cpp: top_k <= 0 disables it, as samtal's 0 does.
            top_k: top_k.map(|k| k.max(0.0) as usize),
            top_p,
            min_p,
            repetition_penalty,
            penalty_window: last_n.map(|n| if n < 0.0 { 0 } else { n as usize }),
            ..Self::default()
        })
    }

    /// What the model's authors set, as a layer of [`Overrides`] over samtal's defaults. As in
    /// transformers, `do_sample: false` means greedy, and sampling settings apply when it is
    /// true. A value outside a setting's range is an error that names the setting.
    pub fn overrides(&self) -> Result<Overrides> {
        let mut o = Overrides::default();
        let float = |o: &mut Overrides, name: &str, v: Option<f32>| match v {
            Some(x) => o.set(name, Value::Float(x.into())),
            None => Ok(()),
        };
        if self.do_sample == Some(false) {
            let g = SamplingParams::greedy();
            float(&mut o, "temperature", Some(g.temperature))?;
            o.set("top_k", Value::Int(g.top_k as u64))?;
            float(&mut o, "top_p", Some(g.top_p))?;
            float(&mut o, "min_p", Some(g.min_p))?;
            float(&mut o, "repetition_penalty", Some(g.repetition_penalty))?;
        }
        if self.do_sample == Some(true) {
            float(&mut o, "temperature", Some(self.temperature.unwrap_or(1.0)))?;
            if let Some(k) = self.top_k {
                o.set("top_k", Value::Int(k as u64))?;
            }
            float(&mut o, "top_p", self.top_p)?;
            float(&mut o, "min_p", self.min_p)?;
            float(&mut o, "typical_p", self.typical_p)?;
        }
        float(&mut o, "repetition_penalty", self.repetition_penalty)?;
        for (name, v) in [
            ("penalty_window", self.penalty_window),
            ("no_repeat_ngram_size", self.no_repeat_ngram_size),
            ("max_new_tokens", self.max_new_tokens),
        ] {
            if let Some(n) = v {
                o.set(name, Value::Int(n as u64))?;
            }
        }
        Ok(o)
    }

    /// samtal's defaults with [`GenerationConfig::overrides`] applied.
    pub fn defaults(&self) -> Result<GenerateParams> {
        Ok(self.overrides()?.apply(&GenerateParams::default()))
    }
}

#[cfg(test)]
mod tests;
