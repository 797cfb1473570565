//! The compression function G (RFC 9106 §3.5) on 256-bit AVX2 vectors: R = X ⊕ Y; the
//! BLAKE2b-based permutation P over the eight rows of R, then over its eight columns; the result
//! is that ⊕ R.
//!
//! The block is 32 vectors of four words; row i is vectors 4i … 4i + 3, so one row's P
//! works on four vectors A, B, C, D holding its words 0–3, 4–7, 8–11, 12–15: GB runs on the
//! four lanes at once, and the diagonal step rotates B, C, D by one, two, three lanes first.
//! Column i's words are the 128-bit halves (words 2i, 2i + 1) of rows 0 … 7, so vector j
//! of every row holds two columns: `permute_columns` works on those eight vectors in place.
use core::arch::x86_64::*;

use argon2::Block;

use crate::fill::Compress;

/// 1 KiB as 256-bit vectors.
const VECTORS: usize = 32;

/// fBlaMka on four lanes.
#[inline]
#[target_feature(enable = "avx2")]
fn blamka(a: __m256i, b: __m256i) -> __m256i {
    let product = _mm256_mul_epu32(a, b);
    _mm256_add_epi64(_mm256_add_epi64(a, b), _mm256_add_epi64(product, product))
}

/// 64-bit rotations right: 32 swaps the halves, 24 and 16 move whole bytes, 63 is a left
/// rotation by one.
#[inline]
#[target_feature(enable = "avx2")]
fn rotr32(x: __m256i) -> __m256i {
    _mm256_shuffle_epi32::<0b10_11_00_01>(x)
}

/// A rotation right by `BYTES` whole bytes within each 64-bit lane: one byte shuffle, whose
/// pattern (byte k takes byte k + BYTES of its lane) repeats in both 128-bit halves.
#[inline]
#[target_feature(enable = "avx2")]
fn rotr_bytes<const BYTES: i8>(x: __m256i) -> __m256i {
    let from = |k: i8| (k & !7) | ((k + BYTES) & 7);
    let half = _mm_setr_epi8(
        from(0),
        from(1),
        from(2),
        from(3),
        from(4),
        from(5),
        from(6),
        from(7),
        from(8),
        from(9),
        from(10),
        from(11),
        from(12),
        from(13),
        from(14),
        from(15),
    );
    _mm256_shuffle_epi8(x, _mm256_broadcastsi128_si256(half))
}

#[inline]
#[target_feature(enable = "avx2")]
fn rotr24(x: __m256i) -> __m256i {
    rotr_bytes::<3>(x)
}

#[inline]
#[target_feature(enable = "avx2")]
fn rotr16(x: __m256i) -> __m256i {
    rotr_bytes::<2>(x)
}

#[inline]
#[target_feature(enable = "avx2")]
fn rotr63(x: __m256i) -> __m256i {
    _mm256_or_si256(_mm256_add_epi64(x, x), _mm256_srli_epi64::<63>(x))
}

/// GB on each lane of (a, b, c, d).
#[inline]
#[target_feature(enable = "avx2")]
fn quarter(a: &mut __m256i, b: &mut __m256i, c: &mut __m256i, d: &mut __m256i) {
    *a = blamka(*a, *b);
    *d = rotr32(_mm256_xor_si256(*d, *a));
    *c = blamka(*c, *d);
    *b = rotr24(_mm256_xor_si256(*b, *c));
    *a = blamka(*a, *b);
    *d = rotr16(_mm256_xor_si256(*d, *a));
    *c = blamka(*c, *d);
    *b = rotr63(_mm256_xor_si256(*b, *c));
}

/// P on sixteen words held as A = 0–3, B = 4–7, C = 8–11, D = 12–15.
#[inline]
#[target_feature(enable = "avx2")]
fn permute(a: &mut __m256i, b: &mut __m256i, c: &mut __m256i, d: &mut __m256i) {
    quarter(a, b, c, d);
    // Lane k of (A, B, C, D) becomes diagonal k: (v0, v5, v10, v15), (v1, v6, v11, v12), …
    *b = _mm256_permute4x64_epi64::<0b00_11_10_01>(*b);
    *c = _mm256_permute4x64_epi64::<0b01_00_11_10>(*c);
    *d = _mm256_permute4x64_epi64::<0b10_01_00_11>(*d);
    quarter(a, b, c, d);
    *b = _mm256_permute4x64_epi64::<0b10_01_00_11>(*b);
    *c = _mm256_permute4x64_epi64::<0b01_00_11_10>(*c);
    *d = _mm256_permute4x64_epi64::<0b00_11_10_01>(*d);
}

/// [x₁, y₀, x₃, y₂]: the diagonal step's regrouping of the column pass.
#[inline]
#[target_feature(enable = "avx2")]
fn mix(x: __m256i, y: __m256i) -> __m256i {
    _mm256_shuffle_epi32::<0b01_00_11_10>(_mm256_blend_epi32::<0b0011_0011>(x, y))
}

/// P on two columns at once, given vector j of rows 0 … 7 (the column pair's halves). With
/// A = rows 0 and 1, B = rows 2 and 3, C = rows 4 and 5, D = rows 6 and 7, GB on the lanes of
/// (A₀, B₀, C₀, D₀) and of (A₁, B₁, C₁, D₁) is exactly the column step of both columns;
/// the diagonal step needs only in-lane regrouping, no shuffle across the 128-bit halves.
#[inline]
#[target_feature(enable = "avx2")]
fn permute_columns([a0, a1, b0, b1, c0, c1, d0, d1]: [&mut __m256i; 8]) {
    quarter(a0, b0, c0, d0);
    quarter(a1, b1, c1, d1);
    let (b0d, b1d) = (mix(*b0, *b1), mix(*b1, *b0));
    let (d0d, d1d) = (mix(*d1, *d0), mix(*d0, *d1));
    let (mut b0d, mut b1d, mut d0d, mut d1d) = (b0d, b1d, d0d, d1d);
    // The diagonals take rows 4 and 5 the other way round.
    quarter(a0, &mut b0d, c1, &mut d0d);
    quarter(a1, &mut b1d, c0, &mut d1d);
    (*b0, *b1) = (mix(b1d, b0d), mix(b0d, b1d));
    (*d0, *d1) = (mix(d0d, d1d), mix(d1d, d0d));
}

/// The AVX2 backend, for the shared fill (`fill::Fill::hash_into::<Avx2>`).
pub(crate) struct Avx2;

impl Compress for Avx2 {
    /// Calls [`compress`] directly: this wrapper inlines into the fill, which stays compiled
    /// without AVX2 and calls the AVX2 G once per block, as before the fill was shared.
    #[inline(always)]
    unsafe fn compress(x: &Block, y: &Block, target: &mut Block, xor: bool) {
        // SAFETY: the trait's contract, passed on (the CPU supports AVX2).
        unsafe { compress(x, y, target, xor) }
    }
}

/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub unsafe fn compress(x: &Block, y: &Block, target: &mut Block, xor: bool) {
    let xs = x.as_ref().as_ptr().cast::<__m256i>();
    let ys = y.as_ref().as_ptr().cast::<__m256i>();
    // R = X ⊕ Y, read again at the end rather than kept: X and Y are still in L1 then, and a
    // second 1 KiB copy of R measured slower than the reloads.
    // SAFETY: argon2::Block is 128 words aligned to 64 bytes (its `repr(align(64))`); i < 32.
    let r = |i: usize| unsafe { _mm256_xor_si256(_mm256_load_si256(xs.add(i)), _mm256_load_si256(ys.add(i))) };
    let mut q: [__m256i; VECTORS] = std::array::from_fn(r);
    for row in q.chunks_exact_mut(4) {
        let [a, b, c, d] = row else {
            unreachable!("chunks of four")
        };
        permute(a, b, c, d);
    }
    for j in 0..4 {
        // Vector j of each row k (q[4k + j]) holds the word pairs of columns 2j and 2j + 1.
        let [mut a0, mut a1, mut b0, mut b1, mut c0, mut c1, mut d0, mut d1] = std::array::from_fn(|k| q[4 * k + j]);
        permute_columns([&mut a0, &mut a1, &mut b0, &mut b1, &mut c0, &mut c1, &mut d0, &mut d1]);
        for (k, v) in [a0, a1, b0, b1, c0, c1, d0, d1].into_iter().enumerate() {
            q[4 * k + j] = v;
        }
    }
    let out = target.as_mut().as_mut_ptr().cast::<__m256i>();
    for (i, q) in q.iter().enumerate() {
        let g = _mm256_xor_si256(*q, r(i));
        // SAFETY: as for the loads above.
        unsafe {
            let value = if xor {
                _mm256_xor_si256(_mm256_load_si256(out.add(i)), g)
            } else {
                g
            };
            _mm256_store_si256(out.add(i), value);
        }
    }
}
