//! A vectorised `e^x` for `f32` lanes, written for the cross-entropy kernel.
//!
//! Range reduction (Cody and Waite): `x = n·ln2 + r` with `n = round(x·log2 e)` and
//! `|r| <= ln2/2`; `r = (x - n·LN2_HI) - n·LN2_LO`, each step one fused multiply-add. With
//! `LN2_HI` = ln 2 rounded to `f32`, `x - n·LN2_HI` is exact whenever the result is small (its
//! bits all lie within 24 of each other), so `r` carries at most half an ulp of error whatever
//! the size of `x`. Then `e^r` is a degree-6 polynomial with `p(0) = 1` and `p'(0) = 1`
//! fixed, its other coefficients fitted by us for minimax relative error on `[-ln2/2, ln2/2]`
//! (truncation error 3.1e-9, 3.8e-9 with the coefficients rounded to `f32`), evaluated by
//! Horner's rule. Finally `2^n` is applied by adding `n` to the exponent field.
//!
//! `n` is found without a float-to-int conversion: adding `1.5·2^23` rounds `x·log2 e` to an
//! integer held in the low mantissa bits of the sum `t` (valid while `|x·log2 e| < 2^22`), so
//! `t << 23` is `n` in the exponent field. Subtracting an integer `k` from that magic
//! constant yields `e^x · 2^-k` instead, with no rounding: the kernel uses this to scale every
//! term of a row by the row's own power of two (see `row.rs`), which keeps the exponentials
//! of logits far from zero exact to the last bits without ever forming `x - max` in `f32`.
//!
//! Measured maximum relative error against `f64` over every `f32` in
//! `[ln FLT_MIN, ln FLT_MAX]` (2.1·10^9 inputs, `exp_error_over_whole_range` below):
//! 7.7e-8 with AVX2+FMA on an AMD EPYC (Zen 1), and the same on the portable lanes with a
//! fused `fma` (their `f64` form of it is checked on a sample of the range, in
//! `exp_error_is_small_everywhere`). Below `ln FLT_MIN` the result is flushed to 0 (the
//! kernel never needs subnormals), above `ln FLT_MAX` it is `+inf`, NaN stays NaN.

use super::lanes::Lanes;

/// log2(e) rounded to `f32`.
pub(crate) const LOG2E: f32 = std::f32::consts::LOG2_E;
/// ln 2 rounded to `f32`.
const LN2_HI: f32 = std::f32::consts::LN_2;
/// ln 2 - LN2_HI, rounded to `f32`.
const LN2_LO: f32 = -1.904_654_3e-9;
/// 1.5·2^23: `x + MAGIC` rounds `x` to an integer stored in the low mantissa bits.
pub(crate) const MAGIC: f32 = 12_582_912.0;
/// Coefficients of r^2..r^6 (p(r) = 1 + r + c2·r^2 + ... + c6·r^6).
const C: [f32; 5] = [
    0.499_999_94,
    0.166_665_21,
    0.041_668_39,
    0.008_368_71,
    0.001_381_461_3,
];
/// The smallest `f32` whose exponential is a normal `f32` (rounded up from ln FLT_MIN).
pub(crate) const EXP_LO: f32 = -87.336_54;
/// From here up, e^x overflows `f32` (the smallest `f32` above 128·ln 2).
const EXP_HI: f32 = 88.722_84;

/// `e^x · 2^-k` lane by lane, where `bias = MAGIC - k`, for lanes whose result is a normal
/// `f32` and `|x·log2 e| < 2^22`; other lanes hold garbage for the caller to mask.
#[inline(always)]
pub(crate) unsafe fn exp_scaled<L: Lanes>(x: L::V, bias: L::V) -> L::V {
    let t = L::fma(x, L::splat(LOG2E), bias);
    let n = L::sub(t, bias);
    let r = L::fma(n, L::splat(-LN2_HI), x);
    let r = L::fma(n, L::splat(-LN2_LO), r);
    let mut p = L::splat(C[4]);
    for i in (0..4).rev() {
        p = L::fma(p, r, L::splat(C[i]));
    }
    let one = L::splat(1.0);
    p = L::fma(p, r, one);
    p = L::fma(p, r, one);
    L::ldexp_bits(p, t)
}

/// `e^x` over the whole `f32` range: flushed to 0 below [`EXP_LO`], `+inf` from `EXP_HI` up.
#[inline(always)]
pub(crate) unsafe fn exp_lanes<L: Lanes>(x: L::V) -> L::V {
    let y = exp_scaled::<L>(x, L::splat(MAGIC));
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

    /// The figure quoted in the module docs: every f32 of the range (slow in debug builds:
    /// `cargo test --release -- --ignored exp_error_over_whole_range --nocapture`).
    #[test]
    #[ignore]
    fn exp_error_over_whole_range() {
        for isa in Isa::supported() {
            let e = max_rel_error(isa, super::EXP_LO, 88.722_83, 1);
            println!("{isa:?}: max relative error {e:e}");
            assert!(e < 2e-7);
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
            assert_eq!(out[..2], [1.0, 1.0], "{isa:?}");
            assert_eq!(out[2], f32::INFINITY);
            assert_eq!(out[3], 0.0);
            assert!(out[4].is_nan());
            assert_eq!((out[5], out[6], out[7]), (f32::INFINITY, 0.0, 0.0));
        }
    }
}
