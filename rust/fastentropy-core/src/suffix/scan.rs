//! Count profiles of every order from one scan of the LCP array.
//!
//! The n-grams of order n that start at the suffixes of an SA range are all equal exactly
//! when every LCP inside the range is >= n, so the n-gram classes are the maximal runs with
//! LCP >= n (plus the single suffixes outside any run). Over all n these runs nest into the
//! LCP-interval tree (Abouelhoda, Kurtz & Ohlebusch, "Replacing suffix trees with enhanced
//! suffix arrays", J. Discrete Algorithms 2004), which one left-to-right pass with a stack
//! visits bottom-up: an interval with LCP value `l` whose parent has value `p` is the class
//! of one n-gram for every order `p < n <= l`, with the same count (its size, or the sum of
//! its suffixes' weights). Each interval adds its count to a range of orders through a
//! difference array over orders, so the scan is O(N) plus the size of the output, not
//! O(N x orders).
//!
//! Singletons are never visited: at order n the suffixes that belong to no interval are
//! those counted at n (their separator-free length is >= n) less those inside intervals, so
//! `m_n(1) += W_n - S_n`, with `W_n` from one pass over the text and `S_n` the intervals'
//! total count at n. Separators: the LCP is capped at them ([`super::lcp`]), so no class
//! spans one. A mask is handled by the caller reading the text backwards (a leaf's weight is
//! then fixed for all orders); the (n-1)-token contexts of n-grams by [`Leaves::shorten`].
//!
//! The scan splits the array where the LCP is 0 (the tree's root), so segments are
//! independent; their tallies are integer sums, the same for any thread count.

use std::collections::BTreeMap;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::lcp::Lcp;
use super::store::Entry;
use super::text::Text;
use super::{Progress, CHUNK};
use crate::control::Control;
use crate::error::Result;
use crate::profile::Profile;

/// Counts below this and orders up to [`DENSE_ORDERS`] are tallied in an array.
const DENSE_COUNTS: usize = 64;
const DENSE_ORDERS: usize = 255;

/// Which suffixes are counted, and how much each weighs.
pub(crate) struct Leaves<'a> {
    /// Weight of the suffix at each text position (`None`: 1 each).
    pub weight: Option<&'a (dyn Fn(usize) -> u64 + Sync)>,
    /// Count the (n-1)-prefixes of suffixes whose separator-free length is >= n: each
    /// suffix one token shorter, and each LCP one shorter where it stopped at a separator
    /// or the end (the contexts of n-grams, read forwards).
    pub shorten: bool,
}

/// Additions over orders: an array for small orders, a map above.
struct OrderDiff {
    dense: Vec<i64>,
    sparse: FxHashMap<u32, i64>,
}

impl OrderDiff {
    fn new() -> Self {
        Self {
            dense: vec![0; DENSE_ORDERS + 2],
            sparse: FxHashMap::default(),
        }
    }

    #[inline]
    fn add(&mut self, order: usize, delta: i64) {
        match self.dense.get_mut(order) {
            Some(d) => *d += delta,
            None => *self.sparse.entry(order as u32).or_insert(0) += delta,
        }
    }

    fn merge(mut self, other: Self) -> Self {
        self.dense
            .iter_mut()
            .zip(&other.dense)
            .for_each(|(a, b)| *a += b);
        for (o, d) in other.sparse {
            *self.sparse.entry(o).or_insert(0) += d;
        }
        self
    }

    /// Prefix sums for orders `1..=m` (index 0 unused).
    fn totals(self, m: usize) -> Vec<i64> {
        let mut at = vec![0i64; m + 2];
        for (o, &d) in self.dense.iter().enumerate() {
            if o <= m {
                at[o] += d;
            }
        }
        for (o, d) in self.sparse {
            if (o as usize) <= m {
                at[o as usize] += d;
            }
        }
        let mut run = 0;
        for v in &mut at {
            run += *v;
            *v = run;
        }
        at.truncate(m + 1);
        at
    }
}

/// What the intervals of one or more segments add: classes `(count, order) -> delta` and
/// the total count at each order.
struct Tally {
    dense: Vec<i64>,
    sparse: FxHashMap<(u64, u32), i64>,
    mass: OrderDiff,
}

impl Tally {
    fn new() -> Self {
        Self {
            dense: vec![0; DENSE_COUNTS * (DENSE_ORDERS + 2)],
            sparse: FxHashMap::default(),
            mass: OrderDiff::new(),
        }
    }

    #[inline]
    fn class(&mut self, count: u64, order: usize, delta: i64) {
        if (count as usize) < DENSE_COUNTS && order <= DENSE_ORDERS + 1 {
            self.dense[count as usize * (DENSE_ORDERS + 2) + order] += delta;
        } else {
            *self.sparse.entry((count, order as u32)).or_insert(0) += delta;
        }
    }

    /// One class of `count` for each order in `first..=last`.
    #[inline]
    fn add(&mut self, count: u64, first: usize, last: usize) {
        self.class(count, first, 1);
        self.class(count, last + 1, -1);
        self.mass.add(first, count as i64);
        self.mass.add(last + 1, -(count as i64));
    }

    fn merge(mut self, other: Self) -> Self {
        self.dense
            .iter_mut()
            .zip(&other.dense)
            .for_each(|(a, b)| *a += b);
        for (k, d) in other.sparse {
            *self.sparse.entry(k).or_insert(0) += d;
        }
        self.mass = self.mass.merge(other.mass);
        self
    }

    /// `(order, count, delta)` sorted by order, orders `<= m` only.
    fn events(&self, m: usize) -> Vec<(usize, u64, i64)> {
        let mut ev: Vec<(usize, u64, i64)> = Vec::new();
        for (i, &d) in self.dense.iter().enumerate() {
            let (c, o) = (i / (DENSE_ORDERS + 2), i % (DENSE_ORDERS + 2));
            if d != 0 && o <= m {
                ev.push((o, c as u64, d));
            }
        }
        for (&(c, o), &d) in &self.sparse {
            if d != 0 && (o as usize) <= m {
                ev.push((o as usize, c, d));
            }
        }
        ev.sort_unstable();
        ev
    }
}

/// The profiles of orders `1..=m` (element `n - 1` for order n) of the classes of
/// `leaves`. `progress` is `(base, total)`: this scan reports `base..base + 2 len`.
pub(crate) fn classes<X: Text, E: Entry>(
    text: &X,
    sa: &[E],
    lcp: &Lcp,
    leaves: &Leaves<'_>,
    m: usize,
    ctl: &Control<'_>,
    progress: (u64, u64),
) -> Result<Vec<Profile>> {
    let progress = Progress::new(ctl, progress, (1, 1));
    let windows = windows(text, leaves, m, ctl, &progress)?.totals(m);
    let tally = scan(sa, lcp, leaves, m, ctl, &progress)?;
    assemble(&tally, windows, m)
}

/// `W`: for each order, the total weight of the suffixes counted at it, as additions.
fn windows<X: Text>(
    text: &X,
    leaves: &Leaves<'_>,
    m: usize,
    ctl: &Control<'_>,
    progress: &Progress<'_>,
) -> Result<OrderDiff> {
    let n = text.len();
    let chunks = n.div_ceil(CHUNK);
    // The first separator of each chunk, then the first at or after each chunk's end.
    let first: Vec<Option<usize>> = if text.has_separator() {
        (0..chunks)
            .into_par_iter()
            .map(|c| (c * CHUNK..((c + 1) * CHUNK).min(n)).find(|&p| text.get(p).is_none()))
            .collect()
    } else {
        vec![None; chunks]
    };
    let mut after = vec![n; chunks];
    for c in (0..chunks.saturating_sub(1)).rev() {
        after[c] = first[c + 1].unwrap_or(after[c + 1]);
    }
    let short = usize::from(leaves.shorten);
    (0..chunks)
        .into_par_iter()
        .try_fold(OrderDiff::new, |mut d, c| {
            ctl.check()?;
            let (start, end) = (c * CHUNK, ((c + 1) * CHUNK).min(n));
            let mut next = after[c];
            if first[c].is_none() && leaves.weight.is_none() {
                // No separator inside and weight 1: the lengths are consecutive.
                runs(
                    &mut d,
                    (next - end + 1).saturating_sub(short),
                    next - start - short,
                    m,
                );
                progress.add((end - start) as u64);
                return Ok(d);
            }
            for p in (start..end).rev() {
                if text.get(p).is_none() {
                    next = p;
                    continue;
                }
                let len = (next - p).saturating_sub(short);
                let w = leaves.weight.map_or(1, |f| f(p));
                if len >= 1 && w > 0 {
                    d.add(1, w as i64);
                    d.add(len.min(m) + 1, -(w as i64));
                }
            }
            progress.add((end - start) as u64);
            Ok(d)
        })
        .try_reduce(OrderDiff::new, |a, b| Ok(a.merge(b)))
}

/// Adds, to `d`, suffixes of weight 1 whose separator-free lengths are `lo..=hi` (one
/// each), as the per-token loop of [`windows`] would: O(m) where that is O(hi - lo).
fn runs(d: &mut OrderDiff, lo: usize, hi: usize, m: usize) {
    let lo = lo.max(1);
    if hi < lo {
        return;
    }
    d.add(1, (hi - lo + 1) as i64);
    for len in lo..=hi.min(m.saturating_sub(1)) {
        d.add(len + 1, -1);
    }
    let from = lo.max(m);
    if from <= hi {
        d.add(m + 1, -((hi - from + 1) as i64));
    }
}

/// Visits the LCP-interval tree segment by segment and tallies its intervals.
fn scan<E: Entry>(
    sa: &[E],
    lcp: &Lcp,
    leaves: &Leaves<'_>,
    m: usize,
    ctl: &Control<'_>,
    progress: &Progress<'_>,
) -> Result<Tally> {
    let n = sa.len();
    let adjusted = |h: u32, stop: bool| h - u32::from(leaves.shorten && stop && h > 0);
    // Segments start where the (adjusted) LCP is 0: every interval lies inside one.
    let mut starts: Vec<usize> = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .filter_map(|c| {
            (c * CHUNK..((c + 1) * CHUNK).min(n)).find(|&i| {
                let (h, stop) = lcp.get(i);
                i == 0 || adjusted(h, stop) == 0
            })
        })
        .collect();
    starts.dedup();
    starts.push(n);
    let segments: Vec<(usize, usize)> = starts.windows(2).map(|w| (w[0], w[1])).collect();
    segments
        .into_par_iter()
        .try_fold(Tally::new, |mut tally, (s, e)| {
            ctl.check()?;
            let weight = |i: usize| leaves.weight.map_or(1, |f| f(sa[i].idx()));
            // (LCP value, total weight before the interval's first suffix).
            let mut stack: Vec<(u32, u64)> = vec![(0, 0)];
            let (mut before, mut prev) = (0u64, 0u64);
            lcp.walk(s..e, |i, h, stop| {
                if i > s {
                    let h = adjusted(h, stop);
                    let lb = close(&mut tally, &mut stack, h, before, m).unwrap_or(prev);
                    if h > stack.last().map_or(0, |t| t.0) {
                        stack.push((h, lb));
                    }
                }
                prev = before;
                before += weight(i);
            });
            close(&mut tally, &mut stack, 0, before, m);
            progress.add((e - s) as u64);
            Ok(tally)
        })
        .try_reduce(Tally::new, |a, b| Ok(a.merge(b)))
}

/// Pops the intervals whose LCP value exceeds `h` (they end before the current suffix;
/// `before` is the weight up to it) and tallies them. Returns the weight before the first
/// suffix of the last one popped: where an interval opened at `h` starts.
fn close(
    tally: &mut Tally,
    stack: &mut Vec<(u32, u64)>,
    h: u32,
    before: u64,
    m: usize,
) -> Option<u64> {
    let mut lb = None;
    while let Some(&(l, w)) = stack.last() {
        if h >= l {
            break;
        }
        stack.pop();
        let parent = stack.last().map_or(0, |t| t.0).max(h) as usize;
        let count = before - w;
        let last = (l as usize).min(m);
        if count > 0 && parent < last {
            tally.add(count, parent + 1, last);
        }
        lb = Some(w);
    }
    lb
}

/// Sweeps the orders `1..=m`, applying each order's additions, into profiles.
fn assemble(tally: &Tally, windows: Vec<i64>, m: usize) -> Result<Vec<Profile>> {
    let events = tally.events(m);
    let mass = OrderDiff {
        dense: tally.mass.dense.clone(),
        sparse: tally.mass.sparse.clone(),
    }
    .totals(m);
    let mut current: BTreeMap<u64, i64> = BTreeMap::new();
    let mut next = 0;
    let mut out = Vec::with_capacity(m);
    for order in 1..=m {
        while next < events.len() && events[next].0 <= order {
            let (_, c, d) = events[next];
            let slot = current.entry(c).or_insert(0);
            *slot += d;
            if *slot == 0 {
                current.remove(&c);
            }
            next += 1;
        }
        let singles = windows[order] - mass[order];
        let (mut ks, mut mks) = (Vec::with_capacity(current.len() + 1), Vec::new());
        if singles > 0 {
            ks.push(1);
            mks.push(singles as u64);
        }
        for (&c, &k) in &current {
            if c == 1 && singles > 0 {
                mks[0] += k as u64;
            } else {
                ks.push(c);
                mks.push(k as u64);
            }
        }
        out.push(Profile::from_pairs(&ks, &mks)?);
    }
    Ok(out)
}
