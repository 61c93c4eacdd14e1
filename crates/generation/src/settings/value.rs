//! The values a setting takes, how they are read from text (CLI flags, `/set`) and from JSON (a
//! request body), and the one check each kind of value goes through.

use std::collections::BTreeMap;

use super::Setting;
use crate::{Error, Result};

/// What values a setting takes.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Kind {
    /// A number in `[min, max]`, or `(min, max]` when `min_exclusive`.
    Float {
        min: f64,
        max: f64,
        min_exclusive: bool,
    },
    /// A whole number in `[min, max]`.
    Int { min: u64, max: u64 },
    /// A seed, or none (a fresh one from the clock): `random` or -1 in text, null or -1 in JSON.
    Seed,
    /// Token id → bias: at most `max_entries`, each bias in `[-limit, limit]`.
    Bias { max_entries: usize, limit: f64 },
    /// A list of strings: at most `max`, each of 1 to `max_len` bytes.
    Strings { max: usize, max_len: usize },
}

/// A setting's value.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Value {
    Float(f64),
    Int(u64),
    Seed(Option<u64>),
    Bias(BTreeMap<u32, f32>),
    Strings(Vec<String>),
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Float(x) => write!(f, "{x}"),
            Value::Int(n) => write!(f, "{n}"),
            Value::Seed(Some(s)) => write!(f, "{s}"),
            Value::Seed(None) => f.write_str("random"),
            Value::Bias(b) => {
                let parts: Vec<String> = b.iter().map(|(id, v)| format!("{id}={v}")).collect();
                f.write_str(&parts.join(","))
            }
            Value::Strings(s) => write!(f, "{s:?}"),
        }
    }
}

impl Value {
    /// The value as JSON, as the HTTP API writes it.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Value::Float(x) => json!(x),
            Value::Int(n) => json!(n),
            Value::Seed(s) => json!(s),
            Value::Bias(b) => {
                let m: serde_json::Map<String, serde_json::Value> =
                    b.iter().map(|(id, v)| (id.to_string(), json!(v))).collect();
                serde_json::Value::Object(m)
            }
            Value::Strings(s) => json!(s),
        }
    }
}

impl Setting {
    fn bad(&self, message: String) -> Error {
        Error::InvalidParameter {
            name: self.name,
            message,
        }
    }

    /// Whether `v` is a value this setting takes; the error names the setting and says what it
    /// takes. Every face and every layer of defaults goes through this one check.
    pub fn check(&self, v: Value) -> Result<Value> {
        match (self.kind, &v) {
            (
                Kind::Float {
                    min,
                    max,
                    min_exclusive,
                },
                &Value::Float(x),
            ) => {
                let low_ok = if min_exclusive { x > min } else { x >= min };
                if !(x.is_finite() && low_ok && x <= max) {
                    let open = if min_exclusive { '(' } else { '[' };
                    return Err(self.bad(format!("{x} is not in {open}{min}, {max}]")));
                }
            }
            (Kind::Float { .. }, &Value::Int(n)) => return self.check(Value::Float(n as f64)),
            (Kind::Int { min, max }, &Value::Int(n)) => {
                if !(min..=max).contains(&n) {
                    return Err(self.bad(format!("{n} is not in [{min}, {max}]")));
                }
            }
            (Kind::Seed, Value::Seed(_)) => {}
            (Kind::Bias { max_entries, limit }, Value::Bias(b)) => {
                if b.len() > max_entries {
                    return Err(self.bad(format!("{} entries; at most {max_entries}", b.len())));
                }
                if let Some((id, x)) = b
                    .iter()
                    .find(|(_, x)| !(x.is_finite() && f64::from(x.abs()) <= limit))
                {
                    return Err(self.bad(format!(
                        "bias {x} for token {id} is not in [-{limit}, {limit}]"
                    )));
                }
            }
            (Kind::Strings { max, max_len }, Value::Strings(s)) => {
                if s.len() > max {
                    return Err(self.bad(format!("{} strings; at most {max}", s.len())));
                }
                if let Some(x) = s.iter().find(|x| x.is_empty() || x.len() > max_len) {
                    return Err(self.bad(format!(
                        "a string of {} bytes; each must have 1 to {max_len}",
                        x.len()
                    )));
                }
            }
            _ => return Err(self.bad(format!("{v} is not a valid value"))),
        }
        Ok(v)
    }

    /// A seed from a whole number: 0 to 2^64-1, or -1 for a fresh one (llama.cpp's).
    fn seed(&self, n: i128) -> Result<Value> {
        match n {
            -1 => Ok(Value::Seed(None)),
            n => u64::try_from(n).map(|s| Value::Seed(Some(s))).map_err(|_| {
                self.bad(format!(
                    "{n} is not in [0, 2^64-1], or -1 for a random seed"
                ))
            }),
        }
    }

    /// Reads a value from text: a flag's values (repeated flags give several) or `/set`'s.
    pub fn parse_text(&self, texts: &[&str]) -> Result<Value> {
        let invalid = |t: &str| self.bad(format!("{t:?} is not a valid value"));
        let one = || -> Result<&str> {
            match texts {
                [t] => Ok(t.trim()),
                [] => Err(self.bad("a value is needed".into())),
                _ => Err(self.bad("takes one value".into())),
            }
        };
        let v = match self.kind {
            Kind::Float { .. } => {
                let t = one()?;
                Value::Float(t.parse().map_err(|_| invalid(t))?)
            }
            Kind::Int { .. } => {
                let t = one()?;
                Value::Int(t.parse().map_err(|_| invalid(t))?)
            }
            Kind::Seed => match one()? {
                "random" => Value::Seed(None),
                t => match t.parse::<i128>() {
                    Ok(n) => self.seed(n)?,
                    Err(_) => return Err(invalid(t)),
                },
            },
            Kind::Bias { .. } => {
                let mut b = BTreeMap::new();
                for t in texts.iter().flat_map(|t| t.split(',')) {
                    let (id, x) = t
                        .split_once('=')
                        .ok_or_else(|| self.bad(format!("{t:?} is not TOKEN_ID=BIAS")))?;
                    let id = id.trim().parse().map_err(|_| invalid(t))?;
                    b.insert(id, x.trim().parse().map_err(|_| invalid(t))?);
                }
                Value::Bias(b)
            }
            Kind::Strings { .. } => Value::Strings(texts.iter().map(|t| t.to_string()).collect()),
        };
        self.check(v)
    }

    /// Reads a value from a JSON request field.
    pub fn parse_json(&self, v: &serde_json::Value) -> Result<Value> {
        use serde_json::Value as J;
        let what = |expected: &str| self.bad(format!("expected {expected}, got {v}"));
        let parsed = match (self.kind, v) {
            (Kind::Float { .. }, J::Number(n)) => {
                Value::Float(n.as_f64().ok_or_else(|| what("a number"))?)
            }
            (Kind::Float { .. }, _) => return Err(what("a number")),
            // A whole number written with a fraction (20.0) is a whole number, as JSON Schema
            // counts it.
            (Kind::Int { min, max }, J::Number(n)) => match (n.as_u64(), n.as_f64()) {
                (Some(n), _) => Value::Int(n),
                (None, Some(x)) if x.fract() == 0.0 && (0.0..=u64::MAX as f64).contains(&x) => {
                    Value::Int(x as u64)
                }
                _ => return Err(self.bad(format!("{n} is not in [{min}, {max}]"))),
            },
            (Kind::Int { .. }, _) => return Err(what("a whole number")),
            (Kind::Seed, J::Null) => Value::Seed(None),
            (Kind::Seed, J::Number(n)) => match (n.as_u64(), n.as_i64()) {
                (Some(s), _) => Value::Seed(Some(s)),
                (None, Some(s)) => self.seed(s.into())?,
                _ => return Err(what("a whole number")),
            },
            (Kind::Seed, _) => return Err(what("a whole number")),
            (Kind::Bias { max_entries, .. }, J::Object(m)) => {
                if m.len() > max_entries {
                    return Err(self.bad(format!("{} entries; at most {max_entries}", m.len())));
                }
                let mut b = BTreeMap::new();
                for (k, x) in m {
                    let id = k
                        .parse()
                        .map_err(|_| self.bad(format!("key {k:?} is not a token id")))?;
                    let x = x
                        .as_f64()
                        .ok_or_else(|| self.bad(format!("the bias for {k} is not a number")))?;
                    b.insert(id, x as f32);
                }
                Value::Bias(b)
            }
            (Kind::Bias { .. }, _) => return Err(what("an object of token id → bias")),
            (Kind::Strings { .. }, J::String(s)) => Value::Strings(vec![s.clone()]),
            (Kind::Strings { max, .. }, J::Array(a)) => {
                if a.len() > max {
                    return Err(self.bad(format!("{} strings; at most {max}", a.len())));
                }
                let s = a
                    .iter()
                    .map(|x| x.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| what("a string or a list of strings"))?;
                Value::Strings(s)
            }
            (Kind::Strings { .. }, J::Null) => Value::Strings(Vec::new()),
            (Kind::Strings { .. }, _) => return Err(what("a string or a list of strings")),
        };
        self.check(parsed)
    }
}
