//! Activations quantized to 8 bits for products with quantized weights, llama.cpp's arithmetic
//! reproduced to float rounding: each 32-element block of an activation row becomes 32 `i8`,
//! `q = round_half_even(x · 127 / max|x|)`, with the scale `d = f16(max|x| / 127)`, the exact
//! sum `Σ q` (for Q4_0's `q_w − 8`) and `s = f16(max|x| / 127 · Σ q)` (for Q4_1's minimum, as
//! llama.cpp's Q8_1 rounds it on its own). The products themselves are in [`super::packed`].
//!
//! The scalar and AVX2 quantizers give identical bits.

/// Elements per block.
const QK: usize = 32;

/// Activation rows quantized to 8 bits per 32-element block.
#[derive(Debug, Default)]
pub struct Q8Acts {
    qs: Vec<i8>,
    d: Vec<f32>,
    s: Vec<f32>,
    sq: Vec<i32>,
    sh: Vec<i32>,
    cols: usize,
}

/// One quantized activation row.
#[derive(Clone, Copy, Debug)]
pub struct Q8Row<'a> {
    pub qs: &'a [i8],
    pub d: &'a [f32],
    pub s: &'a [f32],
    pub sq: &'a [i32],
    /// Σq over the first 16 elements of each block (for weights with minimums per 16 columns).
    pub sh: &'a [i32],
}

impl Q8Acts {
    /// Quantizes `xs`, `(n, cols)` with `cols` a multiple of 32.
    pub fn quantize(xs: &[f32], cols: usize, simd: bool) -> Self {
        debug_assert!(cols.is_multiple_of(QK) && xs.len().is_multiple_of(cols));
        let nb = xs.len() / QK;
        let mut a = Q8Acts {
            qs: vec![0; xs.len()],
            d: vec![0.0; nb],
            s: vec![0.0; nb],
            sq: vec![0; nb],
            sh: vec![0; nb],
            cols,
        };
        for (b, x) in xs.chunks_exact(QK).enumerate() {
            let q = &mut a.qs[b * QK..(b + 1) * QK];
            #[cfg(target_arch = "x86_64")]
            let (d, sum) = if simd {
                // SAFETY: callers pass simd only when AVX2 is present; x and q hold 32 each.
                unsafe { quantize_block_avx2(x, q) }
            } else {
                quantize_block(x, q)
            };
            #[cfg(not(target_arch = "x86_64"))]
            let (d, sum) = {
                let _ = simd;
                quantize_block(x, q)
            };
            a.d[b] = f16_round(d);
            a.s[b] = f16_round(d * sum as f32);
            a.sq[b] = sum;
            a.sh[b] = q[..QK / 2].iter().map(|&v| v as i32).sum();
        }
        a
    }

    pub fn rows(&self) -> usize {
        self.qs.len().checked_div(self.cols).unwrap_or(0)
    }

    #[inline]
    pub fn row(&self, t: usize) -> Q8Row<'_> {
        let nb = self.cols / QK;
        Q8Row {
            qs: &self.qs[t * self.cols..(t + 1) * self.cols],
            d: &self.d[t * nb..(t + 1) * nb],
            s: &self.s[t * nb..(t + 1) * nb],
            sq: &self.sq[t * nb..(t + 1) * nb],
            sh: &self.sh[t * nb..(t + 1) * nb],
        }
    }
}

/// `(d, Σq)` of one block, `q = round_half_even(x · 127 / max|x|)`.
fn quantize_block(x: &[f32], q: &mut [i8]) -> (f32, i32) {
    let amax = x.iter().fold(0f32, |m, v| m.max(v.abs()));
    let id = if amax > 0.0 { 127.0 / amax } else { 0.0 };
    let mut sum = 0;
    for (q, x) in q.iter_mut().zip(x) {
        let v = (x * id).round_ties_even() as i32;
        *q = v as i8;
        sum += v;
    }
    (amax / 127.0, sum)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn quantize_block_avx2(x: &[f32], q: &mut [i8]) -> (f32, i32) {
    use std::arch::x86_64::*;
    debug_assert!(x.len() >= QK && q.len() >= QK);
    // SAFETY: x holds 32 floats, q 32 bytes (the callers' contract).
    unsafe {
        let v = [
            _mm256_loadu_ps(x.as_ptr()),
            _mm256_loadu_ps(x.as_ptr().add(8)),
            _mm256_loadu_ps(x.as_ptr().add(16)),
            _mm256_loadu_ps(x.as_ptr().add(24)),
        ];
        let sign = _mm256_set1_ps(-0.0);
        let mut m = _mm256_andnot_ps(sign, v[0]);
        for vk in &v[1..] {
            m = _mm256_max_ps(m, _mm256_andnot_ps(sign, *vk));
        }
        let m4 = _mm_max_ps(_mm256_extractf128_ps(m, 1), _mm256_castps256_ps128(m));
        let m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        let m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        let amax = _mm_cvtss_f32(m4);
        let id = _mm256_set1_ps(if amax > 0.0 { 127.0 / amax } else { 0.0 });
        let r = |vk| {
            _mm256_cvtps_epi32(_mm256_round_ps(
                _mm256_mul_ps(vk, id),
                _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC,
            ))
        };
        let (i0, i1, i2, i3) = (r(v[0]), r(v[1]), r(v[2]), r(v[3]));
        let sum = _mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3));
        let s4 = _mm_add_epi32(
            _mm256_extracti128_si256(sum, 1),
            _mm256_castsi256_si128(sum),
        );
        let s4 = _mm_hadd_epi32(s4, s4);
        let s4 = _mm_hadd_epi32(s4, s4);
        // Packing interleaves the 128-bit lanes; the permute puts the 32 bytes back in order.
        let p01 = _mm256_packs_epi32(i0, i1);
        let p23 = _mm256_packs_epi32(i2, i3);
        let p = _mm256_packs_epi16(p01, p23);
        let p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256(q.as_mut_ptr().cast(), p);
        (amax / 127.0, _mm_cvtsi128_si32(s4))
    }
}

/// Weights quantized to Q8_0 blocks (f16 `d`, then 32 `i8`), as llama.cpp's
/// `quantize_row_q8_0_ref`: `d = max|x| / 127`, `q = round_half_away(x / d)`. `xs.len()` is a
/// multiple of 32.
pub fn quantize_q8_0(xs: &[f32]) -> Vec<u8> {
    debug_assert!(xs.len().is_multiple_of(QK));
    let mut out = Vec::with_capacity(xs.len() / QK * (2 + QK));
    for x in xs.chunks_exact(QK) {
        let amax = x.iter().fold(0f32, |m, v| m.max(v.abs()));
        let d = amax / 127.0;
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        out.extend_from_slice(&half::f16::from_f32(d).to_le_bytes());
        out.extend(x.iter().map(|v| ((v * id).round() as i8) as u8));
    }
    out
}

fn f16_round(v: f32) -> f32 {
    half::f16::from_f32(v).to_f32()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_paths_quantize_alike() {
        let cols = 9 * QK;
        // A zero block, a tie (0.5 after scaling) and large values.
        let mut xs: Vec<f32> = (0..4 * cols)
            .map(|i| ((i * 7919 % 1000) as f32 - 500.0) * 0.013)
            .collect();
        xs[QK..2 * QK].fill(0.0);
        xs[2 * QK] = 127.0;
        xs[2 * QK + 1] = 0.5;
        let scalar = Q8Acts::quantize(&xs, cols, false);
        assert_eq!(scalar.qs[2 * QK + 1], 0, "0.5 rounds half to even");
        assert_eq!(scalar.qs[2 * QK], 127);
        assert!(scalar.qs[QK..2 * QK].iter().all(|&q| q == 0) && scalar.d[1] == 0.0);
        for (b, x) in xs.chunks_exact(QK).enumerate() {
            let amax = x.iter().fold(0f32, |m, v| m.max(v.abs()));
            assert_eq!(scalar.d[b], f16_round(amax / 127.0));
            let sum: i32 = scalar.qs[b * QK..(b + 1) * QK]
                .iter()
                .map(|&q| q as i32)
                .sum();
            assert_eq!(scalar.sq[b], sum);
        }
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            let simd = Q8Acts::quantize(&xs, cols, true);
            assert_eq!(scalar.qs, simd.qs);
            assert_eq!(scalar.d, simd.d);
            assert_eq!(scalar.s, simd.s);
            assert_eq!(scalar.sq, simd.sq);
        }
    }
}
