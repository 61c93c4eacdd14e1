//! One query head attending over cached keys and values: scores, softmax, weighted sum, in one
//! call so that the SIMD path is chosen once per head rather than once per cached position.

/// Layout of one head's keys or values in the cache: row `j` of head `h` starts at
/// `j * stride + offset`.
#[derive(Clone, Copy, Debug)]
pub struct HeadView<'a> {
    pub data: &'a [f32],
    pub stride: usize,
    pub offset: usize,
}

impl HeadView<'_> {
    #[inline]
    fn row(&self, j: usize, hd: usize) -> &[f32] {
        let s = j * self.stride + self.offset;
        &self.data[s..s + hd]
    }
}

/// `out = softmax(scale · q·K[start..end]ᵀ) · V[start..end]`; `scores` is scratch space.
pub fn attend(
    q: &[f32],
    k: HeadView<'_>,
    v: HeadView<'_>,
    range: std::ops::Range<usize>,
    scale: f32,
    scores: &mut Vec<f32>,
    out: &mut [f32],
) {
    #[cfg(target_arch = "x86_64")]
    if super::use_avx2() {
        // SAFETY: the CPU supports avx2 and fma (checked above).
        unsafe { attend_avx2(q, k, v, range, scale, scores, out) };
        return;
    }
    attend_scalar(q, k, v, range, scale, scores, out);
}

fn softmax_in_place(scores: &mut [f32]) {
    let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for s in scores.iter_mut() {
        *s = (*s - max).exp();
        sum += *s;
    }
    let inv = 1.0 / sum;
    for s in scores.iter_mut() {
        *s *= inv;
    }
}

fn attend_scalar(
    q: &[f32],
    k: HeadView<'_>,
    v: HeadView<'_>,
    range: std::ops::Range<usize>,
    scale: f32,
    scores: &mut Vec<f32>,
    out: &mut [f32],
) {
    let hd = q.len();
    scores.clear();
    scores.extend(
        range
            .clone()
            .map(|j| super::dot_scalar(q, k.row(j, hd)) * scale),
    );
    softmax_in_place(scores);
    out.fill(0.0);
    for (w, j) in scores.iter().zip(range) {
        for (o, x) in out.iter_mut().zip(v.row(j, hd)) {
            *o += w * x;
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn attend_avx2(
    q: &[f32],
    k: HeadView<'_>,
    v: HeadView<'_>,
    range: std::ops::Range<usize>,
    scale: f32,
    scores: &mut Vec<f32>,
    out: &mut [f32],
) {
    use std::arch::x86_64::*;
    let hd = q.len();
    let body = hd / 8 * 8;
    scores.clear();
    for j in range.clone() {
        let kr = k.row(j, hd);
        let mut acc = _mm256_setzero_ps();
        let mut i = 0;
        while i < body {
            // SAFETY: i + 8 <= hd for q and the key row.
            unsafe {
                acc = _mm256_fmadd_ps(
                    _mm256_loadu_ps(q.as_ptr().add(i)),
                    _mm256_loadu_ps(kr.as_ptr().add(i)),
                    acc,
                );
            }
            i += 8;
        }
        let mut s = super::hsum256(acc);
        for t in body..hd {
            s += q[t] * kr[t];
        }
        scores.push(s * scale);
    }
    softmax_in_place(scores);
    out.fill(0.0);
    for (w, j) in scores.iter().zip(range) {
        let vr = v.row(j, hd);
        let wv = _mm256_set1_ps(*w);
        let mut i = 0;
        while i < body {
            // SAFETY: i + 8 <= hd for out and the value row.
            unsafe {
                let o = out.as_mut_ptr().add(i);
                _mm256_storeu_ps(
                    o,
                    _mm256_fmadd_ps(wv, _mm256_loadu_ps(vr.as_ptr().add(i)), _mm256_loadu_ps(o)),
                );
            }
            i += 8;
        }
        for t in body..hd {
            out[t] += w * vr[t];
        }
    }
}
