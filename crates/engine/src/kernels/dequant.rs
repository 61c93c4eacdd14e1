//! Dequantization of ggml block formats to f32, ported from ggml's reference implementations
//! (`dequantize_row_*` in ggml/src/ggml-quants.c). Block layouts are little-endian and packed;
//! every reader here indexes bytes explicitly, so unaligned mmap data is fine.

use half::{bf16, f16};
use samtal_gguf::GgmlType;

#[inline]
fn f16_at(b: &[u8], i: usize) -> f32 {
    f16::from_le_bytes([b[i], b[i + 1]]).to_f32()
}

/// Dequantizes `out.len()` elements of type `ty` from `src`. `src` must hold exactly
/// `out.len() / block_len` blocks; callers check shapes at load time.
pub fn dequantize(ty: GgmlType, src: &[u8], out: &mut [f32]) {
    let bl = ty.block_len();
    let bb = ty.block_bytes();
    debug_assert_eq!(out.len() % bl, 0);
    debug_assert_eq!(src.len(), out.len() / bl * bb);
    for (block, y) in src.chunks_exact(bb).zip(out.chunks_exact_mut(bl)) {
        match ty {
            GgmlType::F32 => y[0] = f32::from_le_bytes([block[0], block[1], block[2], block[3]]),
            GgmlType::F16 => y[0] = f16_at(block, 0),
            GgmlType::BF16 => y[0] = bf16::from_le_bytes([block[0], block[1]]).to_f32(),
            GgmlType::Q4_0 => q4_0(block, y),
            GgmlType::Q4_1 => q4_1(block, y),
            GgmlType::Q5_0 => q5_0(block, y),
            GgmlType::Q5_1 => q5_1(block, y),
            GgmlType::Q8_0 => q8_0(block, y),
            GgmlType::Q8_1 => q8_1(block, y),
            GgmlType::Q2K | GgmlType::Q3K | GgmlType::Q4K | GgmlType::Q5K | GgmlType::Q6K => {
                let mut ib = IntBlock::default();
                int_block(ty, block, &mut ib);
                ib.dequantize(y);
            }
            GgmlType::Q8K => q8_k(block, y),
        }
    }
}

// block_q4_0 { f16 d; u8 qs[16]; }: low nibbles are elements 0..16, high nibbles 16..32.
fn q4_0(b: &[u8], y: &mut [f32]) {
    let d = f16_at(b, 0);
    let qs = &b[2..18];
    for j in 0..16 {
        y[j] = ((qs[j] & 0x0f) as i32 - 8) as f32 * d;
        y[j + 16] = ((qs[j] >> 4) as i32 - 8) as f32 * d;
    }
}

// block_q4_1 { f16 d; f16 m; u8 qs[16]; }
fn q4_1(b: &[u8], y: &mut [f32]) {
    let d = f16_at(b, 0);
    let m = f16_at(b, 2);
    let qs = &b[4..20];
    for j in 0..16 {
        y[j] = (qs[j] & 0x0f) as f32 * d + m;
        y[j + 16] = (qs[j] >> 4) as f32 * d + m;
    }
}

// block_q5_0 { f16 d; u8 qh[4]; u8 qs[16]; }: qh holds the fifth bit of each element.
fn q5_0(b: &[u8], y: &mut [f32]) {
    let d = f16_at(b, 0);
    let qh = u32::from_le_bytes([b[2], b[3], b[4], b[5]]);
    let qs = &b[6..22];
    for j in 0..16 {
        let xh0 = (((qh >> j) << 4) & 0x10) as u8;
        let xh1 = ((qh >> (j + 12)) & 0x10) as u8;
        y[j] = (((qs[j] & 0x0f) | xh0) as i32 - 16) as f32 * d;
        y[j + 16] = (((qs[j] >> 4) | xh1) as i32 - 16) as f32 * d;
    }
}

// block_q5_1 { f16 d; f16 m; u8 qh[4]; u8 qs[16]; }
fn q5_1(b: &[u8], y: &mut [f32]) {
    let d = f16_at(b, 0);
    let m = f16_at(b, 2);
    let qh = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
    let qs = &b[8..24];
    for j in 0..16 {
        let xh0 = (((qh >> j) << 4) & 0x10) as u8;
        let xh1 = ((qh >> (j + 12)) & 0x10) as u8;
        y[j] = ((qs[j] & 0x0f) | xh0) as f32 * d + m;
        y[j + 16] = ((qs[j] >> 4) | xh1) as f32 * d + m;
    }
}

// block_q8_0 { f16 d; i8 qs[32]; }
fn q8_0(b: &[u8], y: &mut [f32]) {
    let d = f16_at(b, 0);
    for j in 0..32 {
        y[j] = (b[2 + j] as i8) as f32 * d;
    }
}

// block_q8_1 { f16 d; f16 s; i8 qs[32]; }
fn q8_1(b: &[u8], y: &mut [f32]) {
    let d = f16_at(b, 0);
    for j in 0..32 {
        y[j] = (b[4 + j] as i8) as f32 * d;
    }
}

/// A K-quant super-block (or a Q5_1 block, in its first 32 elements) in integer form: element
/// `e` is `scale[e / sub] · q[e] + min[e / sub]`. Every scale and minimum is an f16 times a small
/// integer, exact in f32, so the integer form loses nothing; the 8-bit kernels repack from it
/// (see `packed`), and dequantization is that formula, as in ggml's reference.
pub(super) struct IntBlock {
    pub q: [i8; 256],
    pub scale: [f32; 16],
    pub min: [f32; 16],
    /// Elements per sub-block: 16 or 32.
    pub sub: usize,
    /// Q3_K, Q4_K, Q5_K and Q6_K: `scale[j]` is `d · iscale[j]` and (Q4_K, Q5_K) `min[j]` is
    /// `−dmin · imin[j]`, with `d` and `dmin` the f16s in `d16` and `dmin16`.
    pub iscale: [i8; 16],
    pub imin: [i8; 16],
    pub d16: [u8; 2],
    pub dmin16: [u8; 2],
}

impl Default for IntBlock {
    fn default() -> Self {
        Self {
            q: [0; 256],
            scale: [0.0; 16],
            min: [0.0; 16],
            sub: 32,
            iscale: [0; 16],
            imin: [0; 16],
            d16: [0; 2],
            dmin16: [0; 2],
        }
    }
}

impl IntBlock {
    fn dequantize(&self, y: &mut [f32]) {
        for (e, y) in y.iter_mut().enumerate() {
            let j = e / self.sub;
            *y = self.scale[j] * self.q[e] as f32 + self.min[j];
        }
    }
}

/// Fills `ib` from one block of `ty` (Q2_K, Q3_K, Q4_K, Q5_K, Q6_K or Q5_1).
pub(super) fn int_block(ty: GgmlType, b: &[u8], ib: &mut IntBlock) {
    match ty {
        GgmlType::Q2K => q2_k(b, ib),
        GgmlType::Q3K => q3_k(b, ib),
        GgmlType::Q4K => q4_k(b, ib),
        GgmlType::Q5K => q5_k(b, ib),
        GgmlType::Q6K => q6_k(b, ib),
        GgmlType::Q5_1 => {
            let (d, m) = (f16_at(b, 0), f16_at(b, 2));
            let qh = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
            for (j, &byte) in b[8..24].iter().enumerate() {
                ib.q[j] = ((byte & 0x0f) | ((((qh >> j) & 1) as u8) << 4)) as i8;
                ib.q[j + 16] = ((byte >> 4) | ((((qh >> (j + 16)) & 1) as u8) << 4)) as i8;
            }
            (ib.scale[0], ib.min[0], ib.sub) = (d, m, 32);
        }
        _ => {}
    }
}

// block_q2_K { u8 scales[16]; u8 qs[64]; f16 d; f16 dmin; }: 16 sub-blocks of 16 elements, each
// with a 4-bit scale and a 4-bit min.
fn q2_k(b: &[u8], ib: &mut IntBlock) {
    let scales = &b[0..16];
    let d = f16_at(b, 80);
    let dmin = f16_at(b, 82);
    ib.sub = 16;
    for (j, &sc) in scales.iter().enumerate() {
        ib.scale[j] = d * (sc & 0x0f) as f32;
        ib.min[j] = -(dmin * (sc >> 4) as f32);
    }
    let mut out = 0;
    for n in 0..2 {
        let q = &b[16 + 32 * n..16 + 32 * n + 32];
        for shift in [0u32, 2, 4, 6] {
            for half in 0..2 {
                for l in 0..16 {
                    ib.q[out] = ((q[l + 16 * half] >> shift) & 3) as i8;
                    out += 1;
                }
            }
        }
    }
}

// block_q3_K { u8 hmask[32]; u8 qs[64]; u8 scales[12]; f16 d; }: 6-bit scales packed in 12 bytes.
fn q3_k(b: &[u8], ib: &mut IntBlock) {
    const KMASK1: u32 = 0x0303_0303;
    const KMASK2: u32 = 0x0f0f_0f0f;
    let hm = &b[0..32];
    let d = f16_at(b, 108);
    let s = &b[96..108];
    let mut aux = [
        u32::from_le_bytes([s[0], s[1], s[2], s[3]]),
        u32::from_le_bytes([s[4], s[5], s[6], s[7]]),
        u32::from_le_bytes([s[8], s[9], s[10], s[11]]),
        0,
    ];
    let tmp = aux[2];
    aux[2] = ((aux[0] >> 4) & KMASK2) | (((tmp >> 4) & KMASK1) << 4);
    aux[3] = ((aux[1] >> 4) & KMASK2) | (((tmp >> 6) & KMASK1) << 4);
    aux[0] = (aux[0] & KMASK2) | ((tmp & KMASK1) << 4);
    aux[1] = (aux[1] & KMASK2) | (((tmp >> 2) & KMASK1) << 4);
    ib.sub = 16;
    ib.d16 = [b[108], b[109]];
    for (i, a) in aux.iter().enumerate() {
        for (k, byte) in a.to_le_bytes().iter().enumerate() {
            // A 6-bit scale minus 32.
            let sc = (*byte as i8) - 32;
            ib.iscale[4 * i + k] = sc;
            ib.scale[4 * i + k] = d * sc as f32;
            ib.min[4 * i + k] = 0.0;
        }
    }
    let mut m: u8 = 1;
    let mut out = 0;
    for n in 0..2 {
        let q = &b[32 + 32 * n..32 + 32 * n + 32];
        for shift in [0u32, 2, 4, 6] {
            for half in 0..2 {
                for l in 0..16 {
                    let idx = l + 16 * half;
                    let low = ((q[idx] >> shift) & 3) as i8;
                    let high = if hm[idx] & m != 0 { 0 } else { 4 };
                    ib.q[out] = low - high;
                    out += 1;
                }
            }
            m <<= 1;
        }
    }
}

/// The 6-bit scale and min of sub-block `j` in Q4_K/Q5_K's 12-byte packing (ggml's
/// `get_scale_min_k4`).
#[inline]
fn scale_min_k4(j: usize, q: &[u8]) -> (u8, u8) {
    if j < 4 {
        (q[j] & 63, q[j + 4] & 63)
    } else {
        (
            (q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4),
            (q[j + 4] >> 4) | ((q[j] >> 6) << 4),
        )
    }
}

/// Q4_K and Q5_K's scales and minimums: `d·sc` and `−dmin·m` per sub-block of 32.
fn scales_k4(b: &[u8], ib: &mut IntBlock) {
    let (d, dmin) = (f16_at(b, 0), f16_at(b, 2));
    ib.sub = 32;
    (ib.d16, ib.dmin16) = ([b[0], b[1]], [b[2], b[3]]);
    for j in 0..8 {
        // 6-bit values: they fit an i8.
        let (sc, m) = scale_min_k4(j, &b[4..16]);
        (ib.iscale[j], ib.imin[j]) = (sc as i8, m as i8);
        ib.scale[j] = d * sc as f32;
        ib.min[j] = -(dmin * m as f32);
    }
}

// block_q4_K { f16 d; f16 dmin; u8 scales[12]; u8 qs[128]; }: 8 sub-blocks of 32; sub-block 2j
// is the low nibbles of qs[32j..32j+32], 2j+1 their high nibbles.
fn q4_k(b: &[u8], ib: &mut IntBlock) {
    scales_k4(b, ib);
    for j in 0..4 {
        let q = &b[16 + 32 * j..16 + 32 * j + 32];
        for (l, &byte) in q.iter().enumerate() {
            ib.q[64 * j + l] = (byte & 0x0f) as i8;
            ib.q[64 * j + 32 + l] = (byte >> 4) as i8;
        }
    }
}

// block_q5_K { f16 d; f16 dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]; }
fn q5_k(b: &[u8], ib: &mut IntBlock) {
    scales_k4(b, ib);
    let qh = &b[16..48];
    for j in 0..4 {
        let ql = &b[48 + 32 * j..48 + 32 * j + 32];
        let (u1, u2) = (1u8 << (2 * j), 2u8 << (2 * j));
        for l in 0..32 {
            let h1 = if qh[l] & u1 != 0 { 16 } else { 0 };
            let h2 = if qh[l] & u2 != 0 { 16 } else { 0 };
            ib.q[64 * j + l] = ((ql[l] & 0x0f) + h1) as i8;
            ib.q[64 * j + 32 + l] = ((ql[l] >> 4) + h2) as i8;
        }
    }
}

// block_q6_K { u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d; }: element e has scale scales[e/16].
fn q6_k(b: &[u8], ib: &mut IntBlock) {
    let d = f16_at(b, 208);
    ib.sub = 16;
    ib.d16 = [b[208], b[209]];
    for j in 0..16 {
        ib.iscale[j] = b[192 + j] as i8;
        ib.scale[j] = d * ib.iscale[j] as f32;
        ib.min[j] = 0.0;
    }
    for n in 0..2 {
        let ql = &b[64 * n..64 * n + 64];
        let qh = &b[128 + 32 * n..128 + 32 * n + 32];
        let q = &mut ib.q[128 * n..128 * n + 128];
        for l in 0..32 {
            q[l] = ((ql[l] & 0x0f) | ((qh[l] & 3) << 4)) as i8 - 32;
            q[l + 32] = ((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) as i8 - 32;
            q[l + 64] = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) as i8 - 32;
            q[l + 96] = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) as i8 - 32;
        }
    }
}

// block_q8_K { f32 d; i8 qs[256]; i16 bsums[16]; }
fn q8_k(b: &[u8], y: &mut [f32]) {
    let d = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    for j in 0..256 {
        y[j] = (b[4 + j] as i8) as f32 * d;
    }
}
