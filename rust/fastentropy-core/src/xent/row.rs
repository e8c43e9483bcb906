//! The negative log-likelihood of one row of logits: `nll = ln Σ_j e^(x_j) - x_t`.
//!
//! With `M` the row's maximum and `k` the number of entries equal to it,
//! `Σ_j e^(x_j - M) = k + R`, `R = Σ_{x_j < M} e^(x_j - M)`, so
//! `nll = ln(1 + (k - 1 + R)) + (M - x_t) = log1p(k - 1 + R) + (M - x_t)`. Keeping the max
//! terms out of `R` and taking `log1p` keeps the relative error small when the target is the
//! maximum and the loss is tiny (a confident, correct prediction), where `ln(sum)` would lose
//! every digit.
//!
//! 16-bit rows may first be offered to the look-up table of `table.rs` (the choice is
//! `path.rs`'s), which handles every row within its range; what follows is the kernel for
//! `f32` rows, widened 16-bit rows and the rest.
//!
//! One pass over memory, in blocks of [`BLOCK`] entries: first the block's maximum (plain
//! `max`, one operation per vector; for 16-bit rows, integer extremes of the bit patterns,
//! sixteen per operation and no conversion, which also bound the block's minimum, see
//! `lanes::range16`), then, from L1 cache, the exponentials (16-bit values widened there,
//! once). Terms are
//! `e^(x_j - N·LN2_HI)` with `N = round(M·log2 e)`, computed by `exp_scaled` straight from
//! `x_j` (no `x_j - M` in `f32`, whose rounding would cost up to 2^-24·|x_j - M| of relative
//! error per term); eight vectors of terms are added in `f32`, then in `f64` lanes. When a
//! block raises the maximum, the `f64` sum is rescaled in `f64`. At the end
//! `R = sum · e^(N·LN2_HI - M)` in `f64`.
//!
//! Widened 16-bit rows take each block's range beside the previous block's sums instead
//! ([`lag_ranges`]): with every group of a block's sums, the integer extremes of as many
//! patterns of the next block (two per 16 patterns: largest as `i16` and as `u16`; a shorter
//! last block reads its last full group again and its tail apart). The same extremes, so
//! the same choices and the same bits as a pass of its own; only the first block of a row
//! and blocks of negative values only (whose largest value is the smallest `i16`, not
//! taken: `lanes::range16_lagged`) take their own pass. float16: 2-3% per core on Zen 3
//! (docs/xent_speed.md). bfloat16 (not its default path: the table is) gained nothing so on
//! Zen 3, but 13% with AVX-512 and 3% with AVX2 on an Intel Xeon of 2026 (rows in L2), where
//! its own pass of extremes, read from L2, took a fifth of the time.
//!
//! Arguments are clamped to at least `(N - 124)·LN2_HI`: a term below 2^-124 of the maximum
//! counts as 2^-124 (at most 2^-107 of the sum), and no lane leaves the normal range. A
//! 16-bit block whose minimum is known to be above that floor skips the clamp (the same
//! result, one operation per vector fewer). When
//! such terms could matter (`k = 1` and `R < 2^-60`, a margin over 41 nats) the row is summed
//! again, scaled by the second largest value instead. Rows whose maximum exceeds 2^20 in
//! magnitude, beyond the range of the magic-constant rounding, are computed in scalar `f64`.
//! NaN is not looked for in the first pass: it survives the clamp, the exponential and the
//! mask of the maximum, so a NaN sum reveals it (a NaN that hides a whole block's maximum
//! leaves `-inf`, and that rare block is checked value by value).
//!
//! Online normalisation (Milakov & Gimelshein 2018, "Online normalizer calculation for
//! softmax"), for `f32` rows (16-bit rows were slower so, see [`one_pass`]): after the
//! first block, each block is first tried in ONE pass, its terms against
//! the running scale `n` and its maximum `bm` taken beside (`max`, a port the exponential
//! hardly uses), nothing masked (`block_sum_max`). If `bm < m` that is the two-pass result to
//! the bit (no entry to mask, and the clamp leaves values above its floor alone). If
//! `m <= bm <= m + JUMP` (`JUMP` = 64), the terms are at most `e^64.35`, inside the
//! exponential's checked range (its argument below `ln FLT_MAX`, its scale exponent within
//! 126 of the bias) and a group's `f32` sums stay finite; the sums so far are rescaled in
//! `f64` by `e^((n - n_new)·LN2_HI)` (one `f64` exponential and product per raised block:
//! at most 2^-52 relative each, so under 2^-45 for any row under 2^14 blocks: negligible
//! beside the `f32` errors below), and the block's sum, which holds its terms at the top,
//! goes to `mixed`. A block that jumps further, or whose one-pass sum is not finite (NaN,
//! +inf), is done in two passes as before. The first block always is (it sets the scale).
//! With such blocks the row's `k + R` is known only whole: `ln(k + R)` then has an absolute
//! error at most the sum's relative error (bounded below, the same terms and roundings), so
//! the relative bound holds when the loss `ln(k + R) + (M - x_t)` is at least 1; below 1 (a
//! confident, correct prediction, where `log1p` is needed, or few entries near the top),
//! those blocks are summed again with the final maximum masked, exactly as before (the tie
//! count and the `log1p` form are unchanged). That costs such rows about one more pass over
//! the blocks that reached the maximum (2.4 of 15 on average for a maximum at a random
//! place in 16 blocks). Results differ from the two-pass kernel's in the last bits where a
//! later block reached the maximum; they are per row, so the same for any thread count.
//!
//! Error: each term carries the exponential's error (< 1.8e-7, plus up to 2.4e-7 from the
//! skipped `LN2_LO` step for terms far below the maximum, see `exp.rs`) and at most three
//! `f32` additions (3·2^-24); everything after is `f64`. So the relative error of `R`, hence
//! of the loss, stays below 6e-7 against a float64 computation on the same inputs. (The
//! measured worst cases are in `docs/xent_speed.md`, Accuracy; for `f32` it is reached for a
//! target 41 nats above the rest, where `R` is made of terms 59 octaves down.)

use super::exp::{bias, exp_scaled, LN2_HI, LOG2E};
use super::lanes::{
    bf16_to_f32, extremes16_scalar, f16_to_f32, merge16, prefetch, range16, range16_lagged, Lanes,
};
use super::table::ExpTable;

/// Entries per block: 8 KiB of `f32`, well inside L1 for the second read.
pub(crate) const BLOCK: usize = 2048;
/// Above this magnitude a row's maximum is handled by [`exact`].
const FAST_LIMIT: f32 = 1_048_576.0;
/// How far a block done in one pass may raise the maximum: its terms are then at most
/// `e^(JUMP + 0.35)` (well inside `f32` and the exponential's checked range, with room for
/// the sums of a group), see the header.
const JUMP: f32 = 64.0;
/// Whether blocks after the first are tried in one pass: for `f32` rows only. 16-bit rows
/// keep two passes, whose first (integer extremes, sixteen per operation) is cheap and lets
/// most blocks skip the clamp: in one pass they were slower (docs/xent_speed.md).
const fn one_pass<E: Elem>() -> bool {
    std::mem::size_of::<E::Raw>() == 4
}
/// Whether a block takes the next block's range beside its sums (see the header and
/// [`range16_lagged`]): for 16-bit rows, which [`Elem::range_lagged`] then reads.
const fn lag_ranges<E: Elem>() -> bool {
    std::mem::size_of::<E::Raw>() == 2
}
/// Below this, `R` is recomputed around the second largest value.
const TINY: f64 = 8.673_617_379_884_035e-19; // 2^-60
/// The scale's unit: terms are `e^(x - N·UNIT)` (see `exp.rs`).
const UNIT: f64 = LN2_HI as f64;

/// An element type of logits: how to widen one value, and `2N` values into lanes.
pub(crate) trait Elem {
    type Raw: Copy + Send + Sync;
    fn to_f32(x: Self::Raw) -> f32;
    /// `2·L::N` values widened into two vectors, in any order of lanes (see [`Lanes`]).
    ///
    /// # Safety
    /// `L`'s instruction set is available; `p` points at `2·L::N` readable values.
    unsafe fn load_pair<L: Lanes>(p: *const Self::Raw) -> [L::V; 2];
    /// The largest value of `xs` (-inf if empty; NaN, or less, if `xs` holds a NaN) and a
    /// lower bound of its smallest (NaN if `xs` holds a NaN, for 16-bit formats).
    ///
    /// # Safety
    /// `L`'s instruction set is available.
    unsafe fn range<L: Lanes>(xs: &[Self::Raw]) -> (f32, f32);
    /// [`range16_lagged`] of the extremes taken beside the previous block's sums (16-bit
    /// formats, see [`lag_ranges`]).
    #[inline(always)]
    fn range_lagged(_: [u16; 2]) -> Option<(f32, f32)> {
        None
    }
    /// The row's loss by table look-up (see `table.rs`), where the format allows it and the
    /// row is within the table's range; `None` leaves the row to the vector kernel.
    #[inline(always)]
    fn table_nll(_row: &[Self::Raw], _target: usize) -> Option<f64> {
        None
    }
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
    unsafe fn load_pair<L: Lanes>(p: *const f32) -> [L::V; 2] {
        [L::load(p), L::load(p.add(L::N))]
    }
    #[inline(always)]
    unsafe fn range<L: Lanes>(xs: &[f32]) -> (f32, f32) {
        // A minimum would cost as much as the clamp it could spare.
        (block_max::<L, Self>(xs), f32::NEG_INFINITY)
    }
}

impl Elem for F16 {
    type Raw = u16;
    #[inline(always)]
    fn to_f32(x: u16) -> f32 {
        f16_to_f32(x)
    }
    #[inline(always)]
    unsafe fn load_pair<L: Lanes>(p: *const u16) -> [L::V; 2] {
        [L::load_f16(p), L::load_f16(p.add(L::N))]
    }
    #[inline(always)]
    unsafe fn range<L: Lanes>(xs: &[u16]) -> (f32, f32) {
        range16(L::extremes16(xs), f16_to_f32)
    }
    #[inline(always)]
    fn range_lagged(e: [u16; 2]) -> Option<(f32, f32)> {
        range16_lagged(e, f16_to_f32)
    }
    #[inline(always)]
    fn table_nll(row: &[u16], target: usize) -> Option<f64> {
        ExpTable::f16().nll(row, target, f16_to_f32)
    }
}

impl Elem for Bf16 {
    type Raw = u16;
    #[inline(always)]
    fn to_f32(x: u16) -> f32 {
        bf16_to_f32(x)
    }
    // Lagged: on Zen 3 that gained nothing (7.0 cycles per 8 values either way in one build,
    // 9.2 against 7.0 in another, where it spilled its sums; docs/xent_speed.md), on an Intel
    // Xeon 13% with AVX-512 and 3% with AVX2 (see the module docs).
    #[inline(always)]
    fn range_lagged(e: [u16; 2]) -> Option<(f32, f32)> {
        range16_lagged(e, bf16_to_f32)
    }
    #[inline(always)]
    unsafe fn load_pair<L: Lanes>(p: *const u16) -> [L::V; 2] {
        L::load_bf16_pair(p)
    }
    #[inline(always)]
    unsafe fn range<L: Lanes>(xs: &[u16]) -> (f32, f32) {
        range16(L::extremes16(xs), bf16_to_f32)
    }
    #[inline(always)]
    fn table_nll(row: &[u16], target: usize) -> Option<f64> {
        ExpTable::bf16().nll(row, target, bf16_to_f32)
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

/// Vectors per group.
const G: usize = 8;

/// Where a group's vectors come from, a pair at a time: the slice itself ([`Direct`]) or a
/// padded `f32` copy of its tail ([`Padded`]). Loading where the vectors are used (rather than
/// all eight first) lets each load fold into the first instruction using it, and keeps
/// registers free.
trait Src<L: Lanes> {
    /// Vectors `2h` and `2h + 1` of the group (in the order of [`Elem::load_pair`]).
    unsafe fn pair(&self, h: usize) -> [L::V; 2];
}

/// A full group read in place.
struct Direct<E: Elem>(*const E::Raw);

impl<L: Lanes, E: Elem> Src<L> for Direct<E> {
    #[inline(always)]
    unsafe fn pair(&self, h: usize) -> [L::V; 2] {
        E::load_pair::<L>(self.0.add(2 * h * L::N))
    }
}

/// The last, partial group, widened and padded into `f32`.
struct Padded(*const f32);

impl<L: Lanes> Src<L> for Padded {
    #[inline(always)]
    unsafe fn pair(&self, h: usize) -> [L::V; 2] {
        [
            L::load(self.0.add(2 * h * L::N)),
            L::load(self.0.add((2 * h + 1) * L::N)),
        ]
    }
}

/// What to do with each group of [`G`] vectors of a slice. A trait rather than a closure:
/// closures do not inherit `#[target_feature]`, so the intrinsics in them would not be
/// inlined.
trait Visit<L: Lanes> {
    unsafe fn group(&mut self, src: &impl Src<L>);
}

/// Visits `xs` in groups of [`G`] vectors, the last one padded with `pad`. With `ahead`,
/// also asks for as many bytes from there to be brought into cache, a little with each group.
#[inline(always)]
unsafe fn visit<L: Lanes, E: Elem>(
    xs: &[E::Raw],
    f: &mut impl Visit<L>,
    ahead: Option<*const u8>,
    pad: f32,
) {
    let n = L::N;
    let bytes = G * n * std::mem::size_of::<E::Raw>();
    let mut groups = xs.chunks_exact(G * n);
    for (i, g) in (&mut groups).enumerate() {
        if let Some(a) = ahead {
            for line in (0..bytes).step_by(64) {
                prefetch(a.wrapping_add(i * bytes + line));
            }
        }
        f.group(&Direct::<E>(g.as_ptr()));
    }
    let rest = groups.remainder();
    if !rest.is_empty() {
        let mut buf = [pad; G * 16];
        for (b, &x) in buf.iter_mut().zip(rest) {
            *b = E::to_f32(x);
        }
        f.group(&Padded(buf.as_ptr()));
    }
}

/// Lane-wise maxima; a NaN may hide the values before it in its lane.
struct MaxOf<L: Lanes>([L::V; 4]);

impl<L: Lanes> Visit<L> for MaxOf<L> {
    #[inline(always)]
    unsafe fn group(&mut self, src: &impl Src<L>) {
        for h in 0..G / 2 {
            let [a, b] = src.pair(h);
            let i = (2 * h) % 4;
            self.0[i] = L::max(self.0[i], a);
            self.0[i + 1] = L::max(self.0[i + 1], b);
        }
    }
}

/// The maximum of `xs` (-inf if empty), or less if a NaN hides it.
#[inline(always)]
unsafe fn block_max<L: Lanes, E: Elem>(xs: &[E::Raw]) -> f32 {
    let mut f = MaxOf::<L>([L::splat(f32::NEG_INFINITY); 4]);
    visit::<L, E>(xs, &mut f, None, f32::NEG_INFINITY);
    let [a, b, c, d] = f.0;
    L::hmax(L::max(L::max(a, b), L::max(c, d)))
}

/// The sum of the terms below `top` in `f64` lanes, and the count of the others. Only a
/// block whose own maximum is the row's so far can hold the latter (`TIES`): the others
/// skip the masking. Without `CLAMP`, the caller knows that no entry is below `lo`. With
/// `MAX`, the block's maximum is taken beside; with `LAG` (16-bit rows), the next block's
/// integer extremes ([`Lanes::extremes16`]), as many patterns with each group as the group
/// has values.
struct SumOf<L: Lanes, const TIES: bool, const CLAMP: bool, const MAX: bool, const LAG: bool> {
    bias: L::V,
    /// With `MAX`: lane-wise maxima of the inputs (the block's maximum, taken in the same
    /// pass as the sums; a NaN may hide values, but then the sum is NaN).
    mx: [L::V; 1],
    lo: L::V,
    top: L::V,
    d: L::D,
    at_top: u64,
    /// Lanes at the top, counted in `f32` lanes for 16-bit rows (exact: under 2^24 per
    /// lane), where it was faster than a count per vector in a general register.
    hits: L::V,
    /// Products fused into the first level of the sum (a constant where the kernel is
    /// inlined): for widened 16-bit rows.
    fuse: bool,
    /// With `LAG`: where the next block's patterns for the next group are, where its last
    /// full group's are, and the extremes of those taken.
    next: *const u16,
    last: *const u16,
    ext: L::X,
}

impl<L: Lanes, const TIES: bool, const CLAMP: bool, const MAX: bool, const LAG: bool>
    SumOf<L, TIES, CLAMP, MAX, LAG>
{
    /// Sums against scale exponent `n` (clamped at [`clamp_floor`]`(n)`), masking from `top`
    /// up; with `LAG`, the extremes of the full groups of `next` taken beside.
    #[inline(always)]
    unsafe fn new(n: i32, top: f32, fuse: bool, next: &[u16]) -> Self {
        let full = next.len() / (G * L::N);
        SumOf {
            bias: L::splat(bias(n)),
            mx: [L::splat(f32::NEG_INFINITY)],
            lo: L::splat(clamp_floor(n)),
            top: L::splat(top),
            d: L::dzero(),
            at_top: 0,
            hits: L::splat(0.0),
            fuse,
            next: next.as_ptr(),
            last: next
                .as_ptr()
                .wrapping_add(full.saturating_sub(1) * G * L::N),
            ext: L::x16_start(),
        }
    }

    /// The first-level sum of the pair `x` of the group: `p0·s0 + p1·s1`, with the terms
    /// `p·s` of `exp_scaled`, those at the top left out (`TIES`).
    #[inline(always)]
    unsafe fn pair(&mut self, x: [L::V; 2]) -> L::V {
        if MAX {
            // One accumulator, not two: fewer registers, 7.5 against 7.8 cycles per 8
            // values (L2, Zen 3).
            self.mx[0] = L::max(self.mx[0], L::max(x[0], x[1]));
        }
        let mut e = x;
        if CLAMP {
            for i in 0..2 {
                // `max(lo, x)`, not `max(x, lo)`: NaN must pass.
                e[i] = L::max(self.lo, x[i]);
            }
        }
        let (p, sc) = exp_scaled::<L, 2>(e, self.bias);
        // Lanes at the top are counted and their terms dropped. They may be far above the
        // scale (the rescue's scale is the second largest value's), where the scale factor is
        // garbage, possibly inf: so the whole product is dropped (`p` is finite there), never
        // `p` alone, or 0·inf = NaN.
        let mut hit = [None; 2];
        if TIES {
            for i in 0..2 {
                let h = L::ge(x[i], self.top);
                if self.fuse {
                    self.hits = L::add_one(h, self.hits);
                } else {
                    self.at_top += u64::from(L::count(h));
                }
                hit[i] = Some(h);
            }
        }
        if self.fuse {
            let q = term::<L>(hit[1], p[1], sc[1]);
            match hit[0] {
                Some(h) => L::fma_clear(h, p[0], sc[0], q),
                None => L::fma(p[0], sc[0], q),
            }
        } else {
            L::add(
                term::<L>(hit[0], p[0], sc[0]),
                term::<L>(hit[1], p[1], sc[1]),
            )
        }
    }
}

/// The term `p·sc`, or `+0` where `hit` is set.
#[inline(always)]
unsafe fn term<L: Lanes>(hit: Option<L::M>, p: L::V, sc: L::V) -> L::V {
    match hit {
        Some(h) => L::mul_clear(h, p, sc),
        None => L::mul(p, sc),
    }
}

impl<L: Lanes, const TIES: bool, const CLAMP: bool, const MAX: bool, const LAG: bool> Visit<L>
    for SumOf<L, TIES, CLAMP, MAX, LAG>
{
    #[inline(always)]
    unsafe fn group(&mut self, src: &impl Src<L>) {
        // Pair by pair, each after the previous one's sum in the compiler's view
        // (`Lanes::after`): left to itself LLVM interleaved all eight exponentials of a
        // group and spilled registers (12 spill slots per 64 `f32` values in the hot loop,
        // now 2; 1-4% faster per core on Zen 3, see docs/xent_speed.md). The sum tree is
        // unchanged, `(q0 + q1) + (q2 + q3)` of first-level sums `q`, so are the bits: three
        // levels of `f32` additions, then `f64` (whose widening is slow). For 16-bit rows
        // the first level fuses the products, `p0·s0 + (p1·s1)` in one multiply-add, which
        // spares an operation and leaves each term at most three `f32` roundings after its
        // exponential's, as the plain tree does (for `f32` rows it was slower, measured
        // before this order).
        if LAG {
            for h in 0..G / 2 {
                self.ext = L::x16_add(self.ext, self.next.add(2 * h * L::N));
            }
            // The next block may be shorter: its last full group is read again (harmless
            // for extremes).
            if self.next < self.last {
                self.next = self.next.add(G * L::N);
            }
        }
        let q0 = self.pair(src.pair(0));
        let q1 = self.pair(order::<L>(src.pair(1), q0));
        let a = L::add(q0, q1);
        let q2 = self.pair(order::<L>(src.pair(2), a));
        let q3 = self.pair(order::<L>(src.pair(3), q2));
        let s = L::add(a, L::add(q2, q3));
        self.d = L::dadd(self.d, s);
    }
}

/// Both vectors of `v` after `dep` (see [`Lanes::after`]).
#[inline(always)]
unsafe fn order<L: Lanes>(v: [L::V; 2], dep: L::V) -> [L::V; 2] {
    [L::after(v[0], dep), L::after(v[1], dep)]
}

/// `(Σ e^(x - n·UNIT) over x < top, #{x >= top}, extremes)` for `xs` with no entry above
/// `top` (without `TIES`: none equal to it either; without `CLAMP`: none below
/// [`clamp_floor`]`(n)`); NaN if `xs` holds a NaN. Prefetches from `ahead` (see [`visit`]).
/// With `LAG`, `extremes` are the largest of the patterns of `next` as `i16` and as `u16`
/// ([`Lanes::x16_end`]), taken beside the sums so that the next block needs no pass of its
/// own for its range; `xs.len()` must then be a multiple of `G·L::N`, at least as long as
/// `next`, which must hold at least `G·L::N` patterns.
#[inline(always)]
unsafe fn block_sum<L: Lanes, E: Elem, const TIES: bool, const CLAMP: bool, const LAG: bool>(
    xs: &[E::Raw],
    top: f32,
    n: i32,
    ahead: Option<*const u8>,
    next: &[u16],
) -> (f64, u64, [u16; 2]) {
    let fuse = std::mem::size_of::<E::Raw>() == 2;
    let mut f = SumOf::<L, TIES, CLAMP, false, LAG>::new(n, top, fuse, next);
    // Padding at the floor adds at most 2^-124 of the maximum per lane, as a clamped -inf.
    visit::<L, E>(xs, &mut f, ahead, clamp_floor(n));
    let hits = if TIES && f.fuse {
        L::dsum(L::dadd(L::dzero(), f.hits)) as u64
    } else {
        0
    };
    let ext = if LAG {
        let [smax, umax] = L::x16_end(f.ext);
        let tail = extremes16_scalar(&next[next.len() / (G * L::N) * G * L::N..]);
        let [smax, _, umax] = merge16([smax, 0x7fff, umax], tail);
        [smax, umax]
    } else {
        [0x8000, 0]
    };
    (L::dsum(f.d), f.at_top + hits, ext)
}

/// [`block_sum`] with the masking and clamp chosen at run time.
#[inline(always)]
unsafe fn block_sum_as<L: Lanes, E: Elem, const LAG: bool>(
    xs: &[E::Raw],
    (top, ties, clamp): (f32, bool, bool),
    n: i32,
    ahead: Option<*const u8>,
    next: &[u16],
) -> (f64, u64, [u16; 2]) {
    match (ties, clamp) {
        (true, true) => block_sum::<L, E, true, true, LAG>(xs, top, n, ahead, next),
        (true, false) => block_sum::<L, E, true, false, LAG>(xs, top, n, ahead, next),
        (false, true) => block_sum::<L, E, false, true, LAG>(xs, top, n, ahead, next),
        (false, false) => block_sum::<L, E, false, false, LAG>(xs, top, n, ahead, next),
    }
}

/// One pass over a block against the running scale `n` (online normalisation):
/// `(Σ e^(x - n·UNIT), the block's maximum)`, every entry counted, none masked, arguments
/// clamped at [`clamp_floor`]`(n)`. The sum is only meaningful if the maximum is at most
/// [`JUMP`] above the row's maximum so far (the caller checks); NaN if `xs` holds a NaN.
#[inline(always)]
unsafe fn block_sum_max<L: Lanes, E: Elem>(
    xs: &[E::Raw],
    n: i32,
    ahead: Option<*const u8>,
) -> (f64, f32) {
    let fuse = std::mem::size_of::<E::Raw>() == 2;
    let mut f = SumOf::<L, false, true, true, false>::new(n, f32::INFINITY, fuse, &[]);
    visit::<L, E>(xs, &mut f, ahead, clamp_floor(n));
    (L::dsum(f.d), L::hmax(f.mx[0]))
}

/// The largest value below `top`.
struct MaxBelow<L: Lanes> {
    top: L::V,
    m: L::V,
}

impl<L: Lanes> Visit<L> for MaxBelow<L> {
    #[inline(always)]
    unsafe fn group(&mut self, src: &impl Src<L>) {
        let ninf = L::splat(f32::NEG_INFINITY);
        for h in 0..G / 2 {
            for x in src.pair(h) {
                self.m = L::max(self.m, L::select(L::lt(x, self.top), x, ninf));
            }
        }
    }
}

/// The largest entry below `top` (-inf if none).
#[inline(always)]
unsafe fn max_below<L: Lanes, E: Elem>(xs: &[E::Raw], top: f32) -> f32 {
    let mut f = MaxBelow::<L> {
        top: L::splat(top),
        m: L::splat(f32::NEG_INFINITY),
    };
    visit::<L, E>(xs, &mut f, None, f32::NEG_INFINITY);
    L::hmax(f.m)
}

/// The clamp's floor for scale exponent `n`: `(n - 124)·LN2_HI`, where terms are 2^-124 of
/// the maximum's scale.
fn clamp_floor(n: i32) -> f32 {
    ((n - 124) as f64 * UNIT) as f32
}

fn scale_exponent(m: f32) -> i32 {
    (f64::from(m) * f64::from(LOG2E)).round() as i32
}

/// The loss of `row` for target column `target`; with `table`, a 16-bit row is first offered
/// to the look-up table.
///
/// # Safety
/// `L`'s instruction set is available.
#[inline(always)]
pub(crate) unsafe fn nll<L: Lanes, E: Elem>(
    row: &[E::Raw],
    target: usize,
    table: bool,
) -> Result<f64, Fault> {
    if table {
        if let Some(loss) = E::table_nll(row, target) {
            return Ok(loss);
        }
    }
    // Running maximum `m`, its scale exponent `n`, the sum of scaled terms below `m`, and
    // the number `k` of entries equal to `m`. `mixed`: the sums of the blocks done in one
    // pass that reached `m` (their terms at the top are inside, not counted in `k`), and
    // `dirty` marks those blocks (block index < 64; later ones take two passes).
    let (mut m, mut n, mut sum, mut k) = (f32::NEG_INFINITY, 0i32, 0f64, 0u64);
    let (mut mixed, mut dirty) = (0f64, 0u64);
    // 16-bit rows: the block's range, when the previous block's sums took it.
    let mut lagged: Option<(f32, f32)> = None;
    for (i, block) in row.chunks(BLOCK).enumerate() {
        // The first pass streams from memory and the second computes from L1 cache: the
        // second fetches the next block (or row: rows are contiguous), so that the two
        // overlap instead of taking turns. The one-pass form prefetches the same way.
        let next = Some(block.as_ptr_range().end.cast::<u8>());
        if one_pass::<E>() && m != f32::NEG_INFINITY && i < 64 {
            // Online normalisation: the exponentials against the scale so far, the block's
            // maximum in the same pass. Kept unless the sum is not finite (a NaN, +inf or
            // overflow: the two-pass code below sorts it out) or the block jumps above `m`
            // by more than `JUMP` or beyond `FAST_LIMIT`.
            let (s, bm) = block_sum_max::<L, E>(block, n, next);
            if s.is_finite() && bm < m {
                sum += s;
                continue;
            }
            if s.is_finite() && bm >= m && bm - m <= JUMP && bm <= FAST_LIMIT {
                if bm > m {
                    let n_new = scale_exponent(bm);
                    let f = (f64::from(n - n_new) * UNIT).exp();
                    sum *= f;
                    mixed = (mixed + s) * f;
                    if k > 0 {
                        sum += k as f64 * (f64::from(m) - f64::from(n_new) * UNIT).exp();
                    }
                    (m, n, k) = (bm, n_new, 0);
                } else {
                    mixed += s;
                }
                dirty |= 1 << i;
                continue;
            }
        }
        let (bm, low) = match lagged.take() {
            Some(range) => range,
            None => E::range::<L>(block),
        };
        // -inf (or NaN from a reduction): a block of -inf only, or one whose values a NaN
        // hid from the first pass, which the second would then skip.
        let hidden = bm == f32::NEG_INFINITY || bm.is_nan();
        if bm == f32::INFINITY || (hidden && block.iter().any(|&x| bad::<E>(x))) {
            return Err(first_bad::<E>(row));
        }
        if bm > m {
            if bm.abs() > FAST_LIMIT {
                return exact::<E>(row, target);
            }
            let n_new = scale_exponent(bm);
            // Not `0 · inf` on the first block (`n` = 0 there).
            if m != f32::NEG_INFINITY {
                let f = (f64::from(n - n_new) * UNIT).exp();
                sum *= f;
                mixed *= f;
            }
            if k > 0 {
                sum += k as f64 * (f64::from(m) - f64::from(n_new) * UNIT).exp();
            }
            (m, n, k) = (bm, n_new, 0);
        }
        if m == f32::NEG_INFINITY {
            continue;
        }
        // A NaN bound keeps the clamp, which lets NaN through to the sum.
        let clamp = low.is_nan() || low < clamp_floor(n);
        let how = (m, bm == m, clamp);
        // 16-bit rows take the next block's range beside these sums (when this block is full
        // and the next holds a group at least), and prefetch the block after it.
        let rest = row.len() - i * BLOCK - block.len();
        let (s, at_top) = if lag_ranges::<E>() && block.len() == BLOCK && rest >= G * L::N {
            let end = block.as_ptr_range().end;
            // SAFETY: `E::Raw` is a 16-bit pattern here (`lag_ranges`), and `rest` of them follow
            // the block in the row.
            let nx = std::slice::from_raw_parts(end.cast::<u16>(), rest.min(BLOCK));
            let ahead = Some(end.wrapping_add(BLOCK).cast::<u8>());
            let (s, at_top, ext) = block_sum_as::<L, E, true>(block, how, n, ahead, nx);
            lagged = E::range_lagged(ext);
            (s, at_top)
        } else {
            let (s, at_top, _) = block_sum_as::<L, E, false>(block, how, n, next, &[]);
            (s, at_top)
        };
        if s.is_nan() {
            return Err(first_bad::<E>(row));
        }
        sum += s;
        k += at_top;
    }
    let xt = E::to_f32(row[target]);
    if xt == f32::NEG_INFINITY {
        return Err(Fault::TargetImpossible);
    }
    let unscale = (f64::from(n) * UNIT - f64::from(m)).exp();
    if dirty != 0 {
        // `k + R` whole, its maximum's terms inside: fine for `ln` when the loss is at
        // least 1 (see the header); else those blocks are summed again with the maximum
        // masked.
        let total = (sum + mixed) * unscale + k as f64;
        let loss = total.ln() + (f64::from(m) - f64::from(xt));
        if loss >= 1.0 {
            return Ok(loss);
        }
        for (i, block) in row.chunks(BLOCK).enumerate().take(64) {
            if dirty & (1 << i) != 0 {
                let (s, at_top, _) = block_sum::<L, E, true, true, false>(block, m, n, None, &[]);
                sum += s;
                k += at_top;
            }
        }
    }
    let mut r = sum * unscale;
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
        sum += block_sum::<L, E, true, true, false>(block, m, n2, None, &[]).0;
    }
    sum * (f64::from(n2) * UNIT - f64::from(m)).exp()
}

/// NaN or +inf.
fn bad<E: Elem>(x: E::Raw) -> bool {
    let x = E::to_f32(x);
    x.is_nan() || x == f32::INFINITY
}

/// The first column holding NaN or +inf.
fn first_bad<E: Elem>(row: &[E::Raw]) -> Fault {
    // unwrap_or: unreachable, called once a check found one
    Fault::NotFinite(row.iter().position(|&x| bad::<E>(x)).unwrap_or(0))
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
        if bad::<E>(x) {
            return Err(first_bad::<E>(row));
        }
        m = m.max(E::to_f32(x));
    }
    let xt = E::to_f32(row[target]);
    if xt == f32::NEG_INFINITY {
        return Err(Fault::TargetImpossible);
    }
    let k = row.iter().filter(|&&x| E::to_f32(x) == m).count();
    let m = f64::from(m);
    Ok((exact_r::<E>(row, m) + (k - 1) as f64).ln_1p() + (m - f64::from(xt)))
}
