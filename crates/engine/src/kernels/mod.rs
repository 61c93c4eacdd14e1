//! CPU kernels: dequantization, dot products and the matrix-vector products the models are built
//! from. SIMD paths are chosen at run time; [`set_simd`] forces the portable path so tests can
//! check both.

mod attend;
mod dequant;
mod fused;
pub mod packed;
pub mod q8;

use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;
use samtal_gguf::GgmlType;

pub use attend::{attend, HeadView};
pub use dequant::dequantize;

static SIMD_ALLOWED: AtomicBool = AtomicBool::new(true);

/// Allows (the default) or forbids SIMD kernels for the whole process.
pub fn set_simd(allowed: bool) {
    SIMD_ALLOWED.store(allowed, Ordering::Relaxed);
}

/// Which kernel path is in use, for `inspect`/`bench` output.
pub fn kernel_path() -> &'static str {
    if use_avx2() {
        "avx2+fma+f16c"
    } else {
        "scalar"
    }
}

#[inline]
fn use_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        SIMD_ALLOWED.load(Ordering::Relaxed)
            && std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
            && std::arch::is_x86_feature_detected!("f16c")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// `sum(a[i] * b[i])`.
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    #[cfg(target_arch = "x86_64")]
    if use_avx2() {
        // SAFETY: the CPU supports avx2 and fma (checked above).
        return unsafe { dot_avx2(a, b) };
    }
    dot_scalar(a, b)
}

fn dot_scalar(a: &[f32], b: &[f32]) -> f32 {
    // Eight partial sums, like the SIMD path, so both round alike and LLVM can vectorise.
    let mut acc = [0f32; 8];
    let chunks = a.len() / 8 * 8;
    for (ca, cb) in a[..chunks].chunks_exact(8).zip(b[..chunks].chunks_exact(8)) {
        for k in 0..8 {
            acc[k] += ca[k] * cb[k];
        }
    }
    let mut s: f32 = acc.iter().sum();
    for (x, y) in a[chunks..].iter().zip(&b[chunks..]) {
        s += x * y;
    }
    s
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dot_avx2(a: &[f32], b: &[f32]) -> f32 {
    use std::arch::x86_64::*;
    let n = a.len().min(b.len());
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut acc0 = _mm256_setzero_ps();
    let mut acc1 = _mm256_setzero_ps();
    let mut acc2 = _mm256_setzero_ps();
    let mut acc3 = _mm256_setzero_ps();
    let mut i = 0;
    // SAFETY (all loads below): i + 32 <= n, i + 8 <= n respectively, both slices hold n floats.
    while i + 32 <= n {
        unsafe {
            acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(pa.add(i)), _mm256_loadu_ps(pb.add(i)), acc0);
            acc1 = _mm256_fmadd_ps(
                _mm256_loadu_ps(pa.add(i + 8)),
                _mm256_loadu_ps(pb.add(i + 8)),
                acc1,
            );
            acc2 = _mm256_fmadd_ps(
                _mm256_loadu_ps(pa.add(i + 16)),
                _mm256_loadu_ps(pb.add(i + 16)),
                acc2,
            );
            acc3 = _mm256_fmadd_ps(
                _mm256_loadu_ps(pa.add(i + 24)),
                _mm256_loadu_ps(pb.add(i + 24)),
                acc3,
            );
        }
        i += 32;
    }
    while i + 8 <= n {
        unsafe {
            acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(pa.add(i)), _mm256_loadu_ps(pb.add(i)), acc0);
        }
        i += 8;
    }
    let acc = _mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3));
    let mut s = hsum256(acc);
    while i < n {
        s += a[i] * b[i];
        i += 1;
    }
    s
}

/// The sum of the eight lanes, added in lane order (every SIMD kernel reduces the same way).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
pub(crate) fn hsum256(v: std::arch::x86_64::__m256) -> f32 {
    let mut lanes = [0f32; 8];
    // SAFETY: lanes holds 8 floats.
    unsafe { std::arch::x86_64::_mm256_storeu_ps(lanes.as_mut_ptr(), v) };
    lanes.iter().sum()
}

/// A weight matrix `(rows, cols)` in one of the storage formats: row-major, each row `cols`
/// contiguous elements (a whole number of blocks for quantized types), or, when `packed`, in
/// interleaved groups of 8 rows for 8-bit products ([`packed`]).
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a> {
    pub ty: GgmlType,
    pub data: &'a [u8],
    pub rows: usize,
    pub cols: usize,
    pub packed: bool,
}

impl MatRef<'_> {
    fn row_bytes(&self) -> usize {
        self.cols / self.ty.block_len() * self.ty.block_bytes()
    }

    /// Dequantizes row `r` into `out` (`cols` floats).
    pub fn row(&self, r: usize, out: &mut [f32]) {
        if self.packed {
            packed::row(self.ty, self.data, self.cols, r, out);
            return;
        }
        let rb = self.row_bytes();
        dequantize(self.ty, &self.data[r * rb..(r + 1) * rb], out);
    }
}

/// Rows per parallel task: large enough to amortise scheduling, small enough to balance.
const ROWS_PER_TASK: usize = 16;

/// Input rows per task of a packed product: their 8-bit activations stay in the core's cache
/// while the task's weight rows pass over them.
const TOKENS_PER_TASK: usize = 256;

/// `ys = xs · wᵀ`: `xs` is `(n, cols)`, `ys` is `(n, rows)`, `w` is `(rows, cols)`. Packed
/// weights take 8-bit products, others f32 ones.
pub fn matmul(w: MatRef<'_>, xs: &[f32], ys: &mut [f32]) {
    matmul_many(&[w], xs, &mut [ys]);
}

/// `ys[i] = xs · ws[i]ᵀ` for weights that share their input (a layer's q, k and v, or gate and
/// up): the input is prepared once (quantized, or summed per block) and all the products are
/// one parallel job, so the thread pool is woken once rather than once per matrix.
///
/// Each weight row is read once for all `n` input rows, so prefill reads the weights once.
pub fn matmul_many(ws: &[MatRef<'_>], xs: &[f32], ys: &mut [&mut [f32]]) {
    let Some(cols) = ws.first().map(|w| w.cols) else {
        return;
    };
    let n = xs.len() / cols;
    debug_assert_eq!(xs.len(), n * cols);
    debug_assert!(ws
        .iter()
        .zip(ys.iter())
        .all(|(w, y)| w.cols == cols && y.len() == n * w.rows));
    let simd = use_avx2();
    let q8 = ws
        .iter()
        .any(|w| w.packed)
        .then(|| q8::Q8Acts::quantize(xs, cols, simd));
    let mut xsum = Vec::new();
    if n == 1 && simd && ws.iter().any(|w| !w.packed && fused::has_fused(w.ty)) {
        fused::block_sums(xs, &mut xsum);
    }
    let input = Input {
        xs,
        n,
        q8: q8.as_ref(),
        xsum: &xsum,
        simd,
    };
    // Packed weights: each task takes a stripe of weight rows for a tile of input rows and
    // writes its cells straight into `ys` (see `packed::OutPtr`). Others, with several input
    // rows: each task writes a stripe of weight rows for every input row, computed transposed,
    // `(rows, n)`, so that stripes are contiguous, and transposed back.
    let mut transposed: Vec<Vec<f32>> = ws
        .iter()
        .map(|w| {
            if n > 1 && !w.packed {
                vec![0f32; w.rows * n]
            } else {
                Vec::new()
            }
        })
        .collect();
    {
        let threads = rayon::current_num_threads();
        let mut dense = Vec::new();
        let mut tiles = Vec::new();
        for (i, (w, (t, y))) in ws
            .iter()
            .zip(transposed.iter_mut().zip(ys.iter_mut()))
            .enumerate()
        {
            // Decode: a few whole stripes per thread, so the pool hands work out a handful of
            // times per product instead of once per 16 rows.
            // (Packed rows go in whole groups of 8.)
            let per_task = if n == 1 {
                w.rows
                    .div_ceil(4 * threads)
                    .max(ROWS_PER_TASK)
                    .next_multiple_of(packed::ROWS)
            } else {
                ROWS_PER_TASK
            };
            if w.packed {
                let out = packed::OutPtr::new(y, w.rows);
                for r0 in (0..w.rows).step_by(per_task) {
                    for t0 in (0..n).step_by(TOKENS_PER_TASK) {
                        let rows = r0..(r0 + per_task).min(w.rows);
                        tiles.push((i, rows, t0..(t0 + TOKENS_PER_TASK).min(n), out));
                    }
                }
                continue;
            }
            let out: &mut [f32] = if n > 1 { t } else { y };
            for (c, chunk) in out.chunks_mut(per_task * n).enumerate() {
                dense.push((i, c * per_task, chunk));
            }
        }
        rayon::join(
            || {
                tiles.into_par_iter().for_each(|(i, rows, toks, out)| {
                    if let Some(a) = input.q8 {
                        // SAFETY: the tasks' (rows, toks) cells are disjoint, and `ys`
                        // outlives them (the join returns first).
                        unsafe {
                            packed::rows(ws[i].ty, ws[i].data, cols, a, rows, toks, out, simd)
                        };
                    }
                })
            },
            || {
                dense
                    .into_par_iter()
                    .for_each(|(i, r0, out)| input.rows(ws[i], r0, out))
            },
        );
    }
    for (w, (yt, y)) in ws.iter().zip(transposed.iter().zip(ys.iter_mut())) {
        if yt.is_empty() {
            continue;
        }
        for r in 0..w.rows {
            for t in 0..n {
                y[t * w.rows + r] = yt[r * n + t];
            }
        }
    }
}

/// An input to [`matmul_many`], prepared once for every weight row that reads it.
struct Input<'a> {
    xs: &'a [f32],
    n: usize,
    q8: Option<&'a q8::Q8Acts>,
    xsum: &'a [f32],
    simd: bool,
}

impl Input<'_> {
    /// Fills `out`, laid out `(rows, n)`, for weight rows starting at `r0`.
    fn rows(&self, w: MatRef<'_>, r0: usize, out: &mut [f32]) {
        let n = self.n;
        let rb = w.row_bytes();
        let row = |r: usize| &w.data[r * rb..(r + 1) * rb];
        #[cfg(target_arch = "x86_64")]
        if n == 1 && self.simd && fused::has_fused(w.ty) {
            for (i, y) in out.iter_mut().enumerate() {
                // SAFETY: AVX2, FMA and F16C are present (self.simd); the row holds cols / 32
                // blocks and xsum as many sums.
                *y = unsafe { fused::dot_avx2(w.ty, row(r0 + i), self.xs, self.xsum) };
            }
            return;
        }
        // Rows are decoded into f32 once each and multiplied two at a time with every input row.
        let mut buf = vec![0f32; 2 * w.cols];
        let (buf_a, buf_b) = buf.split_at_mut(w.cols);
        let rows_here = out.len() / n;
        let mut i = 0;
        while i < rows_here {
            let a = load_row(w, r0 + i, buf_a);
            if i + 1 < rows_here {
                let b = load_row(w, r0 + i + 1, buf_b);
                let (out_a, out_b) = out[i * n..(i + 2) * n].split_at_mut(n);
                dot_many2(a, b, self.xs, out_a, out_b);
                i += 2;
            } else {
                dot_many(a, self.xs, &mut out[i * n..(i + 1) * n]);
                i += 1;
            }
        }
    }
}

/// Row `r` as f32: borrowed in place when the storage is aligned f32, else decoded into `buf`.
fn load_row<'a>(w: MatRef<'a>, r: usize, buf: &'a mut [f32]) -> &'a [f32] {
    match f32_row(w, r) {
        Some(row) => row,
        None => {
            w.row(r, buf);
            buf
        }
    }
}

/// Two weight rows against every activation row: `out_a[t] = dot(a, xs[t])`, same for `b`.
fn dot_many2(a: &[f32], b: &[f32], xs: &[f32], out_a: &mut [f32], out_b: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if use_avx2() {
        // SAFETY: the CPU supports avx2 and fma (checked above).
        unsafe { dot_many2_avx2(a, b, xs, out_a, out_b) };
        return;
    }
    dot_many(a, xs, out_a);
    dot_many(b, xs, out_b);
}

/// Register block of 2 weight rows × 4 activation rows: per 8 columns, 6 loads feed 8 FMAs.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dot_many2_avx2(a: &[f32], b: &[f32], xs: &[f32], out_a: &mut [f32], out_b: &mut [f32]) {
    use std::arch::x86_64::*;
    let cols = a.len();
    let n = out_a.len();
    let body = cols / 8 * 8;
    let mut t = 0;
    while t + 4 <= n {
        let x = |k: usize| &xs[(t + k) * cols..(t + k + 1) * cols];
        let (x0, x1, x2, x3) = (x(0), x(1), x(2), x(3));
        let mut acc = [_mm256_setzero_ps(); 8];
        let mut i = 0;
        while i < body {
            // SAFETY: i + 8 <= cols for both weight rows and each activation row.
            unsafe {
                let wa = _mm256_loadu_ps(a.as_ptr().add(i));
                let wb = _mm256_loadu_ps(b.as_ptr().add(i));
                let v0 = _mm256_loadu_ps(x0.as_ptr().add(i));
                let v1 = _mm256_loadu_ps(x1.as_ptr().add(i));
                let v2 = _mm256_loadu_ps(x2.as_ptr().add(i));
                let v3 = _mm256_loadu_ps(x3.as_ptr().add(i));
                acc[0] = _mm256_fmadd_ps(wa, v0, acc[0]);
                acc[1] = _mm256_fmadd_ps(wa, v1, acc[1]);
                acc[2] = _mm256_fmadd_ps(wa, v2, acc[2]);
                acc[3] = _mm256_fmadd_ps(wa, v3, acc[3]);
                acc[4] = _mm256_fmadd_ps(wb, v0, acc[4]);
                acc[5] = _mm256_fmadd_ps(wb, v1, acc[5]);
                acc[6] = _mm256_fmadd_ps(wb, v2, acc[6]);
                acc[7] = _mm256_fmadd_ps(wb, v3, acc[7]);
            }
            i += 8;
        }
        for (k, xk) in [x0, x1, x2, x3].into_iter().enumerate() {
            let (mut sa, mut sb) = (hsum256(acc[k]), hsum256(acc[4 + k]));
            for j in body..cols {
                sa += a[j] * xk[j];
                sb += b[j] * xk[j];
            }
            out_a[t + k] = sa;
            out_b[t + k] = sb;
        }
        t += 4;
    }
    if t < n {
        // SAFETY: same CPU features as this function.
        unsafe {
            dot_many_avx2(a, &xs[t * cols..], &mut out_a[t..]);
            dot_many_avx2(b, &xs[t * cols..], &mut out_b[t..]);
        }
    }
}

/// `out[t] = dot(row, xs[t])` for every activation row `t` of `xs`.
fn dot_many(row: &[f32], xs: &[f32], out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if use_avx2() {
        // SAFETY: the CPU supports avx2 and fma (checked above).
        unsafe { dot_many_avx2(row, xs, out) };
        return;
    }
    let cols = row.len();
    for (t, y) in out.iter_mut().enumerate() {
        *y = dot_scalar(row, &xs[t * cols..(t + 1) * cols]);
    }
}

/// Four activation rows at a time: each weight vector is loaded once for four products, and the
/// whole row is one call (no per-product dispatch).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dot_many_avx2(row: &[f32], xs: &[f32], out: &mut [f32]) {
    use std::arch::x86_64::*;
    let cols = row.len();
    let n = out.len();
    let body = cols / 8 * 8;
    let mut t = 0;
    while t + 4 <= n {
        let x = [
            &xs[t * cols..(t + 1) * cols],
            &xs[(t + 1) * cols..(t + 2) * cols],
            &xs[(t + 2) * cols..(t + 3) * cols],
            &xs[(t + 3) * cols..(t + 4) * cols],
        ];
        let mut acc = [_mm256_setzero_ps(); 4];
        let mut i = 0;
        while i < body {
            // SAFETY: i + 8 <= cols for the row and each activation row.
            unsafe {
                let w = _mm256_loadu_ps(row.as_ptr().add(i));
                for k in 0..4 {
                    acc[k] = _mm256_fmadd_ps(w, _mm256_loadu_ps(x[k].as_ptr().add(i)), acc[k]);
                }
            }
            i += 8;
        }
        for k in 0..4 {
            let mut s = hsum256(acc[k]);
            for j in body..cols {
                s += row[j] * x[k][j];
            }
            out[t + k] = s;
        }
        t += 4;
    }
    while t < n {
        // SAFETY: same CPU features as this function.
        out[t] = unsafe { dot_avx2(row, &xs[t * cols..(t + 1) * cols]) };
        t += 1;
    }
}

/// Borrows an f32 row in place when the storage allows it (f32 and aligned).
fn f32_row<'a>(w: MatRef<'a>, r: usize) -> Option<&'a [f32]> {
    if w.ty != GgmlType::F32 {
        return None;
    }
    bytemuck_f32(&w.data[r * w.cols * 4..(r + 1) * w.cols * 4])
}

/// Reinterprets little-endian bytes as f32 when aligned.
pub(crate) fn bytemuck_f32(bytes: &[u8]) -> Option<&[f32]> {
    if !(bytes.as_ptr() as usize).is_multiple_of(std::mem::align_of::<f32>())
        || !bytes.len().is_multiple_of(4)
    {
        return None;
    }
    // SAFETY: aligned, length is a multiple of 4, every bit pattern is a valid f32, and the
    // target is little-endian like the file formats (x86-64 and aarch64).
    Some(unsafe { std::slice::from_raw_parts(bytes.as_ptr().cast::<f32>(), bytes.len() / 4) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_paths_agree() {
        let a: Vec<f32> = (0..77).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..77).map(|i| (i as f32 * 0.11).cos()).collect();
        let exact: f64 = a.iter().zip(&b).map(|(x, y)| *x as f64 * *y as f64).sum();
        assert!((dot_scalar(&a, &b) as f64 - exact).abs() < 1e-4);
        assert!((dot(&a, &b) as f64 - exact).abs() < 1e-4);
    }

    #[test]
    fn matmul_matches_naive() {
        let (rows, cols, n) = (37, 68, 7);
        let w: Vec<f32> = (0..rows * cols)
            .map(|i| ((i * 7 % 13) as f32) - 6.0)
            .collect();
        let xs: Vec<f32> = (0..n * cols).map(|i| ((i * 5 % 11) as f32) * 0.1).collect();
        let bytes: Vec<u8> = w.iter().flat_map(|x| x.to_le_bytes()).collect();
        // Force an aligned copy for the f32 path.
        let aligned: Vec<f32> = w.clone();
        let aligned_bytes =
            unsafe { std::slice::from_raw_parts(aligned.as_ptr().cast::<u8>(), aligned.len() * 4) };
        assert_eq!(aligned_bytes, &bytes[..]);
        let m = MatRef {
            ty: GgmlType::F32,
            data: aligned_bytes,
            rows,
            cols,
            packed: false,
        };
        for simd in [false, true] {
            set_simd(simd);
            let mut ys = vec![0f32; n * rows];
            matmul(m, &xs, &mut ys);
            for t in 0..n {
                for r in 0..rows {
                    let want: f32 = (0..cols).map(|c| w[r * cols + c] * xs[t * cols + c]).sum();
                    assert!((ys[t * rows + r] - want).abs() < 1e-3);
                }
            }
        }
        set_simd(true);
    }
}
