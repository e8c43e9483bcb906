//! One scan over sorted keys closes the runs of every order at once.
//!
//! Windows that share an n-prefix are adjacent in sorted order, so a run of order n ends
//! exactly where two neighbours share fewer than n leading fields. Each closed run adds its
//! length to the count-of-counts of that order.

use std::collections::BTreeMap;

use super::keys::{Key, Layout};
use crate::error::Result;
use crate::profile::Profile;

/// Counts below this are tallied in an array; larger ones in a map.
const DENSE_COUNTS: usize = 1024;
/// How many n-grams seen once a count keeps for `most_common` (the smallest, in n-gram
/// order); n-grams seen twice or more are all kept.
pub(crate) const KEPT_SINGLETONS: usize = 4096;

/// Count of counts of one order.
#[derive(Debug, Clone)]
pub(crate) struct Histogram {
    dense: Vec<u64>,
    sparse: BTreeMap<u64, u64>,
}

impl Default for Histogram {
    fn default() -> Self {
        Self {
            dense: vec![0; DENSE_COUNTS],
            sparse: BTreeMap::new(),
        }
    }
}

impl Histogram {
    #[inline]
    pub fn add(&mut self, count: u64) {
        match self.dense.get_mut(count as usize) {
            Some(m) => *m += 1,
            None => *self.sparse.entry(count).or_insert(0) += 1,
        }
    }

    pub fn merge(&mut self, other: &Self) {
        self.dense
            .iter_mut()
            .zip(&other.dense)
            .for_each(|(a, b)| *a += b);
        for (&k, &m) in &other.sparse {
            *self.sparse.entry(k).or_insert(0) += m;
        }
    }

    pub fn into_profile(self) -> Result<Profile> {
        let (ks, mks): (Vec<u64>, Vec<u64>) = (self.dense.into_iter().enumerate())
            .map(|(k, m)| (k as u64, m))
            .chain(self.sparse)
            .filter(|&(k, m)| k > 0 && m > 0)
            .unzip();
        Profile::from_pairs(&ks, &mks)
    }
}

/// The n-grams of one order with their counts, as `most_common` needs them.
#[derive(Debug, Clone, Default)]
pub(crate) struct Kept {
    /// `(packed n-gram, count)` for counts >= 2, in n-gram order.
    pub repeated: Vec<(u128, u64)>,
    /// The first [`KEPT_SINGLETONS`] n-grams seen once, in n-gram order.
    pub singletons: Vec<u128>,
}

impl Kept {
    #[inline]
    pub fn add(&mut self, ngram: u128, count: u64) {
        if count >= 2 {
            self.repeated.push((ngram, count));
        } else if self.singletons.len() < KEPT_SINGLETONS {
            self.singletons.push(ngram);
        }
    }

    /// Appends a later (larger n-grams) partition's rows.
    pub fn append(&mut self, other: Self) {
        self.repeated.extend(other.repeated);
        let room = KEPT_SINGLETONS - self.singletons.len();
        self.singletons
            .extend(other.singletons.into_iter().take(room));
    }
}

/// Count of counts for each of `orders` (all >= 2, at most K) over sorted keys; if `keep`
/// names an order, its n-grams and counts too.
pub(crate) fn scan<K: Key>(
    keys: &[K],
    layout: &Layout,
    orders: &[usize],
    keep: Option<usize>,
) -> (Vec<Histogram>, Kept) {
    let mut hists = vec![Histogram::default(); orders.len()];
    let mut kept = Kept::default();
    let mut counts = vec![0u64; orders.len()];
    let mut close = |from: usize, prev: K, counts: &mut [u64]| {
        for (j, &n) in orders.iter().enumerate() {
            if n > from && counts[j] > 0 {
                hists[j].add(counts[j]);
                if keep == Some(n) {
                    kept.add(layout.prefix(prev, n), counts[j]);
                }
                counts[j] = 0;
            }
        }
    };
    let mut prev: Option<K> = None;
    for run in keys.chunk_by(|a, b| a == b) {
        let key = run[0];
        if let Some(p) = prev {
            close(layout.common_prefix(p, key), p, &mut counts);
        }
        let len = layout.valid_len(key);
        for (j, &n) in orders.iter().enumerate() {
            if n <= len && layout.masked_in(key, n) {
                counts[j] += run.len() as u64;
            }
        }
        prev = Some(key);
    }
    if let Some(p) = prev {
        close(0, p, &mut counts);
    }
    (hists, kept)
}
