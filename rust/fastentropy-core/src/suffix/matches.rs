//! Match lengths at every position, the inputs of the match-length (Lempel-Ziv) entropy-rate
//! estimators (Grassberger, "Estimating the information content of symbol sequences and
//! efficient codes", IEEE Trans. Inf. Theory 1989; Kontoyiannis, Algoet, Suhov & Wyner,
//! "Nonparametric entropy estimation for stationary processes and random fields", IEEE
//! Trans. Inf. Theory 1998). Both are capped at separators, through the capped LCP.
//!
//! - `Previous`: the longest previous factor, `max_{j < i} lcp(i, j)`, by Crochemore & Ilie
//!   ("Computing longest previous factor in linear time and applications", IPL 2008): in
//!   suffix-array order, a stack of suffixes with increasing positions; a suffix popped by
//!   one at a smaller position has met its nearest smaller-position neighbours on both
//!   sides in SA order, and its match is the larger of the LCPs with them (the LCP to the
//!   left neighbour is the minimum of the LCPs between, carried on the stack).
//! - `Any`: the longest match starting anywhere else, the larger LCP with the two SA
//!   neighbours.

use super::lcp::Lcp;
use super::store::Entry;
use super::CHUNK;
use crate::control::Control;
use crate::error::Result;

/// Which earlier or other occurrence a match length is measured against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchKind {
    /// The longest prefix of the suffix at `i` that also starts at some `j < i`.
    Previous,
    /// The longest prefix of the suffix at `i` that also starts at some `j != i`.
    Any,
}

/// One match length per text position.
pub(crate) fn match_lengths<E: Entry>(
    sa: &[E],
    lcp: &Lcp,
    kind: MatchKind,
    ctl: &Control<'_>,
) -> Result<Vec<u32>> {
    let n = sa.len();
    let mut out = vec![0u32; n];
    match kind {
        MatchKind::Any => {
            let mut last = 0u32;
            for s in (0..n).step_by(CHUNK) {
                ctl.check()?;
                lcp.walk(s..(s + CHUNK).min(n), |i, h, _| {
                    if i > 0 {
                        out[sa[i - 1].idx()] = last.max(h);
                    }
                    last = h;
                });
                ctl.report(s as u64, n as u64);
            }
            if n > 0 {
                out[sa[n - 1].idx()] = last;
            }
        }
        MatchKind::Previous => {
            // (position, LCP with the suffix below it on the stack).
            let mut stack: Vec<(E, u32)> = Vec::new();
            for s in (0..n).step_by(CHUNK) {
                ctl.check()?;
                lcp.walk(s..(s + CHUNK).min(n), |i, h, _| {
                    let p = sa[i];
                    let mut cur = if i == 0 { 0 } else { h };
                    while let Some(&(tp, tl)) = stack.last() {
                        if p > tp {
                            break;
                        }
                        out[tp.idx()] = tl.max(cur);
                        cur = cur.min(tl);
                        stack.pop();
                    }
                    stack.push((p, cur));
                });
                ctl.report(s as u64, n as u64);
            }
            for (tp, tl) in stack {
                out[tp.idx()] = tl;
            }
        }
    }
    Ok(out)
}
