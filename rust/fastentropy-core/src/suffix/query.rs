//! Queries by binary search on the suffix array: the occurrences of a token sequence are one
//! range of it, found in O(m log N) token comparisons (Manber & Myers, "Suffix arrays: a new
//! method for on-line string searches", SIAM J. Comput. 1993); the tokens that follow a
//! context split its range into sub-ranges in id order, one more search each.

use std::cmp::Ordering;

use super::store::Entry;
use super::text::{prefetch_at, Text};

/// The suffix at `p` against `pattern` on `pattern.len()` tokens; a suffix that ends first
/// is smaller, as in the array.
fn compare<X: Text>(text: &X, p: usize, pattern: &[Option<u64>]) -> Ordering {
    let n = text.len();
    for (k, want) in pattern.iter().enumerate() {
        if p + k >= n {
            return Ordering::Less;
        }
        match text.get(p + k).cmp(want) {
            Ordering::Equal => {}
            other => return other,
        }
    }
    Ordering::Equal
}

/// The range of `sa` whose suffixes start with `pattern`. One bisection narrows both ends
/// until a suffix matches, then each end is found inside what is left: about log2(n) probes
/// in all for a rare pattern, where two independent searches make twice as many. Each probe
/// is two dependent cache misses on a large index (the entry, then the tokens it points
/// at); [`bisect`] fetches the next probes' entries and tokens ahead.
pub(crate) fn range<X: Text, E: Entry>(
    text: &X,
    sa: &[E],
    pattern: &[Option<u64>],
) -> (usize, usize) {
    let cmp = |i: usize| compare(text, sa[i].idx(), pattern);
    let (mut lo, mut hi) = (0, sa.len());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        ahead(text, sa, (lo, mid), (mid + 1, hi));
        match cmp(mid) {
            Ordering::Less => lo = mid + 1,
            Ordering::Greater => hi = mid,
            Ordering::Equal => {
                let first = bisect(text, sa, lo, mid, |i| cmp(i) == Ordering::Less);
                let end = bisect(text, sa, mid + 1, hi, |i| cmp(i) == Ordering::Equal);
                return (first, end);
            }
        }
    }
    (lo, lo)
}

/// The first `i` in `lo..hi` where `pred` fails (`pred` true then false over the range).
fn bisect<X: Text, E: Entry>(
    text: &X,
    sa: &[E],
    mut lo: usize,
    mut hi: usize,
    pred: impl Fn(usize) -> bool,
) -> usize {
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        ahead(text, sa, (lo, mid), (mid + 1, hi));
        if pred(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// Before probing the middle of `left` + `right`: fetches the tokens of both next probes
/// (their entries were fetched a step before) and the entries of the four after them, so
/// that a probe's two misses overlap with the probes before it.
#[inline(always)]
fn ahead<X: Text, E: Entry>(text: &X, sa: &[E], left: (usize, usize), right: (usize, usize)) {
    for (lo, hi) in [left, right] {
        if lo < hi {
            let mid = lo + (hi - lo) / 2;
            if let Some(p) = sa.get(mid).map(|e| e.idx()).filter(|&p| p < text.len()) {
                text.prefetch(p);
            }
            for (a, b) in [(lo, mid), (mid + 1, hi)] {
                if a < b {
                    prefetch_at(&sa[a + (b - a) / 2]);
                }
            }
        }
    }
}

/// The ids that follow `context` and how often, most frequent first (ties by id), at most
/// `k` of them. A following separator or the end of the text is not a token.
pub(crate) fn next_counts<X: Text, E: Entry>(
    text: &X,
    sa: &[E],
    context: &[Option<u64>],
    k: Option<usize>,
) -> (Vec<u64>, Vec<u64>) {
    let (lo, hi) = range(text, sa, context);
    let m = context.len();
    let n = text.len();
    // What follows each suffix of the range: `None` for the end or a separator, both of
    // which sort before every id.
    let next = |i: usize| {
        let p = sa[i].idx() + m;
        if p < n {
            text.get(p)
        } else {
            None
        }
    };
    let mut i = lo + partition(hi - lo, |x| next(lo + x).is_none());
    let mut pairs: Vec<(u64, u64)> = Vec::new();
    while i < hi {
        let t = next(i);
        let end = i + partition(hi - i, |x| next(i + x) <= t);
        pairs.push((t.unwrap_or(0), (end - i) as u64));
        i = end;
    }
    pairs.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    if let Some(k) = k {
        pairs.truncate(k);
    }
    pairs.into_iter().unzip()
}

/// The first `x` in `0..len` where `pred` fails (`pred` true then false), searching by
/// doubling then bisection: runs of common followers are found in few probes.
fn partition(len: usize, pred: impl Fn(usize) -> bool) -> usize {
    if len == 0 || !pred(0) {
        return 0;
    }
    let mut step = 1;
    let mut lo = 0;
    while lo + step < len && pred(lo + step) {
        lo += step;
        step *= 2;
    }
    // pred(lo) holds (lo is a known true or the first element, true by the caller).
    let mut hi = (lo + step).min(len);
    lo += 1;
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}
