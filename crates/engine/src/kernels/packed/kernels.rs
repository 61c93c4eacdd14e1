//! The block products of one group of 8 packed rows against 1 or 4 quantized activation rows:
//! portable, and AVX2 with the same operations in the same order (identical bits).

use super::{
    eight_bit, f16_at, f32_at, f32_head, group_block_bytes, halves, has_min, head_bytes,
    header_bytes, q4_k_scales, q6_k_scales, Q2_K, Q4_0, Q4_1, Q4_K, Q5_K, Q6_K, QK, ROWS,
};
use crate::kernels::q8::Q8Row;

/// `out[k][r] = dot(dequantize(row r of group), xs[k])` for one group of 8 rows, portable. The
/// same operations in the same order as [`group_avx2`].
pub fn group_scalar<const TY: u8, const RX: usize>(
    group: &[u8],
    xs: [Q8Row<'_>; RX],
) -> [[f32; ROWS]; RX] {
    let gbb = group_block_bytes(TY);
    let head = head_bytes(TY);
    let nb = xs[0].d.len();
    let mut acc = [[0f32; ROWS]; RX];
    for (b, gb) in group[..nb * gbb].chunks_exact(gbb).enumerate() {
        let quants = &gb[head..];
        for (k, x) in xs.iter().enumerate() {
            let xq = &x.qs[b * QK..(b + 1) * QK];
            for r in 0..ROWS {
                let a = &mut acc[k][r];
                if eight_bit(TY) {
                    // Columns 0..16 and 16..32 apart: Q6_K has a scale for each.
                    let mut sumi = [0i32; 2];
                    for e in 0..QK {
                        let q = quants[(e / 4) * 32 + 4 * r + e % 4] as i8;
                        sumi[e / 16] += q as i32 * xq[e] as i32;
                    }
                    if halves(TY) {
                        let (lo, hi) = match TY {
                            Q6_K => q6_k_scales(group, nb, b, r),
                            _ => (f32_at(gb, 4 * r), f32_at(gb, 32 + 4 * r)),
                        };
                        *a = (lo * x.d[b]).mul_add(sumi[0] as f32, *a);
                        *a = (hi * x.d[b]).mul_add(sumi[1] as f32, *a);
                        if TY == Q2_K {
                            let (lo, hi) = (x.sh[b], x.sq[b] - x.sh[b]);
                            *a = f32_at(gb, 64 + 4 * r).mul_add(x.d[b] * lo as f32, *a);
                            *a = f32_at(gb, 96 + 4 * r).mul_add(x.d[b] * hi as f32, *a);
                        }
                        continue;
                    }
                    let sumi = sumi[0] + sumi[1];
                    let d = if f32_head(TY) {
                        f32_at(gb, 4 * r)
                    } else {
                        f16_at(gb, 2 * r)
                    };
                    *a = (d * x.d[b]).mul_add(sumi as f32, *a);
                    if has_min(TY) {
                        *a = f32_at(gb, 32 + 4 * r).mul_add(x.s[b], *a);
                    }
                    continue;
                }
                let mut sumi = 0i32;
                for e in 0..QK / 2 {
                    let byte = quants[(e / 4) * 32 + 4 * r + e % 4];
                    sumi += (byte & 0x0f) as i32 * xq[e] as i32;
                    sumi += (byte >> 4) as i32 * xq[e + 16] as i32;
                }
                if TY == Q4_0 {
                    sumi -= 8 * x.sq[b];
                }
                let (d, m) = match TY {
                    Q4_K => q4_k_scales(group, nb, b, r),
                    Q4_1 => (f16_at(gb, 2 * r), f16_at(gb, 16 + 2 * r)),
                    _ => (f16_at(gb, 2 * r), 0.0),
                };
                *a = (d * x.d[b]).mul_add(sumi as f32, *a);
                if has_min(TY) {
                    *a = m.mul_add(x.s[b], *a);
                }
            }
        }
    }
    acc
}

/// [`group_scalar`] with AVX2: per block and activation row, 8 (Q4) or 8 (Q8_0) multiply-adds
/// of 32 bytes advance all 8 rows.
///
/// # Safety
/// AVX2, FMA and F16C must be present; `group` holds one group-block of type `TY` per block of
/// the activation rows.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,f16c")]
#[allow(clippy::needless_range_loop)] // several register arrays indexed by the same row k
pub unsafe fn group_avx2<const TY: u8, const RX: usize>(
    group: &[u8],
    xs: [Q8Row<'_>; RX],
) -> [[f32; ROWS]; RX] {
    use std::arch::x86_64::*;
    let gbb = group_block_bytes(TY);
    let head = head_bytes(TY);
    let nb = xs[0].d.len();
    debug_assert!(group.len() >= nb * gbb);
    debug_assert!(xs.iter().all(|x| x.d.len() == nb && x.qs.len() == nb * QK));
    let low = _mm256_set1_epi8(0x0f);
    let ones = _mm256_set1_epi16(1);
    let mut acc = [_mm256_setzero_ps(); RX];
    for b in 0..nb {
        // SAFETY (block body): group-block b lies in `group`, block b in every activation row.
        unsafe {
            let gb = group.as_ptr().add(b * gbb);
            // Q4_K: the super-block's f16 d and dmin times the sub-block's 6-bit scale and min.
            let hdr = group.as_ptr().add(nb * gbb + b / 8 * header_bytes(TY));
            let bytes_f32 =
                |p: *const u8| _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(p.cast())));
            let i8s_f32 =
                |p: *const u8| _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(p.cast())));
            let d = if TY == Q4_K {
                _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128(hdr.cast())), bytes_f32(gb))
            } else if TY == Q6_K {
                _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128(hdr.cast())), i8s_f32(gb))
            } else if f32_head(TY) {
                _mm256_loadu_ps(gb.cast())
            } else {
                _mm256_cvtph_ps(_mm_loadu_si128(gb.cast()))
            };
            let word = |k: usize, c: usize| {
                let p = xs[k].qs.as_ptr().add(b * QK + 4 * c);
                _mm256_set1_epi32(std::ptr::read_unaligned(p.cast::<i32>()))
            };
            // Integer sums per row; for Q6_K columns 16..32 apart in `sum_hi`.
            let mut sum = [_mm256_setzero_si256(); RX];
            let mut sum_hi = [_mm256_setzero_si256(); RX];
            if eight_bit(TY) {
                for c in 0..8 {
                    let q = _mm256_loadu_si256(gb.add(head + 32 * c).cast());
                    let aq = _mm256_sign_epi8(q, q);
                    for k in 0..RX {
                        // |q| · (x · sign q) fills 16-bit lanes, so each is widened at once.
                        let p = _mm256_maddubs_epi16(aq, _mm256_sign_epi8(word(k, c), q));
                        let p = _mm256_madd_epi16(p, ones);
                        if halves(TY) && c >= 4 {
                            sum_hi[k] = _mm256_add_epi32(sum_hi[k], p);
                        } else {
                            sum[k] = _mm256_add_epi32(sum[k], p);
                        }
                    }
                }
            } else {
                // Eight nibble products per 16-bit lane stay below 8 · 2 · 15 · 127 < 2^15.
                let mut sum16 = [_mm256_setzero_si256(); RX];
                for c in 0..4 {
                    let q = _mm256_loadu_si256(gb.add(head + 32 * c).cast());
                    let lo = _mm256_and_si256(q, low);
                    let hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low);
                    for k in 0..RX {
                        let p = _mm256_add_epi16(
                            _mm256_maddubs_epi16(lo, word(k, c)),
                            _mm256_maddubs_epi16(hi, word(k, c + 4)),
                        );
                        sum16[k] = _mm256_add_epi16(sum16[k], p);
                    }
                }
                for k in 0..RX {
                    sum[k] = _mm256_madd_epi16(sum16[k], ones);
                    if TY == Q4_0 {
                        let bias = _mm256_set1_epi32(8 * *xs[k].sq.get_unchecked(b));
                        sum[k] = _mm256_sub_epi32(sum[k], bias);
                    }
                }
            }
            let m = match TY {
                Q4_1 => _mm256_cvtph_ps(_mm_loadu_si128(gb.add(16).cast())),
                Q4_K => {
                    let dmin = _mm256_cvtph_ps(_mm_loadu_si128(hdr.add(16).cast()));
                    // −(dmin·m), negated by its sign bit as the scalar path negates.
                    let mm = _mm256_mul_ps(dmin, bytes_f32(gb.add(8)));
                    _mm256_xor_ps(mm, _mm256_set1_ps(-0.0))
                }
                // Q6_K: the scales of columns 16..32.
                Q6_K => _mm256_mul_ps(
                    _mm256_cvtph_ps(_mm_loadu_si128(hdr.cast())),
                    i8s_f32(gb.add(8)),
                ),
                Q5_K | Q2_K => _mm256_loadu_ps(gb.add(32).cast()),
                _ => _mm256_setzero_ps(),
            };
            for k in 0..RX {
                let xd = _mm256_set1_ps(*xs[k].d.get_unchecked(b));
                let scale = _mm256_mul_ps(d, xd);
                acc[k] = _mm256_fmadd_ps(scale, _mm256_cvtepi32_ps(sum[k]), acc[k]);
                if halves(TY) {
                    // `m` holds the scales of columns 16..32.
                    let scale = _mm256_mul_ps(m, xd);
                    acc[k] = _mm256_fmadd_ps(scale, _mm256_cvtepi32_ps(sum_hi[k]), acc[k]);
                }
                if TY == Q2_K {
                    let x = &xs[k];
                    let (lo, hi) = (*x.sh.get_unchecked(b), *x.sq.get_unchecked(b));
                    let (lo, hi) = (lo, hi - lo);
                    let d = *x.d.get_unchecked(b);
                    let m_lo = _mm256_loadu_ps(gb.add(64).cast());
                    let m_hi = _mm256_loadu_ps(gb.add(96).cast());
                    acc[k] = _mm256_fmadd_ps(m_lo, _mm256_set1_ps(d * lo as f32), acc[k]);
                    acc[k] = _mm256_fmadd_ps(m_hi, _mm256_set1_ps(d * hi as f32), acc[k]);
                }
                if has_min(TY) {
                    acc[k] = _mm256_fmadd_ps(m, _mm256_set1_ps(*xs[k].s.get_unchecked(b)), acc[k]);
                }
            }
        }
    }
    let mut out = [[0f32; ROWS]; RX];
    for k in 0..RX {
        // SAFETY: out[k] holds 8 floats.
        unsafe { _mm256_storeu_ps(out[k].as_mut_ptr(), acc[k]) };
    }
    out
}
