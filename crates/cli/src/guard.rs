//! `samtal guard`: score texts for prompt injection, evaluate on a labelled set, train.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use serde_json::json;

use std::sync::Arc;

use samtal_engine::Adapter;
use samtal_guard::detect::{Combination, EncoderModel, FeatureSpec, TrainConfig, ENCODER_DTYPE};
use samtal_guard::eval::{figures, quantile};
use samtal_guard::train::{calibrate, combine, fit, read_jsonl, Budgets};
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
    #[command(flatten)]
    pub encoder: EncoderOpts,
}

/// The guard's learned encoder: which base, which adapter, or none.
#[derive(Args, Debug, Clone, Default)]
pub struct EncoderOpts {
    /// Score with the n-gram model and rules only, without the learned encoder.
    #[arg(long)]
    pub no_encoder: bool,
    /// The encoder's base model folder [default: $SAMTAL_GUARD_ENCODER (a folder, or `off`
    /// for none), else all-MiniLM-L6-v2 (`samtal pull guard`), fetched on first use].
    #[arg(long, value_name = "DIR")]
    pub encoder_base: Option<PathBuf>,
    /// An encoder adapter file (scripts/train_guard_encoder.py) instead of the built-in one.
    #[arg(long, value_name = "FILE")]
    pub encoder_adapter: Option<PathBuf>,
    /// A combination file (samtal guard calibrate) instead of the built-in one.
    #[arg(long, value_name = "FILE")]
    pub combination: Option<PathBuf>,
}

impl EncoderOpts {
    /// The detector these options ask for, over `ngram` (the n-gram model and rules).
    pub fn load(&self, ngram: Detector) -> Result<Detector> {
        if self.no_encoder {
            return Ok(ngram);
        }
        let base = match &self.encoder_base {
            Some(p) => p.clone(),
            None => match samtal_models::guard_encoder_base()? {
                Some(p) => p,
                None => return Ok(ngram),
            },
        };
        let encoder = match &self.encoder_adapter {
            Some(p) => EncoderModel::load_with(&base, Adapter::open(p)?, ENCODER_DTYPE)?,
            None => EncoderModel::load(&base, ENCODER_DTYPE)?,
        };
        let combination = match &self.combination {
            Some(p) => serde_json::from_str(
                &std::fs::read_to_string(p)
                    .with_context(|| format!("cannot read {}", p.display()))?,
            )
            .with_context(|| format!("{}: not a combination", p.display()))?,
            None => Combination::shipped()?,
        };
        Ok(ngram.with_encoder(Arc::new(encoder), combination))
    }
}

/// Installs the guard's encoder for the chat sessions of this process (`samtal chat`, `samtal
/// serve`) unless the guard is off (see `samtal_models::install_guard`).
pub fn install_for_sessions(mode: samtal_chat::GuardMode) {
    if mode != Mode::Off {
        samtal_models::install_guard();
    }
}

impl GuardOpts {
    pub fn load(&self) -> Result<(Detector, Policy)> {
        let d = match &self.detector {
            Some(p) => Detector::load(p)?,
            None => Detector::shipped()?,
        };
        let d = self.encoder.load(d)?;
        let policy = Policy::new(
            self.policy,
            self.flag_at.unwrap_or(d.flag_at()),
            self.block_at.unwrap_or(d.block_at()),
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
        /// The text (it may start with '-'); without it, all of stdin.
        #[arg(allow_hyphen_values = true)]
        text: Option<String>,
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
        /// Also count what is flagged per source (the "source" field up to its first ':').
        #[arg(long)]
        by_source: bool,
        file: PathBuf,
    },
    /// Fit how the encoder and the n-gram model make one score, and its thresholds, on
    /// calibration files (never on a set figures are reported on); writes a combination file
    /// (the built-in one is crates/guard/model/combination.json).
    Calibrate {
        #[command(flatten)]
        encoder: EncoderOpts,
        /// Labelled JSON Lines files the combination is fitted on; the threshold is the
        /// highest of theirs at the budget.
        #[arg(long, required = true, num_args = 1..)]
        calibration: Vec<PathBuf>,
        /// More files whose benign rows only bound the thresholds (their attacks are not read).
        #[arg(long, num_args = 1..)]
        benign: Vec<PathBuf>,
        /// False-positive budget the flag threshold is set at, on each file's benign rows.
        #[arg(long, default_value_t = 0.01)]
        flag_fpr: f64,
        #[arg(long, default_value_t = 0.01)]
        block_fpr: f64,
        /// Where to write the combination.
        #[arg(long)]
        out: PathBuf,
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
            let text = match text {
                Some(t) => t,
                None => {
                    let mut bytes = Vec::new();
                    std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut bytes)
                        .context("cannot read stdin")?;
                    String::from_utf8(bytes).map_err(|e| {
                        anyhow::anyhow!(
                            "stdin is not UTF-8 text (invalid byte at offset {})",
                            e.utf8_error().valid_up_to()
                        )
                    })?
                }
            };
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
        GuardCmd::Eval {
            opts,
            json,
            by_source,
            file,
        } => {
            let (d, policy) = opts.load()?;
            let rows = read_jsonl(&file)?;
            let mut scored = Vec::with_capacity(rows.len());
            let mut ms = Vec::with_capacity(rows.len());
            let mut enc_ms = Vec::new();
            let mut short_ms = Vec::new();
            let mut unlabelled = 0;
            for r in &rows {
                let t0 = Instant::now();
                let s = d.score(&r.text);
                ms.push(t0.elapsed().as_secs_f64() * 1e3);
                // Texts of one encoder window (at most 256 tokens): their latency, and the
                // encoder's share of it timed on its own.
                if let Some(e) = d.encoder() {
                    if e.windows(&r.text).is_ok_and(|w| w.len() == 1) {
                        short_ms.push(ms[ms.len() - 1]);
                        let t0 = Instant::now();
                        let _ = e.logit(&r.text);
                        enc_ms.push(t0.elapsed().as_secs_f64() * 1e3);
                    }
                }
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
            // source → [attacks flagged, attacks, benign flagged, benign]
            let mut sources: std::collections::BTreeMap<String, [usize; 4]> = Default::default();
            if by_source {
                let mut k = 0;
                for r in &rows {
                    let Some(y) = r.attack else { continue };
                    let s = scored[k].0;
                    k += 1;
                    let name = r.source.as_deref().unwrap_or("-");
                    let name = name.split(':').next().unwrap_or(name).to_owned();
                    let c = sources.entry(name).or_default();
                    let i = if y { 0 } else { 2 };
                    c[i] += usize::from(s >= threshold);
                    c[i + 1] += 1;
                }
            }
            let (p50, p95) = (quantile(&ms, 0.5), quantile(&ms, 0.95));
            if json {
                let mut v = serde_json::to_value(&f)?;
                v["latency_ms_median"] = json!(p50);
                v["latency_ms_p95"] = json!(p95);
                v["unlabelled"] = json!(unlabelled);
                if !enc_ms.is_empty() {
                    v["short_texts"] = json!(short_ms.len());
                    v["short_latency_ms_median"] = json!(quantile(&short_ms, 0.5));
                    v["short_latency_ms_p95"] = json!(quantile(&short_ms, 0.95));
                    v["encoder_ms_median"] = json!(quantile(&enc_ms, 0.5));
                    v["encoder_ms_p95"] = json!(quantile(&enc_ms, 0.95));
                }
                if by_source {
                    v["by_source"] = json!(sources);
                }
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
                if !enc_ms.is_empty() {
                    writeln!(
                        out,
                        "texts of at most 256 tokens ({}): median {:.2} ms, p95 {:.2} ms; \
                         the encoder alone: median {:.2} ms, p95 {:.2} ms",
                        short_ms.len(),
                        quantile(&short_ms, 0.5),
                        quantile(&short_ms, 0.95),
                        quantile(&enc_ms, 0.5),
                        quantile(&enc_ms, 0.95)
                    )?;
                }
                for (name, [a, na, b, nb]) in &sources {
                    writeln!(
                        out,
                        "  {name}: attacks flagged {a}/{na}, benign flagged {b}/{nb}"
                    )?;
                }
            }
        }
        GuardCmd::Calibrate {
            encoder,
            calibration,
            benign,
            flag_fpr,
            block_fpr,
            out: path,
        } => {
            anyhow::ensure!(
                !encoder.no_encoder,
                "calibrate fits the encoder's combination"
            );
            let d = encoder.load(Detector::shipped()?)?;
            let t0 = Instant::now();
            let read = |p: &PathBuf, benign_only: bool| -> Result<(String, Vec<_>)> {
                let mut parts = Vec::new();
                for r in read_jsonl(p)? {
                    match r.attack {
                        Some(true) if benign_only => {}
                        Some(y) => parts.push((d.parts(&r.text)?, y)),
                        None => {}
                    }
                }
                eprintln!("{}: {} rows scored", p.display(), parts.len());
                Ok((p.display().to_string(), parts))
            };
            let files = calibration
                .iter()
                .map(|p| read(p, false))
                .collect::<Result<Vec<_>>>()?;
            let bounds = benign
                .iter()
                .map(|p| read(p, true))
                .collect::<Result<Vec<_>>>()?;
            let c = combine(
                &files,
                &bounds,
                Budgets {
                    flag_fpr,
                    block_fpr,
                },
            );
            std::fs::write(&path, serde_json::to_string_pretty(&c)? + "\n")
                .with_context(|| format!("cannot write {}", path.display()))?;
            writeln!(
                out,
                "calibrated in {:.1} s; flag at {:.4}, block at {:.4}; wrote {}\n{}",
                t0.elapsed().as_secs_f64(),
                c.flag_at,
                c.block_at,
                path.display(),
                serde_json::to_string_pretty(&c.notes)?
            )?;
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
