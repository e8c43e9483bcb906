//! The negative log-likelihood of one row of logits: `nll = ln Σ_j e^(x_j) - x_t`.
//!
//! With `M` the row's maximum and `k` the number of entries equal to it,
//! `Σ_j e^(x_j - M) = k + R`, `R = Σ_{x_j < M} e^(x_j - M)`, so
//! `nll = ln(1 + (k - 1 + R)) + (M - x_t) = log1p(k - 1 + R) + (M - x_t)`. Keeping the max
//! terms out of `R` and taking `log1p` keeps the relative error small when the target is the
//! maximum and the loss is tiny (a confident, correct prediction), where `ln(sum)` would lose
//! every digit.
//!
//! One pass over memory, in blocks of [`BLOCK`] entries: first the block's maximum (and a
//! NaN check), then, from L1 cache, the exponentials. Terms are `e^(x_j) · 2^-N` with
//! `N = round(M·log2 e)`, computed by `exp_scaled` straight from `x_j` (no `x_j - M` in
//! `f32`, whose rounding would cost up to 2^-24·|x_j - M| of relative error per term); four
//! vectors of terms are added in `f32`, then in `f64` lanes. When a block raises the maximum,
//! the `f64` sum is rescaled by an exact power of two. At the end
//! `R = sum · e^(N·ln 2 - M)` in `f64`.
//!
//! Terms below 2^-124 of the maximum are dropped. When that could matter (`k = 1` and
//! `R < 2^-60`, a margin over 41 nats) the row is summed again, scaled by the second largest
//! value instead. Rows whose maximum exceeds 2^21 in magnitude, beyond the range of the
//! magic-constant rounding, are computed in scalar `f64`.
//!
//! Error: each term carries the exponential's error (< 8e-8) and at most two `f32`
//! additions (2^-23); everything after is `f64`. So the relative error of `R`, hence of the
//! loss, stays below 4e-7 against a float64 computation on the same inputs.

use super::exp::{exp_scaled, LOG2E, MAGIC};
use super::lanes::{bf16_to_f32, f16_to_f32, Lanes};

/// Entries per block: 8 KiB of `f32`, well inside L1 for the second read.
pub(crate) const BLOCK: usize = 2048;
/// Above this magnitude a row's maximum is handled by [`exact`].
const FAST_LIMIT: f32 = 2_097_152.0;
/// Below this, `R` is recomputed around the second largest value.
const TINY: f64 = 8.673_617_379_884_035e-19; // 2^-60
const LN2: f64 = std::f64::consts::LN_2;

/// An element type of logits: how to widen one value, and `N` values into lanes.
pub(crate) trait Elem {
    type Raw: Copy + Send + Sync;
    fn to_f32(x: Self::Raw) -> f32;
    /// # Safety
    /// `L`'s instruction set is available; `p` points at `L::N` readable values.
    unsafe fn load<L: Lanes>(p: *const Self::Raw) -> L::V;
}

pub(crate) struct F32;
pub(crate) struct F16;
pub(crate) struct Bf16;

impl Elem for F32 {
    type Raw = f32;
    #[inline(always)]
    fn to_f32(x: f32) -> f32 {
        x
    }
    #[inline(always)]
    unsafe fn load<L: Lanes>(p: *const f32) -> L::V {
        L::load(p)
    }
}

impl Elem for F16 {
    type Raw = u16;
    #[inline(always)]
    fn to_f32(x: u16) -> f32 {
        f16_to_f32(x)
    }
    #[inline(always)]
    unsafe fn load<L: Lanes>(p: *const u16) -> L::V {
        L::load_f16(p)
    }
}

impl Elem for Bf16 {
    type Raw = u16;
    #[inline(always)]
    fn to_f32(x: u16) -> f32 {
        bf16_to_f32(x)
    }
    #[inline(always)]
    unsafe fn load<L: Lanes>(p: *const u16) -> L::V {
        L::load_bf16(p)
    }
}

/// Why a row has no finite loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    /// The entry at this column is NaN or +inf.
    NotFinite(usize),
    /// The target's logit is -inf: probability 0, infinite loss.
    TargetImpossible,
}

/// Groups of four vectors covering a slice; the last group is padded with -inf. A method
/// rather than a closure-taking helper: closures do not inherit `#[target_feature]`, so the
/// intrinsics in them would not be inlined.
struct Groups<'a, L, E: Elem> {
    xs: &'a [E::Raw],
    at: usize,
    lanes: std::marker::PhantomData<L>,
}

impl<'a, L: Lanes, E: Elem> Groups<'a, L, E> {
    #[inline(always)]
    fn new(xs: &'a [E::Raw]) -> Self {
        Groups {
            xs,
            at: 0,
            lanes: std::marker::PhantomData,
        }
    }

    #[inline(always)]
    unsafe fn next(&mut self) -> Option<[L::V; 4]> {
        let (n, rest) = (L::N, self.xs.len() - self.at);
        if rest >= 4 * n {
            let p = self.xs.as_ptr().add(self.at);
            self.at += 4 * n;
            return Some([
                E::load::<L>(p),
                E::load::<L>(p.add(n)),
                E::load::<L>(p.add(2 * n)),
                E::load::<L>(p.add(3 * n)),
            ]);
        }
        if rest == 0 {
            return None;
        }
        let mut buf = [f32::NEG_INFINITY; 64];
        for (b, &x) in buf.iter_mut().zip(&self.xs[self.at..]) {
            *b = E::to_f32(x);
        }
        self.at = self.xs.len();
        let p = buf.as_ptr();
        Some([
            L::load(p),
            L::load(p.add(n)),
            L::load(p.add(2 * n)),
            L::load(p.add(3 * n)),
        ])
    }
}

/// The maximum of `xs` (-inf if empty) and whether it holds a NaN.
#[inline(always)]
unsafe fn block_max<L: Lanes, E: Elem>(xs: &[E::Raw]) -> (f32, bool) {
    let mut mx = [L::splat(f32::NEG_INFINITY); 4];
    let mut nan = L::is_nan(L::splat(0.0));
    let mut groups = Groups::<L, E>::new(xs);
    while let Some(v) = groups.next() {
        for i in 0..4 {
            mx[i] = L::max(mx[i], v[i]);
            nan = L::or(nan, L::is_nan(v[i]));
        }
    }
    let m = L::max(L::max(mx[0], mx[1]), L::max(mx[2], mx[3]));
    (L::hmax(m), L::count(nan) > 0)
}

/// `(Σ e^(x)·2^-n over x < below, #{x >= below})` for `xs` with no entry above `below`.
#[inline(always)]
unsafe fn block_sum<L: Lanes, E: Elem>(xs: &[E::Raw], below: f32, n: i32) -> (f64, u64) {
    let bias = L::splat(MAGIC - n as f32);
    // Terms that would be under 2^-124 (subnormal after scaling) are dropped.
    let lo = L::splat(((n - 124) as f64 * LN2) as f32);
    let top = L::splat(below);
    let (mut d, mut under_top) = (L::dzero(), 0u64);
    let mut groups = Groups::<L, E>::new(xs);
    let mut lanes = 0u64;
    while let Some(v) = groups.next() {
        let mut t = v;
        for i in 0..4 {
            let under = L::lt(v[i], top);
            under_top += u64::from(L::count(under));
            t[i] = L::keep(L::and(under, L::ge(v[i], lo)), exp_scaled::<L>(v[i], bias));
        }
        lanes += 4 * L::N as u64;
        d = L::dadd(d, L::add(L::add(t[0], t[1]), L::add(t[2], t[3])));
    }
    (L::dsum(d), lanes - under_top)
}

/// The largest entry below `top` (-inf if none).
#[inline(always)]
unsafe fn max_below<L: Lanes, E: Elem>(xs: &[E::Raw], top: f32) -> f32 {
    let ninf = L::splat(f32::NEG_INFINITY);
    let (mut mx, t) = (ninf, L::splat(top));
    let mut groups = Groups::<L, E>::new(xs);
    while let Some(v) = groups.next() {
        for x in v {
            mx = L::max(mx, L::select(L::lt(x, t), x, ninf));
        }
    }
    L::hmax(mx)
}

fn scale_exponent(m: f32) -> i32 {
    (f64::from(m) * f64::from(LOG2E)).round() as i32
}

/// The loss of `row` for target column `target`.
///
/// # Safety
/// `L`'s instruction set is available.
#[inline(always)]
pub(crate) unsafe fn nll<L: Lanes, E: Elem>(row: &[E::Raw], target: usize) -> Result<f64, Fault> {
    // Running maximum `m`, its scale exponent `n`, the sum of scaled terms below `m`, and
    // the number `k` of entries equal to `m`.
    let (mut m, mut n, mut sum, mut k) = (f32::NEG_INFINITY, 0i32, 0f64, 0u64);
    for block in row.chunks(BLOCK) {
        let (bm, nan) = block_max::<L, E>(block);
        if nan || bm == f32::INFINITY {
            return Err(first_bad::<E>(row));
        }
        if bm > m {
            if bm.abs() > FAST_LIMIT {
                return exact::<E>(row, target);
            }
            let n_new = scale_exponent(bm);
            if sum != 0.0 {
                sum *= 2f64.powi(n - n_new);
            }
            if k > 0 {
                sum += k as f64 * (f64::from(m) - f64::from(n_new) * LN2).exp();
            }
            (m, n, k) = (bm, n_new, 0);
        }
        if m == f32::NEG_INFINITY {
            continue;
        }
        let (s, at_top) = block_sum::<L, E>(block, m, n);
        sum += s;
        k += at_top;
    }
    let xt = E::to_f32(row[target]);
    if xt == f32::NEG_INFINITY {
        return Err(Fault::TargetImpossible);
    }
    let mut r = sum * (f64::from(n) * LN2 - f64::from(m)).exp();
    if k == 1 && r < TINY {
        r = rescue::<L, E>(row, m);
    }
    Ok((r + (k - 1) as f64).ln_1p() + (f64::from(m) - f64::from(xt)))
}

/// `R` for a row whose unique maximum `m` towers over the rest: the terms summed with the
/// scale of the second largest value, so that none that matters is dropped.
#[inline(always)]
unsafe fn rescue<L: Lanes, E: Elem>(row: &[E::Raw], m: f32) -> f64 {
    let m2 = max_below::<L, E>(row, m);
    if m2 == f32::NEG_INFINITY {
        return 0.0;
    }
    if m2.abs() > FAST_LIMIT {
        return exact_r::<E>(row, f64::from(m));
    }
    let n2 = scale_exponent(m2);
    let mut sum = 0.0;
    for block in row.chunks(BLOCK) {
        sum += block_sum::<L, E>(block, m, n2).0;
    }
    sum * (f64::from(n2) * LN2 - f64::from(m)).exp()
}

/// The first column holding NaN or +inf.
fn first_bad<E: Elem>(row: &[E::Raw]) -> Fault {
    let col = row
        .iter()
        .position(|&x| {
            let x = E::to_f32(x);
            x.is_nan() || x == f32::INFINITY
        })
        .unwrap_or(0); // unreachable: called once a block check found one
    Fault::NotFinite(col)
}

/// `Σ_{x < m} e^(x - m)` in scalar `f64` (exact differences of `f32` values).
fn exact_r<E: Elem>(row: &[E::Raw], m: f64) -> f64 {
    row.iter()
        .map(|&x| f64::from(E::to_f32(x)))
        .filter(|&x| x < m)
        .map(|x| (x - m).exp())
        .sum()
}

/// The loss in scalar `f64`: for rows with huge logits, where speed does not matter.
fn exact<E: Elem>(row: &[E::Raw], target: usize) -> Result<f64, Fault> {
    let mut m = f32::NEG_INFINITY;
    for &x in row {
        let x = E::to_f32(x);
        if x.is_nan() || x == f32::INFINITY {
            return Err(first_bad::<E>(row));
        }
        m = m.max(x);
    }
    let xt = E::to_f32(row[target]);
    if xt == f32::NEG_INFINITY {
        return Err(Fault::TargetImpossible);
    }
    let k = row.iter().filter(|&&x| E::to_f32(x) == m).count();
    let m = f64::from(m);
    Ok((exact_r::<E>(row, m) + (k - 1) as f64).ln_1p() + (m - f64::from(xt)))
}
