//! A suffix-array index of a token sequence: count profiles of every n-gram order from one
//! scan, match lengths at every position, and n-gram count queries.
//!
//! Parts, each in its own file: the suffix array on dense ranks, by leading tokens
//! ([`bucket`], for texts whose suffixes differ within a few tokens) or else by induced
//! sorting ([`construct`], libsais); the LCP array, capped at separators and kept in one byte per
//! entry, from the bucket sort's own comparisons, or by direct comparison on the sort's ranks
//! or by the Φ method ([`lcp`]); the profiles of all orders from one bottom-up pass over the
//! LCP-interval tree ([`scan`]); longest-previous-factor and any-match lengths ([`matches`]);
//! binary-search queries ([`query`]); the file format ([`file`]).
//!
//! Rules shared with the n-gram counter ([`crate::ngram`]): no n-gram contains a separator;
//! with a mask, only n-grams whose last token is masked in are counted. Profiles of orders
//! 1..8 equal the counter's. A mask is applied by reading the text backwards (an n-gram ends
//! where its reversed suffix starts, so the mask weighs each suffix once for all orders):
//! profiles under a mask build the reversed text's array for the call, about the cost and
//! memory of the index itself.
//!
//! Memory: the index holds the suffix array (4 bytes/token) and the LCP bytes (1 byte/token, plus
//! 12 bytes per LCP of 127 or more); building peaks at the array, the sort's ranks (2 bytes/token
//! up to 65,535 distinct ids, else 4), the LCP bytes and the bucket sort's scratch (at most 1.5
//! bytes/token beside the LCP bytes, 2 without them): 8.5 bytes/token beside the tokens with 16-bit
//! ranks; at most 9 otherwise, and when the LCP falls back to Φ (array, permuted LCP, LCP bytes;
//! the ranks freed first). Past [`MAX_NARROW_TOKENS`] the array's entries are 64-bit: 9 bytes/token
//! held, at most 17 while building. Every result is the same for any thread count: the suffix array
//! is unique and every sum is an integer sum.
//!
//! Cancellation: the bucket sort checks between buckets. libsais's sort is one call, which cannot
//! be stopped; it runs on a thread of its own, so a cancelled build returns at once and the sort,
//! left to finish, frees its buffers when it ends (a new build waits for that).

mod bucket;
mod construct;
mod file;
mod lcp;
mod matches;
mod query;
mod scan;
mod store;
mod text;

#[cfg(test)]
mod tests;

pub use construct::{background_sorts, MAX_NARROW_TOKENS};
pub use file::{read_header, token_hash, Header, FORMAT_VERSION};
pub use matches::MatchKind;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::control::Control;
use crate::error::{Error, Result};
use crate::ngram::sorted_orders;
use crate::profile::Profile;
use crate::tokens::{check_mask_len, Token};
use lcp::Lcp;
use scan::Leaves;
use store::{with_sa, Entry, Sa};
use text::{Forward, Reversed, Text};

/// Fixed chunk length of parallel passes (fixed so work splits the same way every time).
const CHUNK: usize = 1 << 18;

/// The stages of a build, one after another, as its progress reports them: name, length in
/// units of `n` tokens, and whether the stage reports progress inside it. The suffix sort is
/// one call into libsais, which gives none: progress stands still at its start until it
/// ends, and a caller can say so (show the time it has run) rather than a frozen fraction.
pub const BUILD_STAGES: [(&str, u64, bool); 3] = [
    ("remapping ids", 1, true),
    ("sorting suffixes", 1, false),
    ("LCP", 2, true),
];

/// The build's length in units of `n` tokens: those of its [`BUILD_STAGES`].
const BUILD_UNITS: u64 = {
    let (mut units, mut i) = (0, 0);
    while i < BUILD_STAGES.len() {
        units += BUILD_STAGES[i].1;
        i += 1;
    }
    units
};

/// Bytes per token the build may need at its peak beside the tokens: the suffix array (4),
/// the sort's ranks or the permuted LCP (4) and the LCP bytes (1); with 64-bit entries (past
/// [`MAX_NARROW_TOKENS`]), [`BUILD_BYTES_PER_TOKEN_WIDE`]. With up to 65,535 distinct ids
/// the ranks take 2 and a build by the bucket sort peaks at 8.5 (its scratch, 1.5, beside
/// the LCP bytes it fills), after libsais at 7.
pub const BUILD_BYTES_PER_TOKEN: usize = 9;
/// As [`BUILD_BYTES_PER_TOKEN`] with 64-bit entries: array 8, ranks or permuted LCP 8,
/// LCP bytes 1.
pub const BUILD_BYTES_PER_TOKEN_WIDE: usize = 17;

/// Bytes per token a build of `n` tokens needs at its peak, and whether its entries are
/// 64-bit (past [`MAX_NARROW_TOKENS`], or when a test forces them).
fn build_bytes(n: usize, wide: bool) -> (usize, bool) {
    if wide || n > MAX_NARROW_TOKENS {
        (BUILD_BYTES_PER_TOKEN_WIDE, true)
    } else {
        (BUILD_BYTES_PER_TOKEN, false)
    }
}

/// Profiles by order: `(order, profile)`, by increasing order.
pub type Orders = Vec<(usize, Profile)>;

/// The suffix array and LCP array of a token sequence. The tokens themselves are not held:
/// each query takes them, and checks that they are as long as the index.
pub struct SuffixIndex {
    sa: Sa,
    lcp: Lcp,
    separator: Option<u64>,
}

impl SuffixIndex {
    /// Builds the index of `tokens`, where `separator` (if any) ends documents.
    ///
    /// # Errors
    /// A negative id, `memory_limit` below what the build needs ([`BUILD_BYTES_PER_TOKEN`]
    /// per token, [`BUILD_BYTES_PER_TOKEN_WIDE`] past [`MAX_NARROW_TOKENS`]), a bad thread
    /// count, or cancellation.
    pub fn build<T: Token>(
        tokens: &[T],
        separator: Option<u64>,
        memory_limit: Option<usize>,
        ctl: &Control<'_>,
    ) -> Result<Self> {
        Self::build_entries(tokens, separator, memory_limit, false, ctl)
    }

    /// [`Self::build`], with 64-bit suffix-array entries whatever the length when `wide`
    /// (what longer texts get; for tests of that path at small sizes).
    ///
    /// # Errors
    /// As [`Self::build`].
    #[doc(hidden)]
    pub fn build_entries<T: Token>(
        tokens: &[T],
        separator: Option<u64>,
        memory_limit: Option<usize>,
        wide: bool,
        ctl: &Control<'_>,
    ) -> Result<Self> {
        let n = tokens.len();
        let (per, wide) = build_bytes(n, wide);
        check_memory(n, per, wide, memory_limit, "the suffix index of")?;
        ctl.run(|| {
            let units = (0, BUILD_UNITS);
            let (sa, lcp) = sorted(tokens, separator, false, wide, memory_limit, ctl, units)?;
            let total = BUILD_UNITS * n as u64;
            ctl.report(total, total);
            Ok(Self { sa, lcp, separator })
        })
    }

    /// Number of tokens indexed.
    pub fn len(&self) -> usize {
        self.sa.len()
    }

    /// Bytes per suffix-array entry: 4, or 8 past [`MAX_NARROW_TOKENS`] tokens.
    pub fn entry_bytes(&self) -> usize {
        self.sa.width()
    }

    /// Whether the index holds no token.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The separator the index was built with.
    pub fn separator(&self) -> Option<u64> {
        self.separator
    }

    /// The longest repeat that holds no separator (the largest LCP).
    pub fn max_lcp(&self) -> u64 {
        u64::from(self.lcp.max)
    }

    /// The suffix array (a copy): `sa[i]` is where the `i`-th smallest suffix starts.
    pub fn suffix_array(&self) -> Vec<u64> {
        with_sa!(&self.sa, |s| s.iter().map(|&p| p.idx() as u64).collect())
    }

    /// The capped LCP of each suffix with the one before it in the array (0 for the first).
    pub fn lcp(&self, i: usize) -> u32 {
        self.lcp.get(i).0
    }

    /// Bytes the index holds in memory (a memory-mapped index: none; the kernel pages it).
    pub fn bytes(&self) -> usize {
        self.sa.owned_bytes() + self.lcp.owned_bytes()
    }

    fn check_tokens<T: Token>(&self, tokens: &[T]) -> Result<()> {
        if tokens.len() != self.len() {
            return Err(Error::Invalid(format!(
                "tokens has {} entries but the index was built on {}: pass the same tokens",
                tokens.len(),
                self.len()
            )));
        }
        Ok(())
    }

    fn text<'t, T: Token>(&self, tokens: &'t [T]) -> Forward<'t, T> {
        Forward {
            tokens,
            separator: self.separator,
        }
    }

    /// Count profiles of the n-grams of each of `orders`, or, with `None`, of every order
    /// from 1 to the first at which every counted n-gram is unique (included; none when no
    /// n-gram is counted). Orders longer than the input get empty profiles. With a mask, the
    /// reversed text is indexed for the call: `memory_limit` must allow
    /// [`BUILD_BYTES_PER_TOKEN`] per token.
    ///
    /// # Errors
    /// Tokens of another length than the index, a mask of the wrong length, an order of 0,
    /// a memory limit below what a mask needs, a bad thread count, or cancellation.
    pub fn profiles<T: Token>(
        &self,
        tokens: &[T],
        mask: Option<&[bool]>,
        orders: Option<&[usize]>,
        memory_limit: Option<usize>,
        ctl: &Control<'_>,
    ) -> Result<Vec<(usize, Profile)>> {
        Ok(self
            .counted(tokens, mask, orders, Want::NGRAMS, memory_limit, ctl)?
            .0)
    }

    /// Count profiles of the (n-1)-token contexts of the n-grams counted at each order n:
    /// one occurrence per counted n-gram window (so they sum to its n). Order 1's context is
    /// empty: one outcome, seen once per unigram. `orders` as in [`Self::profiles`].
    ///
    /// # Errors
    /// As [`Self::profiles`].
    pub fn context_profiles<T: Token>(
        &self,
        tokens: &[T],
        mask: Option<&[bool]>,
        orders: Option<&[usize]>,
        memory_limit: Option<usize>,
        ctl: &Control<'_>,
    ) -> Result<Vec<(usize, Profile)>> {
        Ok(self
            .counted(tokens, mask, orders, Want::CONTEXTS, memory_limit, ctl)?
            .1)
    }

    /// [`Self::profiles`] and [`Self::context_profiles`] of the same orders from one call:
    /// with a mask, one reversed index serves both.
    ///
    /// # Errors
    /// As [`Self::profiles`].
    pub fn profiles_and_contexts<T: Token>(
        &self,
        tokens: &[T],
        mask: Option<&[bool]>,
        orders: Option<&[usize]>,
        memory_limit: Option<usize>,
        ctl: &Control<'_>,
    ) -> Result<(Orders, Orders)> {
        self.counted(tokens, mask, orders, Want::BOTH, memory_limit, ctl)
    }

    fn counted<T: Token>(
        &self,
        tokens: &[T],
        mask: Option<&[bool]>,
        orders: Option<&[usize]>,
        want: Want,
        memory_limit: Option<usize>,
        ctl: &Control<'_>,
    ) -> Result<(Orders, Orders)> {
        self.check_tokens(tokens)?;
        let n = tokens.len();
        check_mask_len(mask, n)?;
        if mask.is_some() {
            let (per, wide) = build_bytes(n, self.entry_bytes() == 8);
            check_memory(
                n,
                per,
                wide,
                memory_limit,
                "the index of the reversed text (built for profiles under a mask) of",
            )?;
        }
        let wanted = orders.map(sorted_orders).transpose()?;
        ctl.run(|| {
            let fwd = self.text(tokens);
            let Some(mask) = mask else {
                let plan = Plan::new(want, false, wanted.is_none(), n);
                let leaves = Leaves {
                    weight: None,
                    shorten: false,
                };
                let shortened = Leaves {
                    weight: None,
                    shorten: true,
                };
                let scan = |m: usize, leaves: &Leaves<'_>| {
                    let base = plan.next_scan();
                    with_sa!(&self.sa, |sa| {
                        scan::classes(&fwd, sa, &self.lcp, leaves, m.min(n), ctl, base)
                    })
                };
                let unigrams = || (0..n).filter(|&p| fwd.get(p).is_some()).count() as u64;
                return plan.count(wanted, &self.lcp, scan, &leaves, &shortened, unigrams);
            };
            let rev = Reversed(self.text(tokens));
            let plan = Plan::new(want, true, wanted.is_none(), n);
            let wide = self.entry_bytes() == 8;
            let units = (0, plan.units);
            let (rsa, rlcp) = sorted(tokens, self.separator, true, wide, None, ctl, units)?;
            // The n-gram ending at e is the reversed suffix at r = n - 1 - e: it weighs 1
            // when its last token is masked in. Its context starts at r + 1 and weighs what
            // that n-gram does.
            let weight = |r: usize| u64::from(mask[n - 1 - r] && rev.get(r).is_some());
            let before = |r: usize| if r == 0 { 0 } else { weight(r - 1) };
            let leaves = Leaves {
                weight: Some(&weight),
                shorten: false,
            };
            let shifted = Leaves {
                weight: Some(&before),
                shorten: false,
            };
            let scan = |m: usize, leaves: &Leaves<'_>| {
                let base = plan.next_scan();
                with_sa!(&rsa, |sa| {
                    scan::classes(&rev, sa, &rlcp, leaves, m.min(n), ctl, base)
                })
            };
            let unigrams = || (0..n).map(weight).sum();
            plan.count(wanted, &rlcp, scan, &leaves, &shifted, unigrams)
        })
    }
    /// One match length per position: see [`MatchKind`]. Capped at separators; 0 at a
    /// separator.
    ///
    /// # Errors
    /// A bad thread count (the pass itself is sequential), or cancellation.
    pub fn match_lengths(&self, kind: MatchKind, ctl: &Control<'_>) -> Result<Vec<u32>> {
        ctl.thread_count()?;
        with_sa!(&self.sa, |sa| matches::match_lengths(
            sa, &self.lcp, kind, ctl
        ))
    }

    /// Occurrences of `ngram` (original ids, any length >= 1) in `tokens`; 0 if it holds the
    /// separator. The mask is not applied: every occurrence counts.
    ///
    /// # Errors
    /// Tokens of another length than the index, or an empty `ngram`.
    pub fn count<T: Token>(&self, tokens: &[T], ngram: &[u64]) -> Result<u64> {
        self.check_tokens(tokens)?;
        if ngram.is_empty() {
            return Err(Error::Invalid(
                "the n-gram is empty: give at least one token id".into(),
            ));
        }
        let Some(pattern) = self.pattern(ngram) else {
            return Ok(0);
        };
        let text = self.text(tokens);
        let (lo, hi) = with_sa!(&self.sa, |sa| query::range(&text, sa, &pattern));
        Ok((hi - lo) as u64)
    }

    /// The ids that follow `context` (original ids, possibly empty) in `tokens` and their
    /// counts, most frequent first (ties by increasing id), at most `k` of them. A following
    /// separator or the end of the text is not counted.
    ///
    /// # Errors
    /// Tokens of another length than the index.
    pub fn next_counts<T: Token>(
        &self,
        tokens: &[T],
        context: &[u64],
        k: Option<usize>,
    ) -> Result<(Vec<u64>, Vec<u64>)> {
        self.check_tokens(tokens)?;
        let Some(pattern) = self.pattern(context) else {
            return Ok((Vec::new(), Vec::new()));
        };
        let text = self.text(tokens);
        Ok(with_sa!(&self.sa, |sa| query::next_counts(
            &text, sa, &pattern, k
        )))
    }

    /// `ids` as the text compares them; `None` if one is the separator.
    fn pattern(&self, ids: &[u64]) -> Option<Vec<Option<u64>>> {
        ids.iter()
            .map(|&id| (Some(id) != self.separator).then_some(Some(id)))
            .collect()
    }
}

/// The suffix array and capped LCP of `tokens` (reversed or not). `progress` is
/// `(first, total)` in units of `n` tokens: this takes those of [`BUILD_STAGES`], whose ends
/// it reports.
fn sorted<T: Token>(
    tokens: &[T],
    separator: Option<u64>,
    reversed: bool,
    wide: bool,
    limit: Option<usize>,
    ctl: &Control<'_>,
    progress: (u64, u64),
) -> Result<(Sa, Lcp)> {
    let n = tokens.len() as u64;
    let [(_, remap, _), (_, sort, _), (_, lcp, _)] = BUILD_STAGES.map(|s| (s.0, s.1 * n, s.2));
    let (first, total) = (progress.0 * n, progress.1 * n);
    let remapped = construct::Remapped(AtomicU64::new(0));
    // Capped: the remap may read the tokens twice (a count, then the ranks written).
    let report = |k: u64| ctl.report(first + remapped.add(k).min(remap), total);
    let (sa, mut text) =
        construct::suffix_array(tokens, separator, reversed, wide, limit, ctl, &report)?;
    ctl.report(first + remap, total);
    let first = first + remap + sort;
    ctl.report(first, total);
    let progress = Progress::new(ctl, (first, total), (lcp, lcp::PASSES * n));
    // On the sort's text while it is there (huge pages, often narrower than the tokens);
    // if that gives up, the text goes before Φ's permuted array comes, which reads the
    // tokens.
    if let Some(lcp) = with_sa!(&sa, |s| lcp::on_sort_text(&mut text, s, ctl, &progress)?) {
        progress.finish();
        return Ok((sa, lcp));
    }
    drop(text);
    let fwd = Forward { tokens, separator };
    let progress = progress.rest(lcp::PASSES * n);
    let lcp = with_sa!(&sa, |s| if reversed {
        lcp::by_phi(&Reversed(fwd), s, ctl, &progress)?
    } else {
        lcp::by_phi(&fwd, s, ctl, &progress)?
    });
    progress.finish();
    Ok((sa, lcp))
}

/// Reports progress that never goes backwards from parallel segments: `work` units of the
/// pass's own, done in any order, are reported as `span` of the call's, from `base`.
struct Progress<'a> {
    ctl: &'a Control<'a>,
    done: Mutex<u64>,
    base: u64,
    total: u64,
    span: u64,
    work: u64,
}

impl<'a> Progress<'a> {
    /// `(base, total)` in the call's units; `(span, work)` the scale (`(1, 1)`: none).
    fn new(ctl: &'a Control<'a>, (base, total): (u64, u64), (span, work): (u64, u64)) -> Self {
        Self {
            ctl,
            done: Mutex::new(0),
            base,
            total,
            span,
            work: work.max(1),
        }
    }

    fn add(&self, n: u64) {
        let mut done = self.done.lock().unwrap_or_else(|e| e.into_inner());
        *done += n;
        self.ctl.report(self.base + self.scaled(*done), self.total);
    }

    /// Progress for the rest of this pass's span, over `work` units of another pass (for a
    /// pass given up part way): it goes on from where this one stands.
    fn rest(&self, work: u64) -> Progress<'a> {
        let done = *self.done.lock().unwrap_or_else(|e| e.into_inner());
        let at = self.scaled(done.min(self.work));
        Progress::new(
            self.ctl,
            (self.base + at, self.total),
            (self.span - at, work),
        )
    }

    /// Reports the pass's end, `span` units past `base`.
    fn finish(&self) {
        let done = self.done.lock().unwrap_or_else(|e| e.into_inner());
        self.ctl
            .report(self.base + self.scaled(self.work.max(*done)), self.total);
    }

    fn scaled(&self, done: u64) -> u64 {
        if self.span == self.work {
            return done;
        }
        // In 128 bits: `done * span` passes 2^64 past about 2^32 tokens.
        (u128::from(done) * u128::from(self.span) / u128::from(self.work)) as u64
    }
}

/// Refuses `n` tokens at `per` bytes each above `limit`; `what` starts the reason.
fn check_memory(n: usize, per: usize, wide: bool, limit: Option<usize>, what: &str) -> Result<()> {
    let needed = n.saturating_mul(per);
    match limit {
        Some(limit) if limit < needed => {
            let (bits, e) = if wide { (64, 8) } else { (32, 4) };
            Err(Error::MemoryLimit {
                limit: limit as u64,
                needed: needed as u64,
                reason: format!(
                    "{what} {n} tokens needs {per} bytes per token while it is built \
                     ({bits}-bit suffix array {e}, ranks or permuted LCP up to {e}, LCP \
                     bytes 1)"
                ),
            })
        }
        _ => Ok(()),
    }
}

/// Context profiles of orders `2..=m` (from the scan of the contexts' orders `1..m-1`),
/// with order 1's: the empty context, seen once per counted unigram.
fn with_empty_context(unigrams: u64, contexts: Vec<Profile>) -> Vec<Profile> {
    let first = if unigrams > 0 {
        Profile::from_pairs(&[unigrams], &[1]).unwrap_or_default()
    } else {
        Profile::default()
    };
    std::iter::once(first).chain(contexts).collect()
}

/// The asked-for orders out of the profiles of orders `1, 2, ...` (orders past them are
/// empty), or with `None`, orders 1 to the first whose n-grams are all unique (included;
/// nothing when order 1 counts nothing).
fn select(profiles: Vec<Profile>, wanted: Option<Vec<usize>>) -> Vec<(usize, Profile)> {
    match wanted {
        Some(orders) => orders
            .into_iter()
            .map(|o| (o, profiles.get(o - 1).cloned().unwrap_or_default()))
            .collect(),
        None => {
            let mut out = Vec::new();
            if profiles.first().is_none_or(|p| p.n() == 0) {
                return out;
            }
            for (i, p) in profiles.into_iter().enumerate() {
                let unique = p.pairs().iter().all(|&(k, _)| k == 1);
                out.push((i + 1, p));
                if unique {
                    break;
                }
            }
            out
        }
    }
}

/// Which profiles a call wants.
#[derive(Clone, Copy)]
struct Want {
    ngrams: bool,
    contexts: bool,
}

impl Want {
    const NGRAMS: Self = Self {
        ngrams: true,
        contexts: false,
    };
    const CONTEXTS: Self = Self {
        ngrams: false,
        contexts: true,
    };
    const BOTH: Self = Self {
        ngrams: true,
        contexts: true,
    };
}

/// The scans of one profiles call and its progress: [`BUILD_UNITS`] units of n tokens for
/// the reversed index (with a mask), 2 per scan.
struct Plan {
    want: Want,
    /// Whether the n-grams are scanned: asked for, or needed to know the default orders of
    /// the contexts (with a mask; without one they stop at the largest LCP + 1).
    ngrams: bool,
    n: u64,
    units: u64,
    done: AtomicU64,
}

impl Plan {
    fn new(want: Want, masked: bool, default_orders: bool, n: usize) -> Self {
        let ngrams = want.ngrams || (want.contexts && masked && default_orders);
        let scans = u64::from(ngrams) + u64::from(want.contexts);
        let first = if masked { BUILD_UNITS } else { 0 };
        Self {
            want,
            ngrams,
            n: n as u64,
            units: first + 2 * scans,
            done: AtomicU64::new(first),
        }
    }

    /// `(first, total)` progress of the next scan, in tokens.
    fn next_scan(&self) -> (u64, u64) {
        let first = self.done.fetch_add(2, Ordering::Relaxed);
        (first * self.n, self.units * self.n)
    }

    /// The profiles (and contexts) wanted, from `scan(m, leaves)` (the profiles of orders
    /// `1..=m`): `leaves` counts the n-grams, `context` their contexts one order down, and
    /// `unigrams` is order 1's count.
    fn count(
        &self,
        wanted: Option<Vec<usize>>,
        lcp: &Lcp,
        scan: impl Fn(usize, &Leaves<'_>) -> Result<Vec<Profile>>,
        leaves: &Leaves<'_>,
        context: &Leaves<'_>,
        unigrams: impl Fn() -> u64,
    ) -> Result<(Orders, Orders)> {
        let top = match &wanted {
            Some(o) => o.last().copied().unwrap_or(0),
            None => lcp.max as usize + 1,
        };
        let ngrams = if self.ngrams {
            select(scan(top, leaves)?, wanted.clone())
        } else {
            Vec::new()
        };
        if !self.want.contexts {
            return Ok((ngrams, Vec::new()));
        }
        let unigrams = unigrams();
        let m = match (&wanted, self.ngrams) {
            (Some(_), _) => top,
            // The orders `profiles` gives.
            (None, true) => ngrams.len(),
            // Without a mask they end at the largest LCP + 1 (none if nothing is counted).
            (None, false) if unigrams == 0 => 0,
            (None, false) => top.min(self.n as usize),
        };
        let ctx = scan(m.saturating_sub(1), context)?;
        let wanted = wanted.unwrap_or_else(|| (1..=m).collect());
        let contexts = select(with_empty_context(unigrams, ctx), Some(wanted));
        let ngrams = if self.want.ngrams { ngrams } else { Vec::new() };
        Ok((ngrams, contexts))
    }
}
