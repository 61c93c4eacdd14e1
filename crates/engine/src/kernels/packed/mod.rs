//! Weights repacked at load for 8-bit products: groups of 8 rows interleaved so that one 256-bit
//! register holds 4 quants of each of the 8 rows. One integer multiply-add then advances eight
//! row products at once, every lane belonging to one row, so a block needs no horizontal sums
//! and its 8 scales are one vector (llama.cpp's `q4_0_8x8` idea, here for Q4_0, Q4_1 and Q8_0,
//! and for Q5_0, Q5_1 and the K-quants converted exactly into such layouts; see [`tag`]).
//!
//! Layout, per group of 8 rows (the last group padded with zero rows) and per 32-column block:
//! the head, then the quants in 32-byte chunks; lane `r` (bytes `4r..4r+4`) of chunk `c` holds
//! bytes `4c..4c+4` of row `r`'s block quants. For 4-bit layouts those bytes carry elements
//! `4c..4c+4` in their low nibbles and `16+4c..` in the high ones; for 8-bit ones elements
//! `4c..4c+4`. The head holds the 8 rows' scales:
//! - Q4_0, Q8_0: `d` as f16; Q4_1: `d`, then the minimums `m`, as f16;
//! - Q5_K: `d` and `m` as f32; Q2_K: the scales of columns 0..16 and of 16..32, then the
//!   minimums likewise, as f32;
//! - Q4_K: the 6-bit sub-block scales, then minimums, as bytes; Q6_K: the 8-bit scales of
//!   columns 0..16, then of 16..32. Their super-block's f16 `d` (and Q4_K's `dmin`) follow the
//!   group's blocks, once per 256 columns, and the kernels multiply them out: the products are
//!   exact in f32, the same values as the file's dequantization.
//!
//! The block product follows [`super::q8`]: exact integer sums, then per row and block
//! `acc = fma(d_w·d_x, Σ, acc)` (Q4_0: `Σ q_w·q_x − 8·Σ q_x`; Q4_1, Q4_K and Q5_K add
//! `fma(m, s_x, acc)`; Q6_K and Q2_K sum columns 0..16 and 16..32 apart, one fma each, and Q2_K
//! adds `fma(m, d_x·Σq_x, acc)` for each half). The scalar path does the same operations in the
//! same order, so both paths give identical bits.

use rayon::prelude::*;
use samtal_gguf::GgmlType;

use super::dequant::{int_block, IntBlock};
use super::q8::{Q8Acts, Q8Row};

/// Rows per group.
pub const ROWS: usize = 8;

/// Names this layout in packed-weights cache files; change it whenever the layout changes.
pub const FORMAT: &str = "samtal-packed-8x4-v2";
const QK: usize = 32;

/// Type tags for the monomorphised kernels.
pub const Q4_0: u8 = 0;
pub const Q4_1: u8 = 1;
pub const Q8_0: u8 = 2;
/// Q4_K's sub-blocks: 4-bit quants with the super-block's f16 `d` and `dmin` (once per 256
/// columns, after the group-blocks) and the 6-bit scale and minimum of each 32 columns as bytes.
pub const Q4_K: u8 = 3;
/// Q6_K's and Q3_K's values: 8-bit quants with the super-block's f16 `d` (once per 256 columns,
/// after the group-blocks) and an 8-bit scale per 16 columns.
pub const Q6_K: u8 = 4;
/// Q5_K's and Q5_1's values: 8-bit quants (0..32) with an f32 scale and minimum per 32 columns.
pub const Q5_K: u8 = 5;
/// Q2_K's values: 8-bit quants (0..4) with an f32 scale and minimum per 16 columns.
pub const Q2_K: u8 = 6;

/// The tag of the layout a type is packed into. Every conversion is exact:
/// - Q5_0 is packed as Q8_0: its 5-bit quants minus 16 are 8-bit integers under the same scale,
///   so the products equal llama.cpp's Q5_0 ones;
/// - the K-quants' sub-block scales and minimums (an f16 times a small integer) are exact in f32
///   (see `dequant::IntBlock`): Q4_K keeps its 4-bit quants; Q3_K and Q6_K (scales per 16), Q5_K
///   and Q5_1 (scale and minimum per 32) and Q2_K (scale and minimum per 16) take 8-bit ones.
pub fn tag(ty: GgmlType) -> Option<u8> {
    match ty {
        GgmlType::Q4_0 => Some(Q4_0),
        GgmlType::Q4_1 => Some(Q4_1),
        GgmlType::Q8_0 | GgmlType::Q5_0 => Some(Q8_0),
        GgmlType::Q4K => Some(Q4_K),
        GgmlType::Q3K | GgmlType::Q6K => Some(Q6_K),
        GgmlType::Q5K | GgmlType::Q5_1 => Some(Q5_K),
        GgmlType::Q2K => Some(Q2_K),
        _ => None,
    }
}

/// A Q5_0 block (f16 `d`, 32 high bits, 16 bytes of low nibbles) as the Q8_0 block of the same
/// values: `d`, then `q − 16` for each element.
fn q5_0_as_q8_0(blk: &[u8], out: &mut [u8; 34]) {
    out[..2].copy_from_slice(&blk[..2]);
    let qh = u32::from_le_bytes([blk[2], blk[3], blk[4], blk[5]]);
    for (j, &byte) in blk[6..22].iter().enumerate() {
        let lo = (byte & 0x0f) | ((((qh >> j) & 1) as u8) << 4);
        let hi = (byte >> 4) | ((((qh >> (j + 16)) & 1) as u8) << 4);
        out[2 + j] = (lo as i8 - 16) as u8;
        out[2 + 16 + j] = (hi as i8 - 16) as u8;
    }
}

/// Bytes of the scales (and minimums) of one group-block: 8 f16 `d` (and 8 f16 `m` for Q4_1);
/// for Q4_K the 8 sub-block scales and the 8 minimums as bytes; for Q6_K the 8 scales of
/// columns 0..16, then the 8 of columns 16..32, as bytes; for Q5_K 8 f32 `d` and 8 f32 `m`; for
/// Q2_K 8 f32 scales of columns 0..16, 8 of columns 16..32, then the minimums likewise.
const fn head_bytes(tag: u8) -> usize {
    match tag {
        Q4_1 => 32,
        Q5_K => 64,
        Q2_K => 128,
        _ => 16,
    }
}

/// Bytes of a super-block header, one per 256 columns after a group's group-blocks: the 8 rows'
/// f16 `d` (and for Q4_K then their f16 `dmin`).
const fn header_bytes(tag: u8) -> usize {
    match tag {
        Q4_K => 32,
        Q6_K => 16,
        _ => 0,
    }
}

/// Whether a layout's scales (and minimums) are f32 as they are (else f16, or computed from a
/// header).
const fn f32_head(tag: u8) -> bool {
    matches!(tag, Q5_K | Q2_K)
}

/// Whether a layout has a minimum per row and 32 columns (`fma(m, s_x, acc)`).
const fn has_min(tag: u8) -> bool {
    matches!(tag, Q4_1 | Q4_K | Q5_K)
}

/// Whether a layout scales columns 0..16 and 16..32 of a block apart.
const fn halves(tag: u8) -> bool {
    matches!(tag, Q6_K | Q2_K)
}

/// Whether a layout holds 8-bit quants (else two 4-bit quants per byte).
const fn eight_bit(tag: u8) -> bool {
    matches!(tag, Q8_0 | Q6_K | Q5_K | Q2_K)
}

/// Bytes of the quants of one group-block.
const fn quant_bytes(tag: u8) -> usize {
    if eight_bit(tag) {
        256
    } else {
        128
    }
}

/// Bytes of one group-block (8 rows × 32 columns).
const fn group_block_bytes(tag: u8) -> usize {
    head_bytes(tag) + quant_bytes(tag)
}

/// Bytes of one group (8 rows × `cols`).
pub fn group_bytes(ty: GgmlType, cols: usize) -> usize {
    tag(ty).map_or(0, |t| group_size(t, cols))
}

/// Bytes of one group of layout `t`: its group-blocks, then its super-block headers.
const fn group_size(t: u8, cols: usize) -> usize {
    cols / QK * group_block_bytes(t) + cols / 256 * header_bytes(t)
}

/// Q4_K's scale and minimum of lane `lane` in group-block `b` of `group` (with `nb` blocks).
#[inline]
fn q4_k_scales(group: &[u8], nb: usize, b: usize, lane: usize) -> (f32, f32) {
    let gb = &group[b * group_block_bytes(Q4_K)..];
    let hdr = &group[nb * group_block_bytes(Q4_K) + b / 8 * header_bytes(Q4_K)..];
    let d = f16_at(hdr, 2 * lane) * gb[lane] as f32;
    let m = -(f16_at(hdr, 16 + 2 * lane) * gb[8 + lane] as f32);
    (d, m)
}

/// Q6_K's scales of columns 0..16 and 16..32 of lane `lane` in group-block `b`.
#[inline]
fn q6_k_scales(group: &[u8], nb: usize, b: usize, lane: usize) -> (f32, f32) {
    let gb = &group[b * group_block_bytes(Q6_K)..];
    let hdr = &group[nb * group_block_bytes(Q6_K) + b / 8 * header_bytes(Q6_K)..];
    let d = f16_at(hdr, 2 * lane);
    (d * (gb[lane] as i8) as f32, d * (gb[8 + lane] as i8) as f32)
}

/// Bytes of a packed `(rows, cols)` matrix (rows rounded up to a whole group).
pub fn packed_len(ty: GgmlType, rows: usize, cols: usize) -> usize {
    rows.div_ceil(ROWS) * group_bytes(ty, cols)
}

/// Repacks `rows` rows of `ty` (row-major GGUF blocks) into groups of 8.
pub fn pack(ty: GgmlType, data: &[u8], rows: usize, cols: usize) -> Vec<u8> {
    let mut out = vec![0u8; packed_len(ty, rows, cols)];
    pack_into(ty, data, rows, cols, &mut out);
    out
}

/// [`pack`] into `out` (zeroed, [`packed_len`] bytes), in parallel.
pub fn pack_into(ty: GgmlType, data: &[u8], rows: usize, cols: usize, out: &mut [u8]) {
    let Some(t) = tag(ty) else {
        return;
    };
    let nb = cols / QK;
    let (bl, bb) = (ty.block_len(), ty.block_bytes());
    let row_bytes = cols / bl * bb;
    let gbb = group_block_bytes(t);
    out.par_chunks_exact_mut(group_size(t, cols))
        .enumerate()
        .for_each(|(g, dst)| {
            let (dst, headers) = dst.split_at_mut(nb * gbb);
            let present = ROWS.min(rows - g * ROWS);
            let src = &data[g * ROWS * row_bytes..(g * ROWS + present) * row_bytes];
            let mut ib = IntBlock::default();
            for (r, row) in src.chunks_exact(row_bytes).enumerate() {
                for (sb, blk) in row.chunks_exact(bb).enumerate() {
                    // The source block covers group-blocks first.. (one, or 8 for K-quants).
                    let first = sb * bl / QK;
                    let gb = |j: usize| (first + j) * gbb..(first + j + 1) * gbb;
                    match ty {
                        GgmlType::Q4_0 | GgmlType::Q4_1 | GgmlType::Q8_0 => {
                            put_verbatim(t, blk, r, &mut dst[gb(0)]);
                        }
                        GgmlType::Q5_0 => {
                            let mut q8 = [0u8; 34];
                            q5_0_as_q8_0(blk, &mut q8);
                            put_verbatim(t, &q8, r, &mut dst[gb(0)]);
                        }
                        GgmlType::Q3K | GgmlType::Q4K | GgmlType::Q6K => {
                            // The super-block's f16 d (and dmin) go to the header as they are,
                            // the sub-blocks' small integer scales (and minimums) to the heads.
                            int_block(ty, blk, &mut ib);
                            let hdr = &mut headers[sb * header_bytes(t)..];
                            hdr[2 * r..2 * r + 2].copy_from_slice(&ib.d16);
                            if t == Q4_K {
                                hdr[16 + 2 * r..16 + 2 * r + 2].copy_from_slice(&ib.dmin16);
                            }
                            for j in 0..8 {
                                let gb = &mut dst[gb(j)];
                                let (a, b) = match t {
                                    Q4_K => (ib.iscale[j], ib.imin[j]),
                                    _ => (ib.iscale[2 * j], ib.iscale[2 * j + 1]),
                                };
                                (gb[r], gb[8 + r]) = (a as u8, b as u8);
                                put_quants(t, &ib, j, r, gb);
                            }
                        }
                        _ => {
                            int_block(ty, blk, &mut ib);
                            for j in 0..bl / QK {
                                put_ints(t, &ib, j, r, &mut dst[gb(j)]);
                            }
                        }
                    }
                }
            }
        });
}

/// Lane `r` of a group-block from a Q4_0, Q4_1 or Q8_0 block: scales as they are, then quants.
fn put_verbatim(t: u8, blk: &[u8], r: usize, gb: &mut [u8]) {
    let (head, quants) = gb.split_at_mut(head_bytes(t));
    head[2 * r..2 * r + 2].copy_from_slice(&blk[..2]);
    let q = if t == Q4_1 {
        head[16 + 2 * r..16 + 2 * r + 2].copy_from_slice(&blk[2..4]);
        &blk[4..]
    } else {
        &blk[2..]
    };
    interleave(q, r, quants);
}

/// Lane `r` of a group-block from columns `32j..32j+32` of a block in integer form, with f32
/// scales (and minimums) in the head: Q5_K (and Q5_1) and Q2_K.
fn put_ints(t: u8, ib: &IntBlock, j: usize, r: usize, gb: &mut [u8]) {
    let head = &mut gb[..head_bytes(t)];
    let mut put_f32 = |at: usize, v: f32| head[at..at + 4].copy_from_slice(&v.to_le_bytes());
    if t == Q2_K {
        // Sub-blocks of 16: the scales of columns 0..16 and 16..32, then the minimums.
        put_f32(4 * r, ib.scale[2 * j]);
        put_f32(32 + 4 * r, ib.scale[2 * j + 1]);
        put_f32(64 + 4 * r, ib.min[2 * j]);
        put_f32(96 + 4 * r, ib.min[2 * j + 1]);
    } else {
        put_f32(4 * r, ib.scale[j]);
        put_f32(32 + 4 * r, ib.min[j]);
    }
    put_quants(t, ib, j, r, gb);
}

/// Lane `r` of a group-block's quants from columns `32j..32j+32` of a block in integer form.
fn put_quants(t: u8, ib: &IntBlock, j: usize, r: usize, gb: &mut [u8]) {
    let quants = &mut gb[head_bytes(t)..];
    let q = &ib.q[QK * j..QK * (j + 1)];
    if eight_bit(t) {
        let bytes: [u8; QK] = std::array::from_fn(|l| q[l] as u8);
        interleave(&bytes, r, quants);
    } else {
        let bytes: [u8; QK / 2] = std::array::from_fn(|l| q[l] as u8 | ((q[l + 16] as u8) << 4));
        interleave(&bytes, r, quants);
    }
}

/// Bytes `4c..4c+4` of a block's quants into lane `r` of chunk `c`.
fn interleave(q: &[u8], r: usize, quants: &mut [u8]) {
    for (chunk, four) in quants.chunks_exact_mut(32).zip(q.chunks_exact(4)) {
        chunk[4 * r..4 * r + 4].copy_from_slice(four);
    }
}

/// Dequantizes row `r` of a packed matrix into `out` (`cols` floats).
pub fn row(ty: GgmlType, data: &[u8], cols: usize, r: usize, out: &mut [f32]) {
    let Some(t) = tag(ty) else {
        return;
    };
    let (g, lane) = (r / ROWS, r % ROWS);
    let gbb = group_block_bytes(t);
    let group = &data[g * group_bytes(ty, cols)..(g + 1) * group_bytes(ty, cols)];
    let nb = cols / QK;
    for (b, (gb, o)) in group[..nb * gbb]
        .chunks_exact(gbb)
        .zip(out.chunks_exact_mut(QK))
        .enumerate()
    {
        let quants = &gb[head_bytes(t)..];
        for (e, y) in o.iter_mut().enumerate() {
            *y = if eight_bit(t) {
                let q = (quants[(e / 4) * 32 + 4 * lane + e % 4] as i8) as f32;
                match t {
                    Q6_K => {
                        let (lo, hi) = q6_k_scales(group, nb, b, lane);
                        if e < 16 {
                            lo * q
                        } else {
                            hi * q
                        }
                    }
                    Q2_K => {
                        let h = 32 * (e / 16) + 4 * lane;
                        f32_at(gb, h) * q + f32_at(gb, 64 + h)
                    }
                    Q5_K => f32_at(gb, 4 * lane) * q + f32_at(gb, 32 + 4 * lane),
                    _ => f16_at(gb, 2 * lane) * q,
                }
            } else {
                let e4 = e % 16;
                let byte = quants[(e4 / 4) * 32 + 4 * lane + e4 % 4];
                let q = if e < 16 { byte & 0x0f } else { byte >> 4 } as f32;
                match t {
                    Q4_0 => f16_at(gb, 2 * lane) * (q - 8.0),
                    Q4_1 => f16_at(gb, 2 * lane) * q + f16_at(gb, 16 + 2 * lane),
                    _ => {
                        let (d, m) = q4_k_scales(group, nb, b, lane);
                        d * q + m
                    }
                }
            };
        }
    }
}

#[inline]
fn f16_at(b: &[u8], at: usize) -> f32 {
    half::f16::from_le_bytes([b[at], b[at + 1]]).to_f32()
}

#[inline]
fn f32_at(b: &[u8], at: usize) -> f32 {
    f32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// The output `(n, stride)` of a product, shared by the tasks that compute it: each writes
/// cells no other task writes (its rows of its tokens), straight into place, so no task needs
/// a buffer of its own or a transpose afterwards.
#[derive(Clone, Copy, Debug)]
pub struct OutPtr {
    ptr: *mut f32,
    stride: usize,
    len: usize,
}

// SAFETY: tasks write disjoint cells (see `OutPtr::put`), so sharing the pointer is sound.
unsafe impl Send for OutPtr {}
// SAFETY: as above.
unsafe impl Sync for OutPtr {}

impl OutPtr {
    /// `out` is `(n, stride)`; it must outlive every task given the pointer.
    pub fn new(out: &mut [f32], stride: usize) -> Self {
        Self {
            ptr: out.as_mut_ptr(),
            stride,
            len: out.len(),
        }
    }

    /// Writes `vs` into cells `(t, r..r + vs.len())`.
    ///
    /// # Safety
    /// No other thread writes or reads those cells meanwhile, and the buffer is alive.
    #[inline]
    unsafe fn put(self, t: usize, r: usize, vs: &[f32]) {
        let at = t * self.stride + r;
        assert!(at + vs.len() <= self.len && r + vs.len() <= self.stride);
        // SAFETY: in bounds (checked); exclusive by the caller's contract.
        unsafe { std::ptr::copy_nonoverlapping(vs.as_ptr(), self.ptr.add(at), vs.len()) };
    }
}

/// Weight rows `rows` (starting at a multiple of 8) of a packed matrix against activation
/// rows `toks`, into `out`: each group of 8 weight rows against the activation rows 4 at a
/// time (decode: 1).
///
/// # Safety
/// No other thread touches the cells `(toks, rows)` of `out` meanwhile, and `out` is alive.
#[allow(clippy::too_many_arguments)]
pub unsafe fn rows(
    ty: GgmlType,
    data: &[u8],
    cols: usize,
    a: &Q8Acts,
    rows: std::ops::Range<usize>,
    toks: std::ops::Range<usize>,
    out: OutPtr,
    simd: bool,
) {
    // SAFETY (each arm): the caller's contract.
    unsafe {
        match tag(ty) {
            Some(Q4_0) => rows_typed::<Q4_0>(data, cols, a, rows, toks, out, simd),
            Some(Q4_1) => rows_typed::<Q4_1>(data, cols, a, rows, toks, out, simd),
            Some(Q8_0) => rows_typed::<Q8_0>(data, cols, a, rows, toks, out, simd),
            Some(Q4_K) => rows_typed::<Q4_K>(data, cols, a, rows, toks, out, simd),
            Some(Q6_K) => rows_typed::<Q6_K>(data, cols, a, rows, toks, out, simd),
            Some(Q5_K) => rows_typed::<Q5_K>(data, cols, a, rows, toks, out, simd),
            Some(Q2_K) => rows_typed::<Q2_K>(data, cols, a, rows, toks, out, simd),
            _ => {}
        }
    }
}

/// [`rows`] for the whole product on one thread: `out` is `(n, rows)`.
pub fn product(
    ty: GgmlType,
    data: &[u8],
    n_rows: usize,
    cols: usize,
    a: &Q8Acts,
    out: &mut [f32],
    simd: bool,
) {
    let n = a.rows();
    assert_eq!(out.len(), n * n_rows);
    let ptr = OutPtr::new(out, n_rows);
    // SAFETY: one thread, and `out` outlives the call.
    unsafe { rows(ty, data, cols, a, 0..n_rows, 0..n, ptr, simd) };
}

/// # Safety
/// As [`rows`].
unsafe fn rows_typed<const TY: u8>(
    data: &[u8],
    cols: usize,
    a: &Q8Acts,
    rows: std::ops::Range<usize>,
    toks: std::ops::Range<usize>,
    out: OutPtr,
    simd: bool,
) {
    debug_assert!(rows.start.is_multiple_of(ROWS));
    let gsize = group_size(TY, cols);
    let g0 = rows.start / ROWS;
    let xs: Vec<Q8Row<'_>> = toks.clone().map(|t| a.row(t)).collect();
    for g in 0..rows.len().div_ceil(ROWS) {
        let group = &data[(g0 + g) * gsize..(g0 + g + 1) * gsize];
        let first = rows.start + g * ROWS;
        let lanes = ROWS.min(rows.end - first);
        // SAFETY: the caller's contract covers (toks, rows).
        let put = |t: usize, y: &[f32; ROWS]| unsafe {
            if lanes == ROWS {
                out.put(t, first, y);
            } else {
                out.put(t, first, &y[..lanes]);
            }
        };
        let mut t = toks.start;
        while t < toks.end {
            if t + 4 <= toks.end {
                let x = &xs[t - toks.start..];
                let xs = [x[0], x[1], x[2], x[3]];
                let y = group_any::<TY, 4>(group, xs, simd);
                for (k, y) in y.iter().enumerate() {
                    put(t + k, y);
                }
                t += 4;
            } else {
                let y = group_any::<TY, 1>(group, [xs[t - toks.start]], simd);
                put(t, &y[0]);
                t += 1;
            }
        }
    }
}

#[inline]
fn group_any<const TY: u8, const RX: usize>(
    group: &[u8],
    xs: [Q8Row<'_>; RX],
    simd: bool,
) -> [[f32; ROWS]; RX] {
    #[cfg(target_arch = "x86_64")]
    if simd {
        // SAFETY: simd is set only when AVX2, FMA and F16C are present; the group holds a
        // group-block per activation block (the matrix and the input share `cols`).
        return unsafe { group_avx2::<TY, RX>(group, xs) };
    }
    let _ = simd;
    group_scalar::<TY, RX>(group, xs)
}

mod kernels;

#[cfg(target_arch = "x86_64")]
pub use kernels::group_avx2;
pub use kernels::group_scalar;

#[cfg(test)]
mod tests;
