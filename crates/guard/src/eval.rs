//! Detection figures for a labelled set: what `samtal guard eval` reports.

use serde::Serialize;

/// Figures at one threshold, and threshold-free ones.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Figures {
    pub n: usize,
    pub positives: usize,
    pub negatives: usize,
    pub threshold: f32,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub false_positive_rate: f64,
    /// Area under the ROC curve (ties count half).
    pub roc_auc: f64,
    /// Recall at the highest threshold whose false-positive rate is at most 1%.
    pub recall_at_1pct_fpr: f64,
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// Figures of `scored` (score, is-attack) with attacks predicted at `score >= threshold`.
pub fn figures(scored: &[(f32, bool)], threshold: f32) -> Figures {
    let pos = scored.iter().filter(|s| s.1).count();
    let neg = scored.len() - pos;
    let tp = scored.iter().filter(|s| s.1 && s.0 >= threshold).count();
    let fp = scored.iter().filter(|s| !s.1 && s.0 >= threshold).count();
    let precision = ratio(tp, tp + fp);
    let recall = ratio(tp, pos);
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    Figures {
        n: scored.len(),
        positives: pos,
        negatives: neg,
        threshold,
        precision,
        recall,
        f1,
        false_positive_rate: ratio(fp, neg),
        roc_auc: roc_auc(scored),
        recall_at_1pct_fpr: recall_at_fpr(scored, 0.01),
    }
}

/// ROC AUC by the rank-sum (Mann-Whitney) formula, ties at half.
pub fn roc_auc(scored: &[(f32, bool)]) -> f64 {
    let mut v: Vec<(f32, bool)> = scored.to_vec();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut rank_sum, mut i) = (0.0f64, 0);
    while i < v.len() {
        let mut j = i;
        while j < v.len() && v[j].0 == v[i].0 {
            j += 1;
        }
        let mid = (i + j + 1) as f64 / 2.0; // mean of ranks i+1 ..= j
        rank_sum += mid * v[i..j].iter().filter(|s| s.1).count() as f64;
        i = j;
    }
    let pos = v.iter().filter(|s| s.1).count() as f64;
    let neg = v.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return 0.0;
    }
    (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
}

/// The lowest threshold at which at most `max_fpr` of the negatives score at or above it.
pub fn threshold_at_fpr(negatives: &[f32], max_fpr: f64) -> f32 {
    let mut v = negatives.to_vec();
    v.sort_by(|a, b| b.total_cmp(a));
    let allowed = (max_fpr * v.len() as f64).floor() as usize;
    // Everything strictly above the (allowed+1)-th highest negative.
    match v.get(allowed) {
        Some(&s) => next_up(s),
        None => 0.0,
    }
}

fn next_up(x: f32) -> f32 {
    if x.is_nan() || x == f32::INFINITY {
        return x;
    }
    let bits = x.to_bits();
    f32::from_bits(if x >= 0.0 { bits + 1 } else { bits - 1 })
}

/// Recall at the threshold [`threshold_at_fpr`] gives.
pub fn recall_at_fpr(scored: &[(f32, bool)], max_fpr: f64) -> f64 {
    let neg: Vec<f32> = scored.iter().filter(|s| !s.1).map(|s| s.0).collect();
    let t = threshold_at_fpr(&neg, max_fpr);
    let pos = scored.iter().filter(|s| s.1).count();
    ratio(scored.iter().filter(|s| s.1 && s.0 >= t).count(), pos)
}

/// The `q`-quantile (0..=1) of `xs`, nearest rank.
pub fn quantile(xs: &[f64], q: f64) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let k = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1;
    v[k]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_of_a_small_set() {
        let s = [
            (0.9, true),
            (0.8, false),
            (0.7, true),
            (0.2, false),
            (0.1, true),
        ];
        let f = figures(&s, 0.5);
        assert_eq!((f.positives, f.negatives), (3, 2));
        assert!((f.precision - 2.0 / 3.0).abs() < 1e-12);
        assert!((f.recall - 2.0 / 3.0).abs() < 1e-12);
        assert!((f.false_positive_rate - 0.5).abs() < 1e-12);
        // Pairs (pos, neg) ordered right: (0.9>0.8), (0.9>0.2), (0.7>0.2) of 6.
        assert!((f.roc_auc - 3.0 / 6.0).abs() < 1e-12);
        assert!((roc_auc(&[(0.5, true), (0.5, false)]) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn thresholds_keep_the_false_positive_budget() {
        let neg: Vec<f32> = (0..100).map(|i| i as f32 / 100.0).collect();
        let t = threshold_at_fpr(&neg, 0.01);
        assert_eq!(neg.iter().filter(|&&x| x >= t).count(), 1);
        let t = threshold_at_fpr(&neg, 0.0);
        assert_eq!(neg.iter().filter(|&&x| x >= t).count(), 0);
        assert_eq!(quantile(&[3.0, 1.0, 2.0, 4.0], 0.5), 2.0);
        assert_eq!(quantile(&[3.0, 1.0, 2.0, 4.0], 0.95), 4.0);
    }
}
