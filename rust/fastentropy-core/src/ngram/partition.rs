//! Splitting the key space by first token so each partition's keys fit the memory budget,
//! and counting the partitions in parallel.
//!
//! A partition is a range of first-token ranks; the unigram histogram gives its number of
//! windows per first token before any key is built. So a partition scatters each window's
//! tail (the key of the K-1 tokens after the first) straight into the bucket of its first
//! token, then sorts each bucket alone: the first-token field never enters a key (u128 keys
//! often become u64) and many small sorts beat one big one. Partitions hold disjoint
//! n-grams, so their count profiles add, and integer sums make the result independent of
//! scheduling.

use std::ops::Range;
use std::sync::Mutex;

use rayon::prelude::*;

use super::keys::{Key, Layout};
use super::scan::{Histogram, Kept, Scanner};
use super::{cancelled, CountOptions};
use crate::error::{Error, Result};

/// Partitions per thread when memory allows larger ones: enough to balance skewed
/// (Zipfian) first tokens, few enough that re-reading the ranks stays cheap.
pub(crate) const PARTS_PER_THREAD: usize = 2;

/// Contiguous rank ranges covering ranks `1..counts.len()`, each with at most `cap` windows,
/// aiming at `parts` partitions. `Err(count)`: the largest rank has `count > cap` windows.
pub(crate) fn plan(counts: &[u64], cap: u64, parts: usize) -> Result<Vec<Range<u32>>, u64> {
    // The largest rank, not the first too large: the error names a limit that works.
    let largest = counts.iter().skip(1).copied().max().unwrap_or(0);
    if largest > cap {
        return Err(largest);
    }
    let total: u64 = counts.iter().skip(1).sum();
    let target = total.div_ceil(parts.max(1) as u64).clamp(1, cap.max(1));
    let mut ranges = Vec::new();
    let mut start = 1u32;
    let mut size = 0u64;
    for (r, &c) in counts.iter().enumerate().skip(1) {
        if size > 0 && size + c > target {
            ranges.push(start..r as u32);
            start = r as u32;
            size = 0;
        }
        size += c;
    }
    if size > 0 {
        // A small remainder joins the last range when it fits: every range costs a pass
        // over all the ranks.
        match ranges.last_mut() {
            Some(last) if size <= target / 4 && counts_in(counts, last) + size <= cap => {
                last.end = counts.len() as u32;
            }
            _ => ranges.push(start..counts.len() as u32),
        }
    }
    Ok(ranges)
}

fn counts_in(counts: &[u64], range: &Range<u32>) -> u64 {
    counts[range.start as usize..range.end as usize]
        .iter()
        .sum()
}

/// Everything a partition reads.
pub(crate) struct Job<'a> {
    pub ranks: &'a [u32],
    pub mask: Option<&'a [bool]>,
    /// The layout of the tails: K-1 tokens.
    pub tail: Layout,
    /// Tail orders `n - 1` of the orders n counted from keys: all >= 1, ascending.
    pub orders: &'a [usize],
    /// The tail order whose n-grams and counts are kept for `most_common`, if any.
    pub keep: Option<usize>,
}

/// Counts every partition and adds their histograms (and kept n-grams, in partition order).
pub(crate) fn run<K: Key>(
    job: &Job<'_>,
    counts: &[u64],
    ranges: &[Range<u32>],
    opts: &CountOptions<'_>,
) -> Result<(Vec<Histogram>, Kept)> {
    let total = job.ranks.len() as u64;
    let done = Mutex::new(0u64);
    let parts = ranges
        .par_iter()
        // One key buffer per worker, reused: fresh pages cost a fault each.
        .map_init(Vec::new, |tails, range| {
            cancelled(opts.cancel)?;
            let windows = counts_in(counts, range);
            let result = count_partition::<K>(job, counts, range.clone(), windows as usize, tails);
            if let Some(progress) = opts.progress {
                // One lock so that reports arrive in increasing order.
                let mut done = done.lock().unwrap_or_else(|e| e.into_inner());
                *done += windows;
                progress(*done, total);
            }
            Ok(result)
        })
        .collect::<Result<Vec<_>>>()?;
    let mut hists = vec![Histogram::default(); job.orders.len()];
    let mut kept = Kept::default();
    for (h, k) in parts {
        hists.iter_mut().zip(&h).for_each(|(a, b)| a.merge(b));
        kept.append(k);
    }
    Ok((hists, kept))
}

fn count_partition<K: Key>(
    job: &Job<'_>,
    counts: &[u64],
    range: Range<u32>,
    windows: usize,
    tails: &mut Vec<K>,
) -> (Vec<Histogram>, Kept) {
    let min_len = job.orders[0];
    let wanted = job.orders.iter().fold(0u64, |f, &n| f | 1 << (n - 1));
    // Bucket `b` (first rank `range.start + b`) fills `tails[start[b]..end[b]]`; its
    // capacity is that rank's count, so buckets never overlap.
    let firsts = &counts[range.start as usize..range.end as usize];
    let mut end = Vec::with_capacity(firsts.len());
    let mut at = 0;
    for &c in firsts {
        end.push(at);
        at += c as usize;
    }
    let start = end.clone();
    // Grown only for a larger partition, to exactly its size: never pushed past, which
    // would double it.
    if tails.len() < windows {
        // Cleared first so that growing does not copy stale keys.
        tails.clear();
        tails.reserve_exact(windows);
        huge_pages(tails);
        tails.resize(windows, K::ZERO);
    }
    for (i, &r) in job.ranks.iter().enumerate() {
        if !range.contains(&r) {
            continue;
        }
        let (tail, len) = job.tail.build::<K>(job.ranks, job.mask, i + 1);
        if len < min_len {
            continue;
        }
        // Flag bits (the key's low bits) exist only with a mask, and only up to `len`.
        if job.mask.is_some() && tail & K::from(wanted) == K::ZERO {
            continue;
        }
        let b = (r - range.start) as usize;
        tails[end[b]] = tail;
        end[b] += 1;
    }
    let mut scanner = Scanner::new(&job.tail, job.orders, job.keep);
    for (b, (&s, &e)) in start.iter().zip(&end).enumerate() {
        let bucket = &mut tails[s..e];
        bucket.sort_unstable();
        scanner.bucket(range.start + b as u32, bucket);
    }
    scanner.finish()
}

/// The error for a budget that cannot hold the largest single-first-token partition.
pub(crate) fn too_small(limit: usize, needed: usize, largest: u64) -> Error {
    Error::MemoryLimit {
        limit: limit as u64,
        needed: needed as u64,
        reason: format!(
            "one first token starts {largest} windows, and their keys must fit in memory at \
             once (per thread)"
        ),
    }
}

/// Asks for transparent huge pages over a buffer's allocation before it is touched:
/// scattering into thousands of buckets touches pages at random, and with 4 KiB pages
/// nearly every write would miss the TLB.
fn huge_pages<K>(buf: &mut Vec<K>) {
    #[cfg(target_os = "linux")]
    {
        const PAGE: usize = 4096;
        let start = buf.as_mut_ptr() as usize;
        let end = start + buf.capacity() * size_of::<K>();
        let aligned = start.next_multiple_of(PAGE);
        if end > aligned {
            // SAFETY: the range lies inside the vector's own allocation, and MADV_HUGEPAGE
            // only changes how the kernel backs it, never its contents. Failure is harmless.
            unsafe {
                libc::madvise(
                    aligned as *mut libc::c_void,
                    end - aligned,
                    libc::MADV_HUGEPAGE,
                );
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = buf;
}
