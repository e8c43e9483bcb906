//! Splitting the key space by first token so each partition's keys fit the memory budget,
//! and counting the partitions in parallel.
//!
//! A partition is a range of first-token ranks; the unigram histogram gives its number of
//! windows before any key is built. Partitions hold disjoint n-grams, so their count
//! profiles add, and integer sums make the result independent of scheduling.

use std::ops::Range;
use std::sync::Mutex;

use rayon::prelude::*;

use super::keys::{Key, Layout};
use super::scan::{scan, Histogram, Kept};
use super::{cancelled, CountOptions};
use crate::error::{Error, Result};

/// Partitions per thread when memory allows larger ones: enough to balance skewed
/// (Zipfian) first tokens, few enough that re-reading the ranks stays cheap.
pub(crate) const PARTS_PER_THREAD: usize = 2;

/// Contiguous rank ranges covering ranks `1..counts.len()`, each with at most `cap` windows,
/// aiming at `parts` partitions. `Err(count)` when one rank alone has `count > cap` windows.
pub(crate) fn plan(counts: &[u64], cap: u64, parts: usize) -> Result<Vec<Range<u32>>, u64> {
    let total: u64 = counts.iter().skip(1).sum();
    let target = total.div_ceil(parts.max(1) as u64).clamp(1, cap.max(1));
    let mut ranges = Vec::new();
    let mut start = 1u32;
    let mut size = 0u64;
    for (r, &c) in counts.iter().enumerate().skip(1) {
        if c > cap {
            return Err(c);
        }
        if size > 0 && size + c > target {
            ranges.push(start..r as u32);
            start = r as u32;
            size = 0;
        }
        size += c;
    }
    if size > 0 {
        ranges.push(start..counts.len() as u32);
    }
    Ok(ranges)
}

/// Everything a partition reads.
pub(crate) struct Job<'a> {
    pub ranks: &'a [u32],
    pub mask: Option<&'a [bool]>,
    pub layout: Layout,
    /// Orders counted from keys: all >= 2, ascending.
    pub orders: &'a [usize],
    /// The order whose n-grams and counts are kept for `most_common`, if any.
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
        .map_init(Vec::new, |keys, range| {
            cancelled(opts.cancel)?;
            let windows: u64 = counts[range.start as usize..range.end as usize]
                .iter()
                .sum();
            let result = count_partition::<K>(job, range.clone(), windows as usize, keys);
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
    range: Range<u32>,
    windows: usize,
    keys: &mut Vec<K>,
) -> (Vec<Histogram>, Kept) {
    let min_len = job.orders[0];
    let wanted = job.orders.iter().fold(0u64, |f, &n| f | 1 << (n - 1));
    keys.clear();
    // Exactly the planned size: a push past capacity would double the buffer.
    keys.reserve_exact(windows);
    for (i, r) in job.ranks.iter().enumerate() {
        if !range.contains(r) {
            continue;
        }
        let (key, len) = job.layout.build::<K>(job.ranks, job.mask, i);
        if len < min_len {
            continue;
        }
        // Flag bits (the key's low bits) exist only with a mask, and only up to `len`.
        if job.mask.is_some() && key & K::from(wanted) == K::ZERO {
            continue;
        }
        keys.push(key);
    }
    keys.sort_unstable();
    scan(keys, &job.layout, job.orders, job.keep)
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
