//! The LCP array of the suffix array, capped at separators, one byte per entry.
//!
//! `lcp[i]` is the length of the longest common prefix of the suffixes at `sa[i - 1]` and
//! `sa[i]` that holds no separator (`lcp[0] = 0`). When the bucket sort made the array, it
//! found the bytes too ([`super::bucket`]: neighbours' keys tell where they differ), and
//! [`from_sort`] only finishes values of 127 or more. After libsais, two ways, chosen by the
//! mean LCP of a sample of the array ([`PHI_MEAN`]):
//!
//! - [`direct`]: compare each suffix with its predecessor in the array, up to 127 tokens,
//!   on the sort's ranks (a huge-page buffer, 2 bytes/token for most vocabularies). One
//!   scattered read per entry, and no array beside the output. Entries that reach the cap
//!   are finished afterwards in text order, each resuming one token short of the one before
//!   (below), which keeps them linear. Quadratic up to the cap on texts whose prefixes are
//!   long: it gives up past 24 compared tokens per entry on average, or when more than one
//!   entry in 64 reaches the cap. 10^8 tokens of the synthetic corpus (mean LCP 1.4):
//!   2.7 CPU s, against 6.1 for Φ over the same tokens in 4 KiB pages (paired, load ~6).
//! - Φ (Kärkkäinen, Manzini & Puglisi, "Permuted longest-common-prefix array", CPM 2009):
//!   the permuted LCP in text order, where `plcp[p + 1] >= plcp[p] - 1`, so each comparison
//!   resumes where the last one left off and the whole pass is linear; then read back in
//!   array order. Three scattered passes, 4 bytes/token more. The cap keeps the property: a
//!   separator-free match of `p` shortened by one is one of `p + 1`.
//!
//! Storage: one byte per entry, the low seven bits the value (127 = "look it up in the
//! overflow table", sorted by position) and the high bit a *stop flag*: whether the match
//! stopped at a separator or the end of the text on either side rather than at two different
//! ids. The flag gives the LCP of the (n-1)-token contexts of n-grams ([`super::scan`]).
//! Peak memory while building: the array (4 bytes/token) and the bytes (1), with the ranks
//! (2 or 4) and the bucket sort's scratch (at most 1.5), or Φ (4).

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use rayon::prelude::*;

use super::bucket::Neighbours;
use super::construct::{SortSymbols, SortText};
use super::store::{Entry, Store};
use super::text::{common, common_upto, prefetch_at, prefetch_ptr, Forward, Text};
use super::{Progress, CHUNK};
use crate::control::Control;
use crate::error::{Error, Result};
use crate::ngram::buffer::KeyBuf;

/// The stop flag's bit.
pub(super) const FLAG: u8 = 0x80;
/// The largest value kept in the byte: 127 and more are looked up in the overflow table.
pub(super) const BIG: u8 = 0x7f;
/// Passes over the array Φ makes (Φ, PLCP, bytes), each reported as it goes; the direct
/// pass reports each entry as this many.
pub(super) const PASSES: u64 = 3;
/// How many positions ahead the PLCP pass prefetches (enough to cover a memory latency).
const AHEAD: usize = 16;

/// The capped LCP array: bytes with an overflow table.
pub(crate) struct Lcp {
    pub bytes: Store<u8>,
    /// Positions (increasing) whose value is 127 or more, and those values.
    pub over_at: Store<u64>,
    pub over_val: Store<u32>,
    /// The largest value.
    pub max: u32,
}

impl Lcp {
    /// `(lcp[i], stop flag of i)`.
    #[inline]
    pub fn get(&self, i: usize) -> (u32, bool) {
        let b = self.bytes.as_slice()[i];
        let v = b & BIG;
        let h = if v == BIG {
            let at = self.over_at.as_slice();
            let k = at.partition_point(|&x| (x as usize) < i);
            self.over_val.as_slice()[k]
        } else {
            u32::from(v)
        };
        (h, b & FLAG != 0)
    }

    /// Calls `f(i, lcp, flag)` for each `i` of `range` in order, reading the overflow table
    /// with a cursor.
    #[inline]
    pub fn walk(&self, range: std::ops::Range<usize>, mut f: impl FnMut(usize, u32, bool)) {
        let (bytes, at, val) = (
            self.bytes.as_slice(),
            self.over_at.as_slice(),
            self.over_val.as_slice(),
        );
        let mut k = at.partition_point(|&x| (x as usize) < range.start);
        for i in range {
            let b = bytes[i];
            let v = b & BIG;
            let h = if v == BIG {
                let h = val[k];
                k += 1;
                h
            } else {
                u32::from(v)
            };
            f(i, h, b & FLAG != 0);
        }
    }

    pub fn owned_bytes(&self) -> usize {
        self.bytes.owned_bytes() + self.over_at.owned_bytes() + self.over_val.owned_bytes()
    }
}

/// Unsynchronised writes to distinct slots of one array from many threads.
#[derive(Clone, Copy)]
struct Slots<E>(*mut E);
// SAFETY: used only for writes to distinct indices (a permutation), see `phi`.
unsafe impl<E: Send> Send for Slots<E> {}
// SAFETY: as above.
unsafe impl<E: Sync> Sync for Slots<E> {}

impl<E: Entry> Slots<E> {
    /// # Safety
    /// `i` in bounds of the array, and no other thread touching slot `i`.
    #[inline]
    unsafe fn write(self, i: usize, v: E) {
        // SAFETY: the caller's contract.
        unsafe { *self.0.add(i) = v };
    }

    /// Asks the CPU to bring slot `i` (in bounds) into cache.
    #[inline]
    fn prefetch(self, i: usize) {
        prefetch_ptr(self.0.wrapping_add(i).cast_const());
    }
}

/// Φ: `phi[sa[i]] = sa[i - 1]`, and [`Entry::NONE`] for `sa[0]`.
fn phi<E: Entry>(sa: &[E], ctl: &Control<'_>, progress: &Progress<'_>) -> Result<KeyBuf<E>> {
    let n = sa.len();
    let mut phi = KeyBuf::<E>::new(n, None)?;
    let slots = Slots(phi.as_mut_slice().as_mut_ptr());
    sa.par_chunks(CHUNK)
        .enumerate()
        .try_for_each(|(c, chunk)| {
            ctl.check()?;
            let base = c * CHUNK;
            for (k, &p) in chunk.iter().enumerate() {
                let i = base + k;
                // Scattered writes: fetch a later one's line ahead of time.
                if let Some(&ahead) = sa.get(i + AHEAD) {
                    if ahead.idx() < n {
                        slots.prefetch(ahead.idx());
                    }
                }
                let prev = if i == 0 { E::NONE } else { sa[i - 1] };
                assert!(p.idx() < n, "suffix array entry out of range");
                // SAFETY: `sa` is a permutation of 0..n (checked in range above), so each slot is
                // written by exactly one iteration, and `phi` outlives the loop.
                unsafe { slots.write(p.idx(), prev) };
            }
            progress.add(chunk.len() as u64);
            Ok(())
        })?;
    Ok(phi)
}

/// Evaluates `$body` with `$t` bound to the symbols of a [`SortText`] as a [`Forward`] text
/// (of whichever width).
macro_rules! with_sort_text {
    ($text:expr, |$t:ident| $body:expr) => {{
        let separator = $text.separator;
        match &$text.symbols {
            SortSymbols::U16(b) => {
                let $t = Forward {
                    tokens: b.as_slice(),
                    separator,
                };
                $body
            }
            SortSymbols::U32(b) => {
                let $t = Forward {
                    tokens: b.as_slice(),
                    separator,
                };
                $body
            }
            SortSymbols::U64(b) => {
                let $t = Forward {
                    tokens: b.as_slice(),
                    separator,
                };
                $body
            }
            SortSymbols::Empty => {
                let $t = Forward::<u16> {
                    tokens: &[],
                    separator: None,
                };
                $body
            }
        }
    }};
}

/// The capped LCP array of the sort's `text` (in the array's order) and its array `sa`: the
/// bucket sort's own when it found one, else by [`direct`] with the automatic budget unless
/// a sample says the prefixes are long. `None`: Φ's turn (the caller then frees the text and
/// runs [`by_phi`] on the tokens).
///
/// # Errors
/// Cancellation, or a common prefix of 2^32 - 1 tokens or more.
pub(crate) fn on_sort_text<E: Entry>(
    text: &mut SortText,
    sa: &[E],
    ctl: &Control<'_>,
    progress: &Progress<'_>,
) -> Result<Option<Lcp>> {
    let found = text.neighbours.take();
    let text = &*text;
    with_sort_text!(text, |t| {
        assert_eq!(t.len(), sa.len(), "the sort's text is as long as its array");
        match found {
            Some(found) => from_sort(found, &t, sa, ctl).map(Some),
            None if sampled_mean(&t, sa) > PHI_MEAN => Ok(None),
            None => direct(&t, sa, ctl, progress, &Budget::auto(sa.len())),
        }
    })
}

/// The LCP array from the bytes the bucket sort found beside its array: the entries it left
/// at [`BIG`] (127 tokens or more, which it knew to be separator-free) are finished here,
/// comparing on from the 127 tokens known.
///
/// # Errors
/// Cancellation, or a common prefix of 2^32 - 1 tokens or more.
pub(crate) fn from_sort<X: Text, E: Entry>(
    found: Neighbours,
    text: &X,
    sa: &[E],
    ctl: &Control<'_>,
) -> Result<Lcp> {
    let n = sa.len();
    let Neighbours {
        mut bytes,
        mut max,
        long,
    } = found;
    let (mut at, mut val) = (Vec::new(), Vec::new());
    if long {
        let known = usize::from(BIG);
        for (c, chunk) in bytes.as_mut_slice().chunks_mut(CHUNK).enumerate() {
            ctl.check()?;
            for (k, b) in chunk.iter_mut().enumerate() {
                let i = c * CHUNK + k;
                if *b == BIG && i > 0 {
                    let (l, stop) = common(text, sa[i].idx(), sa[i - 1].idx(), known);
                    let l = value(l)?;
                    max = max.max(l);
                    *b = encode(i, l, stop, &mut at, &mut val);
                }
            }
        }
    }
    Ok(Lcp {
        bytes: Store::Buf(bytes, n),
        over_at: Store::Owned(at),
        over_val: Store::Owned(val),
        max,
    })
}

/// Entries the sampled mean LCP reads (evenly spaced in the array: the same for any
/// thread count), each compared up to the byte's cap.
const SAMPLES: usize = 4096;
/// The sampled mean LCP past which Φ is taken without trying [`direct`]: where the direct
/// pass would spend its budget ([`WORK_PER_ENTRY`] compared tokens per entry) and give up,
/// the sample says so first. Not lower, though Φ is faster from a mean of about 4 (4·10^7
/// tokens in memory, load ~9: direct 41 ns per entry at a mean of 1.6, 114 at 15.6, Φ 53):
/// Φ's permuted array takes 4 bytes/token more at the peak, and on dict-gcide (mean 15.6)
/// saved 0.3 of 5.5 CPU s for a peak of 9.2 bytes/token instead of 7.25 (target 9).
const PHI_MEAN: f64 = WORK_PER_ENTRY as f64;

/// The mean LCP of [`SAMPLES`] entries of the array (capped at 127 tokens each).
fn sampled_mean<X: Text, E: Entry>(text: &X, sa: &[E]) -> f64 {
    let n = sa.len();
    if n < 2 {
        return 0.0;
    }
    let m = SAMPLES.min(n - 1);
    let cap = usize::from(BIG);
    let sum: usize = (0..m)
        .map(|j| {
            let i = 1 + j * (n - 1) / m;
            common_upto(text, sa[i].idx(), sa[i - 1].idx(), cap).map_or(cap, |(l, _)| l)
        })
        .sum();
    sum as f64 / m as f64
}

/// The byte of an LCP value `h` at entry `i` with its stop flag, noting the value in the
/// overflow table (`at`, `val`) when it is [`BIG`] or more.
#[inline]
fn encode(i: usize, h: u32, stop: bool, at: &mut Vec<u64>, val: &mut Vec<u32>) -> u8 {
    let low = if h >= u32::from(BIG) {
        at.push(i as u64);
        val.push(h);
        BIG
    } else {
        h as u8
    };
    low | if stop { FLAG } else { 0 }
}

/// How an LCP array is computed (tests): [`Method::Auto`] tries [`direct`] and falls back
/// to Φ; the others force one.
#[cfg(test)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Method {
    Auto,
    Phi,
    /// [`direct`] with this cap and no budget.
    Direct(usize),
}

/// The LCP array of `text` by `method` (tests; builds go through [`on_sort_text`]).
#[cfg(test)]
pub(crate) fn build_by<X: Text, E: Entry>(
    text: &X,
    sa: &[E],
    ctl: &Control<'_>,
    progress: &Progress<'_>,
    method: Method,
) -> Result<Lcp> {
    let n = sa.len() as u64;
    let budget = match method {
        Method::Phi => return by_phi(text, sa, ctl, progress),
        Method::Auto => Budget::auto(sa.len()),
        Method::Direct(cap) => Budget {
            cap,
            work: u64::MAX,
            long: u64::MAX,
        },
    };
    match direct(text, sa, ctl, progress, &budget)? {
        Some(lcp) => Ok(lcp),
        None => by_phi(text, sa, ctl, &progress.rest(PASSES * n)),
    }
}

/// The direct pass's cap and when it gives up: past `work` token comparisons in all, or
/// `long` entries of `cap` or more.
pub(crate) struct Budget {
    cap: usize,
    work: u64,
    long: u64,
}

impl Budget {
    /// For `n` entries: the byte's cap, [`WORK_PER_ENTRY`], [`LONG_SHARE`].
    fn auto(n: usize) -> Self {
        let n = n as u64;
        Self {
            cap: usize::from(BIG),
            work: WORK_PER_ENTRY * n,
            long: n / LONG_SHARE + LONG_FLOOR,
        }
    }
}

/// The direct pass gives up past this many token comparisons per entry on average (Φ's
/// three random-access passes cost about as much: 42 ns per entry at 10^8 tokens, against
/// 1-2 ns per compared token on the same line).
const WORK_PER_ENTRY: u64 = 24;
/// ... or when more than one entry in this many (plus [`LONG_FLOOR`]) reaches the cap: each
/// is held (24 bytes) until it is finished in text order.
const LONG_SHARE: u64 = 64;
const LONG_FLOOR: u64 = 4096;

/// An entry whose prefix reached the cap: array index `i`, suffix `p`, its predecessor `q`.
#[derive(Clone, Copy)]
struct Long {
    p: usize,
    q: usize,
    i: usize,
}

/// The LCP array by comparing each suffix with its predecessor in the array, from the
/// start, up to `cap` tokens; entries that reach the cap are finished afterwards in text
/// order, where each resumes one token short of the last (`plcp[p + 1] >= plcp[p] - 1`,
/// as in Φ), so that they cost linear time in all. Reads the array in order and the text
/// once at each suffix (the predecessor's tokens were read the step before): one scattered
/// access per entry where Φ makes three, and no permuted array (4 bytes/token less at the
/// peak). Long common prefixes make it quadratic up to the cap: `None` once `budget` is
/// spent, and Φ does it.
pub(crate) fn direct<X: Text, E: Entry>(
    text: &X,
    sa: &[E],
    ctl: &Control<'_>,
    progress: &Progress<'_>,
    budget: &Budget,
) -> Result<Option<Lcp>> {
    let n = sa.len();
    let cap = budget.cap;
    assert!(
        cap <= usize::from(BIG),
        "the cap must leave values in the byte"
    );
    let mut bytes = KeyBuf::<u8>::new(n, None)?;
    let (work, long) = (AtomicU64::new(0), AtomicU64::new(0));
    // The largest value below the cap.
    let short_max = AtomicUsize::new(0);
    let spent = AtomicBool::new(false);
    let parts: Vec<Vec<Long>> = bytes
        .as_mut_slice()
        .par_chunks_mut(CHUNK)
        .zip(sa.par_chunks(CHUNK))
        .enumerate()
        .map(|(c, (out, chunk))| {
            ctl.check()?;
            let mut longs = Vec::new();
            if spent.load(Ordering::Relaxed) {
                return Ok(longs);
            }
            let (mut w, mut most) = (0u64, 0usize);
            for (k, (b, &p)) in out.iter_mut().zip(chunk).enumerate() {
                let i = c * CHUNK + k;
                // The suffixes' first tokens are scattered: fetch a later one's ahead.
                if let Some(&ahead) = sa.get(i + AHEAD) {
                    if ahead.idx() < n {
                        text.prefetch(ahead.idx());
                    }
                }
                if i == 0 {
                    *b = 0;
                    continue;
                }
                let (p, q) = (p.idx(), sa[i - 1].idx());
                match common_upto(text, p, q, cap) {
                    Some((l, stop)) => {
                        w += l as u64;
                        most = most.max(l);
                        *b = l as u8 | if stop { FLAG } else { 0 };
                    }
                    None => {
                        w += cap as u64;
                        longs.push(Long { p, q, i });
                        *b = BIG;
                    }
                }
            }
            progress.add(PASSES * chunk.len() as u64);
            short_max.fetch_max(most, Ordering::Relaxed);
            let w = work.fetch_add(w, Ordering::Relaxed) + w;
            let m = longs.len() as u64;
            let m = long.fetch_add(m, Ordering::Relaxed) + m;
            if w > budget.work || m > budget.long {
                spent.store(true, Ordering::Relaxed);
            }
            Ok(longs)
        })
        .collect::<Result<_>>()?;
    if spent.load(Ordering::Relaxed) {
        return Ok(None);
    }
    let mut longs = parts.concat();
    // In text order, each run of consecutive positions resumes where the last left off.
    longs.par_sort_unstable_by_key(|e| e.p);
    let mut done: Vec<(usize, u32, bool)> = longs
        .par_chunks(LONG_CHUNK)
        .map(|run| {
            ctl.check()?;
            let mut out = Vec::with_capacity(run.len());
            let mut last: Option<(usize, usize)> = None;
            for e in run {
                let known = match last {
                    Some((p, l)) if p + 1 == e.p => l.saturating_sub(1).max(cap),
                    _ => cap,
                };
                let (l, stop) = common(text, e.p, e.q, known);
                last = Some((e.p, l));
                out.push((e.i, value(l)?, stop));
            }
            Ok(out)
        })
        .collect::<Result<Vec<_>>>()?
        .concat();
    drop(longs);
    done.par_sort_unstable_by_key(|e| e.0);
    let bytes_mut = bytes.as_mut_slice();
    let (mut at, mut val, mut max) = (Vec::new(), Vec::new(), 0);
    for &(i, l, stop) in &done {
        bytes_mut[i] = encode(i, l, stop, &mut at, &mut val);
        max = max.max(l);
    }
    Ok(Some(Lcp {
        bytes: Store::Buf(bytes, n),
        over_at: Store::Owned(at),
        over_val: Store::Owned(val),
        max: max.max(short_max.into_inner() as u32),
    }))
}

/// Entries of the text-order pass per task (each task restarts its first run at the cap).
const LONG_CHUNK: usize = 1 << 16;

/// An LCP value in 32 bits.
///
/// # Errors
/// 2^32 - 1 or more.
fn value(h: usize) -> Result<u32> {
    u32::try_from(h)
        .ok()
        .filter(|&h| h < u32::MAX)
        .ok_or_else(|| {
            Error::Invalid(format!(
                "a repeat of {h} tokens: the suffix index keeps common prefixes below 2^32 - 1 \
             tokens"
            ))
        })
}

/// The LCP array by Φ: the permuted LCP in text order (resuming each comparison one short of
/// the last), then read back in array order.
pub(crate) fn by_phi<X: Text, E: Entry>(
    text: &X,
    sa: &[E],
    ctl: &Control<'_>,
    progress: &Progress<'_>,
) -> Result<Lcp> {
    let n = sa.len();
    let mut buf = phi(sa, ctl, progress)?;
    let plcp = buf.as_mut_slice();
    // Φ becomes the PLCP in place: each slot is read once, then overwritten.
    plcp.par_chunks_mut(CHUNK)
        .enumerate()
        .try_for_each(|(c, chunk)| {
            ctl.check()?;
            let mut l = 0usize;
            for k in 0..chunk.len() {
                // Each comparison starts where the last one left off, so its first load
                // waits on the one before: fetch where a later one starts, ahead of time.
                if let Some(&ahead) = chunk.get(k + AHEAD) {
                    let at = ahead.idx().wrapping_add(l.saturating_sub(AHEAD));
                    if ahead != E::NONE && at < n {
                        text.prefetch(at);
                    }
                }
                let p = c * CHUNK + k;
                let j = chunk[k];
                if j == E::NONE {
                    chunk[k] = E::of(0);
                    l = 0;
                    continue;
                }
                let (len, stop) = common(text, p, j.idx(), l);
                chunk[k] = E::pack(len, stop);
                l = len.saturating_sub(1);
            }
            progress.add(chunk.len() as u64);
            Ok(())
        })?;
    let plcp: &[E] = plcp;
    let mut bytes = KeyBuf::<u8>::new(n, None)?;
    let parts: Vec<(Vec<u64>, Vec<u32>, u32)> = bytes
        .as_mut_slice()
        .par_chunks_mut(CHUNK)
        .zip(sa.par_chunks(CHUNK))
        .enumerate()
        .map(|(c, (out, chunk))| {
            ctl.check()?;
            let (mut at, mut val, mut max) = (Vec::new(), Vec::new(), 0u32);
            for (k, (b, &p)) in out.iter_mut().zip(chunk).enumerate() {
                let i = c * CHUNK + k;
                // Reads of the PLCP in array order are scattered: fetch ahead.
                if let Some(&ahead) = sa.get(i + AHEAD) {
                    if let Some(slot) = plcp.get(ahead.idx()) {
                        prefetch_at(slot);
                    }
                }
                let (h, flag) = if i == 0 {
                    (0, false)
                } else {
                    plcp[p.idx()].unpack()
                };
                let h = value(h)?;
                max = max.max(h);
                *b = encode(i, h, flag, &mut at, &mut val);
            }
            progress.add(chunk.len() as u64);
            Ok((at, val, max))
        })
        .collect::<Result<_>>()?;
    drop(buf);
    let (mut at, mut val, mut max) = (Vec::new(), Vec::new(), 0);
    for (a, v, m) in parts {
        at.extend(a);
        val.extend(v);
        max = max.max(m);
    }
    Ok(Lcp {
        bytes: Store::Buf(bytes, n),
        over_at: Store::Owned(at),
        over_val: Store::Owned(val),
        max,
    })
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::test_rng::Lcg;

    /// A text of `n` tokens from `seed`: one in three 0, else one of 50; then, if `twin`,
    /// again with every 128th token changed (a mean LCP of ~32: half the entries pair twins).
    pub(in crate::suffix) fn text(n: usize, seed: u64, twin: bool) -> Vec<u16> {
        let mut rng = Lcg(seed);
        let mut rand = |m: u64| rng.below(m) as u16;
        let mut t: Vec<u16> = (0..n)
            .map(|_| if rand(3) == 0 { 0 } else { rand(50) })
            .collect();
        if twin {
            let copy: Vec<u16> = (0..n)
                .map(|i| if i % 128 == 0 { 50 + rand(50) } else { t[i] })
                .collect();
            t.extend(copy);
        }
        t
    }

    #[test]
    fn sampled_mean_follows_the_mean_and_foresees_the_direct_pass_giving_up() {
        let ctl = Control::with_threads(Some(1));
        let progress = Progress::new(&ctl, (0, 1), (1, 1));
        for twin in [false, true] {
            let t = text(20_000, 3, twin);
            let mut sa: Vec<u32> = (0..t.len() as u32).collect();
            sa.sort_by(|&a, &b| t[a as usize..].cmp(&t[b as usize..]));
            let fwd = Forward {
                tokens: &t[..],
                separator: None,
            };
            let cap = usize::from(BIG);
            let all: usize = (1..sa.len())
                .map(|i| {
                    let (a, b) = (sa[i - 1] as usize, sa[i] as usize);
                    (0..cap)
                        .take_while(|&l| a.max(b) + l < t.len() && t[a + l] == t[b + l])
                        .count()
                })
                .sum();
            let exact = all as f64 / (sa.len() - 1) as f64;
            let mean = sampled_mean(&fwd, &sa);
            assert!(
                (mean - exact).abs() < 0.1 * exact + 0.2,
                "sampled {mean}, all {exact}"
            );
            assert_eq!(mean > PHI_MEAN, twin, "mean LCP {mean}");
            // What the sample foresees: the direct pass gives up on the long prefixes.
            let budget = Budget::auto(sa.len());
            let done = direct(&fwd, &sa, &ctl, &progress, &budget).unwrap();
            assert_eq!(done.is_none(), twin);
        }
    }
}
