//! One vector for a text from its hidden states, as sentence-transformers' Pooling and
//! Normalize modules compute it (sentence_transformers/models/Pooling.py): the mean over the
//! tokens, the first token (`[CLS]`), or the last token (decoder embedding models), then,
//! when the model says so, scaled to unit length.

/// How hidden states become one vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pooling {
    Mean,
    Cls,
    LastToken,
}

impl Pooling {
    /// `xs` is `(n, dim)`; the result is `(dim)`.
    pub fn pool(self, xs: &[f32], dim: usize) -> Vec<f32> {
        let n = xs.len() / dim.max(1);
        if n == 0 {
            return vec![0.0; dim];
        }
        match self {
            Pooling::Cls => xs[..dim].to_vec(),
            Pooling::LastToken => xs[(n - 1) * dim..n * dim].to_vec(),
            Pooling::Mean => {
                // Summed in f64: a long text's mean must not drift with its length.
                let mut sum = vec![0f64; dim];
                for row in xs.chunks_exact(dim) {
                    for (s, x) in sum.iter_mut().zip(row) {
                        *s += f64::from(*x);
                    }
                }
                sum.iter().map(|s| (s / n as f64) as f32).collect()
            }
        }
    }
}

/// Scales `v` to unit length (a zero vector stays zero), as torch's `F.normalize` does.
pub fn normalize(v: &mut [f32]) {
    let norm = v
        .iter()
        .map(|x| f64::from(*x) * f64::from(*x))
        .sum::<f64>()
        .sqrt();
    let norm = norm.max(1e-12) as f32;
    for x in v.iter_mut() {
        *x /= norm;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_pooling_picks_what_it_names() {
        let xs = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        assert_eq!(Pooling::Mean.pool(&xs, 2), vec![3.0, 4.0]);
        assert_eq!(Pooling::Cls.pool(&xs, 2), vec![1.0, 2.0]);
        assert_eq!(Pooling::LastToken.pool(&xs, 2), vec![5.0, 6.0]);
        let mut v = vec![3.0, 4.0];
        normalize(&mut v);
        assert_eq!(v, vec![0.6, 0.8]);
        let mut z = vec![0.0, 0.0];
        normalize(&mut z);
        assert_eq!(z, vec![0.0, 0.0]);
    }
}
