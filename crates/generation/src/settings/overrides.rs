//! [`Overrides`]: settings given by one layer (a model's configuration, a model card, a user),
//! each already checked, applied on top of the layers below.

use std::collections::BTreeMap;

use super::{Setting, Value, SETTINGS};
use crate::params::GenerateParams;
use crate::{Error, Result};

/// Settings one layer gives, by the setting's samtal name; every value has passed
/// [`Setting::check`].
///
/// ```
/// use samtal_generation::{GenerateParams, Overrides};
/// let mut user = Overrides::default();
/// user.set_text("temperature", &["0"])?;
/// user.set_json("max_tokens", &serde_json::json!(12))?;
/// let p = user.apply(&GenerateParams::default());
/// assert!(p.sampling.is_greedy());
/// assert_eq!(p.max_new_tokens, 12);
/// assert!(user.set_text("top_p", &["2"]).is_err());
/// # Ok::<(), samtal_generation::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Overrides {
    values: BTreeMap<&'static str, Value>,
}

fn setting(name: &str) -> Result<&'static Setting> {
    super::find(name).ok_or_else(|| Error::UnknownSetting {
        name: name.to_owned(),
        known: super::names(),
    })
}

impl Overrides {
    /// Sets `name` (any of its names) to a checked value.
    pub fn set(&mut self, name: &str, v: Value) -> Result<()> {
        let s = setting(name)?;
        self.values.insert(s.name, s.check(v)?);
        Ok(())
    }

    /// Sets `name` from text: a flag's values or `/set`'s.
    pub fn set_text(&mut self, name: &str, texts: &[&str]) -> Result<()> {
        let s = setting(name)?;
        self.values.insert(s.name, s.parse_text(texts)?);
        Ok(())
    }

    /// Sets `name` from a JSON request field.
    pub fn set_json(&mut self, name: &str, v: &serde_json::Value) -> Result<()> {
        let s = setting(name)?;
        self.values.insert(s.name, s.parse_json(v)?);
        Ok(())
    }

    /// The value given for a setting (by its samtal name), if any.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Puts `later`'s values over these.
    pub fn extend(&mut self, later: &Overrides) {
        self.values
            .extend(later.values.iter().map(|(k, v)| (*k, v.clone())));
    }

    /// `base` with these values put over it.
    pub fn apply(&self, base: &GenerateParams) -> GenerateParams {
        let mut p = base.clone();
        for s in SETTINGS {
            if let Some(v) = self.values.get(s.name) {
                (s.put)(&mut p, v.clone());
            }
        }
        p
    }

    /// The values in table order, with their settings.
    pub fn iter(&self) -> impl Iterator<Item = (&'static Setting, &Value)> + '_ {
        SETTINGS
            .iter()
            .filter_map(|s| self.values.get(s.name).map(|v| (s, v)))
    }
}
