//! Dequantization and matrix-vector products against gguf-py's reference dequantization, for every
//! supported ggml type (fixtures/quant, made by scripts/make_quant_vectors.py), on the SIMD and the
//! portable kernel paths.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use samtal_engine::kernels::{self, MatRef};
use samtal_gguf::MappedGguf;

/// The SIMD switch is process-wide and tests run in parallel threads: every test of this file
/// holds this lock, so a test that forces the portable path really runs on it, and no other
/// test's two runs straddle a switch.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn fixture() -> MappedGguf {
    let p =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/quant/quant_vectors.gguf");
    MappedGguf::open(p).expect("quant fixture")
}

fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

const TYPES: &[&str] = &[
    "f16", "bf16", "q4_0", "q4_1", "q5_0", "q5_1", "q8_0", "q2_k", "q3_k", "q4_k", "q5_k", "q6_k",
];

fn check_all(simd: bool) {
    kernels::set_simd(simd);
    let g = fixture();
    let x = f32s(g.tensor_data(g.gguf.tensor("x.f32").expect("x")));
    for name in TYPES {
        let q = g.gguf.tensor(&format!("{name}.q")).expect("q tensor");
        let want = f32s(g.tensor_data(g.gguf.tensor(&format!("{name}.f32")).expect("f32")));
        let want_dot = f32s(g.tensor_data(g.gguf.tensor(&format!("{name}.dot")).expect("dot")));
        let (rows, cols) = (q.dims[1] as usize, q.dims[0] as usize);
        let mut got = vec![0f32; rows * cols];
        kernels::dequantize(q.ty, g.tensor_data(q), &mut got);
        for (i, (a, b)) in got.iter().zip(&want).enumerate() {
            assert!(
                (a - b).abs() <= 1e-6 * b.abs().max(1.0),
                "{name}: element {i}: got {a}, reference {b}"
            );
        }
        let m = MatRef {
            ty: q.ty,
            data: g.tensor_data(q),
            rows,
            cols,
            packed: false,
        };
        let mut y = vec![0f32; rows];
        kernels::matmul(m, &x, &mut y);
        let scale: f32 = want.iter().map(|v| v.abs()).sum::<f32>() / rows as f32;
        for (r, (a, b)) in y.iter().zip(&want_dot).enumerate() {
            assert!(
                (a - b).abs() <= 1e-5 * scale.max(1.0),
                "{name}: dot row {r}: got {a}, reference {b}"
            );
        }
    }
    kernels::set_simd(true);
}

/// Packed matrices: every row unpacks to the reference dequantization.
fn check_packed(simd: bool) {
    kernels::set_simd(simd);
    let g = fixture();
    for name in [
        "q4_0", "q4_1", "q5_0", "q5_1", "q8_0", "q3_k", "q4_k", "q5_k", "q6_k",
    ] {
        let q = g.gguf.tensor(&format!("{name}.q")).expect("q tensor");
        let want = f32s(g.tensor_data(g.gguf.tensor(&format!("{name}.f32")).expect("f32")));
        let (rows, cols) = (q.dims[1] as usize, q.dims[0] as usize);
        let packed = kernels::packed::pack(q.ty, g.tensor_data(q), rows, cols);
        let m = MatRef {
            ty: q.ty,
            data: &packed,
            rows,
            cols,
            packed: true,
        };
        let mut row = vec![0f32; cols];
        for r in 0..rows {
            m.row(r, &mut row);
            assert_eq!(
                row,
                want[r * cols..(r + 1) * cols],
                "{name}: packed row {r}"
            );
        }
    }
    kernels::set_simd(true);
}

#[test]
fn packed_rows_unpack_to_the_reference() {
    let _serial = serial();
    check_packed(false);
}

// One test, both paths in sequence: the SIMD switch is process-wide.
#[test]
fn dequantize_and_dot_match_gguf_py_on_every_path() {
    let _serial = serial();
    check_all(false);
    check_all(true);
}
