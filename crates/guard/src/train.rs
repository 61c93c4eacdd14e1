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

use crate::detect::{
    inputs, platt, Combination, Detector, Example, FeatureSpec, Linear, Parts, TrainConfig, N_EXTRA,
};
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

/// Fits the [`Combination`] of the encoder's and the n-gram model's logits on calibration
/// rows (a logistic regression on the two, by Newton's method, all files' rows together),
/// then sets each threshold at the highest of the files' thresholds for the budget (those of
/// `files` and of `bounds`, files read only for their benign rows), so that no file's benign
/// rows see more false positives than the budget. Rows without an encoder logit are left out
/// of the fit.
pub fn combine(
    files: &[(String, Vec<(Parts, bool)>)],
    bounds: &[(String, Vec<(Parts, bool)>)],
    budgets: Budgets,
) -> Combination {
    let rows: Vec<([f64; 3], bool)> = files
        .iter()
        .flat_map(|(_, rows)| rows)
        .filter_map(|(p, y)| Some(([f64::from(p.encoder?), f64::from(p.ngram), 1.0], *y)))
        .collect();
    let w = newton_logistic(&rows, 1e-3);
    let mut c = Combination {
        encoder: w[0] as f32,
        ngram: w[1] as f32,
        bias: w[2] as f32,
        flag_at: 0.5,
        block_at: 0.5,
        notes: serde_json::Value::Null,
    };
    let scored: Vec<(&String, Vec<(f32, bool)>)> = files
        .iter()
        .chain(bounds)
        .map(|(name, rows)| (name, rows.iter().map(|(p, y)| (c.score(*p), *y)).collect()))
        .collect();
    let at = |fpr: f64| {
        scored
            .iter()
            .map(|(_, s)| {
                let benign: Vec<f32> = s.iter().filter(|x| !x.1).map(|x| x.0).collect();
                threshold_at_fpr(&benign, fpr)
            })
            .fold(0.0f32, f32::max)
    };
    c.flag_at = at(budgets.flag_fpr);
    c.block_at = at(budgets.block_fpr).max(c.flag_at).min(1.0);
    let per_file: serde_json::Map<String, serde_json::Value> = scored
        .iter()
        .map(|(name, s)| {
            let f = figures(s, c.flag_at);
            ((*name).clone(), serde_json::to_value(f).unwrap_or_default())
        })
        .collect();
    c.notes = json!({
        "fitted_on": files.iter().map(|f| f.0.clone()).collect::<Vec<_>>(),
        "benign_rows_of": bounds.iter().map(|f| f.0.clone()).collect::<Vec<_>>(),
        "weights": {"encoder": c.encoder, "ngram": c.ngram, "bias": c.bias},
        "flag_fpr_budget": budgets.flag_fpr,
        "block_fpr_budget": budgets.block_fpr,
        "calibration_at_flag": per_file,
    });
    c
}

/// L2-regularised (weight `l2`, the last input, the bias, unregularised) logistic regression
/// on a few dense inputs by Newton's method.
#[allow(clippy::needless_range_loop)] // the Hessian is indexed by input pairs
fn newton_logistic<const N: usize>(rows: &[([f64; N], bool)], l2: f64) -> [f64; N] {
    let mut w = [0.0; N];
    for _ in 0..100 {
        let mut g = [0.0; N];
        let mut h = [[0.0; N]; N];
        for (x, y) in rows {
            let z: f64 = x.iter().zip(&w).map(|(a, b)| a * b).sum();
            let p = 1.0 / (1.0 + (-z).exp());
            let d = p - if *y { 1.0 } else { 0.0 };
            let s = p * (1.0 - p);
            for i in 0..N {
                g[i] += d * x[i];
                for j in 0..N {
                    h[i][j] += s * x[i] * x[j];
                }
            }
        }
        for i in 0..N - 1 {
            g[i] += l2 * w[i];
            h[i][i] += l2;
        }
        h[N - 1][N - 1] += 1e-9;
        let Some(step) = solve(h, g) else { break };
        let mut moved = 0.0;
        for i in 0..N {
            w[i] -= step[i];
            moved += step[i].abs();
        }
        if moved < 1e-10 {
            break;
        }
    }
    w
}

/// `a x = b` by Gaussian elimination with partial pivoting; `None` when `a` is singular.
#[allow(clippy::needless_range_loop)] // row and column indices are the algorithm
fn solve<const N: usize>(mut a: [[f64; N]; N], mut b: [f64; N]) -> Option<[f64; N]> {
    for col in 0..N {
        let piv = (col..N).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[piv][col].abs() < 1e-15 {
            return None;
        }
        a.swap(col, piv);
        b.swap(col, piv);
        for r in col + 1..N {
            let f = a[r][col] / a[col][col];
            for c in col..N {
                a[r][c] -= f * a[col][c];
            }
            b[r] -= f * b[col];
        }
    }
    let mut x = [0.0; N];
    for r in (0..N).rev() {
        let s: f64 = (r + 1..N).map(|c| a[r][c] * x[c]).sum();
        x[r] = (b[r] - s) / a[r][r];
    }
    Some(x)
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

    #[test]
    fn the_combination_recovers_known_weights_and_keeps_the_budget() {
        // Labels drawn from a known logistic model of two inputs, by a fixed hash: the fit
        // finds its weights, and the threshold keeps benign false positives within budget.
        let truth = [2.0f64, 0.5, -1.0];
        let mut rows = Vec::new();
        for i in 0..20_000u64 {
            // splitmix64: independent uniform draws in [0, 1) per (row, draw).
            let u = |k: u64| {
                let mut z = (i * 4 + k).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                (z ^ (z >> 31)) as f64 / 2f64.powi(64)
            };
            let (e, n) = (u(1) * 8.0 - 4.0, u(2) * 8.0 - 4.0);
            let p = 1.0 / (1.0 + (-(truth[0] * e + truth[1] * n + truth[2])).exp());
            let parts = Parts {
                ngram: n as f32,
                encoder: Some(e as f32),
            };
            rows.push((parts, u(3) < p));
        }
        let budgets = Budgets {
            flag_fpr: 0.01,
            block_fpr: 0.01,
        };
        let c = combine(&[("synthetic".into(), rows.clone())], &[], budgets);
        assert!((f64::from(c.encoder) - truth[0]).abs() < 0.15, "{c:?}");
        assert!((f64::from(c.ngram) - truth[1]).abs() < 0.1, "{c:?}");
        assert!((f64::from(c.bias) - truth[2]).abs() < 0.15, "{c:?}");
        let benign: Vec<f32> = rows.iter().filter(|r| !r.1).map(|r| c.score(r.0)).collect();
        let fp = benign.iter().filter(|&&s| s >= c.flag_at).count();
        assert!(
            fp as f64 <= 0.01 * benign.len() as f64,
            "{fp} of {}",
            benign.len()
        );
    }
}
