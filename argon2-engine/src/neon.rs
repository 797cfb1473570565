//! The compression function G (RFC 9106 §3.5) on 128-bit NEON vectors: R = X ⊕ Y; the
//! BLAKE2b-based permutation P over the eight rows of R, then over its eight columns; the result
//! is that ⊕ R.
//!
//! The block is 64 vectors of two words. RFC 9106 §3.5 views R as an 8 × 8 matrix of 16-byte
//! registers, which is exactly one vector each: row i is vectors 8i … 8i + 7, column j is vectors
//! j, j + 8, … j + 56, so rows and columns both give P eight vectors of two consecutive words and
//! one `permute` serves both (unlike AVX2's, where a 256-bit vector spans two columns; avx2.rs).
//! Within P's sixteen words, held as A = 0–3, B = 4–7, C = 8–11, D = 12–15 in two vectors each,
//! GB runs on the two lanes of (A₀, B₀, C₀, D₀) and of (A₁, B₁, C₁, D₁); the diagonal step
//! regroups B, C, D with `vextq_u64` (C by swapping its two vectors) and back.
//!
//! Only baseline NEON (Advanced SIMD) is used, which every aarch64 CPU has and aarch64 Linux
//! requires: no extension (such as SHA3's `xar`, a rotate) that would need a run-time check.
use core::arch::aarch64::*;

use argon2::Block;

use crate::fill::Compress;

/// 1 KiB as 128-bit vectors.
const VECTORS: usize = 64;

/// fBlaMka on two lanes: a + b + 2 · lo32(a) · lo32(b), the product widened from the narrowed
/// low halves (`umull`).
#[inline]
#[target_feature(enable = "neon")]
fn blamka(a: uint64x2_t, b: uint64x2_t) -> uint64x2_t {
    let product = vmull_u32(vmovn_u64(a), vmovn_u64(b));
    vaddq_u64(vaddq_u64(a, b), vaddq_u64(product, product))
}

/// 64-bit rotations right: 32 swaps the halves, 24 and 16 move whole bytes, 63 is a left
/// rotation by one.
#[inline]
#[target_feature(enable = "neon")]
fn rotr32(x: uint64x2_t) -> uint64x2_t {
    vreinterpretq_u64_u32(vrev64q_u32(vreinterpretq_u32_u64(x)))
}

/// The byte-shuffle pattern of a rotation right by `bytes` whole bytes within each 64-bit lane:
/// byte k takes byte k + `bytes` of its lane.
const fn rotr_pattern(bytes: u8) -> [u8; 16] {
    let mut pattern = [0u8; 16];
    let mut k = 0;
    while k < 16 {
        pattern[k] = (k as u8 & !7) | ((k as u8 + bytes) & 7);
        k += 1;
    }
    pattern
}

const ROTR24: [u8; 16] = rotr_pattern(3);
const ROTR16: [u8; 16] = rotr_pattern(2);

/// A rotation right by whole bytes: one table lookup (`tbl`) with `pattern`. The pattern is a
/// constant, so its load is hoisted out of the compression's loops.
#[inline]
#[target_feature(enable = "neon")]
fn rotr_bytes(x: uint64x2_t, pattern: &[u8; 16]) -> uint64x2_t {
    // SAFETY: `pattern` is 16 readable bytes.
    let table = unsafe { vld1q_u8(pattern.as_ptr()) };
    vreinterpretq_u64_u8(vqtbl1q_u8(vreinterpretq_u8_u64(x), table))
}

#[inline]
#[target_feature(enable = "neon")]
fn rotr24(x: uint64x2_t) -> uint64x2_t {
    rotr_bytes(x, &ROTR24)
}

#[inline]
#[target_feature(enable = "neon")]
fn rotr16(x: uint64x2_t) -> uint64x2_t {
    rotr_bytes(x, &ROTR16)
}

/// x << 1 with x's top bit shifted right into bit 0 (`sri`, shift right and insert).
#[inline]
#[target_feature(enable = "neon")]
fn rotr63(x: uint64x2_t) -> uint64x2_t {
    vsriq_n_u64::<63>(vshlq_n_u64::<1>(x), x)
}

/// GB on each lane of (a, b, c, d).
#[inline]
#[target_feature(enable = "neon")]
fn quarter(a: &mut uint64x2_t, b: &mut uint64x2_t, c: &mut uint64x2_t, d: &mut uint64x2_t) {
    *a = blamka(*a, *b);
    *d = rotr32(veorq_u64(*d, *a));
    *c = blamka(*c, *d);
    *b = rotr24(veorq_u64(*b, *c));
    *a = blamka(*a, *b);
    *d = rotr16(veorq_u64(*d, *a));
    *c = blamka(*c, *d);
    *b = rotr63(veorq_u64(*b, *c));
}

/// P on sixteen words v0 … v15 held as A₀ = (v0, v1), A₁ = (v2, v3), B₀ = (v4, v5), … D₁ =
/// (v14, v15): one row of R, or one column.
///
/// An `unsafe fn` rather than `#[target_feature]`, so that it may be `#[inline(always)]` (refused
/// with `#[target_feature]`): left to the inliner it stayed a call, sixteen per block, each
/// passing its eight vectors through memory. Inlined into [`compress`], it runs with NEON enabled
/// there.
///
/// # Safety
/// The CPU must support NEON.
#[inline(always)]
unsafe fn permute([a0, a1, b0, b1, c0, c1, d0, d1]: [&mut uint64x2_t; 8]) {
    // SAFETY: the caller's promise, passed on: the NEON functions below may run.
    unsafe {
        // The column step: (v0, v4, v8, v12) … (v3, v7, v11, v15).
        quarter(a0, b0, c0, d0);
        quarter(a1, b1, c1, d1);
        // The diagonal step: (v0, v5, v10, v15), (v1, v6, v11, v12) on the lanes of A₀, then
        // (v2, v7, v8, v13), (v3, v4, v9, v14) on those of A₁. `vextq_u64::<1>(x, y)` is (x₁, y₀).
        let mut b0d = vextq_u64::<1>(*b0, *b1); // (v5, v6)
        let mut b1d = vextq_u64::<1>(*b1, *b0); // (v7, v4)
        let mut d0d = vextq_u64::<1>(*d1, *d0); // (v15, v12)
        let mut d1d = vextq_u64::<1>(*d0, *d1); // (v13, v14)

        // C₁ = (v10, v11) and C₀ = (v8, v9) already hold the diagonals' third words, swapped.
        quarter(a0, &mut b0d, c1, &mut d0d);
        quarter(a1, &mut b1d, c0, &mut d1d);
        *b0 = vextq_u64::<1>(b1d, b0d);
        *b1 = vextq_u64::<1>(b0d, b1d);
        *d0 = vextq_u64::<1>(d0d, d1d);
        *d1 = vextq_u64::<1>(d1d, d0d);
    }
}

/// The NEON backend, for the shared fill (`fill::Fill::hash_into::<Neon>`).
pub(crate) struct Neon;

impl Compress for Neon {
    #[inline(always)]
    unsafe fn compress(x: &Block, y: &Block, target: &mut Block, xor: bool) {
        // SAFETY: the trait's contract, passed on (the CPU supports NEON).
        unsafe { compress(x, y, target, xor) }
    }
}

/// # Safety
/// The CPU must support NEON (every aarch64 Linux CPU does).
#[target_feature(enable = "neon")]
pub unsafe fn compress(x: &Block, y: &Block, target: &mut Block, xor: bool) {
    let xs = x.as_ref().as_ptr();
    let ys = y.as_ref().as_ptr();
    // R = X ⊕ Y, read again at the end rather than kept, as in avx2.rs: X and Y are still in L1.
    // SAFETY: argon2::Block is 128 words; 2i + 1 < 128 for i < 64.
    let r = |i: usize| unsafe { veorq_u64(vld1q_u64(xs.add(2 * i)), vld1q_u64(ys.add(2 * i))) };
    let mut q: [uint64x2_t; VECTORS] = std::array::from_fn(r);
    for row in q.chunks_exact_mut(8) {
        let [a0, a1, b0, b1, c0, c1, d0, d1] = row else {
            unreachable!("chunks of eight")
        };
        // SAFETY: the caller's promise, passed on.
        unsafe { permute([a0, a1, b0, b1, c0, c1, d0, d1]) };
    }
    for j in 0..8 {
        // Column j: vector j of each row k (q[8k + j]).
        let mut column: [uint64x2_t; 8] = std::array::from_fn(|k| q[8 * k + j]);
        let [a0, a1, b0, b1, c0, c1, d0, d1] = &mut column;
        // SAFETY: the caller's promise, passed on.
        unsafe { permute([a0, a1, b0, b1, c0, c1, d0, d1]) };
        for (k, v) in column.into_iter().enumerate() {
            q[8 * k + j] = v;
        }
    }
    let out = target.as_mut().as_mut_ptr();
    for (i, q) in q.iter().enumerate() {
        let g = veorq_u64(*q, r(i));
        // SAFETY: as for the loads above.
        unsafe {
            let value = if xor {
                veorq_u64(vld1q_u64(out.add(2 * i)), g)
            } else {
                g
            };
            vst1q_u64(out.add(2 * i), value);
        }
    }
}
