//! [`Lanes`] on AVX-512F and BW: sixteen `f32` lanes in a `__m512`, masks in a `__mmask16`.
//!
//! First run on an Intel Xeon of 2026 (family 6, model 0xA7 as its KVM guest reports it).
//! While 512-bit operations are in flight, Intel cores issue vector operations on two ports
//! (p0 and p5) against three for 256-bit ones, and nearly every operation, whatever its
//! width, takes one of those two for a cycle (measured beside two multiply-adds per cycle:
//! `vpermps`, `vpslld`, `vpaddd`, `vpunpcklwd`, `vpmaxsw`, `vmaxps`, `vextractf64x4` take
//! one port-cycle each, `vcvtps2pd` and `vcvtph2ps` two, moves between registers none). So
//! the count of operations is what matters: the 16-bit integer extremes take 32
//! patterns per operation (AVX-512BW), not AVX2's 16, and the lanes at the top of a row are
//! dropped and counted by masked arithmetic, one operation where AVX2 needs two. Per core,
//! rows in L2 (`benches/xent_kernel.rs`), float16 rows widened went from 5.3 to 6.05 G values
//! per CPU-second and bfloat16 rows widened from 5.0 to 5.6, to the same bits.
//!
//! The unit tests (which loop over `Isa::supported()`) and the Python tests (over
//! `xent_isas()`) run it wherever the CPU has AVX-512F and BW.

use std::arch::x86_64::*;

use super::avx2::{extremes16_avx2, fold16};
use super::lanes::{merge16, Lanes};

#[derive(Clone, Copy)]
pub(crate) struct Avx512;

impl Lanes for Avx512 {
    const N: usize = 16;
    type V = __m512;
    type M = __mmask16;
    type D = (__m512d, __m512d);
    type X = [__m512i; 2];

    #[inline(always)]
    unsafe fn splat(x: f32) -> Self::V {
        _mm512_set1_ps(x)
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self::V {
        _mm512_loadu_ps(p)
    }
    #[inline(always)]
    unsafe fn load_f16(p: *const u16) -> Self::V {
        _mm512_cvtph_ps(_mm256_loadu_si256(p.cast()))
    }
    #[inline(always)]
    unsafe fn load_bf16_pair(p: *const u16) -> [Self::V; 2] {
        // Interleaving zeros below each value makes it an f32: one operation per vector.
        let (b, z) = (_mm512_loadu_si512(p.cast()), _mm512_setzero_si512());
        [
            _mm512_castsi512_ps(_mm512_unpacklo_epi16(z, b)),
            _mm512_castsi512_ps(_mm512_unpackhi_epi16(z, b)),
        ]
    }
    #[inline(always)]
    unsafe fn store(v: Self::V, p: *mut f32) {
        _mm512_storeu_ps(p, v)
    }
    #[inline(always)]
    unsafe fn add(a: Self::V, b: Self::V) -> Self::V {
        _mm512_add_ps(a, b)
    }
    #[inline(always)]
    unsafe fn sub(a: Self::V, b: Self::V) -> Self::V {
        _mm512_sub_ps(a, b)
    }
    #[inline(always)]
    unsafe fn fma(a: Self::V, b: Self::V, c: Self::V) -> Self::V {
        _mm512_fmadd_ps(a, b, c)
    }
    #[inline(always)]
    unsafe fn mul(a: Self::V, b: Self::V) -> Self::V {
        _mm512_mul_ps(a, b)
    }
    #[inline(always)]
    unsafe fn max(a: Self::V, b: Self::V) -> Self::V {
        _mm512_max_ps(a, b)
    }
    #[inline(always)]
    unsafe fn hmax(a: Self::V) -> f32 {
        _mm512_reduce_max_ps(a)
    }
    #[inline(always)]
    unsafe fn lt(a: Self::V, b: Self::V) -> Self::M {
        _mm512_cmp_ps_mask::<_CMP_LT_OQ>(a, b)
    }
    #[inline(always)]
    unsafe fn ge(a: Self::V, b: Self::V) -> Self::M {
        _mm512_cmp_ps_mask::<_CMP_GE_OQ>(a, b)
    }
    #[inline(always)]
    unsafe fn is_nan(a: Self::V) -> Self::M {
        _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(a, a)
    }
    #[inline(always)]
    unsafe fn count(m: Self::M) -> u32 {
        m.count_ones()
    }
    #[inline(always)]
    unsafe fn keep(m: Self::M, v: Self::V) -> Self::V {
        _mm512_maskz_mov_ps(m, v)
    }
    #[inline(always)]
    unsafe fn clear(m: Self::M, v: Self::V) -> Self::V {
        _mm512_maskz_mov_ps(!m, v)
    }
    #[inline(always)]
    unsafe fn select(m: Self::M, a: Self::V, b: Self::V) -> Self::V {
        _mm512_mask_blend_ps(m, b, a)
    }
    // One masked operation each (and a `knotw` for the inverted masks) instead of two.
    #[inline(always)]
    unsafe fn add_one(m: Self::M, acc: Self::V) -> Self::V {
        _mm512_mask_add_ps(acc, m, acc, _mm512_set1_ps(1.0))
    }
    #[inline(always)]
    unsafe fn mul_clear(m: Self::M, a: Self::V, b: Self::V) -> Self::V {
        _mm512_maskz_mul_ps(!m, a, b)
    }
    #[inline(always)]
    unsafe fn fma_clear(m: Self::M, a: Self::V, b: Self::V, c: Self::V) -> Self::V {
        _mm512_mask3_fmadd_ps(a, b, c, !m)
    }
    #[inline(always)]
    unsafe fn scale8(t: Self::V, table: &[u32; 8]) -> Self::V {
        // The permutation reads the low four bits of each index: the table, twice.
        let eight = _mm256_loadu_si256(table.as_ptr().cast());
        let table = _mm512_inserti64x4::<1>(_mm512_castsi256_si512(eight), eight);
        let t = _mm512_castps_si512(t);
        let picked = _mm512_permutexvar_epi32(t, table);
        _mm512_castsi512_ps(_mm512_add_epi32(_mm512_slli_epi32::<20>(t), picked))
    }
    #[inline(always)]
    unsafe fn dzero() -> Self::D {
        (_mm512_setzero_pd(), _mm512_setzero_pd())
    }
    #[inline(always)]
    unsafe fn dadd(d: Self::D, v: Self::V) -> Self::D {
        let lo = _mm512_cvtps_pd(_mm512_castps512_ps256(v));
        let hi = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(
            _mm512_castps_pd(v),
        )));
        (_mm512_add_pd(d.0, lo), _mm512_add_pd(d.1, hi))
    }
    #[inline(always)]
    unsafe fn dsum(d: Self::D) -> f64 {
        let mut lanes = [0f64; 16];
        _mm512_storeu_pd(lanes.as_mut_ptr(), d.0);
        _mm512_storeu_pd(lanes.as_mut_ptr().add(8), d.1);
        lanes.into_iter().sum()
    }
    #[inline(always)]
    unsafe fn extremes16(xs: &[u16]) -> [u16; 3] {
        extremes16_avx512(xs)
    }
    #[inline(always)]
    unsafe fn x16_start() -> Self::X {
        [_mm512_set1_epi16(i16::MIN), _mm512_setzero_si512()]
    }
    #[inline(always)]
    unsafe fn x16_add(x: Self::X, p: *const u16) -> Self::X {
        let v = _mm512_loadu_si512(p.cast());
        [_mm512_max_epi16(x[0], v), _mm512_max_epu16(x[1], v)]
    }
    #[inline(always)]
    unsafe fn x16_end(x: Self::X) -> [u16; 2] {
        let (smax, umax) = (halves(x[0]), halves(x[1]));
        let [s, _, u] = fold16([
            _mm256_max_epi16(smax[0], smax[1]),
            _mm256_set1_epi16(i16::MAX),
            _mm256_max_epu16(umax[0], umax[1]),
        ]);
        [s, u]
    }
}

/// [`Lanes::extremes16`] 32 patterns per operation (AVX-512BW), two vectors per step: half
/// the operations and loads of AVX2's, which matter here, where 512-bit operations leave
/// only two vector ports. The rest of the slice goes to AVX2's.
#[inline(always)]
unsafe fn extremes16_avx512(xs: &[u16]) -> [u16; 3] {
    let mut smax = [_mm512_set1_epi16(i16::MIN); 2];
    let mut smin = [_mm512_set1_epi16(i16::MAX); 2];
    let mut umax = [_mm512_setzero_si512(); 2];
    let mut pairs = xs.chunks_exact(64);
    for p in &mut pairs {
        for (i, half) in p.chunks_exact(32).enumerate() {
            let v = _mm512_loadu_si512(half.as_ptr().cast());
            smax[i] = _mm512_max_epi16(smax[i], v);
            smin[i] = _mm512_min_epi16(smin[i], v);
            umax[i] = _mm512_max_epu16(umax[i], v);
        }
    }
    let [s0, s1] = halves(_mm512_max_epi16(smax[0], smax[1]));
    let [n0, n1] = halves(_mm512_min_epi16(smin[0], smin[1]));
    let [u0, u1] = halves(_mm512_max_epu16(umax[0], umax[1]));
    let lanes = fold16([
        _mm256_max_epi16(s0, s1),
        _mm256_min_epi16(n0, n1),
        _mm256_max_epu16(u0, u1),
    ]);
    merge16(lanes, extremes16_avx2(pairs.remainder()))
}

/// The two 256-bit halves of `v`.
#[inline(always)]
unsafe fn halves(v: __m512i) -> [__m256i; 2] {
    [_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64::<1>(v)]
}
