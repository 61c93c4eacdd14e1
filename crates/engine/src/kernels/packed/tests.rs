//! Packing and the packed products against dequantized rows, on both kernel paths.

use super::*;

fn f16_bytes(v: f32) -> [u8; 2] {
    half::f16::from_f32(v).to_le_bytes()
}

/// `rows` rows of `nb` blocks with varied scales and every nibble/byte value.
fn matrix(ty: GgmlType, rows: usize, nb: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let bytes = |n: usize, seed: usize| (0..n).map(move |j| ((j * 37 + seed) % 256) as u8);
    if ty.block_len() == 256 {
        for r in 0..rows {
            for sb in 0..nb / 8 {
                let seed = 11 * sb + 5 * r;
                let d = f16_bytes(0.002 + (sb + 3 * r) as f32 * 0.0007);
                let dmin = f16_bytes(0.001 + r as f32 * 0.0003);
                match ty {
                    GgmlType::Q4K | GgmlType::Q5K => {
                        out.extend(d);
                        out.extend(dmin);
                        out.extend(bytes(ty.block_bytes() - 4, seed));
                    }
                    GgmlType::Q2K => {
                        out.extend(bytes(80, seed));
                        out.extend(d);
                        out.extend(dmin);
                    }
                    _ => {
                        out.extend(bytes(ty.block_bytes() - 2, seed));
                        out.extend(d);
                    }
                }
            }
        }
        return out;
    }
    for r in 0..rows {
        for b in 0..nb {
            out.extend(f16_bytes(0.01 + (b + 3 * r) as f32 * 0.003));
            let seed = b * 11 + r * 5;
            match ty {
                GgmlType::Q8_0 => out.extend(bytes(32, seed)),
                GgmlType::Q4_1 => {
                    out.extend(f16_bytes(-0.05 * (b + r) as f32));
                    out.extend(bytes(16, seed));
                }
                GgmlType::Q5_0 => out.extend(bytes(20, seed)),
                GgmlType::Q5_1 => {
                    out.extend(f16_bytes(-0.05 * (b + r) as f32));
                    out.extend(bytes(20, seed));
                }
                _ => out.extend(bytes(16, seed)),
            }
        }
    }
    out
}

#[test]
fn packed_products_match_the_dequantized_rows_on_both_paths() {
    let (rows, n) = (13, 6);
    for ty in [
        GgmlType::Q4_0,
        GgmlType::Q4_1,
        GgmlType::Q5_0,
        GgmlType::Q8_0,
        GgmlType::Q5_1,
        GgmlType::Q2K,
        GgmlType::Q3K,
        GgmlType::Q4K,
        GgmlType::Q5K,
        GgmlType::Q6K,
    ] {
        // K-quant rows come in super-blocks of 256 columns.
        let nb = if ty.block_len() == 256 { 16 } else { 5 };
        let cols = nb * QK;
        let xs: Vec<f32> = (0..n * cols)
            .map(|i| ((i * 7919 % 1000) as f32 - 500.0) * 0.013)
            .collect();
        let a = Q8Acts::quantize(&xs, cols, false);
        let row_bytes = cols / ty.block_len() * ty.block_bytes();
        let w = matrix(ty, rows, nb);
        let p = pack(ty, &w, rows, cols);
        assert_eq!(p.len(), 2 * group_bytes(ty, cols));
        let mut want_row = vec![0f32; cols];
        let mut got_row = vec![0f32; cols];
        let mut scalar = vec![0f32; rows * n];
        super::product(ty, &p, rows, cols, &a, &mut scalar, false);
        for r in 0..rows {
            super::super::dequantize(ty, &w[r * row_bytes..][..row_bytes], &mut want_row);
            row(ty, &p, cols, r, &mut got_row);
            assert_eq!(want_row, got_row, "{ty:?} row {r} unpacks to the original");
            for t in 0..n {
                let x = a.row(t);
                let want: f64 = (0..cols)
                    .map(|i| want_row[i] as f64 * x.qs[i] as f64 * x.d[i / QK] as f64)
                    .sum();
                let mut want = want;
                let layout = tag(ty).unwrap();
                if has_min(layout) {
                    // The minimum term uses s, rounded to f16 on its own (llama.cpp's Q8_1).
                    let gb = &p[r / ROWS * group_bytes(ty, cols)..];
                    for b in 0..nb {
                        let m = match ty {
                            GgmlType::Q4_1 => f16_at(&w[(r * nb + b) * 20..], 2),
                            GgmlType::Q4K => q4_k_scales(gb, nb, b, r % ROWS).1,
                            _ => f32_at(gb, b * group_block_bytes(layout) + 32 + 4 * (r % ROWS)),
                        } as f64;
                        want += m * (x.s[b] as f64 - x.d[b] as f64 * x.sq[b] as f64);
                    }
                }
                let got = scalar[t * rows + r] as f64;
                assert!(
                    (got - want).abs() <= 1e-4 * want.abs().max(1.0),
                    "{ty:?} {r} {t}: {got} vs {want}"
                );
            }
        }
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
            && std::arch::is_x86_feature_detected!("f16c")
        {
            let mut simd = vec![0f32; rows * n];
            super::product(ty, &p, rows, cols, &a, &mut simd, true);
            assert_eq!(scalar, simd, "{ty:?}: both paths give the same bits");
        }
    }
}
