//! Merging sorted n-gram count tables into one count profile: the reduce step of counting
//! n-grams over shards (Brants et al. 2007, "Large Language Models in Machine Translation",
//! counted n-grams with MapReduce the same way).
//!
//! Each run is a table as [`super::ngram_table`] writes it: rows of `order` token ids in
//! strictly increasing lexicographic order, each with its count. The count of an n-gram in
//! the union of the shards is the sum of its counts in every run (the shards' n-gram
//! occurrences are disjoint), so a k-way merge that adds the counts of equal rows and tallies
//! the sums gives exactly the profile one count of the concatenation would. Integer sums
//! only: the result is the same in any run order.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use crate::control::Control;
use crate::error::{Error, Result};
use crate::profile::Profile;

/// One run: `ngrams` row-major (`order` ids per row) and one count per row.
pub type Run<'a> = (&'a [u64], &'a [u64]);

/// Rows merged between two checks of the control (a few milliseconds of work).
const CHECK_ROWS: u64 = 1 << 16;
/// Counts below this are tallied in a flat array, the rest in a map.
const DENSE_COUNTS: usize = 1 << 12;

/// The count profile of the n-grams of `runs` taken together: equal rows of different runs
/// are one n-gram whose count is the sum of theirs.
///
/// Runs on one thread; checks `ctl` every few thousand rows and reports `(done, total)` in
/// rows read.
///
/// # Errors
/// An order of 0, a run whose ids are not a whole number of rows or do not match its counts,
/// a run whose rows are not strictly increasing, a zero count (each names the run and row),
/// a total beyond `u64`, or cancellation.
pub fn merge_ngram_tables(runs: &[Run<'_>], order: usize, ctl: &Control<'_>) -> Result<Profile> {
    if order == 0 {
        return Err(Error::Invalid(
            "order 0 is not an n-gram order: orders must be >= 1".into(),
        ));
    }
    let mut total = 0u64;
    for (i, (ngrams, counts)) in runs.iter().enumerate() {
        if ngrams.len() != counts.len().saturating_mul(order) {
            return Err(Error::Invalid(format!(
                "run {i} has {} ids for {} counts: order {order} needs {} ids",
                ngrams.len(),
                counts.len(),
                counts.len().saturating_mul(order)
            )));
        }
        total += counts.len() as u64;
    }
    let row = |r: usize, j: usize| &runs[r].0[j * order..(j + 1) * order];
    // The smallest row of every run not yet exhausted; ties broken by run, so equal rows
    // come out one after another.
    let mut heap: BinaryHeap<Reverse<(&[u64], usize, usize)>> = (0..runs.len())
        .filter(|&r| !runs[r].1.is_empty())
        .map(|r| Reverse((row(r, 0), r, 0)))
        .collect();
    let mut tally = Tally::default();
    let mut current: Option<(&[u64], u64)> = None;
    let mut done = 0u64;
    while let Some(Reverse((g, r, j))) = heap.pop() {
        let c = runs[r].1[j];
        if c == 0 {
            return Err(Error::Invalid(format!(
                "run {r}, row {j}: a count of 0 (a table holds n-grams seen at least once)"
            )));
        }
        if j + 1 < runs[r].1.len() {
            let next = row(r, j + 1);
            if next <= g {
                return Err(Error::Invalid(format!(
                    "run {r} is not sorted: row {} does not come after row {j} (a table's rows \
                     are strictly increasing, as ngram_table writes them)",
                    j + 1
                )));
            }
            heap.push(Reverse((next, r, j + 1)));
        }
        current = match current {
            Some((h, sum)) if h == g => Some((h, sum.checked_add(c).ok_or_else(overflow)?)),
            Some((_, sum)) => {
                tally.add(sum)?;
                Some((g, c))
            }
            None => Some((g, c)),
        };
        done += 1;
        if done.is_multiple_of(CHECK_ROWS) {
            ctl.check()?;
            ctl.report(done, total);
        }
    }
    if let Some((_, sum)) = current {
        tally.add(sum)?;
    }
    ctl.report(total, total);
    tally.into_profile()
}

fn overflow() -> Error {
    Error::Invalid("an n-gram count beyond u64".into())
}

/// How many n-grams have each count.
#[derive(Default)]
struct Tally {
    dense: Vec<u64>,
    sparse: BTreeMap<u64, u64>,
}

impl Tally {
    fn add(&mut self, count: u64) -> Result<()> {
        match usize::try_from(count) {
            Ok(k) if k < DENSE_COUNTS => {
                if self.dense.is_empty() {
                    self.dense = vec![0; DENSE_COUNTS];
                }
                self.dense[k] += 1;
            }
            _ => *self.sparse.entry(count).or_insert(0) += 1,
        }
        Ok(())
    }

    fn into_profile(self) -> Result<Profile> {
        let (mut ks, mut mks) = (Vec::new(), Vec::new());
        let dense = (self.dense.iter().enumerate()).map(|(k, &m)| (k as u64, m));
        for (k, m) in dense.chain(self.sparse).filter(|&(k, m)| k > 0 && m > 0) {
            ks.push(k);
            mks.push(m);
        }
        Profile::from_pairs(&ks, &mks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brute force: a map from row to summed count.
    fn reference(runs: &[(Vec<u64>, Vec<u64>)], order: usize) -> Profile {
        let mut sums: BTreeMap<Vec<u64>, u64> = BTreeMap::new();
        for (g, c) in runs {
            for (row, &count) in g.chunks(order).zip(c) {
                *sums.entry(row.to_vec()).or_insert(0) += count;
            }
        }
        let counts: Vec<u64> = sums.into_values().collect();
        Profile::from_counts(&counts).unwrap()
    }

    fn merged(runs: &[(Vec<u64>, Vec<u64>)], order: usize) -> Result<Profile> {
        let borrowed: Vec<Run<'_>> = runs.iter().map(|(g, c)| (&g[..], &c[..])).collect();
        merge_ngram_tables(&borrowed, order, &Control::default())
    }

    #[test]
    fn equal_rows_of_different_runs_add() {
        let runs = vec![
            (vec![1, 2, 1, 3, 4, 4], vec![2, 1, 5]),
            (vec![], vec![]),
            (vec![1, 3, 2, 2, 4, 4], vec![1, 7, 1]),
            (vec![0, 9], vec![5000]),
        ];
        let p = merged(&runs, 2).unwrap();
        assert_eq!(p, reference(&runs, 2));
        // {1 2}: 2, {1 3}: 2, {2 2}: 7, {4 4}: 6, {0 9}: 5000.
        assert_eq!(p.pairs(), &[(2, 2), (6, 1), (7, 1), (5000, 1)]);
    }

    #[test]
    fn matches_brute_force_on_random_runs() {
        // A small LCG: the runs are random subsets of a small n-gram space, sorted.
        let mut state = 12345u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            state >> 33
        };
        for order in 1..=3 {
            let runs: Vec<(Vec<u64>, Vec<u64>)> = (0..5)
                .map(|_| {
                    let mut rows: BTreeMap<Vec<u64>, u64> = BTreeMap::new();
                    for _ in 0..200 {
                        let g: Vec<u64> = (0..order).map(|_| next() % 4).collect();
                        *rows.entry(g).or_insert(0) += 1 + next() % 3;
                    }
                    let counts = rows.values().copied().collect();
                    (rows.into_keys().flatten().collect(), counts)
                })
                .collect();
            assert_eq!(merged(&runs, order).unwrap(), reference(&runs, order));
        }
    }

    #[test]
    fn bad_runs_are_named() {
        let unsorted = vec![(vec![2, 1], vec![1, 1])];
        let e = merged(&unsorted, 1).unwrap_err().to_string();
        assert!(e.contains("run 0 is not sorted"), "{e}");
        let repeated = vec![(vec![], vec![]), (vec![1, 1], vec![1, 1])];
        let e = merged(&repeated, 1).unwrap_err().to_string();
        assert!(e.contains("run 1 is not sorted"), "{e}");
        let ragged = vec![(vec![1, 2, 3], vec![1, 1])];
        assert!(merged(&ragged, 2).is_err());
        let zero = vec![(vec![1], vec![0])];
        assert!(merged(&zero, 1)
            .unwrap_err()
            .to_string()
            .contains("count of 0"));
        assert!(merged(&[], 0).is_err());
        assert_eq!(merged(&[], 3).unwrap(), Profile::default());
    }
}
