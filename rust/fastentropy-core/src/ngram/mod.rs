//! Exact n-gram counting: count profiles of orders 1..K in one pass, in bounded memory.
//!
//! Algorithm. Token ids are remapped to dense ranks `1..=V` (0 is the sentinel for a
//! separator or the end of input), so a token takes `bits = bit_length(V)` bits. The K-gram
//! starting at each position is packed into one `u64` key (`u128` when `K * bits > 64`), with
//! sentinel padding, so the n-prefix of a key is the n-gram at that position for every
//! `n <= K` ([`keys`]). Sorting the keys makes windows that share an n-prefix adjacent for
//! every n at once, so one scan closes the runs of all orders and tallies their
//! count-of-counts ([`scan`]). Unigrams come straight from the rank histogram. In practice
//! the first token is not keyed: windows are bucketed by it and only their tails (the other
//! K-1 tokens) are sorted, per bucket ([`partition`], [`sort`]), which often turns u128 keys
//! into u64. Keys reach their buckets through groups of consecutive first tokens, staged a
//! cache line at a time ([`scatter`]), not by one random write each.
//!
//! Why sorting: on high-cardinality data (most 5-grams distinct) a hash table per order is
//! bound by random memory access, one cache miss per probe, while sorting streams memory and
//! serves all orders with one sort. Why it scales: keys are partitioned by first token
//! ([`partition`]); the unigram histogram sizes every partition before a key is built, so
//! partitions are chosen to fit the memory limit (a first token too large alone is split by
//! its second token), counted in parallel, and their profiles simply add because they hold
//! disjoint n-grams. Every sum is an integer sum, so the result
//! is the same for any thread count and any memory limit. Key buffers are mapped from the
//! kernel per worker and unmapped at the end ([`buffer`]), so the allocator cannot keep them
//! past the limit.

pub(crate) mod buffer;
mod keys;
#[cfg(target_arch = "x86_64")]
mod lanes;
mod merge;
mod partition;
mod ranged;
mod scan;
mod scatter;
mod sort;
pub(crate) mod vocab;

#[cfg(test)]
mod tests;

use std::sync::Mutex;

pub use keys::max_order;
use keys::{Key, Layout};
pub use merge::{merge_ngram_runs, RunCounts, RunFile, RunMerge};
use partition::Job;
pub use ranged::{token_counts, FirstRange};
use scan::{Histogram, Kept};
use vocab::{Rank, Ranks};

use crate::control::Control;
use crate::error::{Error, Result};
use crate::profile::Profile;
use crate::tokens::{check_mask_len, Token};

/// Fixed chunk length for parallel passes over tokens (fixed so work splits the same way).
const CHUNK: usize = 1 << 18;

/// What to count. `Default` counts everything, with no memory limit. How the count runs
/// (threads, cancellation, progress) is the [`Control`]'s business.
#[derive(Clone, Copy, Default)]
pub struct CountOptions<'a> {
    /// A token id that ends a document: no counted n-gram contains it.
    pub separator: Option<u64>,
    /// One flag per token: only n-grams whose last token is masked in are counted.
    pub mask: Option<&'a [bool]>,
    /// Bytes the engine may allocate for its own buffers (the input is not counted).
    pub memory_limit: Option<usize>,
}

/// Count profiles for each of `orders` (any order, duplicates merged), sharing one sort for
/// all orders. Returns `(order, profile)` pairs by increasing order. Orders longer than the
/// input get empty profiles.
///
/// Runs on `ctl`'s threads; stops at the next chunk of tokens or group of keys once `ctl` is
/// cancelled; reports `(done, total)` in tokens' worth of work, in increasing order: as
/// chunks of tokens are remapped (the first fifth), then as partitions finish.
///
/// # Errors
/// An order of 0, a negative id, a mask of the wrong length, an order too large to pack for
/// this vocabulary, an unmet memory limit, or cancellation.
pub fn ngram_profiles<T: Token>(
    tokens: &[T],
    orders: &[usize],
    opts: &CountOptions<'_>,
    ctl: &Control<'_>,
) -> Result<Vec<(usize, Profile)>> {
    Ok(count(tokens, orders, None, opts, ctl, None, None)?.profiles)
}

/// Counts the n-grams of one order, keeping what [`NgramCounts::most_common`] needs.
///
/// # Errors
/// As [`ngram_profiles`].
pub fn count_ngrams<T: Token>(
    tokens: &[T],
    order: usize,
    opts: &CountOptions<'_>,
    ctl: &Control<'_>,
) -> Result<NgramCounts> {
    let counted = count(tokens, &[order], Some(order), opts, ctl, None, None)?;
    let mut kept = counted.kept;
    // Most common first; the stable sort keeps n-gram order among equal counts.
    kept.repeated.sort_by_key(|&(_, c)| std::cmp::Reverse(c));
    let (_, profile) = counted.profiles.into_iter().next().unwrap_or_default();
    Ok(NgramCounts {
        order,
        profile,
        bits: counted.bits,
        ids: counted.ids,
        kept,
    })
}

/// Where [`ngram_table`] hands its rows: `(ngrams, counts)`, `ngrams` holding `order`
/// original ids per row, row-major.
pub type TableSink<'a> = dyn FnMut(&[u64], &[u64]) -> Result<()> + Send + 'a;

/// Rows handed to a [`TableSink`] at once (bounds the ids converted from packed n-grams).
const TABLE_BATCH: usize = 1 << 16;

/// Every n-gram of `order` seen at least `min_count` times, with its count, handed to `sink`
/// in batches in n-gram order (lexicographic by id): the full count table, singletons
/// included, which [`count_ngrams`] does not keep. Returns the number of rows.
///
/// Memory stays within the limit: the key space is partitioned as for a count, with room for
/// each partition's rows, and partitions are counted one round (one per thread) at a time,
/// their rows handed on before the next round starts.
///
/// # Errors
/// As [`ngram_profiles`], and whatever `sink` returns (which stops the count).
pub fn ngram_table<T: Token>(
    tokens: &[T],
    order: usize,
    min_count: u64,
    opts: &CountOptions<'_>,
    ctl: &Control<'_>,
    sink: &mut TableSink<'_>,
) -> Result<u64> {
    let mut rows = 0u64;
    let mut counted = |ngrams: &[u64], counts: &[u64]| {
        rows += counts.len() as u64;
        sink(ngrams, counts)
    };
    count(
        tokens,
        &[order],
        Some(order),
        opts,
        ctl,
        Some((min_count, &mut counted)),
        None,
    )?;
    Ok(rows)
}

/// Hands the rows of `kept` to `sink` as original ids, [`TABLE_BATCH`] at a time.
fn emit_rows(kept: Kept, layout: &Layout, ids: &[u64], sink: &mut TableSink<'_>) -> Result<()> {
    for batch in kept.repeated.chunks(TABLE_BATCH) {
        let mut ngrams = Vec::with_capacity(batch.len() * layout.order);
        for &(g, _) in batch {
            ngrams.extend(layout.unpack(g, layout.order).map(|r| ids[r as usize - 1]));
        }
        let counts: Vec<u64> = batch.iter().map(|&(_, c)| c).collect();
        sink(&ngrams, &counts)?;
    }
    Ok(())
}

/// A batch of [`ngram_runs`] rows, in sorted order: the windows starting with local rank
/// `firsts[j].0` are the next `firsts[j].1` rows; row i's tail is packed in
/// `tails[i * words..][..words]` (little-endian words of the tail key), seen `counts[i]`
/// times.
pub struct RunBatch<'a> {
    /// `(first token's local rank, rows)` per stretch of rows of one first token.
    pub firsts: &'a [(u32, u64)],
    /// Each row's tail key, `words` little-endian u64 words.
    pub tails: &'a [u64],
    /// Words per tail: 1 when the tail takes at most 64 bits, else 2.
    pub words: usize,
    /// Each row's count (>= 1).
    pub counts: &'a [u64],
}

/// Where [`ngram_runs`] hands its rows.
pub type RunSink<'a> = dyn FnMut(&RunBatch<'_>) -> Result<()> + Send + 'a;

/// What [`ngram_runs`] found beside its rows: the local vocabulary its ranks stand for and
/// the layout of its tails.
#[derive(Debug, Clone, Default)]
pub struct RunInfo {
    /// The distinct ids, ascending: local rank r is `ids[r - 1]`.
    pub ids: Vec<u64>,
    /// Tokens of each rank that are masked in (the unigram counts): `unigrams[r - 1]`.
    pub unigrams: Vec<u64>,
    /// Bits per token field of the tails.
    pub bits: u32,
    /// Whether the tails carry flag bits (one per tail field, below the fields).
    pub masked: bool,
}

/// The map step of a count over shards: every distinct window of up to `order` tokens
/// (sentinel-padded, at least two tokens, with its mask flags) and its count, handed to
/// `sink` sorted by (first token, tail), in the local ranks of [`RunInfo::ids`]. The n-gram
/// counts of every order 2..=`order` are sums over runs of these rows (the windows sharing
/// an n-prefix), so one sort serves every order, and the rows of several shards merge
/// ([`merge_ngram_runs`]). The tail of a window is the key of its `order - 1` tokens after
/// the first ([`keys`]; flag bit j set iff the window's token j + 1 is masked in).
///
/// # Errors
/// As [`ngram_profiles`], and whatever `sink` returns.
pub fn ngram_runs<T: Token>(
    tokens: &[T],
    order: usize,
    opts: &CountOptions<'_>,
    ctl: &Control<'_>,
    sink: &mut RunSink<'_>,
) -> Result<RunInfo> {
    let counted = count(tokens, &[order], None, opts, ctl, None, Some(sink))?;
    Ok(RunInfo {
        unigrams: counted.unigrams,
        bits: counted.bits,
        masked: opts.mask.is_some(),
        ids: counted.ids,
    })
}

/// Hands the rows of `kept` to `sink` at once: the words of the tail keys as the scanner
/// wrote them, no copy.
fn emit_runs(kept: Kept, width: u32, sink: &mut RunSink<'_>) -> Result<()> {
    let runs = kept.runs;
    if runs.counts.is_empty() {
        return Ok(());
    }
    sink(&RunBatch {
        firsts: &runs.firsts,
        tails: &runs.tails,
        words: if width <= 64 { 1 } else { 2 },
        counts: &runs.counts,
    })
}

/// The n-gram counts of one order.
#[derive(Debug, Clone)]
pub struct NgramCounts {
    order: usize,
    profile: Profile,
    bits: u32,
    ids: Vec<u64>,
    /// Repeated n-grams most common first, then the smallest singletons.
    kept: Kept,
}

impl NgramCounts {
    /// The n-gram order.
    pub fn order(&self) -> usize {
        self.order
    }

    /// Number of n-gram occurrences counted.
    pub fn n(&self) -> u64 {
        self.profile.n()
    }

    /// Number of distinct n-grams.
    pub fn distinct(&self) -> u64 {
        self.profile.distinct()
    }

    /// The count profile.
    pub fn profile(&self) -> Profile {
        self.profile.clone()
    }

    /// The `k` most common n-grams (all of them if `k` is larger) as `(ngrams, counts)`:
    /// `ngrams` holds `order` original ids per row, row-major. Equal counts come in n-gram
    /// order (lexicographic by id).
    ///
    /// # Errors
    /// When the rows would reach past the n-grams seen once that are kept (the smallest
    /// 4096 of them): all n-grams seen twice or more are always available.
    pub fn most_common(&self, k: usize) -> Result<(Vec<u64>, Vec<u64>)> {
        let rows = k.min(self.distinct() as usize);
        let available = self.kept.repeated.len() + self.kept.singletons.len();
        if rows > available {
            return Err(Error::Invalid(format!(
                "most_common({k}) asks for {rows} rows but only {available} are kept: every \
                 n-gram seen twice or more ({}) and the first {} seen once",
                self.kept.repeated.len(),
                self.kept.singletons.len()
            )));
        }
        let layout = Layout {
            order: self.order,
            bits: self.bits,
            flags: 0,
        };
        let singles = self.kept.singletons.iter().map(|&g| (g, 1));
        let (mut ngrams, mut counts) = (Vec::with_capacity(rows * self.order), Vec::new());
        for (g, c) in self.kept.repeated.iter().copied().chain(singles).take(rows) {
            ngrams.extend(
                layout
                    .unpack(g, self.order)
                    .map(|r| self.ids[r as usize - 1]),
            );
            counts.push(c);
        }
        Ok((ngrams, counts))
    }
}

/// What one count produces.
struct Counted {
    profiles: Vec<(usize, Profile)>,
    kept: Kept,
    bits: u32,
    ids: Vec<u64>,
    /// Masked-in tokens of each rank 1..=V.
    unigrams: Vec<u64>,
}

/// The orders asked for, ascending and each once; order 0 refused.
pub(crate) fn sorted_orders(orders: &[usize]) -> Result<Vec<usize>> {
    let mut orders = orders.to_vec();
    orders.sort_unstable();
    orders.dedup();
    if orders.first() == Some(&0) {
        return Err(Error::Invalid(
            "order 0 is not an n-gram order: orders must be >= 1".into(),
        ));
    }
    Ok(orders)
}

/// A count table's minimum count and where its rows go.
type Table<'s, 'a> = Option<(u64, &'s mut TableSink<'a>)>;

fn count<T: Token>(
    tokens: &[T],
    orders: &[usize],
    keep: Option<usize>,
    opts: &CountOptions<'_>,
    ctl: &Control<'_>,
    table: Table<'_, '_>,
    runs: Option<&mut RunSink<'_>>,
) -> Result<Counted> {
    let orders = sorted_orders(orders)?;
    check_mask_len(opts.mask, tokens.len())?;
    ctl.run(|| count_in_pool(tokens, &orders, keep, opts, ctl, table, runs))
}

fn count_in_pool<T: Token>(
    tokens: &[T],
    orders: &[usize],
    keep: Option<usize>,
    opts: &CountOptions<'_>,
    ctl: &Control<'_>,
    table: Table<'_, '_>,
    runs: Option<&mut RunSink<'_>>,
) -> Result<Counted> {
    let progress = Progress {
        ctl,
        total: tokens.len() as u64,
        state: Mutex::new((0, 0)),
    };
    let vocab = vocab::remap(
        tokens,
        &vocab::Pass {
            separator: opts.separator,
            mask: opts.mask,
            ctl,
            limit: opts.memory_limit,
            progress: &|n| progress.remapped(n),
        },
    )?;
    let fixed = vocab.rank_bytes() + vocab.table_bytes();
    check_limit(
        opts.memory_limit,
        fixed,
        "the ranks and the vocabulary tables",
    )?;
    let bits = keys::bits_per_token(vocab.distinct());
    // A count table's rows leave as original ids, partition by partition.
    let min_count = table.as_ref().map(|t| t.0);
    let mut table = table.map(|(_, sink)| {
        let layout = Layout {
            order: keep.unwrap_or(1),
            bits,
            flags: 0,
        };
        let ids = &vocab.ids;
        move |kept: Kept| emit_rows(kept, &layout, ids, sink)
    });
    // Orders past the input length, or with nothing to count, never need a key. Runs keep
    // the windows shorter than their order too (near the end of the input).
    let keyed: Vec<usize> = (orders.iter().copied())
        .filter(|&n| n >= 2 && vocab.distinct() > 0)
        .filter(|&n| n <= tokens.len() || (runs.is_some() && tokens.len() >= 2))
        .collect();
    let rows = runs.is_some();
    let mut runs = runs.map(|sink| move |kept: Kept, width: u32| emit_runs(kept, width, sink));
    let (hists, mut kept) = match keyed.last() {
        None => (Vec::new(), Kept::default()),
        Some(&k) => {
            let masked = opts.mask.is_some();
            // Checks that the whole K-gram packs, though only its tail is ever keyed.
            Layout::new(k, vocab.distinct(), masked, k)?;
            let tail = Layout::new(k - 1, vocab.distinct(), masked, k)?;
            // Runs keep windows of every length >= 2 (tail orders 1..K-1), with all flags.
            let tail_orders: Vec<usize> = if rows {
                (1..k).collect()
            } else {
                keyed.iter().map(|&n| n - 1).collect()
            };
            let width = tail.width() as u32;
            let mut as_rows = runs.as_mut().map(|f| move |kept: Kept| f(kept, width));
            let keep = keep.filter(|&n| n >= 2).map(|n| n - 1);
            let (mask, orders) = (opts.mask, &tail_orders[..]);
            let (counts, progress) = (&vocab.counts[..], &progress);
            let mut emit = match as_rows.as_mut() {
                Some(f) => Some(f as &mut partition::Emit<'_>),
                None => table.as_mut().map(|f| f as &mut partition::Emit<'_>),
            };
            // One arm per rank type: each compiles the engine for it.
            macro_rules! count {
                ($ranks:expr) => {
                    count_job(
                        &Job {
                            table: if rows { Some(1) } else { min_count },
                            rows,
                            ..Job::new($ranks, mask, tail, orders, keep)
                        },
                        counts,
                        fixed,
                        opts,
                        ctl,
                        progress,
                        emit.as_deref_mut(),
                    )?
                };
            }
            match &vocab.ranks {
                Ranks::Narrow(r) => count!(r.as_slice()),
                Ranks::Wide(r) => count!(r.as_slice()),
                Ranks::Ids16(r) => count!(r),
                Ranks::Ids32(r) => count!(r),
            }
        }
    };
    if keep == Some(1) {
        if let Some(min) = min_count {
            kept = Kept::all(min);
        }
        for (r, &c) in vocab.masked.iter().enumerate().skip(1) {
            if c > 0 {
                kept.add(r as u128, c);
            }
        }
        if let Some(emit) = table.as_mut() {
            emit(std::mem::take(&mut kept))?;
        }
    }
    let mut hists = hists.into_iter();
    let mut profiles = Vec::with_capacity(orders.len());
    for &n in orders {
        let profile = if n == 1 {
            Profile::from_counts(&vocab.masked[1..])?
        } else if keyed.contains(&n) {
            hists.next().unwrap_or_default().into_profile()?
        } else {
            Profile::default()
        };
        profiles.push((n, profile));
    }
    ctl.report(tokens.len() as u64, tokens.len() as u64);
    Ok(Counted {
        profiles,
        kept,
        bits,
        unigrams: vocab.masked[1..].to_vec(),
        ids: vocab.ids,
    })
}

/// Counts with the narrowest keys the tails fit.
fn count_job<R: Rank>(
    job: &Job<'_, R>,
    counts: &[u64],
    fixed: usize,
    opts: &CountOptions<'_>,
    ctl: &Control<'_>,
    progress: &Progress<'_>,
    emit: Option<&mut partition::Emit<'_>>,
) -> Result<(Vec<Histogram>, Kept)> {
    if job.tail.width() <= 64 {
        count_keys::<u64, R>(job, counts, fixed, opts, ctl, progress, emit)
    } else {
        count_keys::<u128, R>(job, counts, fixed, opts, ctl, progress, emit)
    }
}

/// Plans partitions that fit what is left of the limit, then counts them.
fn count_keys<K: Key, R: Rank>(
    job: &Job<'_, R>,
    counts: &[u64],
    fixed: usize,
    opts: &CountOptions<'_>,
    ctl: &Control<'_>,
    progress: &Progress<'_>,
    emit: Option<&mut partition::Emit<'_>>,
) -> Result<(Vec<Histogram>, Kept)> {
    let threads = rayon::current_num_threads();
    // A count table also holds a partition's rows (one per key at most) until handed on.
    let row_bytes = if emit.is_some() {
        size_of::<(u128, u64)>() as u64
    } else {
        0
    };
    // Each worker holds a partition's keys and what scattering and sorting them takes; its
    // first tokens span at most all the ranks.
    let needed = |largest: u64| {
        let worker = scatter::worker_bytes(largest, counts.len(), size_of::<K>())
            .saturating_add(largest.saturating_mul(row_bytes));
        let worker = usize::try_from(worker).unwrap_or(usize::MAX);
        fixed.saturating_add(worker.saturating_mul(threads))
    };
    let cap = match opts.memory_limit {
        None => u64::MAX,
        // No room at all fails in `plan`, which names the limit that would work.
        Some(limit) => most_keys(|keys| needed(keys) <= limit, limit as u64),
    };
    // One partition per thread when memory allows: each partition reads all the ranks once,
    // and the plan already balances partitions by their windows. Two per thread measured
    // 2-4% slower (1e8 tokens, 50k vocabulary, 2 threads) and 7% on byte-level text, for
    // half the key memory per worker.
    let parts = threads;
    let limit = opts.memory_limit.unwrap_or(0);
    // First tokens that alone overflow a worker's keys are split by their second token; the
    // pair counts that plan the split are freed before any key buffer is allocated.
    let oversized = partition::oversized(counts, cap);
    let pairs = match oversized.iter().map(|&r| counts[r as usize]).max() {
        None => Vec::new(),
        Some(largest) => {
            let pair_bytes = partition::pair_bytes(oversized.len(), counts.len());
            if fixed + pair_bytes > limit {
                // No room to plan a split: name the limit that needs none.
                return Err(partition::too_small(limit, needed(largest), largest, false));
            }
            partition::pair_counts(job.ranks, &oversized, counts.len() - 1, ctl)?
        }
    };
    let ranges = partition::plan(counts, cap, parts, &oversized, &pairs).map_err(|largest| {
        // A larger limit splits fewer first tokens, so the pair counts still fit.
        let pair_bytes = partition::pair_bytes(oversized.len(), counts.len());
        let needed = needed(largest).max(fixed + pair_bytes);
        partition::too_small(limit, needed, largest, true)
    })?;
    drop(pairs);
    match emit {
        None => partition::run::<K, R>(job, counts, &ranges, opts, ctl, progress),
        Some(emit) => {
            partition::stream::<K, R>(job, counts, &ranges, opts, ctl, progress, emit)?;
            Ok((Vec::new(), Kept::default()))
        }
    }
}

/// The most keys (at most `most`) that `fits`, which holds up to some count and no further.
fn most_keys(fits: impl Fn(u64) -> bool, most: u64) -> u64 {
    let (mut lo, mut hi) = (0, most);
    if !fits(lo) {
        return 0;
    }
    // Invariant: `fits(lo)`, and nothing above `hi` fits.
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if fits(mid) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

/// Share of the progress (percent) taken by the remap pass, about its share of the time.
const REMAP_SHARE: u128 = 20;

/// Progress in tokens' worth of work: the remap pass is its first [`REMAP_SHARE`] percent,
/// the partitions' windows the rest. It turns partial progress from many workers into one
/// `(done, total)` for the [`Control`]; reports come under one lock, so they never decrease.
pub(crate) struct Progress<'a> {
    ctl: &'a Control<'a>,
    total: u64,
    /// Tokens remapped and windows counted so far.
    state: Mutex<(u64, u64)>,
}

impl Progress<'_> {
    pub fn remapped(&self, tokens: u64) {
        self.advance(tokens, 0);
    }

    pub fn counted(&self, windows: u64) {
        self.advance(0, windows);
    }

    fn advance(&self, tokens: u64, windows: u64) {
        if self.ctl.progress.is_none() {
            return;
        }
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.0 += tokens;
        state.1 += windows;
        let done = (state.0 as u128 * REMAP_SHARE + state.1 as u128 * (100 - REMAP_SHARE)) / 100;
        self.ctl.report((done as u64).min(self.total), self.total);
    }
}

fn check_limit(limit: Option<usize>, needed: usize, what: &str) -> Result<()> {
    match limit {
        Some(limit) if limit < needed => Err(Error::MemoryLimit {
            limit: limit as u64,
            needed: needed as u64,
            reason: format!("{what} alone take {needed} bytes"),
        }),
        _ => Ok(()),
    }
}

/// Whether four slots all differ. Loops that add to counters (or advance cursors) at
/// data-dependent slots run up to twice as fast four at a time when they do, which is
/// nearly always: the four loads are then issued before any store, where one at a time
/// each load waited on the store before it in case the two were the same slot.
#[inline(always)]
fn all_differ([a, b, c, d]: [usize; 4]) -> bool {
    a != b && a != c && a != d && b != c && b != d && c != d
}
