//! The query heads that share one key/value head (grouped-query attention) attending over the
//! cached keys and values: scores, softmax, weighted sum, in one call so that the SIMD path is
//! chosen once per group rather than once per cached position, and each key and value row is
//! read from memory once for the whole group.

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

/// For each query `g` (the `qs.len() / head_dim` heads of a group, one after another):
/// `out[g] = softmax(scale · q_g·K[start..end]ᵀ) · V[start..end]`; `scores` is scratch space.
#[allow(clippy::too_many_arguments)] // the kernel's inputs, each of them needed
pub fn attend(
    qs: &[f32],
    head_dim: usize,
    k: HeadView<'_>,
    v: HeadView<'_>,
    range: std::ops::Range<usize>,
    scale: f32,
    scores: &mut Vec<f32>,
    out: &mut [f32],
) {
    #[cfg(target_arch = "x86_64")]
    if super::use_avx2() && head_dim.is_multiple_of(8) {
        // SAFETY: the CPU supports avx2 and fma (checked above).
        unsafe { attend_avx2(qs, head_dim, k, v, range, scale, scores, out) };
        return;
    }
    for (q, o) in qs
        .chunks_exact(head_dim)
        .zip(out.chunks_exact_mut(head_dim))
    {
        attend_scalar(q, k, v, range.clone(), scale, scores, o);
    }
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

/// With AVX2: scores four keys at a time (four independent FMA chains, reduced together) for
/// every query of the group while those keys are in L1, softmax with a vectorised exp, and the
/// weighted sum of values kept in registers, 64 columns and 64 positions at a time, so that a
/// block of values is read once for the group.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn attend_avx2(
    qs: &[f32],
    hd: usize,
    k: HeadView<'_>,
    v: HeadView<'_>,
    range: std::ops::Range<usize>,
    scale: f32,
    scores: &mut Vec<f32>,
    out: &mut [f32],
) {
    use std::arch::x86_64::*;
    let len = range.len();
    let group = qs.len() / hd;
    scores.clear();
    scores.resize(group * len, 0.0);
    let dot_rows = |q: &[f32], rows: [&[f32]; 4]| -> __m128 {
        let mut acc = [_mm256_setzero_ps(); 4];
        let mut i = 0;
        while i < hd {
            // SAFETY: i + 8 <= hd for the query and every key row.
            unsafe {
                let qv = _mm256_loadu_ps(q.as_ptr().add(i));
                for (a, r) in acc.iter_mut().zip(&rows) {
                    *a = _mm256_fmadd_ps(qv, _mm256_loadu_ps(r.as_ptr().add(i)), *a);
                }
            }
            i += 8;
        }
        hsum4(acc)
    };
    let scale4 = _mm_set1_ps(scale);
    let mut j = 0;
    while j < len {
        let p = range.start + j;
        let four = j + 4 <= len;
        let rows = if four {
            [
                k.row(p, hd),
                k.row(p + 1, hd),
                k.row(p + 2, hd),
                k.row(p + 3, hd),
            ]
        } else {
            [k.row(p, hd); 4]
        };
        for (g, q) in qs.chunks_exact(hd).enumerate() {
            let s = _mm_mul_ps(dot_rows(q, rows), scale4);
            let at = g * len + j;
            if four {
                // SAFETY: at + 4 <= (g + 1) * len <= scores.len().
                unsafe { _mm_storeu_ps(scores.as_mut_ptr().add(at), s) };
            } else {
                scores[at] = _mm_cvtss_f32(s);
            }
        }
        j += if four { 4 } else { 1 };
    }
    for row in scores.chunks_exact_mut(len) {
        // SAFETY: same CPU features.
        unsafe { softmax_avx2(row) };
    }
    out.fill(0.0);
    const BLOCK: usize = 64;
    let mut b0 = 0;
    while b0 < len {
        let b1 = (b0 + BLOCK).min(len);
        let mut c = 0;
        while c < hd {
            let width = (hd - c).min(64) / 8;
            for (g, o) in out.chunks_exact_mut(hd).enumerate() {
                let o = &mut o[c..];
                let mut acc = [_mm256_setzero_ps(); 8];
                for (u, a) in acc.iter_mut().enumerate().take(width) {
                    // SAFETY: c + 8u + 8 <= hd.
                    *a = unsafe { _mm256_loadu_ps(o.as_ptr().add(8 * u)) };
                }
                let w = &scores[g * len + b0..g * len + b1];
                for (w, p) in w.iter().zip(range.start + b0..) {
                    let vr = &v.row(p, hd)[c..];
                    let wv = _mm256_set1_ps(*w);
                    for (u, a) in acc.iter_mut().enumerate().take(width) {
                        // SAFETY: c + 8u + 8 <= hd for the value row.
                        let x = unsafe { _mm256_loadu_ps(vr.as_ptr().add(8 * u)) };
                        *a = _mm256_fmadd_ps(wv, x, *a);
                    }
                }
                for (u, a) in acc.iter().enumerate().take(width) {
                    // SAFETY: c + 8u + 8 <= hd.
                    unsafe { _mm256_storeu_ps(o.as_mut_ptr().add(8 * u), *a) };
                }
            }
            c += 64;
        }
        b0 = b1;
    }
}

/// The four horizontal sums of `a[0..4]`, in one vector.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
fn hsum4(a: [std::arch::x86_64::__m256; 4]) -> std::arch::x86_64::__m128 {
    use std::arch::x86_64::*;
    let s01 = _mm256_hadd_ps(a[0], a[1]);
    let s23 = _mm256_hadd_ps(a[2], a[3]);
    let s = _mm256_hadd_ps(s01, s23);
    _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1))
}

/// `softmax_in_place` with 8 lanes: max, `exp(x − max)` by [`exp_avx2`], sum, scale.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn softmax_avx2(scores: &mut [f32]) {
    use std::arch::x86_64::*;
    let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let body = scores.len() / 8 * 8;
    let m = _mm256_set1_ps(max);
    let mut sum = _mm256_setzero_ps();
    let mut i = 0;
    while i < body {
        // SAFETY: i + 8 <= scores.len().
        unsafe {
            let p = scores.as_mut_ptr().add(i);
            let e = exp_avx2(_mm256_sub_ps(_mm256_loadu_ps(p), m));
            _mm256_storeu_ps(p, e);
            sum = _mm256_add_ps(sum, e);
        }
        i += 8;
    }
    let mut total = super::hsum256(sum);
    for s in &mut scores[body..] {
        *s = (*s - max).exp();
        total += *s;
    }
    let inv = 1.0 / total;
    for s in scores.iter_mut() {
        *s *= inv;
    }
}

/// `exp(x)` for `x <= 0` to about 2 ulp (Cephes' expf: `2^n · p(r)` with `r = x − n·ln 2` in two
/// parts and a degree-5 polynomial); below −87 it returns exp(−87) (1.6e-38, nothing to a
/// softmax).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
fn exp_avx2(x: std::arch::x86_64::__m256) -> std::arch::x86_64::__m256 {
    use std::arch::x86_64::*;
    let x = _mm256_max_ps(x, _mm256_set1_ps(-87.0));
    let n = _mm256_round_ps(
        _mm256_mul_ps(x, _mm256_set1_ps(std::f32::consts::LOG2_E)),
        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC,
    );
    let r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693_359_4), x);
    let r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.121_944_4e-4), r);
    let mut p = _mm256_set1_ps(1.987_569_1e-4);
    for c in [
        1.398_199_9e-3,
        8.333_452e-3,
        4.166_579_6e-2,
        1.666_666_5e-1,
        0.5,
    ] {
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(c));
    }
    let r2 = _mm256_mul_ps(r, r);
    let y = _mm256_add_ps(_mm256_fmadd_ps(p, r2, r), _mm256_set1_ps(1.0));
    let pow2n = _mm256_castsi256_ps(_mm256_slli_epi32(
        _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)),
        23,
    ));
    _mm256_mul_ps(y, pow2n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vector_exp_is_within_a_few_ulp() {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            let xs: Vec<f32> = (0..7904).map(|i| -(i as f32) * 0.011).collect();
            for c in xs.chunks_exact(8) {
                let mut out = [0f32; 8];
                // SAFETY: features checked above; c and out hold 8 floats.
                unsafe {
                    let v = exp_avx2(std::arch::x86_64::_mm256_loadu_ps(c.as_ptr()));
                    std::arch::x86_64::_mm256_storeu_ps(out.as_mut_ptr(), v);
                }
                for (x, y) in c.iter().zip(out) {
                    let want = x.exp();
                    assert!(
                        (y - want).abs() <= 4.0 * f32::EPSILON * want,
                        "exp({x}): {y} vs {want}"
                    );
                }
            }
        }
    }

    #[test]
    fn both_paths_attend_alike() {
        let hd = 64;
        let n = 37;
        let data: Vec<f32> = (0..n * 2 * hd)
            .map(|i| ((i * 7919 % 1000) as f32 - 500.0) * 0.003)
            .collect();
        let q: Vec<f32> = (0..hd).map(|i| (i as f32 * 0.37).sin()).collect();
        let k = HeadView {
            data: &data,
            stride: 2 * hd,
            offset: 0,
        };
        let v = HeadView {
            data: &data,
            stride: 2 * hd,
            offset: hd,
        };
        let mut scratch = Vec::new();
        let mut want = vec![0f32; hd];
        attend_scalar(&q, k, v, 3..n, 0.125, &mut scratch, &mut want);
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            let mut got = vec![0f32; hd];
            // SAFETY: features checked above.
            unsafe { attend_avx2(&q, hd, k, v, 3..n, 0.125, &mut scratch, &mut got) };
            for (a, b) in got.iter().zip(&want) {
                assert!((a - b).abs() <= 1e-5, "{a} vs {b}");
            }
            // A group of three queries (one of them repeated) over 100 positions: each equals
            // its own single-query result.
            let n = 100;
            let data: Vec<f32> = (0..n * 2 * hd)
                .map(|i| ((i * 7919 % 1000) as f32 - 500.0) * 0.003)
                .collect();
            let k = HeadView {
                data: &data,
                stride: 2 * hd,
                offset: 0,
            };
            let v = HeadView {
                data: &data,
                stride: 2 * hd,
                offset: hd,
            };
            let qs: Vec<f32> = (0..3 * hd)
                .map(|i| ((i % 70) as f32 * 0.21).cos())
                .collect();
            let mut group = vec![0f32; 3 * hd];
            // SAFETY: features checked above.
            unsafe { attend_avx2(&qs, hd, k, v, 1..n, 0.125, &mut scratch, &mut group) };
            for g in 0..3 {
                let mut one = vec![0f32; hd];
                attend_scalar(
                    &qs[g * hd..(g + 1) * hd],
                    k,
                    v,
                    1..n,
                    0.125,
                    &mut scratch,
                    &mut one,
                );
                for (a, b) in group[g * hd..(g + 1) * hd].iter().zip(&one) {
                    assert!((a - b).abs() <= 1e-5, "query {g}: {a} vs {b}");
                }
            }
        }
    }
}
