//! Suffix sorting by leading tokens, for texts whose suffixes differ within a few tokens
//! (large-vocabulary token streams: 10^8 synthetic tokens over 50k ids repeat at most 9).
//!
//! Method (a most-significant-digit radix sort of the suffixes, as in Bentley & Sedgewick,
//! "Fast algorithms for sorting and searching strings", SODA 1997, with machine-word digits
//! as in Kärkkäinen & Rantala, "Engineering radix sort for strings", SPIRE 2008):
//!
//! 1. Count the first symbols and scatter the positions into the array (a counting sort, in
//!    fixed pieces of the text, in parallel): bucket `c` holds the suffixes starting with `c`.
//! 2. Bucket groups, one at a time within a scratch budget: each suffix of the group becomes
//!    a 128-bit item, the next `k` symbols packed into the high 64 bits (`s` bits each:
//!    symbol + 1, 0 past the end, so a suffix that ends sorts first) and its position in the
//!    low 64 (one read of the text per suffix, in increasing positions within a bucket).
//! 3. Each bucket is sorted as integers; runs of equal keys are re-keyed `k` symbols deeper
//!    and sorted again, until all differ. The positions go back into the array.
//!
//! The order is the lexicographic order of the symbols with the end of the text smallest:
//! libsais's, so the array is the same (a suffix array is unique).
//!
//! The LCP array comes with it when there is room for its bytes: two neighbours in the
//! array were last in one run of equal keys at some depth `d` and got different keys there,
//! so their common prefix is `d` plus the leading digits their keys share (an XOR and a
//! leading-zero count), capped at the first separator of that prefix (a separator digit
//! in a run's key, or a bucket of separators, caps every pair the run splits into). Two
//! neighbours from different buckets share nothing. Values of 127 or more are left marked
//! for [`super::lcp`] to finish (only without the build's limits: ties stop 64 deep).
//!
//! It is quadratic on long repeats (duplicated documents): it gives up, returning `false`
//! for libsais to sort, when a tie needs more than [`Limits::depth`] symbols, when re-keying
//! passes [`Limits::work`] suffixes per [`WORK_PER`] sorted so far (plus a floor), when one bucket
//! is larger than the scratch budget, or when the alphabet is too large for the bucket
//! tables. What it spent is then lost: at most the counting pass, the groups sorted so far
//! and the re-keying budget.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use rayon::prelude::*;

use super::lcp::{BIG, FLAG};
use super::store::Entry;
use super::text::prefetch_at;
use super::{BUILD_BYTES_PER_TOKEN, BUILD_BYTES_PER_TOKEN_WIDE};
use crate::control::Control;
use crate::error::Result;
use crate::ngram::buffer::KeyBuf;

/// A symbol of the sort's text: a 16-bit id or rank, or a 32-bit rank.
pub(crate) trait Symbol: Copy + Send + Sync + 'static {
    fn value(self) -> usize;
}

impl Symbol for u16 {
    #[inline(always)]
    fn value(self) -> usize {
        usize::from(self)
    }
}

impl Symbol for u32 {
    #[inline(always)]
    fn value(self) -> usize {
        self as usize
    }
}

/// When the sort gives up.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// The deepest symbol a comparison may read.
    pub depth: usize,
    /// Suffixes re-keyed per [`WORK_PER`] suffixes sorted so far ...
    pub work: u64,
    /// ... plus this many.
    pub floor: u64,
    /// Whether to find the LCP bytes as it sorts (when there is room for them).
    pub lcp: bool,
    /// Bytes per token the scratch items (16 bytes each) may take at most, in eighths
    /// (less if the array, the text, the LCP bytes and the tables leave less of the
    /// build's bytes per token).
    pub scratch_eighths: usize,
}

impl Limits {
    /// The build's limits: 64 symbols deep; re-keying at most one suffix in four on
    /// average (10^7 synthetic tokens re-key 1 in 7,500); a scratch of at most 1.5
    /// bytes/token, so that array (4), 16-bit text (2), LCP bytes (1) and scratch peak at
    /// 8.5 bytes/token (a larger scratch only means fewer groups: 10^8 synthetic tokens
    /// have no bucket above 0.005% of them).
    pub const AUTO: Self = Self {
        depth: 64,
        work: WORK_PER / 4,
        floor: 1 << 16,
        lcp: true,
        scratch_eighths: 12,
    };

    /// No limits but the scratch (tests: the sort must finish).
    #[cfg(test)]
    pub const NONE: Self = Self {
        depth: usize::MAX,
        work: u64::MAX / 4,
        floor: u64::MAX / 4,
        lcp: true,
        scratch_eighths: 128,
    };
}

/// The unit of [`Limits::work`].
pub(crate) const WORK_PER: u64 = 64;

/// Pieces of the text the scattering pass splits into (fixed: same slots for any thread
/// count; the result does not depend on them anyway).
const PIECES: usize = 16;
/// Buckets at least this large are sorted with all threads.
const PAR_BUCKET: usize = 1 << 16;
/// Re-keyed suffixes counted locally before the shared count is updated and checked.
const FLUSH: u64 = 1 << 12;

/// Texts this short get the LCP bytes whatever the tables take.
const SMALL: usize = 1 << 16;
/// Items per parallel task of the keying and copying passes.
const GRAIN: usize = 1 << 16;
/// How many suffixes ahead the keying pass prefetches.
const AHEAD: usize = 16;

/// Raw writes to distinct slots of the array from many threads.
struct Slots<E>(*mut E);
impl<E> Clone for Slots<E> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<E> Copy for Slots<E> {}
impl<E> Slots<E> {
    /// # Safety
    /// `i` in bounds of the array, and no other thread touching slot `i`.
    #[inline(always)]
    unsafe fn write(self, i: usize, v: E) {
        // SAFETY: the caller's contract.
        unsafe { *self.0.add(i) = v };
    }
}
// SAFETY: used only for writes to distinct slots (each position has one), see `sort`.
unsafe impl<E: Send> Send for Slots<E> {}
// SAFETY: as above.
unsafe impl<E: Send> Sync for Slots<E> {}

/// The text's symbols packed as keys: `s` bits per symbol, `k` symbols per key, in the
/// low `k * s` bits.
#[derive(Clone, Copy)]
struct Packing {
    s: u32,
    k: usize,
    /// Digits two keys share, by the leading zeros of their XOR (a table: no division).
    shared: [u8; 65],
}

impl Packing {
    /// For symbols below `alphabet` (their values + 1, and 0 for the end, fit in `s` bits).
    fn new(alphabet: usize) -> Self {
        let s = usize::BITS - alphabet.leading_zeros();
        let k = (64 / s) as usize;
        let unused = 64 - k as u32 * s;
        let mut shared = [0u8; 65];
        for (z, d) in shared.iter_mut().enumerate() {
            *d = ((z as u32).saturating_sub(unused) / s).min(k as u32) as u8;
        }
        Self { s, k, shared }
    }

    /// Digit `i` (0 the first) of a key.
    #[inline(always)]
    fn digit_of(&self, key: u64, i: usize) -> u64 {
        (key >> (self.s as usize * (self.k - 1 - i))) & ((1 << self.s) - 1)
    }

    /// The common prefix of two keys `a < b` in digits, capped at the first separator digit
    /// `sep` in it, and whether it stopped at a separator or the end (the digit 0, which
    /// only the smaller key can hold where they differ).
    #[inline(always)]
    fn differ(&self, a: u64, b: u64, sep: Option<u64>) -> (usize, bool) {
        let m = usize::from(self.shared[(a ^ b).leading_zeros() as usize]);
        let Some(d) = sep else {
            return (m, self.digit_of(a, m) == 0);
        };
        if let Some(f) = self.find(a, m, d) {
            return (f, true);
        }
        let (x, y) = (self.digit_of(a, m), self.digit_of(b, m));
        (m, x == 0 || x == d || y == d)
    }

    /// The first of the first `m` digits of `key` equal to `d`.
    #[inline(always)]
    fn find(&self, key: u64, m: usize, d: u64) -> Option<usize> {
        (0..m).find(|&i| self.digit_of(key, i) == d)
    }

    /// Symbol `i` + 1, or 0 past the end.
    #[inline(always)]
    fn digit<S: Symbol>(text: &[S], i: usize) -> u64 {
        text.get(i).map_or(0, |&c| c.value() as u64 + 1)
    }

    /// The key of the `k` symbols from `i`.
    #[inline(always)]
    fn key<S: Symbol>(self, text: &[S], i: usize) -> u64 {
        (i..i + self.k).fold(0, |v, j| (v << self.s) | Self::digit(text, j))
    }
}

/// The LCP array the sort found, in [`super::lcp`]'s bytes: the low seven bits the value
/// ([`BIG`]: 127 or more, left for the caller to finish), the high bit the stop flag.
pub(crate) struct Neighbours {
    pub bytes: KeyBuf<u8>,
    /// The largest value below [`BIG`].
    pub max: u32,
    /// Whether some entry is [`BIG`].
    pub long: bool,
}

/// How a sort ended.
pub(crate) enum Sorted {
    /// Gave up within the limits (the array's contents are unspecified).
    GaveUp,
    /// The array is sorted, with its LCP bytes when there was room for them beside a byte
    /// per token of scratch.
    Done(Option<Neighbours>),
}

/// Sorts the suffixes of `text` (symbols below `alphabet`, `separator` the symbol that ends
/// documents, if any) into `sa` (as long as the text).
///
/// # Errors
/// Cancellation, or an unmet memory limit for the scratch.
pub(crate) fn sort<S: Symbol, E: Entry>(
    text: &[S],
    alphabet: usize,
    separator: Option<usize>,
    sa: &mut [E],
    limits: &Limits,
    limit: Option<usize>,
    ctl: &Control<'_>,
) -> Result<Sorted> {
    let n = text.len();
    assert_eq!(sa.len(), n, "the array is as long as the text");
    if n == 0 {
        return Ok(Sorted::Done(None));
    }
    // The per-piece tables (8 bytes a symbol each) stay below a byte per token.
    let tables = alphabet.saturating_mul(8 * PIECES);
    if tables > n + (1 << 24) {
        return Ok(Sorted::GaveUp);
    }
    let bounds: Vec<usize> = (0..=PIECES).map(|i| i * n / PIECES).collect();
    let hist: Vec<Vec<u64>> = (0..PIECES)
        .into_par_iter()
        .map(|i| {
            let mut h = vec![0u64; alphabet];
            for &c in &text[bounds[i]..bounds[i + 1]] {
                h[c.value()] += 1;
            }
            h
        })
        .collect();
    ctl.check()?;
    let counts: Vec<u64> = (0..alphabet)
        .map(|c| hist.iter().map(|h| h[c]).sum())
        .collect();
    let top = counts.iter().rposition(|&c| c > 0).unwrap_or(0);
    let packing = Packing::new(top + 1);
    // The build's peak (array, text, tables, scratch) stays within what it asked for.
    let (entry, symbol) = (size_of::<E>(), size_of::<S>());
    let budget = if entry == 4 {
        BUILD_BYTES_PER_TOKEN
    } else {
        BUILD_BYTES_PER_TOKEN_WIDE
    };
    let room = (budget * n).saturating_sub((entry + symbol) * n + tables);
    // The LCP bytes (1 per token) if a byte per token of scratch is left beside them (or
    // the text is small: the tables then dominate, as the scratch's floor does).
    let with_lcp = limits.lcp && (room >= 2 * n || n <= SMALL);
    let room = if with_lcp {
        room.saturating_sub(n)
    } else {
        room
    };
    let cap = (room.min(limits.scratch_eighths * n / 8) / 16).max(1 << 12);
    if counts.iter().any(|&c| c as usize > cap) {
        return Ok(Sorted::GaveUp);
    }
    // Positions into their buckets: `hist` becomes where each piece writes each bucket.
    let mut base = 0u64;
    let mut hist = hist;
    for c in 0..alphabet {
        for h in &mut hist {
            let k = h[c];
            h[c] = base;
            base += k;
        }
    }
    let slots = Slots(sa.as_mut_ptr());
    hist.par_iter_mut().enumerate().for_each(|(i, at)| {
        for (p, &c) in text.iter().enumerate().take(bounds[i + 1]).skip(bounds[i]) {
            let slot = &mut at[c.value()];
            assert!(
                (*slot as usize) < n,
                "a bucket's slots are within the array"
            );
            // SAFETY: in bounds (checked); each position has its own slot: the slots of
            // (piece, bucket) are disjoint ranges, counted from the same histograms.
            unsafe { slots.write(*slot as usize, E::of(p)) };
            *slot += 1;
        }
    });
    drop(hist);
    ctl.check()?;
    let mut bytes = if with_lcp {
        Some(KeyBuf::<u8>::new(n, limit)?)
    } else {
        None
    };
    let mut scratch = KeyBuf::<u128>::new(cap.min(n), limit)?;
    // The first bucket after the separator's: its head's predecessor is a separator.
    let after_separator = separator
        .filter(|&c| counts.get(c).is_some_and(|&m| m > 0))
        .and_then(|c| (c + 1..alphabet).find(|&b| counts[b] > 0));
    let run = Run {
        text,
        packing,
        limits,
        separator,
        after_separator,
        work: AtomicU64::new(0),
        gave_up: AtomicBool::new(false),
        max: AtomicUsize::new(0),
        long: AtomicBool::new(false),
        ctl,
    };
    // Groups of buckets, each at most `cap` suffixes: `(first symbol, end, array start,
    // length, largest bucket)`.
    let mut groups = Vec::new();
    let (mut c0, mut start) = (0usize, 0usize);
    while c0 < alphabet {
        let (mut c1, mut len, mut most) = (c0, 0usize, 0usize);
        while c1 < alphabet && len + counts[c1] as usize <= cap {
            len += counts[c1] as usize;
            most = most.max(counts[c1] as usize);
            c1 += 1;
        }
        groups.push((c0, c1, start, len, most));
        start += len;
        c0 = c1;
    }
    // The group of the largest bucket first: the most frequent symbols start the longest
    // repeats, so a text that makes the sort give up does so early.
    groups.sort_by_key(|g| std::cmp::Reverse(g.4));
    let mut sorted = 0u64;
    for (c0, c1, start, len, _) in groups {
        ctl.check()?;
        let items = &mut scratch.as_mut_slice()[..len];
        let group = &mut sa[start..start + len];
        run.keyed(items, group);
        ctl.check()?;
        let sizes: Vec<usize> = counts[c0..c1].iter().map(|&c| c as usize).collect();
        sorted += len as u64;
        let out = bytes
            .as_mut()
            .map(|b| &mut b.as_mut_slice()[start..start + len]);
        if !run.sort_buckets(items, out, c0, &sizes, sorted)? {
            return Ok(Sorted::GaveUp);
        }
        group
            .par_chunks_mut(GRAIN)
            .zip(items.par_chunks(GRAIN))
            .for_each(|(out, its)| {
                for (o, &it) in out.iter_mut().zip(its) {
                    *o = E::of(it as u64 as usize);
                }
            });
    }
    Ok(Sorted::Done(bytes.map(|mut bytes| {
        // The first suffix has no predecessor.
        bytes.as_mut_slice()[0] = 0;
        Neighbours {
            bytes,
            max: run.max.load(Ordering::Relaxed) as u32,
            long: run.long.load(Ordering::Relaxed),
        }
    })))
}

/// A run's separator offset when its common prefix holds none.
const NO_SEPARATOR: usize = usize::MAX;

/// The LCP byte of a common prefix `l` long, `stop` if it ended at a separator or the end.
#[inline(always)]
fn lcp_byte(l: usize, stop: bool) -> u8 {
    if l >= usize::from(BIG) {
        BIG
    } else {
        l as u8 | if stop { FLAG } else { 0 }
    }
}

/// One sort's shared state.
struct Run<'a, S> {
    text: &'a [S],
    packing: Packing,
    limits: &'a Limits,
    separator: Option<usize>,
    after_separator: Option<usize>,
    /// Suffixes re-keyed so far.
    work: AtomicU64,
    gave_up: AtomicBool,
    /// The largest LCP below [`BIG`], and whether one reached it.
    max: AtomicUsize,
    long: AtomicBool,
    ctl: &'a Control<'a>,
}

impl<S: Symbol> Run<'_, S> {
    /// The items of the suffixes at `positions`: keyed by their `k` symbols after the first.
    fn keyed<E: Entry>(&self, items: &mut [u128], positions: &[E]) {
        let (text, packing) = (self.text, self.packing);
        items
            .par_chunks_mut(GRAIN)
            .zip(positions.par_chunks(GRAIN))
            .for_each(|(out, ps)| {
                for (j, (o, &p)) in out.iter_mut().zip(ps).enumerate() {
                    // The reads are scattered: fetch a later one's ahead.
                    if let Some(&ahead) = ps.get(j + AHEAD) {
                        if let Some(t) = text.get(ahead.idx() + 1) {
                            prefetch_at(t);
                        }
                    }
                    let p = p.idx();
                    *o = (u128::from(packing.key(text, p + 1)) << 64) | p as u128;
                }
            });
    }

    /// Sorts each bucket of `items` (`sizes`, in order, the first of symbol `c0`), with
    /// their LCP bytes into `out` if given; `false` if it gave up. `sorted` is the number
    /// of suffixes sorted once this group is done (for the re-keying budget).
    fn sort_buckets(
        &self,
        items: &mut [u128],
        mut out: Option<&mut [u8]>,
        c0: usize,
        sizes: &[usize],
        sorted: u64,
    ) -> Result<bool> {
        let allowance = self
            .limits
            .work
            .saturating_mul(sorted / WORK_PER)
            .saturating_add(self.limits.floor);
        let mut buckets = Vec::with_capacity(sizes.len());
        let mut rest = items;
        for (c, &len) in (c0..).zip(sizes) {
            let (b, r) = rest.split_at_mut(len);
            rest = r;
            // Each bucket's share of the bytes; its head shares nothing with the bucket
            // before (whose last suffix differs at the first symbol).
            let o = match out.take() {
                Some(o) => {
                    let (head, tail) = o.split_at_mut(len);
                    out = Some(tail);
                    if let Some(h) = head.first_mut() {
                        let stop = Some(c) == self.separator || Some(c) == self.after_separator;
                        *h = lcp_byte(0, stop);
                    }
                    Some(head)
                }
                None => None,
            };
            if len > 1 {
                buckets.push((c, b, o));
            }
        }
        buckets.into_par_iter().try_for_each(|(c, b, o)| {
            self.ctl.check()?;
            if !self.gave_up.load(Ordering::Relaxed) && !self.sort_bucket(c, b, o, allowance) {
                self.gave_up.store(true, Ordering::Relaxed);
            }
            Ok(())
        })?;
        Ok(!self.gave_up.load(Ordering::Relaxed))
    }

    /// Sorts one bucket (of first symbol `c`): by key, then each run of equal keys `k`
    /// symbols deeper, and so on; the LCP bytes of its suffixes after the first into
    /// `out`, if given. `false` if a tie is deeper than the limit or the shared work
    /// passes `allowance`.
    fn sort_bucket(
        &self,
        c: usize,
        bucket: &mut [u128],
        mut out: Option<&mut [u8]>,
        allowance: u64,
    ) -> bool {
        // By key alone: equal keys are re-keyed below, whatever their order.
        if bucket.len() >= PAR_BUCKET {
            bucket.par_sort_unstable_by_key(|&x| high(x));
        } else {
            bucket.sort_unstable_by_key(|&x| high(x));
        }
        // A bucket of separators: no suffix in it shares a token with another.
        let at = if Some(c) == self.separator {
            0
        } else {
            NO_SEPARATOR
        };
        let mut stack: Vec<(usize, usize, usize, usize)> = Vec::new();
        let mut most = 0usize;
        self.split(bucket, out.as_deref_mut(), 0, 1, at, &mut stack, &mut most);
        let mut local = 0u64;
        while let Some((lo, hi, depth, at)) = stack.pop() {
            if depth > self.limits.depth {
                return false;
            }
            let run = &mut bucket[lo..hi];
            local += run.len() as u64;
            if local >= FLUSH {
                let total = self.work.fetch_add(local, Ordering::Relaxed) + local;
                local = 0;
                if total > allowance || self.gave_up.load(Ordering::Relaxed) {
                    return false;
                }
            }
            for it in run.iter_mut() {
                let p = *it as u64 as usize;
                let key = self.packing.key(self.text, p + depth);
                *it = (u128::from(key) << 64) | p as u128;
            }
            run.sort_unstable_by_key(|&x| high(x));
            self.split(
                run,
                out.as_deref_mut(),
                lo,
                depth,
                at,
                &mut stack,
                &mut most,
            );
        }
        self.max.fetch_max(most, Ordering::Relaxed);
        let total = self.work.fetch_add(local, Ordering::Relaxed) + local;
        total <= allowance
    }

    /// After `run` (at `base` in its bucket) is sorted by its keys of the symbols from
    /// `depth` on, its common prefix capped at offset `at` ([`NO_SEPARATOR`]: uncapped):
    /// writes the LCP byte of each suffix whose key differs from its predecessor's into the
    /// bucket's `out` (`most` keeps the largest value below [`BIG`]), and pushes each run of
    /// equal keys, to be re-keyed deeper.
    #[allow(clippy::too_many_arguments)]
    fn split(
        &self,
        run: &[u128],
        out: Option<&mut [u8]>,
        base: usize,
        depth: usize,
        at: usize,
        stack: &mut Vec<(usize, usize, usize, usize)>,
        most: &mut usize,
    ) {
        let p = &self.packing;
        // The digit of a separator, if the text may hold one.
        let sep = self.separator.map(|c| c as u64 + 1);
        // Ties are rare: one pass for the bytes, another only if a tie was seen.
        let mut tied = false;
        if let Some(out) = out {
            let (mut top, mut long) = (*most, false);
            let out = &mut out[base + 1..base + run.len().max(1)];
            for (o, w) in out.iter_mut().zip(run.windows(2)) {
                let (a, b) = (high(w[0]), high(w[1]));
                if a == b {
                    tied = true;
                    continue;
                }
                let (l, stop) = if at == NO_SEPARATOR {
                    let (m, stop) = p.differ(a, b, sep);
                    (depth + m, stop)
                } else {
                    (at, true)
                };
                long |= l >= usize::from(BIG);
                if l < usize::from(BIG) {
                    top = top.max(l);
                }
                *o = lcp_byte(l, stop);
            }
            *most = top;
            if long {
                self.long.store(true, Ordering::Relaxed);
            }
            if !tied {
                return;
            }
        }
        let mut i = 0;
        while i < run.len() {
            let key = high(run[i]);
            let mut j = i + 1;
            while j < run.len() && high(run[j]) == key {
                j += 1;
            }
            if j - i > 1 {
                // A separator in the shared key caps every pair the run splits into.
                let at = match sep {
                    Some(d) if at == NO_SEPARATOR => p.find(key, p.k, d).map_or(at, |f| depth + f),
                    _ => at,
                };
                stack.push((base + i, base + j, depth + p.k, at));
            }
            i = j;
        }
    }
}

/// An item's key.
#[inline(always)]
fn high(item: u128) -> u64 {
    (item >> 64) as u64
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::lcp::{from_sort, Lcp};
    use super::super::tests::check_lcp;
    use super::super::text::Forward;
    use super::*;
    use crate::test_rng::Lcg;

    fn naive(t: &[u16]) -> Vec<u64> {
        let mut sa: Vec<u64> = (0..t.len() as u64).collect();
        sa.sort_by(|&a, &b| t[a as usize..].cmp(&t[b as usize..]));
        sa
    }

    /// The array (`None`: gave up) and, if the sort found them, the LCP bytes finished.
    fn run_with<S: Symbol + crate::tokens::Token, E: Entry>(
        t: &[S],
        sep: Option<S>,
        limits: &Limits,
    ) -> Option<(Vec<u64>, Option<Lcp>)> {
        let ctl = Control::with_threads(Some(2));
        let mut sa = vec![E::of(0); t.len()];
        let alphabet = t.iter().map(|&c| c.value() + 1).max().unwrap_or(1);
        let sorted = ctl
            .run(|| sort(t, alphabet, sep.map(S::value), &mut sa, limits, None, &ctl))
            .unwrap();
        let Sorted::Done(found) = sorted else {
            return None;
        };
        let text = Forward {
            tokens: t,
            separator: sep.map(|s| s.value() as u64),
        };
        let lcp = found.map(|f| from_sort(f, &text, &sa, &ctl).unwrap());
        Some((sa.iter().map(|&p| p.idx() as u64).collect(), lcp))
    }

    /// The array, with the LCP checked (it must have been found when `limits.lcp`).
    fn run<E: Entry>(t: &[u16], sep: Option<u16>, limits: &Limits) -> Option<Vec<u64>> {
        let (sa, lcp) = run_with::<u16, E>(t, sep, limits)?;
        assert_eq!(lcp.is_some(), limits.lcp && !t.is_empty());
        if let Some(lcp) = lcp {
            check_lcp(t, sep.map(u64::from), &sa, &lcp, "sort");
        }
        Some(sa)
    }

    /// A text over `v` symbols with a separator among them (or none).
    fn texts(v: u16, n: usize) -> impl Strategy<Value = (Vec<u16>, Option<u16>)> {
        (prop::collection::vec(0..v, n), prop::option::of(0..v))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Forced to finish, on small alphabets (long ties), narrow and wide entries, with
        /// a separator or none; the LCP found or not.
        #[test]
        fn sorts_like_naive(((t, sep), wide, lcp) in (1u16..6, 0usize..400).prop_flat_map(|(v, n)| {
            (texts(v, n), any::<bool>(), any::<bool>())
        })) {
            let limits = Limits { lcp, ..Limits::NONE };
            let got = if wide { run::<u64>(&t, sep, &limits) } else { run::<u32>(&t, sep, &limits) };
            prop_assert_eq!(got, Some(naive(&t)));
        }

        /// With the build's limits: the same array and LCP, or gives up.
        #[test]
        fn auto_limits_sort_like_naive_or_give_up((t, sep) in (1u16..300, 0usize..3000).prop_flat_map(|(v, n)| {
            texts(v, n)
        })) {
            if let Some(got) = run::<u32>(&t, sep, &Limits::AUTO) {
                prop_assert_eq!(got, naive(&t));
            }
        }
    }

    #[test]
    fn long_repeats_give_up_within_bounds() {
        // A document repeated: ties 1,000 symbols deep (LCPs past the byte's 127).
        let doc: Vec<u16> = (0..1000u32).map(|i| (i * 7919 % 613) as u16).collect();
        let t: Vec<u16> = doc.iter().chain(&doc).copied().collect();
        assert_eq!(run::<u32>(&t, None, &Limits::AUTO), None);
        assert_eq!(run::<u32>(&t, None, &Limits::NONE), Some(naive(&t)));
        assert_eq!(run::<u64>(&t, Some(5), &Limits::NONE), Some(naive(&t)));
        // A random text over a large alphabet finishes with the build's limits.
        let mut rng = Lcg(12345);
        let t: Vec<u16> = (0..50_000)
            .map(|_| (rng.step() >> 48) as u16 % 5000)
            .collect();
        assert_eq!(run::<u32>(&t, None, &Limits::AUTO), Some(naive(&t)));
        assert_eq!(run::<u32>(&t, Some(0), &Limits::AUTO), Some(naive(&t)));
        // One symbol: keys of 64 one-bit digits.
        let t = vec![0u16; 60];
        assert_eq!(run::<u32>(&t, None, &Limits::AUTO), Some(naive(&t)));
    }

    #[test]
    fn thirty_two_bit_symbols() {
        let t: Vec<u32> = (0..5000u64)
            .map(|i| ((i * 2654435761) % 70_000) as u32)
            .collect();
        let mut want: Vec<u64> = (0..t.len() as u64).collect();
        want.sort_by(|&a, &b| t[a as usize..].cmp(&t[b as usize..]));
        for sep in [None, Some(t[17])] {
            let (sa, lcp) = run_with::<u32, u32>(&t, sep, &Limits::NONE).unwrap();
            assert_eq!(sa, want);
            check_lcp(&t, sep.map(u64::from), &sa, &lcp.unwrap(), "sort");
        }
    }
}
