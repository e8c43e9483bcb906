//! A vectorised `e^x` for `f32` lanes, written for the cross-entropy kernel.
//!
//! Range reduction (Tang's method, with Cody and Waite's split of the constant):
//! `x = (8n + j)·ln2/8 + r` with `8n + j = m = round(x·8·log2 e)`, `0 <= j < 8`,
//! `|r| <= ln2/16`, and `e^x = 2^n · 2^(j/8) · e^r`. `r = (x - m·STEP_HI) - m·STEP_LO`, each
//! step one fused multiply-add; with `STEP_HI` = ln2/8 rounded to `f32`, `x - m·STEP_HI` is
//! exact whenever the result is small, so `r` carries at most half an ulp of error whatever
//! the size of `x`. `e^r` is then a degree-3 polynomial (relative error 3.9e-8 on that
//! interval; see [`C`]), and `2^n·2^(j/8)` comes from a table of eight entries held in a
//! register (one permutation) and an integer shift: one operation fewer than a degree-5
//! polynomial over `|r| <= ln2/2` and the product by `2^n`, which matters on CPUs whose
//! 256-bit operations each take a cycle (Zen 1: the row kernel went from 16.6 to 15.5
//! cycles per 8 values).
//!
//! `m` is found without a float-to-int conversion: adding `1.5·2^23` rounds `x·8·log2 e` to
//! an integer held in the low mantissa bits of the sum `t` (valid while `|x·8·log2 e| <
//! 2^22`). The bias adds `8·126` more, so those bits hold `8(n + 126) + j`: `t << 20` puts
//! `n + 126` in the exponent field and `j` in the top three mantissa bits, and adding
//! `SCALE[j]` (an eight-entry table indexed by the low three bits of `t`) replaces `j` by the
//! mantissa of `2^(j/8)` and adds one to the exponent: the bits of `2^n·2^(j/8)`.
//! Subtracting `8k` from the magic constant shifts the result by `2^-k`, with no rounding: the
//! kernel uses this to scale every term of a row by the row's own power of two (see
//! `row.rs`), which keeps the exponentials of logits far from zero exact to the last bits
//! without ever forming `x - max` in `f32`.
//!
//! The kernel's variant, [`exp_scaled`], skips the `STEP_LO` step (one operation of about
//! thirteen per vector): it returns `e^(x - k·LN2_HI)` up to a factor
//! `e^((n-k)·LN2_LO)` (as `m·STEP_LO = (m/8)·LN2_LO`), i.e. a relative error of 1.9e-9 per
//! unit of `|n - k|`, which the kernel keeps below 126 (2.4e-7) by clamping its arguments,
//! and undoes `k·LN2_HI` in `f64`.
//!
//! Measured maximum relative error of [`exp_lanes`] against `f64` over every `f32` in
//! `[ln FLT_MIN, ln FLT_MAX]` (2.1·10^9 inputs, every instruction set of the CPU: checked
//! below 2e-7 by `python benches/xent_speed.py --check`, which CI runs on the release
//! build; a sample of the range in `exp_error_is_small_everywhere` below): 1.70e-7 with
//! AVX2+FMA on AMD EPYCs (Zen 1, Zen 3), with AVX-512 and AVX2 on an Intel Xeon, and on the
//! portable lanes. Below `ln FLT_MIN` the result is flushed to 0 (the kernel never needs
//! subnormals), above `ln FLT_MAX` it is `+inf`, NaN stays NaN.

use super::lanes::Lanes;

/// log2(e) rounded to `f32`.
pub(crate) const LOG2E: f32 = std::f32::consts::LOG2_E;
/// ln 2 rounded to `f32`: the unit of [`exp_scaled`]'s scale.
pub(crate) const LN2_HI: f32 = std::f32::consts::LN_2;
/// ln 2 - LN2_HI, rounded to `f32`.
const LN2_LO: f32 = -1.904_654_3e-9;
/// The reduction's step, ln2/8, in two parts (exact eighths of the two above).
const STEP_HI: f32 = LN2_HI / 8.0;
const STEP_LO: f32 = LN2_LO / 8.0;
/// 1.5·2^23: `x + MAGIC` rounds `x` to an integer stored in the low mantissa bits.
const MAGIC: f32 = 12_582_912.0;
/// p(r) = C[0] + C[1]·r + C[2]·r^2 + C[3]·r^3 on `|r| <= ln2/16`: fitted by us for relative
/// error (Lawson's iteration) and rounded to `f32` (nudging them by a few ulps moved the
/// error of the whole computation by under 1%). `C[0] = 1` makes `e^0` exactly 1.
const C: [f32; 4] = [1.0, 1.0, 0.500_078_2, 0.166_651_03];
/// `SCALE[j]` = bits of `2^(j/8)` rounded to `f32`, less `j << 20` (the index that `t << 20`
/// leaves in the mantissa), less `126 << 23` (so the bias, not the table, holds the
/// exponent's offset and no entry is a NaN pattern).
const SCALE: [u32; 8] = [
    0x0080_0000,
    0x007b_95c2,
    0x0078_37f0,
    0x0075_fed7,
    0x0075_04f3,
    0x0075_672a,
    0x0077_44fd,
    0x007a_c0c7,
];
/// The smallest `f32` whose exponential is a normal `f32` (rounded up from ln FLT_MIN).
pub(crate) const EXP_LO: f32 = -87.336_54;
/// From here up, e^x overflows `f32` (the smallest `f32` above 128·ln 2).
const EXP_HI: f32 = 88.722_84;

/// The bias that makes [`exp_scaled`] return `e^(x - k·LN2_HI)`: a multiple of 8, so held
/// exactly by `f32` below 2^27, and `m` (near `8k`) stays below 2^24 for `|k| < 2^21`, i.e.
/// arguments up to 2^20 in magnitude.
pub(crate) fn bias(k: i32) -> f32 {
    MAGIC + (8 * (126 - k)) as f32
}

/// p(r) for `K` vectors at once, step by step across them: on Zen 1 the row kernel runs 8%
/// faster so than with one Horner chain after the other (the out-of-order window, counted in
/// 128-bit halves, does not reach far enough to overlap them by itself).
#[inline(always)]
unsafe fn poly<L: Lanes, const K: usize>(r: [L::V; K]) -> [L::V; K] {
    let mut p = [L::splat(C[3]); K];
    for &c in C[..3].iter().rev() {
        for i in 0..K {
            p[i] = L::fma(p[i], r[i], L::splat(c));
        }
    }
    p
}

/// `e^(x - k·LN2_HI)` lane by lane for `K` vectors, where `bias` = [`bias`]`(k)`, within
/// 1.8e-7 plus 1.9e-9·|n - k| relative, for lanes with `-126 <= n - k <= 127` and `x` near
/// `k·LN2_HI` within 2^20 in magnitude (see [`bias`]); other lanes hold garbage for the
/// caller to mask, except that a NaN stays NaN.
///
/// Returned as its two factors `(p(r), 2^(n-k)·2^(j/8))`: the value is their product (a
/// product rather than an exponent-field addition: it propagates NaN, from `p`), which the
/// caller may fuse into a sum.
#[inline(always)]
pub(crate) unsafe fn exp_scaled<L: Lanes, const K: usize>(
    x: [L::V; K],
    bias: L::V,
) -> ([L::V; K], [L::V; K]) {
    let (mut t, mut r) = (x, x);
    for i in 0..K {
        t[i] = L::fma(x[i], L::splat(8.0 * LOG2E), bias);
    }
    for i in 0..K {
        r[i] = L::fma(L::sub(t[i], bias), L::splat(-STEP_HI), x[i]);
    }
    for t in t.iter_mut() {
        *t = L::scale8(*t, &SCALE);
    }
    (poly::<L, K>(r), t)
}

/// `e^x` over the whole `f32` range: flushed to 0 below [`EXP_LO`], `+inf` from `EXP_HI` up.
#[inline(always)]
pub(crate) unsafe fn exp_lanes<L: Lanes>(x: L::V) -> L::V {
    // The scale `2^(n-k)·2^(j/8)` must be a normal `f32` while `n` runs from -126 to 128:
    // `k = 1` for positive `x`, `-1` for negative, undone by an exact product by `2^k`.
    let up = L::ge(x, L::splat(0.0));
    let bias = L::select(up, L::splat(bias(1)), L::splat(bias(-1)));
    let t = L::fma(x, L::splat(8.0 * LOG2E), bias);
    let m = L::sub(t, bias);
    let r = L::fma(m, L::splat(-STEP_HI), x);
    let r = L::fma(m, L::splat(-STEP_LO), r);
    let [p] = poly::<L, 1>([r]);
    let y = L::mul(p, L::scale8(t, &SCALE));
    let y = L::mul(y, L::select(up, L::splat(2.0), L::splat(0.5)));
    let y = L::select(L::ge(x, L::splat(EXP_HI)), L::splat(f32::INFINITY), y);
    let y = L::keep(L::ge(x, L::splat(EXP_LO)), y);
    L::select(L::is_nan(x), x, y)
}

/// `out[i] = e^xs[i]` for slices of equal length, on lanes `L`.
#[inline(always)]
pub(crate) unsafe fn exp_slice<L: Lanes>(xs: &[f32], out: &mut [f32]) {
    let mut ins = xs.chunks_exact(L::N);
    let mut outs = out.chunks_exact_mut(L::N);
    for (i, o) in (&mut ins).zip(&mut outs) {
        L::store(exp_lanes::<L>(L::load(i.as_ptr())), o.as_mut_ptr());
    }
    let (rest, rest_out) = (ins.remainder(), outs.into_remainder());
    if !rest.is_empty() {
        let mut buf = [0f32; 16];
        buf[..rest.len()].copy_from_slice(rest);
        L::store(exp_lanes::<L>(L::load(buf.as_ptr())), buf.as_mut_ptr());
        rest_out.copy_from_slice(&buf[..rest.len()]);
    }
}

#[cfg(test)]
mod tests {
    use super::super::dispatch::{exp_f32, Isa};

    /// Max relative error of `exp_f32` against `f64::exp` over every `f32` in `[lo, hi]`.
    fn max_rel_error(isa: Isa, lo: f32, hi: f32, step: u32) -> f64 {
        let (mut worst, mut xs, mut out) = (0f64, Vec::new(), vec![0f32; 1 << 16]);
        let mut flush = |xs: &mut Vec<f32>| {
            exp_f32(isa, xs, &mut out[..xs.len()]);
            for (&x, &y) in xs.iter().zip(&out) {
                let want = f64::from(x).exp();
                worst = worst.max((f64::from(y) - want).abs() / want);
            }
            xs.clear();
        };
        // Every `step`-th f32 of each sign, walking the bit patterns.
        for (a, b) in [(0f32, hi), (-0f32, lo)] {
            let mut bits = a.to_bits();
            while f32::from_bits(bits).abs() <= b.abs() {
                xs.push(f32::from_bits(bits));
                if xs.len() == 1 << 16 {
                    flush(&mut xs);
                }
                bits += step;
            }
            flush(&mut xs);
        }
        worst
    }

    #[test]
    fn exp_error_is_small_everywhere() {
        for isa in Isa::supported() {
            let e = max_rel_error(isa, super::EXP_LO, 88.722_83, 4099);
            assert!(e < 2e-7, "{isa:?}: {e:e}");
        }
    }

    #[test]
    fn exp_edges() {
        for isa in Isa::supported() {
            let xs = [
                0.0,
                -0.0,
                f32::INFINITY,
                f32::NEG_INFINITY,
                f32::NAN,
                89.0,
                -88.0,
                -1e30,
            ];
            let mut out = [1f32; 8];
            exp_f32(isa, &xs, &mut out);
            assert_eq!(out[..2], [1.0; 2], "{isa:?}");
            assert_eq!(out[2], f32::INFINITY);
            assert_eq!(out[3], 0.0);
            assert!(out[4].is_nan());
            assert_eq!((out[5], out[6], out[7]), (f32::INFINITY, 0.0, 0.0));
        }
    }
}
