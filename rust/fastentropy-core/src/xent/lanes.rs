//! The handful of vector operations the cross-entropy kernels are written in, and the
//! portable implementation (eight `f32` lanes as arrays, which compilers turn into whatever
//! SIMD the target has). The x86 implementations are in `avx2.rs` and `avx512.rs`.

/// `N` lanes of `f32` (type `V`), a lane mask (`M`) and `N` lanes of `f64` (`D`).
///
/// Methods are `#[inline(always)]`, so a generic kernel instantiated inside a
/// `#[target_feature]` function is compiled for that instruction set.
///
/// # Safety
///
/// The methods may execute the instructions of their implementation's instruction set: call
/// them only when the CPU has it (the dispatcher in `dispatch.rs` checks at run time). Loads
/// and stores access `N` elements at the pointer.
pub(crate) trait Lanes {
    const N: usize;
    type V: Copy;
    type M: Copy;
    type D: Copy;

    unsafe fn splat(x: f32) -> Self::V;
    unsafe fn load(p: *const f32) -> Self::V;
    /// Widens `N` IEEE binary16 values.
    unsafe fn load_f16(p: *const u16) -> Self::V;
    /// Widens `2N` bfloat16 values into two vectors, in an order of the implementation's
    /// choosing (a maximum or a sum does not care).
    unsafe fn load_bf16_pair(p: *const u16) -> [Self::V; 2];
    unsafe fn store(v: Self::V, p: *mut f32);
    unsafe fn add(a: Self::V, b: Self::V) -> Self::V;
    unsafe fn sub(a: Self::V, b: Self::V) -> Self::V;
    unsafe fn mul(a: Self::V, b: Self::V) -> Self::V;
    /// `a·b + c`, rounded once.
    unsafe fn fma(a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    /// `a > b ? a : b`, as x86 has it: `b` if either is NaN.
    unsafe fn max(a: Self::V, b: Self::V) -> Self::V;
    /// Largest lane.
    unsafe fn hmax(a: Self::V) -> f32;
    /// `a < b` (false for NaN).
    unsafe fn lt(a: Self::V, b: Self::V) -> Self::M;
    /// `a >= b` (false for NaN).
    unsafe fn ge(a: Self::V, b: Self::V) -> Self::M;
    unsafe fn is_nan(a: Self::V) -> Self::M;
    /// Lanes set in the mask.
    unsafe fn count(m: Self::M) -> u32;
    /// `v` where `m` is set, `+0.0` elsewhere.
    unsafe fn keep(m: Self::M, v: Self::V) -> Self::V;
    /// `v` where `m` is clear, `+0.0` elsewhere.
    unsafe fn clear(m: Self::M, v: Self::V) -> Self::V;
    /// `a` where `m` is set, `b` elsewhere.
    unsafe fn select(m: Self::M, a: Self::V, b: Self::V) -> Self::V;
    /// `acc + 1` where `m` is set, `acc` elsewhere: lanes of a mask counted in `f32`.
    /// (The defaults of this and the next two are what masked arithmetic does in one
    /// operation on AVX-512.)
    #[inline(always)]
    unsafe fn add_one(m: Self::M, acc: Self::V) -> Self::V {
        Self::add(acc, Self::keep(m, Self::splat(1.0)))
    }
    /// `a·b` where `m` is clear; where it is set, `a·(+0)`, which is `+0.0` for a finite
    /// `a >= 0`.
    #[inline(always)]
    unsafe fn mul_clear(m: Self::M, a: Self::V, b: Self::V) -> Self::V {
        Self::mul(a, Self::clear(m, b))
    }
    /// `a·b + c` where `m` is clear; where it is set, `+0·a + c`, which is `c` for a finite
    /// `a` and `c` not `-0.0`.
    #[inline(always)]
    unsafe fn fma_clear(m: Self::M, a: Self::V, b: Self::V, c: Self::V) -> Self::V {
        Self::fma(a, Self::clear(m, b), c)
    }
    /// The `f32` whose bits are `(bits(t) << 20) + table[bits(t) & 7]`, lane by lane: `2^(j/8)`
    /// times a power of two when the low bits of `t`'s mantissa hold its index (see
    /// `exp.rs`).
    unsafe fn scale8(t: Self::V, table: &[u32; 8]) -> Self::V;
    unsafe fn dzero() -> Self::D;
    /// Widens `v` to `f64` and adds it lane by lane.
    unsafe fn dadd(d: Self::D, v: Self::V) -> Self::D;
    /// Sum of the `f64` lanes, in lane order.
    unsafe fn dsum(d: Self::D) -> f64;
    /// The extremes of 16-bit patterns read as integers: `[largest as i16, smallest as
    /// i16, largest as u16]`, each as its bits (`[0x8000, 0x7fff, 0]` for an empty slice).
    /// See [`range16`] for what they say about float16 and bfloat16 values.
    unsafe fn extremes16(xs: &[u16]) -> [u16; 3];
    /// Two of the three [`Lanes::extremes16`], largest as `i16` and as `u16`, held in
    /// registers so that a kernel can take the next block's beside its sums (see `row.rs`
    /// and [`range16_lagged`]).
    type X: Copy;
    /// The extremes of no pattern.
    unsafe fn x16_start() -> Self::X;
    /// `x` with the `2N` patterns at `p` folded in.
    unsafe fn x16_add(x: Self::X, p: *const u16) -> Self::X;
    /// What was folded in: `[largest as i16, largest as u16]`, as bits.
    unsafe fn x16_end(x: Self::X) -> [u16; 2];
    /// `v` unchanged, but seen by the compiler as computed from `dep`: no instruction, only
    /// an order. The kernel's sums use it to keep each pair of vectors' exponentials in
    /// program order after the previous pair's sum, so that LLVM's scheduler does not
    /// interleave a whole group and spill registers (see `row.rs`). The CPU still overlaps
    /// them: it sees no dependency.
    #[inline(always)]
    unsafe fn after(v: Self::V, dep: Self::V) -> Self::V {
        let _ = dep;
        v
    }
}

/// The largest value and a lower bound of the smallest one of a block of 16-bit floats
/// (float16 or bfloat16; `widen` converts one pattern), from the integer extremes of their
/// bit patterns ([`Lanes::extremes16`]). Both formats are sign and magnitude, so
/// non-negative values sort as their patterns do, as `u16` and as `i16`, and negative ones
/// sort as `i16` in reverse order of magnitude (-0 = `0x8000` is the least `i16`) and as
/// `u16` in order of magnitude. With `[smax, smin, umax]` the extremes: if `smax >= 0` as
/// `i16`, some value is `>= +0` and `smax` is the largest; otherwise all are negative and
/// `smin` (the smallest magnitude) is the largest. If `umax >= 0x8000`, some value is
/// negative and `umax` (the largest magnitude) is the smallest; otherwise all are `>= +0`,
/// and 0 is the bound returned. NaN patterns have larger magnitudes than infinities, so a
/// positive NaN shows as the largest value and a negative one as the smallest.
#[inline(always)]
pub(crate) fn range16(e: [u16; 3], widen: impl Fn(u16) -> f32) -> (f32, f32) {
    let [smax, smin, umax] = e;
    let top = if (smax as i16) >= 0 { smax } else { smin };
    let low = if umax >= 0x8000 { widen(umax) } else { 0.0 };
    (widen(top), low)
}

/// [`range16`] from the two extremes that a kernel takes beside its sums
/// ([`Lanes::x16_end`]): `None` when every value is negative (the largest value is then the
/// smallest `i16`, which was not taken: the caller takes the block's range itself).
#[inline(always)]
pub(crate) fn range16_lagged(e: [u16; 2], widen: impl Fn(u16) -> f32) -> Option<(f32, f32)> {
    let [smax, umax] = e;
    ((smax as i16) >= 0).then(|| range16([smax, smax, umax], widen))
}

/// Asks for the cache line at `p` to be loaded into L1 cache; never faults, any address.
#[inline(always)]
pub(crate) fn prefetch(p: *const u8) {
    // SAFETY: a prefetch is a hint, it neither faults nor changes memory (SSE is part of
    // x86_64).
    #[cfg(target_arch = "x86_64")]
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast())
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// IEEE binary16 bits to `f32` (exact).
pub(crate) fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h & 0x8000) << 16;
    let exp = u32::from((h >> 10) & 0x1f);
    let man = u32::from(h & 0x3ff);
    match exp {
        0 => {
            // Subnormal (or zero): man · 2^-24, exact in f32.
            let v = man as f32 * (1.0 / 16_777_216.0);
            f32::from_bits(v.to_bits() | sign)
        }
        0x1f => f32::from_bits(sign | 0x7f80_0000 | (man << 13)),
        _ => f32::from_bits(sign | ((exp + 112) << 23) | (man << 13)),
    }
}

/// bfloat16 bits to `f32` (exact: bfloat16 is the top half of an `f32`).
pub(crate) fn bf16_to_f32(b: u16) -> f32 {
    f32::from_bits(u32::from(b) << 16)
}

/// Eight lanes as plain arrays; the fallback where no x86 extension is available. Its `fma`
/// works in `f64`: the product of two `f32` is exact there, so where the analysis in
/// `exp.rs` needs an exact fused result (the range reduction) it gets one, and elsewhere the
/// double rounding costs at most an ulp, rarely. (`f32::mul_add` would be a slow library
/// call on x86 CPUs without FMA.)
#[derive(Clone, Copy)]
pub(crate) struct Portable;

const P: usize = 8;

#[inline(always)]
fn map<T: Copy, U>(a: [T; P], f: impl Fn(T) -> U) -> [U; P] {
    a.map(f)
}

#[inline(always)]
fn zip<T: Copy, U: Copy, R>(a: [T; P], b: [U; P], f: impl Fn(T, U) -> R) -> [R; P] {
    std::array::from_fn(|i| f(a[i], b[i]))
}

impl Lanes for Portable {
    const N: usize = P;
    type V = [f32; P];
    type M = [bool; P];
    type D = [f64; P];
    type X = [u16; 2];

    #[inline(always)]
    unsafe fn splat(x: f32) -> Self::V {
        [x; P]
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self::V {
        std::ptr::read_unaligned(p.cast())
    }
    #[inline(always)]
    unsafe fn load_f16(p: *const u16) -> Self::V {
        map(std::ptr::read_unaligned(p.cast()), f16_to_f32)
    }
    #[inline(always)]
    unsafe fn load_bf16_pair(p: *const u16) -> [Self::V; 2] {
        let b: [[u16; P]; 2] = std::ptr::read_unaligned(p.cast());
        [map(b[0], bf16_to_f32), map(b[1], bf16_to_f32)]
    }
    #[inline(always)]
    unsafe fn store(v: Self::V, p: *mut f32) {
        std::ptr::write_unaligned(p.cast(), v)
    }
    #[inline(always)]
    unsafe fn add(a: Self::V, b: Self::V) -> Self::V {
        zip(a, b, |x, y| x + y)
    }
    #[inline(always)]
    unsafe fn sub(a: Self::V, b: Self::V) -> Self::V {
        zip(a, b, |x, y| x - y)
    }
    #[inline(always)]
    unsafe fn fma(a: Self::V, b: Self::V, c: Self::V) -> Self::V {
        std::array::from_fn(|i| (f64::from(a[i]) * f64::from(b[i]) + f64::from(c[i])) as f32)
    }
    #[inline(always)]
    unsafe fn mul(a: Self::V, b: Self::V) -> Self::V {
        zip(a, b, |x, y| x * y)
    }
    #[inline(always)]
    unsafe fn max(a: Self::V, b: Self::V) -> Self::V {
        zip(a, b, |x, y| if x > y { x } else { y })
    }
    #[inline(always)]
    unsafe fn hmax(a: Self::V) -> f32 {
        a.into_iter().fold(f32::NEG_INFINITY, f32::max)
    }
    #[inline(always)]
    unsafe fn lt(a: Self::V, b: Self::V) -> Self::M {
        zip(a, b, |x, y| x < y)
    }
    #[inline(always)]
    unsafe fn ge(a: Self::V, b: Self::V) -> Self::M {
        zip(a, b, |x, y| x >= y)
    }
    #[inline(always)]
    unsafe fn is_nan(a: Self::V) -> Self::M {
        map(a, f32::is_nan)
    }
    #[inline(always)]
    unsafe fn count(m: Self::M) -> u32 {
        m.into_iter().map(u32::from).sum()
    }
    #[inline(always)]
    unsafe fn keep(m: Self::M, v: Self::V) -> Self::V {
        zip(m, v, |k, x| if k { x } else { 0.0 })
    }
    #[inline(always)]
    unsafe fn clear(m: Self::M, v: Self::V) -> Self::V {
        zip(m, v, |k, x| if k { 0.0 } else { x })
    }
    #[inline(always)]
    unsafe fn select(m: Self::M, a: Self::V, b: Self::V) -> Self::V {
        std::array::from_fn(|i| if m[i] { a[i] } else { b[i] })
    }
    #[inline(always)]
    unsafe fn scale8(t: Self::V, table: &[u32; 8]) -> Self::V {
        map(t, |y| {
            let b = y.to_bits();
            f32::from_bits((b << 20).wrapping_add(table[(b & 7) as usize]))
        })
    }
    #[inline(always)]
    unsafe fn dzero() -> Self::D {
        [0.0; P]
    }
    #[inline(always)]
    unsafe fn dadd(d: Self::D, v: Self::V) -> Self::D {
        zip(d, v, |x, y| x + f64::from(y))
    }
    #[inline(always)]
    unsafe fn dsum(d: Self::D) -> f64 {
        d.into_iter().sum()
    }
    #[inline(always)]
    unsafe fn extremes16(xs: &[u16]) -> [u16; 3] {
        extremes16_scalar(xs)
    }
    #[inline(always)]
    unsafe fn x16_start() -> Self::X {
        [0x8000, 0]
    }
    #[inline(always)]
    unsafe fn x16_add(x: Self::X, p: *const u16) -> Self::X {
        let [smax, _, umax] = merge16(
            [x[0], 0x7fff, x[1]],
            extremes16_scalar(std::slice::from_raw_parts(p, 2 * P)),
        );
        [smax, umax]
    }
    #[inline(always)]
    unsafe fn x16_end(x: Self::X) -> [u16; 2] {
        x
    }
}

/// The extremes of two sets of patterns (each as [`Lanes::extremes16`] gives them) together.
#[inline(always)]
pub(crate) fn merge16(a: [u16; 3], b: [u16; 3]) -> [u16; 3] {
    [
        (a[0] as i16).max(b[0] as i16) as u16,
        (a[1] as i16).min(b[1] as i16) as u16,
        a[2].max(b[2]),
    ]
}

/// [`Lanes::extremes16`] one value at a time (the portable lanes, and vector remainders).
#[inline(always)]
pub(crate) fn extremes16_scalar(xs: &[u16]) -> [u16; 3] {
    let (mut smax, mut smin, mut umax) = (i16::MIN, i16::MAX, 0u16);
    for &x in xs {
        smax = smax.max(x as i16);
        smin = smin.min(x as i16);
        umax = umax.max(x);
    }
    [smax as u16, smin as u16, umax]
}
