//! Queries by binary search on the suffix array: the occurrences of a token sequence are one
//! range of it, found in O(m log N) token comparisons (Manber & Myers, "Suffix arrays: a new
//! method for on-line string searches", SIAM J. Comput. 1993); the tokens that follow a
//! context split its range into sub-ranges in id order, one more search each.

use std::cmp::Ordering;

use super::store::Entry;
use super::text::Text;

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

/// The range of `sa` whose suffixes start with `pattern`.
pub(crate) fn range<X: Text, E: Entry>(
    text: &X,
    sa: &[E],
    pattern: &[Option<u64>],
) -> (usize, usize) {
    let lo = sa.partition_point(|&p| compare(text, p.idx(), pattern) == Ordering::Less);
    let hi =
        lo + sa[lo..].partition_point(|&p| compare(text, p.idx(), pattern) != Ordering::Greater);
    (lo, hi)
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
