//! Training the detector and choosing its thresholds: what `samtal guard train` runs.
//!
//! - The regression is fitted on the training file only.
//! - The flag threshold is the higher of the thresholds giving at most `flag_fpr` false
//!   positives on the validation file's benign rows and on the calibration file's benign rows
//!   (the out-of-distribution set's benign rows: benign text from other sources is where a
//!   threshold set in-distribution breaks). The block threshold is the same at `block_fpr`;
//!   by default the budgets are equal, so `block` mode blocks what `flag` mode would flag.
//! - The figures the thresholds gave are written into the model's header.

use std::path::Path;

use serde_json::json;

use crate::detect::{inputs, platt, Detector, Example, FeatureSpec, Linear, TrainConfig, N_EXTRA};
use crate::eval::{figures, threshold_at_fpr};
use crate::normalize::normalize;
use crate::{Error, Result};

/// One labelled text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Labelled {
    pub text: String,
    /// `None` when the row has no label.
    pub attack: Option<bool>,
    pub source: Option<String>,
}

/// Reads JSON Lines of objects with `"text"` and optionally `"label"` (`"injection"` or
/// `"benign"`, or a boolean) and `"source"`. Blank lines are skipped.
pub fn read_jsonl(path: &Path) -> Result<Vec<Labelled>> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    parse_jsonl(&text).map_err(|(line, message)| Error::BadData {
        path: path.to_owned(),
        line,
        message,
    })
}

/// [`read_jsonl`] on text; errors carry the 1-based line number.
pub fn parse_jsonl(text: &str) -> std::result::Result<Vec<Labelled>, (usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |m: String| (i + 1, m);
        let v: serde_json::Value = serde_json::from_str(line).map_err(|e| bad(e.to_string()))?;
        let text = v
            .get("text")
            .and_then(|t| t.as_str())
            .ok_or_else(|| bad("no \"text\" string".into()))?
            .to_owned();
        let attack = match v.get("label") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::Bool(b)) => Some(*b),
            Some(serde_json::Value::String(s)) => match s.as_str() {
                "injection" | "attack" | "malicious" | "jailbreak" | "1" => Some(true),
                "benign" | "safe" | "0" => Some(false),
                other => return Err(bad(format!("unknown label {other:?}"))),
            },
            Some(serde_json::Value::Number(n)) => Some(n.as_f64() != Some(0.0)),
            Some(other) => return Err(bad(format!("label {other} is not a string"))),
        };
        let source = v.get("source").and_then(|s| s.as_str()).map(str::to_owned);
        out.push(Labelled {
            text,
            attack,
            source,
        });
    }
    Ok(out)
}

/// Target false-positive rates for the two thresholds.
#[derive(Clone, Copy, Debug)]
pub struct Budgets {
    pub flag_fpr: f64,
    pub block_fpr: f64,
}

impl Default for Budgets {
    fn default() -> Self {
        Self {
            flag_fpr: 0.014,
            block_fpr: 0.014,
        }
    }
}

/// Fits the regression on `train` (rows without a label are skipped).
pub fn fit(train: &[Labelled], spec: FeatureSpec, cfg: TrainConfig) -> Linear {
    let examples: Vec<Example> = train
        .iter()
        .filter_map(|r| Some((inputs(&spec, &normalize(&r.text)).0, r.attack?)))
        .collect();
    Linear::train(&examples, spec, N_EXTRA, cfg)
}

/// Scores of the labelled rows of `rows`.
pub fn scored(d: &Detector, rows: &[Labelled]) -> Vec<(f32, bool)> {
    rows.iter()
        .filter_map(|r| Some((d.score(&r.text), r.attack?)))
        .collect()
}

/// Sets the thresholds of `model` from the benign rows of `validation` and `calibration` (see
/// the module notes) and records the figures; returns the finished detector.
pub fn calibrate(
    mut model: Linear,
    validation: &[Labelled],
    calibration: &[Labelled],
    budgets: Budgets,
) -> Detector {
    // Platt scaling on the validation logits first, so that scores read as probabilities.
    let raw = Detector::new(model.clone());
    let logits: Vec<(f32, bool)> = validation
        .iter()
        .filter_map(|r| Some((raw.logit(&r.text), r.attack?)))
        .collect();
    let (scale, shift) = platt(&logits);
    model.header.rules = crate::detect::rules::names();
    model.header.scale = scale;
    model.header.shift = shift;
    let d = Detector::new(model.clone());
    let val = scored(&d, validation);
    let cal = scored(&d, calibration);
    let benign =
        |s: &[(f32, bool)]| -> Vec<f32> { s.iter().filter(|x| !x.1).map(|x| x.0).collect() };
    let at = |fpr| threshold_at_fpr(&benign(&val), fpr).max(threshold_at_fpr(&benign(&cal), fpr));
    let flag_at = at(budgets.flag_fpr);
    // Never above 1: a threshold no score can reach would switch blocking off.
    let block_at = at(budgets.block_fpr).max(flag_at).min(1.0);
    let fv = figures(&val, flag_at);
    let fc = figures(&cal, flag_at);
    model.header.flag_at = flag_at;
    model.header.block_at = block_at;
    model.header.notes = json!({
        "platt": [scale, shift],
        "flag_fpr_budget": budgets.flag_fpr,
        "block_fpr_budget": budgets.block_fpr,
        "validation_at_flag": fv,
        "calibration_at_flag": fc,
    });
    Detector::new(model)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonl_rows_and_errors() {
        let rows = parse_jsonl(
            "{\"text\": \"a\", \"label\": \"injection\", \"source\": \"s\"}\n\n{\"text\": \"b\"}\n",
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].attack, Some(true));
        assert_eq!(rows[1].attack, None);
        assert_eq!(parse_jsonl("{\"text\": 1}").unwrap_err().0, 1);
        assert_eq!(parse_jsonl("{}\n").unwrap_err().0, 1);
        assert_eq!(parse_jsonl("{\"text\":\"a\"}\nnot json").unwrap_err().0, 2);
        assert!(parse_jsonl("{\"text\":\"a\",\"label\":\"maybe\"}").is_err());
    }
}
