//! `samtal guard`: score texts for prompt injection, evaluate on a labelled set, train.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use serde_json::json;

use samtal_guard::detect::{FeatureSpec, TrainConfig};
use samtal_guard::eval::{figures, quantile};
use samtal_guard::train::{calibrate, fit, read_jsonl, Budgets};
use samtal_guard::{Detector, Mode, Policy};

#[derive(Args, Debug, Clone)]
pub struct GuardOpts {
    /// What the verdict may be: off (always allow), flag, or block (a score at or above the block
    /// threshold is blocked, one at or above the flag threshold flagged).
    #[arg(long, default_value = "flag")]
    pub policy: Mode,
    /// Flag threshold instead of the shipped one.
    #[arg(long)]
    pub flag_at: Option<f32>,
    /// Block threshold instead of the shipped one.
    #[arg(long)]
    pub block_at: Option<f32>,
    /// A detector model file instead of the one built in.
    #[arg(long)]
    pub detector: Option<PathBuf>,
}

impl GuardOpts {
    pub fn load(&self) -> Result<(Detector, Policy)> {
        let d = match &self.detector {
            Some(p) => Detector::load(p)?,
            None => Detector::shipped()?,
        };
        let h = d.header();
        let policy = Policy::new(
            self.policy,
            self.flag_at.unwrap_or(h.flag_at),
            self.block_at.unwrap_or(h.block_at),
        );
        Ok((d, policy))
    }
}

#[derive(Subcommand, Debug)]
pub enum GuardCmd {
    /// Score one text: {"score", "verdict", "reasons"}.
    Check {
        #[command(flatten)]
        opts: GuardOpts,
        #[arg(long)]
        json: bool,
        /// The text (it may start with '-').
        #[arg(allow_hyphen_values = true)]
        text: String,
    },
    /// Score every line of a JSON Lines file (objects with "text"): one {"score", "verdict"} line
    /// per input line, in order.
    Score {
        #[command(flatten)]
        opts: GuardOpts,
        file: PathBuf,
    },
    /// Precision, recall, F1, false-positive rate, ROC AUC, recall at 1% FPR and latency on a
    /// labelled JSON Lines file (objects with "text" and "label").
    Eval {
        #[command(flatten)]
        opts: GuardOpts,
        #[arg(long)]
        json: bool,
        file: PathBuf,
    },
    /// Train a detector (deterministic: the same files give the same model) and choose its
    /// thresholds.
    Train {
        /// Training rows (the only rows the regression sees).
        #[arg(long)]
        train: PathBuf,
        /// Validation rows: their benign rows bound the false-positive rate.
        #[arg(long)]
        validation: PathBuf,
        /// More benign rows to bound the false-positive rate on (labels other than benign are
        /// ignored).
        #[arg(long)]
        calibration: Option<PathBuf>,
        /// Where to write the model.
        #[arg(long)]
        out: PathBuf,
        /// Inverse L2 regularisation strength.
        #[arg(long, default_value_t = TrainConfig::default().c)]
        c: f64,
        /// Added to the logit when an OR-set rule fires.
        #[arg(long, default_value_t = samtal_guard::detect::OR_BONUS)]
        or_bonus: f32,
        /// log2 of the number of hashed feature buckets.
        #[arg(long, default_value_t = FeatureSpec::default().bits)]
        bits: u32,
        /// False-positive budget the flag threshold is set at.
        #[arg(long, default_value_t = Budgets::default().flag_fpr)]
        flag_fpr: f64,
        #[arg(long, default_value_t = Budgets::default().block_fpr)]
        block_fpr: f64,
    },
}

pub fn run(cmd: GuardCmd) -> Result<()> {
    let out = std::io::stdout();
    let mut out = BufWriter::new(out.lock());
    match cmd {
        GuardCmd::Check { opts, json, text } => {
            let (d, policy) = opts.load()?;
            let a = d.assess(&text);
            let verdict = policy.verdict(a.score);
            if json {
                let v =
                    json!({"score": a.score, "verdict": verdict.as_str(), "reasons": a.reasons});
                writeln!(out, "{v}")?;
            } else {
                writeln!(
                    out,
                    "{} (score {:.3}{}{})",
                    verdict.as_str(),
                    a.score,
                    if a.reasons.is_empty() { "" } else { "; " },
                    a.reasons.join(", ")
                )?;
            }
        }
        GuardCmd::Score { opts, file } => {
            let (d, policy) = opts.load()?;
            let rows = read_jsonl(&file)?;
            for r in rows {
                let s = d.score(&r.text);
                let v = json!({"score": s, "verdict": policy.verdict(s).as_str()});
                writeln!(out, "{v}")?;
            }
        }
        GuardCmd::Eval { opts, json, file } => {
            let (d, policy) = opts.load()?;
            let rows = read_jsonl(&file)?;
            let mut scored = Vec::with_capacity(rows.len());
            let mut ms = Vec::with_capacity(rows.len());
            let mut unlabelled = 0;
            for r in &rows {
                let t0 = Instant::now();
                let s = d.score(&r.text);
                ms.push(t0.elapsed().as_secs_f64() * 1e3);
                match r.attack {
                    Some(y) => scored.push((s, y)),
                    None => unlabelled += 1,
                }
            }
            anyhow::ensure!(!scored.is_empty(), "{}: no labelled rows", file.display());
            let threshold = match policy.mode {
                Mode::Block => policy.block_at,
                Mode::Flag | Mode::Off => policy.flag_at,
            };
            let f = figures(&scored, threshold);
            let (p50, p95) = (quantile(&ms, 0.5), quantile(&ms, 0.95));
            if json {
                let mut v = serde_json::to_value(&f)?;
                v["latency_ms_median"] = json!(p50);
                v["latency_ms_p95"] = json!(p95);
                v["unlabelled"] = json!(unlabelled);
                writeln!(out, "{v}")?;
            } else {
                writeln!(
                    out,
                    "{}: {} texts ({} attacks, {} benign), threshold {:.4}\n\
                     precision {:.4}  recall {:.4}  F1 {:.4}  FPR {:.4}\n\
                     ROC AUC {:.4}  recall at 1% FPR {:.4}\n\
                     latency per text: median {:.2} ms, p95 {:.2} ms",
                    file.display(),
                    f.n,
                    f.positives,
                    f.negatives,
                    f.threshold,
                    f.precision,
                    f.recall,
                    f.f1,
                    f.false_positive_rate,
                    f.roc_auc,
                    f.recall_at_1pct_fpr,
                    p50,
                    p95
                )?;
            }
        }
        GuardCmd::Train {
            train,
            validation,
            calibration,
            out: path,
            c,
            or_bonus,
            bits,
            flag_fpr,
            block_fpr,
        } => {
            anyhow::ensure!((8..=24).contains(&bits), "--bits must be 8 to 24");
            let train = read_jsonl(&train)?;
            let validation = read_jsonl(&validation)?;
            // Only benign rows calibrate; attacks of the calibration file stay unseen.
            let calibration: Vec<_> = match &calibration {
                Some(p) => read_jsonl(p)?
                    .into_iter()
                    .filter(|r| r.attack == Some(false))
                    .collect(),
                None => Vec::new(),
            };
            let spec = FeatureSpec {
                bits,
                ..FeatureSpec::default()
            };
            let cfg = TrainConfig {
                c,
                ..TrainConfig::default()
            };
            let t0 = Instant::now();
            let mut model = fit(&train, spec, cfg);
            model.header.or_bonus = or_bonus;
            let d = calibrate(
                model,
                &validation,
                &calibration,
                Budgets {
                    flag_fpr,
                    block_fpr,
                },
            );
            let h = d.header();
            std::fs::write(&path, d.to_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
            writeln!(
                out,
                "trained in {:.1} s; flag at {:.4}, block at {:.4}; wrote {}\n{}",
                t0.elapsed().as_secs_f64(),
                h.flag_at,
                h.block_at,
                path.display(),
                serde_json::to_string_pretty(&h.notes)?
            )?;
        }
    }
    out.flush()?;
    Ok(())
}
