//! Fused dequantize-and-dot kernels for single-row products (decode), with f32 activations so
//! results stay within rounding of the dequantized reference (transformers' numbers).
//!
//! Q4_0 and Q4_1 use per-block sums of the activations, computed once per activation row:
//! `Σ (d·q + m)·x = d·Σ q·x + m·Σ x`.

use samtal_gguf::GgmlType;

/// Whether `ty` has a fused AVX2 kernel.
pub fn has_fused(ty: GgmlType) -> bool {
    matches!(ty, GgmlType::Q4_0 | GgmlType::Q4_1 | GgmlType::Q8_0)
}

/// Per-32-element sums of `x` (needed by the Q4 kernels).
pub fn block_sums(x: &[f32], out: &mut Vec<f32>) {
    out.clear();
    out.extend(x.chunks_exact(32).map(|c| c.iter().sum::<f32>()));
}

/// `dot(dequantize(row), x)` for a fused type. Callers check [`has_fused`] and AVX2+FMA support.
///
/// # Safety
/// The CPU must support AVX2, FMA and F16C; `row` must hold `x.len() / 32` blocks of `ty` and
/// `xsum` as many block sums.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn dot_avx2(ty: GgmlType, row: &[u8], x: &[f32], xsum: &[f32]) -> f32 {
    use std::arch::x86_64::*;
    let nb = x.len() / 32;
    let bb = ty.block_bytes();
    debug_assert!(row.len() >= nb * bb && xsum.len() >= nb);
    let (rp, xp) = (row.as_ptr(), x.as_ptr());
    let f16 = |p: *const u8| -> f32 {
        // SAFETY: p points at two readable bytes inside `row`.
        let bits = unsafe { std::ptr::read_unaligned(p.cast::<u16>()) };
        _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(bits as i32)))
    };
    // Two accumulators (even and odd blocks) so consecutive blocks do not wait on each other's
    // FMA latency.
    let mut acc = [_mm256_setzero_ps(); 2];
    let mut acc_s = [0f32; 2];
    let mask = _mm_set1_epi8(0x0f);
    for b in 0..nb {
        let k = b & 1;
        // SAFETY (whole loop body): block b lies within `row`, its 32 activations within `x`.
        unsafe {
            let blk = rp.add(b * bb);
            let xb = xp.add(b * 32);
            let x0 = _mm256_loadu_ps(xb);
            let x1 = _mm256_loadu_ps(xb.add(8));
            let x2 = _mm256_loadu_ps(xb.add(16));
            let x3 = _mm256_loadu_ps(xb.add(24));
            let (q0, q1, q2, q3) = match ty {
                GgmlType::Q8_0 => {
                    let q = blk.add(2);
                    (
                        _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(q.cast()))),
                        _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(q.add(8).cast()))),
                        _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(q.add(16).cast()))),
                        _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(q.add(24).cast()))),
                    )
                }
                _ => {
                    let off = if ty == GgmlType::Q4_0 { 2 } else { 4 };
                    let qs = _mm_loadu_si128(blk.add(off).cast());
                    let lo = _mm_and_si128(qs, mask);
                    let hi = _mm_and_si128(_mm_srli_epi16(qs, 4), mask);
                    (
                        _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(lo)),
                        _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(lo, 8))),
                        _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(hi)),
                        _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(hi, 8))),
                    )
                }
            };
            let s = _mm256_fmadd_ps(
                q3,
                x3,
                _mm256_fmadd_ps(q2, x2, _mm256_fmadd_ps(q1, x1, _mm256_mul_ps(q0, x0))),
            );
            let d = f16(blk);
            acc[k] = _mm256_fmadd_ps(_mm256_set1_ps(d), s, acc[k]);
            // Q4_0 stores q + 8; Q4_1 adds the block minimum m.
            match ty {
                GgmlType::Q4_0 => acc_s[k] -= 8.0 * d * *xsum.get_unchecked(b),
                GgmlType::Q4_1 => acc_s[k] += f16(blk.add(2)) * *xsum.get_unchecked(b),
                _ => {}
            }
        }
    }
    let acc = _mm256_add_ps(acc[0], acc[1]);
    let acc_s = acc_s[0] + acc_s[1];
    super::hsum256(acc) + acc_s
}
