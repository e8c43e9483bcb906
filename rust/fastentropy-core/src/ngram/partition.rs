//! Splitting the key space by first token so each partition's keys fit the memory budget,
//! and counting the partitions in parallel.
//!
//! A partition is a range of first-token ranks; the unigram histogram gives its number of
//! windows per first token before any key is built. So a partition scatters each window's
//! tail (the key of the K-1 tokens after the first) into the bucket of its first token, in
//! two cache-friendly passes ([`super::scatter`]), then sorts each bucket alone: the
//! first-token field never enters a key (u128 keys often become u64) and many small sorts
//! beat one big one. Partitions hold disjoint n-grams, so their count profiles add, and
//! integer sums make the result independent of scheduling.
//!
//! A first token that alone starts more windows than a worker's keys may hold (the space in
//! byte-level text) is split further by its second token: one extra pass over the ranks
//! counts its (first, second) pairs into a dense array per such token, and its partitions are
//! ranges of second tokens (windows whose second position is a separator or past the end come
//! first and are never keyed). Every n-gram of order >= 2 has one second token, so its runs
//! stay inside one such partition; order 1 comes from the histogram, never from keys.

use std::ops::Range;

use rayon::prelude::*;

use super::keys::{Key, Layout};
use super::scan::{Histogram, Kept, Scanner};
use super::scatter::{self, Buffers, Groups};
use super::sort::Sorter;
use super::vocab::Rank;
use super::{CountOptions, Progress, CHUNK};
use crate::control::Control;
use crate::error::{Error, Result};

/// One partition: a range of first-token ranks, or one first token's windows whose second
/// token lies in a range of ranks (0, the sentinel, first) when that first token alone starts
/// more windows than fit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Part {
    pub firsts: Range<u32>,
    /// `Some` for a split first token: the second-token ranks of its windows counted here.
    pub seconds: Option<Range<u32>>,
    /// At most this many keys are stored (the key buffer's length).
    pub keys: u64,
    /// Windows this partition covers, for progress.
    pub windows: u64,
}

/// The ranks (ascending) that alone start more than `cap` windows: these are split by their
/// second token.
pub(crate) fn oversized(counts: &[u64], cap: u64) -> Vec<u32> {
    (counts.iter().enumerate().skip(1))
        .filter(|&(_, &c)| c > cap)
        .map(|(r, _)| r as u32)
        .collect()
}

/// Bytes [`pair_counts`] allocates for `oversized` first tokens over `ranks` ranks 0..V.
pub(crate) fn pair_bytes(oversized: usize, ranks: usize) -> usize {
    oversized * ranks * size_of::<u64>() + ranks * size_of::<u32>()
}

/// `pairs[j][s]`: windows whose first token is `oversized[j]` and whose second is rank `s`
/// (0: a separator or the end of input), in one pass over the ranks.
pub(crate) fn pair_counts<R: Rank>(
    ranks: &[R],
    oversized: &[u32],
    distinct: usize,
    ctl: &Control<'_>,
) -> Result<Vec<Vec<u64>>> {
    let mut slot = vec![u32::MAX; distinct + 1];
    for (j, &r) in oversized.iter().enumerate() {
        slot[r as usize] = j as u32;
    }
    let mut pairs = vec![vec![0u64; distinct + 1]; oversized.len()];
    for (c, chunk) in ranks.chunks(CHUNK).enumerate() {
        ctl.check()?;
        let next = ranks.get((c + 1) * CHUNK).map_or(0, |&r| r.get());
        for (i, &r) in chunk.iter().enumerate() {
            let j = slot[r.get() as usize];
            if j != u32::MAX {
                let second = chunk.get(i + 1).map_or(next, |&r| r.get());
                pairs[j as usize][second as usize] += 1;
            }
        }
    }
    Ok(pairs)
}

/// Partitions covering ranks `1..counts.len()`, each with at most `cap` keys, aiming at
/// `parts` partitions: contiguous first-token ranges, except that each of `oversized` (with
/// its `pairs` from [`pair_counts`]) is split into contiguous second-token ranges.
/// `Err(count)`: the largest (first, second) pair that must be split has `count > cap` windows.
pub(crate) fn plan(
    counts: &[u64],
    cap: u64,
    parts: usize,
    oversized: &[u32],
    pairs: &[Vec<u64>],
) -> Result<Vec<Part>, u64> {
    // The largest pair, not the first too large: the error names a limit that works.
    // Windows whose second token is the sentinel never make a key.
    let largest = pairs
        .iter()
        .flat_map(|p| p.iter().skip(1))
        .copied()
        .max()
        .unwrap_or(0);
    if largest > cap {
        return Err(largest);
    }
    let total: u64 = counts.iter().skip(1).sum();
    let target = total.div_ceil(parts.max(1) as u64).clamp(1, cap.max(1));
    let whole = |range: Range<u32>| {
        let n = counts_in(counts, &range);
        Part {
            firsts: range,
            seconds: None,
            keys: n,
            windows: n,
        }
    };
    let mut ranges = Vec::new();
    let mut start = 1u32;
    let mut size = 0u64;
    let mut split = oversized.iter().zip(pairs).peekable();
    for (r, &c) in counts.iter().enumerate().skip(1) {
        let r = r as u32;
        if let Some((_, pair)) = split.next_if(|&(&o, _)| o == r) {
            if size > 0 {
                ranges.push(whole(start..r));
            }
            split_first(r, pair, target, &mut ranges);
            (start, size) = (r + 1, 0);
            continue;
        }
        if size > 0 && size + c > target {
            ranges.push(whole(start..r));
            start = r;
            size = 0;
        }
        size += c;
    }
    if size > 0 {
        // A small remainder joins the last range when it fits: every range costs a pass
        // over all the ranks.
        let end = counts.len() as u32;
        match ranges.last_mut() {
            Some(last)
                if last.seconds.is_none() && size <= target / 4 && last.keys + size <= cap =>
            {
                *last = whole(last.firsts.start..end);
            }
            _ => ranges.push(whole(start..end)),
        }
    }
    Ok(ranges)
}

/// Splits the windows of first rank `first` into second-token ranges of at most `target`
/// keys (or one pair, if larger), appended in increasing order.
fn split_first(first: u32, pair: &[u64], target: u64, ranges: &mut Vec<Part>) {
    // The sentinel's windows are never keyed: they only count for progress.
    let mut part = Part {
        firsts: first..first + 1,
        seconds: Some(0..1),
        keys: 0,
        windows: pair.first().copied().unwrap_or(0),
    };
    for (s, &c) in pair.iter().enumerate().skip(1) {
        let s = s as u32;
        if c > 0 && part.keys > 0 && part.keys + c > target {
            let next = Part {
                seconds: Some(s..s),
                keys: 0,
                windows: 0,
                ..part.clone()
            };
            ranges.push(std::mem::replace(&mut part, next));
        }
        part.keys += c;
        part.windows += c;
        part.seconds = part.seconds.map(|r| r.start..s + 1);
    }
    ranges.push(part);
}

fn counts_in(counts: &[u64], range: &Range<u32>) -> u64 {
    counts[range.start as usize..range.end as usize]
        .iter()
        .sum()
}

/// Everything a partition reads.
pub(crate) struct Job<'a, R> {
    pub ranks: &'a [R],
    pub mask: Option<&'a [bool]>,
    /// The layout of the tails: K-1 tokens.
    pub tail: Layout,
    /// Tail orders `n - 1` of the orders n counted from keys: all >= 1, ascending.
    pub orders: &'a [usize],
    /// The tail order whose n-grams and counts are kept for `most_common`, if any.
    pub keep: Option<usize>,
    /// For a count table: keep every n-gram of `keep` seen at least this many times.
    pub table: Option<u64>,
    /// For runs ([`super::ngram_runs`]): keep every distinct window (first token and tail)
    /// with its count instead of scanning for orders.
    pub rows: bool,
    /// Only windows starting before this position are counted; the ranks after it are
    /// only read as the tails of those (a chunk of a longer slice, [`super::ranged`]).
    pub starts: usize,
}

impl<'a, R> Job<'a, R> {
    pub fn new(
        ranks: &'a [R],
        mask: Option<&'a [bool]>,
        tail: Layout,
        orders: &'a [usize],
        keep: Option<usize>,
    ) -> Self {
        Self {
            ranks,
            mask,
            tail,
            orders,
            keep,
            table: None,
            rows: false,
            starts: usize::MAX,
        }
    }
}

/// One partition's histograms (one per order) and kept n-grams.
type Counted = (Vec<Histogram>, Kept);

/// The body of the parallel loops of [`run`] and [`stream`]: counts one partition of
/// `parts` in a worker's buffers, made on its first partition to hold the longest one's keys
/// (which the limit allows per thread) and reused (fresh pages cost a fault each), and
/// reports it.
fn worker<'a, K: Key, R: Rank>(
    job: &'a Job<'a, R>,
    counts: &'a [u64],
    parts: &[Part],
    opts: &'a CountOptions<'a>,
    ctl: &'a Control<'a>,
    progress: &'a Progress<'a>,
) -> impl Fn(&mut Option<Buffers<K>>, &Part) -> Result<Counted> + Send + Sync + 'a {
    let longest = parts.iter().map(|p| p.keys).max().unwrap_or(0) as usize;
    move |bufs, part| {
        ctl.check()?;
        let bufs = match bufs {
            Some(b) => b,
            None => bufs.insert(Buffers::new(longest, opts.memory_limit)?),
        };
        let counted = count_partition(job, counts, part, bufs, ctl)?;
        progress.counted(part.windows);
        Ok(counted)
    }
}

/// Counts every partition and adds their histograms (and kept n-grams, in partition order).
pub(crate) fn run<K: Key, R: Rank>(
    job: &Job<'_, R>,
    counts: &[u64],
    parts: &[Part],
    opts: &CountOptions<'_>,
    ctl: &Control<'_>,
    progress: &Progress<'_>,
) -> Result<(Vec<Histogram>, Kept)> {
    let empty = || {
        (
            vec![Histogram::default(); job.orders.len()],
            Kept::default(),
        )
    };
    parts
        .par_iter()
        // One set of buffers per worker (rayon's split), reused.
        .map_init(
            || None,
            worker::<K, R>(job, counts, parts, opts, ctl, progress),
        )
        // Merged as they come, not collected: a tight limit makes many partitions, and each
        // one's histograms take 8 KiB per order. Rayon's reduction keeps partition order,
        // which the kept n-grams need.
        .try_reduce(empty, |(mut hists, mut kept), (h, k)| {
            hists.iter_mut().zip(&h).for_each(|(a, b)| a.merge(b));
            kept.append(k);
            Ok((hists, kept))
        })
}

/// As [`run`] for a count table: partitions are counted a round of one per thread at a time,
/// and each round's kept n-grams go to `emit` in partition order (so in n-gram order) before
/// the next round starts, so at most one round's rows are held at once.
pub(crate) fn stream<K: Key, R: Rank>(
    job: &Job<'_, R>,
    counts: &[u64],
    parts: &[Part],
    opts: &CountOptions<'_>,
    ctl: &Control<'_>,
    progress: &Progress<'_>,
    emit: &mut Emit<'_>,
) -> Result<()> {
    let threads = rayon::current_num_threads().max(1);
    for round in parts.chunks(threads) {
        let kept: Vec<Result<Kept>> = round
            .par_iter()
            .map_init(
                || None,
                worker::<K, R>(job, counts, parts, opts, ctl, progress),
            )
            .map(|counted| Ok(counted?.1))
            .collect();
        for k in kept {
            emit(k?)?;
        }
    }
    Ok(())
}

/// Where [`stream`] hands each partition's kept n-grams.
pub(crate) type Emit<'a> = dyn FnMut(Kept) -> Result<()> + Send + 'a;

pub(crate) fn count_partition<K: Key, R: Rank>(
    job: &Job<'_, R>,
    counts: &[u64],
    part: &Part,
    bufs: &mut Buffers<K>,
    ctl: &Control<'_>,
) -> Result<(Vec<Histogram>, Kept)> {
    let range = part.firsts.clone();
    // Bucket `b` (first rank `range.start + b`) holds at most that rank's count of keys; a
    // split first token has one bucket, sized by its pairs.
    let split = [part.keys];
    let sizes = if part.seconds.is_some() {
        &split[..]
    } else {
        &counts[range.start as usize..range.end as usize]
    };
    let groups = Groups::new(sizes);
    let ends = scatter::scatter_part(job, part, &groups, bufs, ctl)?;
    let mut scanner = Scanner::new(&job.tail, job.orders, job.keep);
    if let Some(min) = job.table {
        let mut kept = Kept::all(min);
        if job.rows {
            // At most one row per key (the limit counts them): no regrowth on the way.
            let words = job.tail.width().div_ceil(64);
            kept.runs.tails.reserve(part.keys as usize * words);
            kept.runs.counts.reserve(part.keys as usize);
        }
        scanner = scanner.keeping(kept);
    }
    let mut sorter = Sorter::new(job.tail.width());
    for (g, &end) in ends.iter().enumerate() {
        // Between groups: one sort takes well under a second unless a split first token
        // fills the whole buffer.
        ctl.check()?;
        scatter::buckets(&groups, g, end, sizes, bufs, |b, bucket| {
            let (first, sorted) = (range.start + b as u32, sorter.sort(bucket));
            if job.rows {
                scanner.rows(first, sorted);
            } else {
                scanner.bucket(first, sorted);
            }
        });
    }
    Ok(scanner.finish())
}

/// The error for a budget that cannot hold the largest partition: `largest` windows that
/// share their first token, or (`pair`) their first two tokens.
pub(crate) fn too_small(limit: usize, needed: usize, largest: u64, pair: bool) -> Error {
    let what = if pair {
        "one pair of first and second tokens starts"
    } else {
        "one first token starts"
    };
    Error::MemoryLimit {
        limit: limit as u64,
        needed: needed as u64,
        reason: format!(
            "{what} {largest} windows, and their keys must fit in memory at once (per thread)"
        ),
    }
}
