//! [`Lanes`] on AVX2 + FMA + F16C: eight `f32` lanes in a `__m256`, masks as compare results.

use std::arch::x86_64::*;

use super::lanes::{extremes16_scalar, merge16, Lanes};

#[derive(Clone, Copy)]
pub(crate) struct Avx2;

impl Lanes for Avx2 {
    const N: usize = 8;
    type V = __m256;
    type M = __m256;
    type D = (__m256d, __m256d);
    type X = [__m256i; 2];

    #[inline(always)]
    unsafe fn splat(x: f32) -> Self::V {
        _mm256_set1_ps(x)
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self::V {
        _mm256_loadu_ps(p)
    }
    #[inline(always)]
    unsafe fn load_f16(p: *const u16) -> Self::V {
        _mm256_cvtph_ps(_mm_loadu_si128(p.cast()))
    }
    #[inline(always)]
    unsafe fn load_bf16_pair(p: *const u16) -> [Self::V; 2] {
        // Interleaving zeros below each value makes it an f32: one operation per vector.
        let (b, z) = (_mm256_loadu_si256(p.cast()), _mm256_setzero_si256());
        [
            _mm256_castsi256_ps(_mm256_unpacklo_epi16(z, b)),
            _mm256_castsi256_ps(_mm256_unpackhi_epi16(z, b)),
        ]
    }
    #[inline(always)]
    unsafe fn store(v: Self::V, p: *mut f32) {
        _mm256_storeu_ps(p, v)
    }
    #[inline(always)]
    unsafe fn add(a: Self::V, b: Self::V) -> Self::V {
        _mm256_add_ps(a, b)
    }
    #[inline(always)]
    unsafe fn sub(a: Self::V, b: Self::V) -> Self::V {
        _mm256_sub_ps(a, b)
    }
    #[inline(always)]
    unsafe fn fma(a: Self::V, b: Self::V, c: Self::V) -> Self::V {
        _mm256_fmadd_ps(a, b, c)
    }
    #[inline(always)]
    unsafe fn mul(a: Self::V, b: Self::V) -> Self::V {
        _mm256_mul_ps(a, b)
    }
    #[inline(always)]
    unsafe fn max(a: Self::V, b: Self::V) -> Self::V {
        _mm256_max_ps(a, b)
    }
    #[inline(always)]
    unsafe fn hmax(a: Self::V) -> f32 {
        let mut lanes = [0f32; 8];
        _mm256_storeu_ps(lanes.as_mut_ptr(), a);
        lanes.into_iter().fold(f32::NEG_INFINITY, f32::max)
    }
    #[inline(always)]
    unsafe fn lt(a: Self::V, b: Self::V) -> Self::M {
        _mm256_cmp_ps::<_CMP_LT_OQ>(a, b)
    }
    #[inline(always)]
    unsafe fn ge(a: Self::V, b: Self::V) -> Self::M {
        _mm256_cmp_ps::<_CMP_GE_OQ>(a, b)
    }
    #[inline(always)]
    unsafe fn is_nan(a: Self::V) -> Self::M {
        _mm256_cmp_ps::<_CMP_UNORD_Q>(a, a)
    }
    #[inline(always)]
    unsafe fn count(m: Self::M) -> u32 {
        (_mm256_movemask_ps(m) as u32).count_ones()
    }
    #[inline(always)]
    unsafe fn keep(m: Self::M, v: Self::V) -> Self::V {
        _mm256_and_ps(m, v)
    }
    #[inline(always)]
    unsafe fn clear(m: Self::M, v: Self::V) -> Self::V {
        _mm256_andnot_ps(m, v)
    }
    #[inline(always)]
    unsafe fn select(m: Self::M, a: Self::V, b: Self::V) -> Self::V {
        _mm256_blendv_ps(b, a, m)
    }
    #[inline(always)]
    unsafe fn scale8(t: Self::V, table: &[u32; 8]) -> Self::V {
        // The permutation reads only the low three bits of each index.
        let (t, table) = (
            _mm256_castps_si256(t),
            _mm256_loadu_si256(table.as_ptr().cast()),
        );
        let picked = _mm256_permutevar8x32_epi32(table, t);
        _mm256_castsi256_ps(_mm256_add_epi32(_mm256_slli_epi32::<20>(t), picked))
    }
    #[inline(always)]
    unsafe fn dzero() -> Self::D {
        (_mm256_setzero_pd(), _mm256_setzero_pd())
    }
    #[inline(always)]
    unsafe fn dadd(d: Self::D, v: Self::V) -> Self::D {
        let lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v));
        let hi = _mm256_cvtps_pd(_mm256_extractf128_ps::<1>(v));
        (_mm256_add_pd(d.0, lo), _mm256_add_pd(d.1, hi))
    }
    #[inline(always)]
    unsafe fn dsum(d: Self::D) -> f64 {
        let mut lanes = [0f64; 8];
        _mm256_storeu_pd(lanes.as_mut_ptr(), d.0);
        _mm256_storeu_pd(lanes.as_mut_ptr().add(4), d.1);
        lanes.into_iter().sum()
    }
    #[inline(always)]
    unsafe fn extremes16(xs: &[u16]) -> [u16; 3] {
        extremes16_avx2(xs)
    }
    #[inline(always)]
    unsafe fn x16_start() -> Self::X {
        [_mm256_set1_epi16(i16::MIN), _mm256_setzero_si256()]
    }
    #[inline(always)]
    unsafe fn x16_add(x: Self::X, p: *const u16) -> Self::X {
        let v = _mm256_loadu_si256(p.cast());
        [_mm256_max_epi16(x[0], v), _mm256_max_epu16(x[1], v)]
    }
    #[inline(always)]
    unsafe fn x16_end(x: Self::X) -> [u16; 2] {
        let [smax, _, umax] = fold16([x[0], _mm256_set1_epi16(i16::MAX), x[1]]);
        [smax, umax]
    }
    #[inline(always)]
    unsafe fn after(v: Self::V, dep: Self::V) -> Self::V {
        after_avx(v, dep)
    }
}

/// [`Lanes::after`]: an empty `asm!` that takes `dep` and "changes" `v`. (A function of its
/// own: `ymm` operands need the target feature on the function that holds the `asm!`; it is
/// inlined into the kernels, which have it.)
#[inline]
#[target_feature(enable = "avx")]
unsafe fn after_avx(mut v: __m256, dep: __m256) -> __m256 {
    std::arch::asm!(
        "/* {v} after {dep} */",
        v = inout(ymm_reg) v,
        dep = in(ymm_reg) dep,
        options(pure, nomem, nostack, preserves_flags)
    );
    v
}

/// [`Lanes::extremes16`] sixteen patterns per operation, two vectors per step (also used by
/// the AVX-512 lanes for what their 64-pattern steps leave).
#[inline(always)]
pub(crate) unsafe fn extremes16_avx2(xs: &[u16]) -> [u16; 3] {
    let mut smax = [_mm256_set1_epi16(i16::MIN); 2];
    let mut smin = [_mm256_set1_epi16(i16::MAX); 2];
    let mut umax = [_mm256_setzero_si256(); 2];
    let mut pairs = xs.chunks_exact(32);
    for p in &mut pairs {
        for (i, half) in p.chunks_exact(16).enumerate() {
            let v = _mm256_loadu_si256(half.as_ptr().cast());
            smax[i] = _mm256_max_epi16(smax[i], v);
            smin[i] = _mm256_min_epi16(smin[i], v);
            umax[i] = _mm256_max_epu16(umax[i], v);
        }
    }
    let lanes = fold16([
        _mm256_max_epi16(smax[0], smax[1]),
        _mm256_min_epi16(smin[0], smin[1]),
        _mm256_max_epu16(umax[0], umax[1]),
    ]);
    merge16(lanes, extremes16_scalar(pairs.remainder()))
}

/// The extremes held lane by lane in `[smax, smin, umax]`, across the lanes.
#[inline(always)]
pub(crate) unsafe fn fold16(x: [__m256i; 3]) -> [u16; 3] {
    let mut lanes = [[0u16; 16]; 3];
    for (l, v) in lanes.iter_mut().zip(x) {
        _mm256_storeu_si256(l.as_mut_ptr().cast(), v);
    }
    let [l0, l1, l2] = lanes;
    let mut out = extremes16_scalar(&[]);
    for ((a, b), c) in l0.into_iter().zip(l1).zip(l2) {
        out = merge16(out, [a, b, c]);
    }
    out
}
