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
//! It is quadratic on long repeats (duplicated documents): it gives up, returning `false`
//! for libsais to sort, when a tie needs more than [`Limits::depth`] symbols, when re-keying
//! passes [`Limits::work`] suffixes per [`WORK_PER`] sorted so far (plus a floor), when one bucket
//! is larger than the scratch budget, or when the alphabet is too large for the bucket
//! tables. What it spent is then lost: at most the counting pass, the groups sorted so far
//! and the re-keying budget.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use rayon::prelude::*;

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
    /// Bytes per token the scratch items (16 bytes each) may take at most (less if the
    /// array, the text and the tables leave less of the build's bytes per token).
    pub scratch_per_token: usize,
}

impl Limits {
    /// The build's limits: 64 symbols deep; re-keying at most one suffix in four on
    /// average (10^7 synthetic tokens re-key 1 in 7,500); a scratch of at most 2 bytes/token, so that array (4), 16-bit text (2) and
    /// scratch peak at 8 bytes/token.
    pub const AUTO: Self = Self {
        depth: 64,
        work: WORK_PER / 4,
        floor: 1 << 16,
        scratch_per_token: 2,
    };

    /// No limits but the scratch (tests: the sort must finish).
    #[cfg(test)]
    pub const NONE: Self = Self {
        depth: usize::MAX,
        work: u64::MAX / 4,
        floor: u64::MAX / 4,
        scratch_per_token: 16,
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

/// The text's symbols packed as keys: `s` bits per symbol, `k` symbols per key.
#[derive(Clone, Copy)]
struct Packing {
    s: u32,
    k: usize,
}

impl Packing {
    /// For symbols below `alphabet` (their values + 1, and 0 for the end, fit in `s` bits).
    fn new(alphabet: usize) -> Self {
        let s = usize::BITS - alphabet.leading_zeros();
        let k = (64 / s) as usize;
        Self { s, k }
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

/// Sorts the suffixes of `text` (symbols below `alphabet`) into `sa` (as long as the text).
/// `Ok(false)`: gave up within `limits` (the array's contents are then unspecified).
///
/// # Errors
/// Cancellation, or an unmet memory limit for the scratch.
pub(crate) fn sort<S: Symbol, E: Entry>(
    text: &[S],
    alphabet: usize,
    sa: &mut [E],
    limits: &Limits,
    limit: Option<usize>,
    ctl: &Control<'_>,
) -> Result<bool> {
    let n = text.len();
    assert_eq!(sa.len(), n, "the array is as long as the text");
    if n == 0 {
        return Ok(true);
    }
    // The per-piece tables (8 bytes a symbol each) stay below a byte per token.
    let tables = alphabet.saturating_mul(8 * PIECES);
    if tables > n + (1 << 24) {
        return Ok(false);
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
    let cap = (room.min(limits.scratch_per_token * n) / 16).max(1 << 12);
    if counts.iter().any(|&c| c as usize > cap) {
        return Ok(false);
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
    let mut scratch = KeyBuf::<u128>::new(cap.min(n), limit)?;
    let run = Run {
        text,
        packing,
        limits,
        work: AtomicU64::new(0),
        gave_up: AtomicBool::new(false),
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
        if !run.sort_buckets(items, &sizes, sorted)? {
            return Ok(false);
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
    Ok(true)
}

/// One sort's shared state.
struct Run<'a, S> {
    text: &'a [S],
    packing: Packing,
    limits: &'a Limits,
    /// Suffixes re-keyed so far.
    work: AtomicU64,
    gave_up: AtomicBool,
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

    /// Sorts each bucket of `items` (`sizes`, in order); `false` if it gave up. `sorted` is
    /// the number of suffixes sorted once this group is done (for the re-keying budget).
    fn sort_buckets(&self, items: &mut [u128], sizes: &[usize], sorted: u64) -> Result<bool> {
        let allowance = self
            .limits
            .work
            .saturating_mul(sorted / WORK_PER)
            .saturating_add(self.limits.floor);
        let mut buckets = Vec::with_capacity(sizes.len());
        let mut rest = items;
        for &len in sizes {
            let (b, r) = rest.split_at_mut(len);
            if len > 1 {
                buckets.push(b);
            }
            rest = r;
        }
        buckets.into_par_iter().try_for_each(|b| {
            self.ctl.check()?;
            if !self.gave_up.load(Ordering::Relaxed) && !self.sort_bucket(b, allowance) {
                self.gave_up.store(true, Ordering::Relaxed);
            }
            Ok(())
        })?;
        Ok(!self.gave_up.load(Ordering::Relaxed))
    }

    /// Sorts one bucket: by key, then each run of equal keys `k` symbols deeper, and so on.
    /// `false` if a tie is deeper than the limit or the shared work passes `allowance`.
    fn sort_bucket(&self, bucket: &mut [u128], allowance: u64) -> bool {
        // By key alone: equal keys are re-keyed below, whatever their order.
        if bucket.len() >= PAR_BUCKET {
            bucket.par_sort_unstable_by_key(|&x| high(x));
        } else {
            bucket.sort_unstable_by_key(|&x| high(x));
        }
        let k = self.packing.k;
        let mut stack: Vec<(usize, usize, usize)> = Vec::new();
        push_ties(bucket, 0, 1 + k, &mut stack);
        let mut local = 0u64;
        while let Some((lo, hi, depth)) = stack.pop() {
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
            push_ties(run, lo, depth + k, &mut stack);
        }
        let total = self.work.fetch_add(local, Ordering::Relaxed) + local;
        total <= allowance
    }
}

/// An item's key.
#[inline(always)]
fn high(item: u128) -> u64 {
    (item >> 64) as u64
}

/// Pushes `(lo, hi, depth)` (offset by `base`) for each run of two or more equal keys in
/// sorted `items`.
fn push_ties(items: &[u128], base: usize, depth: usize, stack: &mut Vec<(usize, usize, usize)>) {
    let mut i = 0;
    while i < items.len() {
        let key = high(items[i]);
        let mut j = i + 1;
        while j < items.len() && high(items[j]) == key {
            j += 1;
        }
        if j - i > 1 {
            stack.push((base + i, base + j, depth));
        }
        i = j;
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn naive(t: &[u16]) -> Vec<u32> {
        let mut sa: Vec<u32> = (0..t.len() as u32).collect();
        sa.sort_by(|&a, &b| t[a as usize..].cmp(&t[b as usize..]));
        sa
    }

    fn run<E: Entry>(t: &[u16], limits: &Limits) -> Option<Vec<u64>> {
        let ctl = Control::with_threads(Some(2));
        let mut sa = vec![E::of(0); t.len()];
        let done = ctl
            .run(|| {
                sort(
                    t,
                    t.iter().max().map_or(1, |&m| m as usize + 1),
                    &mut sa,
                    limits,
                    None,
                    &ctl,
                )
            })
            .unwrap();
        done.then(|| sa.iter().map(|&p| p.idx() as u64).collect())
    }

    fn as_u64(sa: &[u32]) -> Vec<u64> {
        sa.iter().map(|&p| u64::from(p)).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Forced to finish, on small alphabets (long ties), narrow and wide entries.
        #[test]
        fn sorts_like_naive((t, wide) in (1u16..6, 0usize..400).prop_flat_map(|(v, n)| {
            (prop::collection::vec(0..v, n), any::<bool>())
        })) {
            let want = as_u64(&naive(&t));
            let got = if wide { run::<u64>(&t, &Limits::NONE) } else { run::<u32>(&t, &Limits::NONE) };
            prop_assert_eq!(got, Some(want));
        }

        /// With the build's limits: the same array, or gives up.
        #[test]
        fn auto_limits_sort_like_naive_or_give_up(t in (1u16..300, 0usize..3000).prop_flat_map(|(v, n)| {
            prop::collection::vec(0..v, n)
        })) {
            if let Some(got) = run::<u32>(&t, &Limits::AUTO) {
                prop_assert_eq!(got, as_u64(&naive(&t)));
            }
        }
    }

    #[test]
    fn long_repeats_give_up_within_bounds() {
        // A document repeated: ties 1,000 symbols deep.
        let doc: Vec<u16> = (0..1000u32).map(|i| (i * 7919 % 613) as u16).collect();
        let t: Vec<u16> = doc.iter().chain(&doc).copied().collect();
        assert_eq!(run::<u32>(&t, &Limits::AUTO), None);
        assert_eq!(run::<u32>(&t, &Limits::NONE), Some(as_u64(&naive(&t))));
        // A random text over a large alphabet finishes with the build's limits.
        let mut x = 12345u64;
        let t: Vec<u16> = (0..50_000)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (x >> 48) as u16 % 5000
            })
            .collect();
        assert_eq!(run::<u32>(&t, &Limits::AUTO), Some(as_u64(&naive(&t))));
    }

    #[test]
    fn thirty_two_bit_symbols() {
        let t: Vec<u32> = (0..5000u64)
            .map(|i| ((i * 2654435761) % 70_000) as u32)
            .collect();
        let mut want: Vec<u32> = (0..t.len() as u32).collect();
        want.sort_by(|&a, &b| t[a as usize..].cmp(&t[b as usize..]));
        let ctl = Control::with_threads(Some(2));
        let mut sa = vec![0u32; t.len()];
        let done = ctl
            .run(|| sort(&t, 70_000, &mut sa, &Limits::NONE, None, &ctl))
            .unwrap();
        assert!(done);
        assert_eq!(sa, want);
    }
}
