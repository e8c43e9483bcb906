//! Merging the runs of several shards into count profiles: the reduce step of counting
//! n-grams over shards (Brants et al. 2007, "Large Language Models in Machine Translation",
//! counted n-grams with MapReduce the same way).
//!
//! Each run is what [`super::ngram_runs`] wrote for one shard: every distinct window of up to
//! K tokens (first token, sentinel-padded tail, mask flags) with its count, sorted, in the
//! shard's own ranks. Ranks are in id order in every shard, so mapping each field to its rank
//! in the union of the shards' vocabularies keeps every run sorted; then one k-way merge
//! (a loser tree: one comparison per level per row) yields the windows of all shards in
//! order, and one scan closes the runs of every order at once, as [`super::scan`] does on
//! one machine: an n-gram's count is the summed count of the windows sharing its n-prefix
//! whose n-th field is a token (and, with a mask, whose n-th token is masked in). The shards'
//! windows are disjoint occurrences, so the sums are the counts of the concatenation, exactly;
//! integer sums only, so the result is the same in any run order.
//!
//! A reduce task merges one range of first tokens: its n-grams are disjoint from every other
//! range's, so the profiles of the ranges add.

use std::collections::BTreeMap;
use std::ops::Range;

use super::keys::bits_per_token;
use crate::control::Control;
use crate::error::{Error, Result};
use crate::profile::Profile;

/// Rows merged between two checks of the control (a few milliseconds of work).
const CHECK_ROWS: u64 = 1 << 16;
/// Counts below this are tallied in a flat array, the rest in a map.
const DENSE_COUNTS: usize = 1 << 12;

/// The counts of a run's rows, as wide as the shard needed.
#[derive(Clone, Copy)]
pub enum RunCounts<'a> {
    /// Counts of a shard shorter than 2^32 tokens.
    U32(&'a [u32]),
    /// Counts of any shard.
    U64(&'a [u64]),
}

impl RunCounts<'_> {
    fn len(&self) -> usize {
        match self {
            Self::U32(c) => c.len(),
            Self::U64(c) => c.len(),
        }
    }

    #[inline]
    fn get(&self, i: usize) -> u64 {
        match self {
            Self::U32(c) => u64::from(c[i]),
            Self::U64(c) => c[i],
        }
    }
}

/// One shard's run, as [`super::ngram_runs`] wrote it.
#[derive(Clone, Copy)]
pub struct RunFile<'a> {
    /// Each row's tail, `words` little-endian u64 words (1 when the tail takes <= 64 bits).
    pub tails: &'a [u64],
    /// Each row's count.
    pub counts: RunCounts<'a>,
    /// `(first rank, end row)` per non-empty first token, ascending: the rows of first rank
    /// `index[2j]` end before row `index[2j + 1]`.
    pub index: &'a [u64],
    /// The merged rank of each local rank r at `global[r - 1]`: strictly increasing.
    pub global: &'a [u32],
    /// Masked-in tokens of each local rank r at `unigrams[r - 1]`.
    pub unigrams: &'a [u64],
    /// Bits per tail field in this shard.
    pub bits: u32,
    /// Whether the tails carry K - 1 flag bits.
    pub masked: bool,
}

/// What to merge the runs into.
#[derive(Clone, Debug)]
pub struct RunMerge<'a> {
    /// K: the runs' windows hold up to K tokens (K - 1 tail fields).
    pub order: usize,
    /// The orders wanted, each in 1..=K.
    pub orders: &'a [usize],
    /// Distinct ids in the union of the shards (the merged ranks are 1..=distinct).
    pub distinct: usize,
    /// Only n-grams whose first token's merged rank lies in this range.
    pub firsts: Range<u32>,
}

/// The count profile of each of `merge.orders` over the n-grams of `runs` taken together
/// whose first token lies in `merge.firsts`, by increasing order.
///
/// Runs on one thread; checks `ctl` every few thousand rows and reports `(done, total)` in
/// rows read.
///
/// # Errors
/// An order outside 1..=K; a run whose arrays disagree in length, whose index or ranks are
/// not increasing, or whose rows are not strictly increasing (each names the run); windows
/// too wide for a 128-bit key (named as on one machine); a total beyond `u64`; cancellation.
pub fn merge_ngram_runs(
    runs: &[RunFile<'_>],
    merge: &RunMerge<'_>,
    ctl: &Control<'_>,
) -> Result<Vec<(usize, Profile)>> {
    let k = merge.order;
    let mut orders = merge.orders.to_vec();
    orders.sort_unstable();
    orders.dedup();
    if k == 0 || orders.first() == Some(&0) || orders.last().is_some_and(|&n| n > k) {
        return Err(Error::Invalid(format!(
            "orders {orders:?} must each lie in 1..={k}, the runs' window length"
        )));
    }
    let masked = runs.iter().any(|r| r.masked);
    let bits = bits_per_token(merge.distinct);
    let flags = if masked { k as u32 - 1 } else { 0 };
    if k as u64 * u64::from(bits) + u64::from(flags) > 128 {
        let most = super::max_order(merge.distinct, masked);
        return Err(Error::Invalid(format!(
            "order {k} is too large for a vocabulary of {} distinct ids: {k} tokens x {bits} \
             bits{} do not fit a 128-bit key; the largest order for this vocabulary is {most}",
            merge.distinct,
            if masked { " (+1 mask bit each)" } else { "" }
        )));
    }
    let mut cursors = Vec::with_capacity(runs.len());
    for (i, run) in runs.iter().enumerate() {
        cursors.push(Cursor::new(i, run, k, bits, flags, merge)?);
    }
    let total: u64 = cursors.iter().map(|c| (c.end - c.row) as u64).sum();
    let mut profiles = Vec::with_capacity(orders.len());
    if orders.first() == Some(&1) {
        profiles.push((1, unigrams(runs, merge)?));
    }
    let keyed: Vec<usize> = orders.iter().copied().filter(|&n| n >= 2).collect();
    let mut scan = Scan::new(&keyed, k, bits, flags);
    let mut tree = LoserTree::new(cursors)?;
    let mut done = 0u64;
    while let Some((key, count)) = tree.pop()? {
        scan.add(key, count)?;
        done += 1;
        if done.is_multiple_of(CHECK_ROWS) {
            ctl.check()?;
            ctl.report(done, total);
        }
    }
    let hists = scan.finish()?;
    for (n, tally) in keyed.iter().zip(hists) {
        profiles.push((*n, tally.into_profile()?));
    }
    ctl.report(total, total);
    Ok(profiles)
}

/// The unigram profile of the merged ranks in range: each shard's masked-in counts added by
/// merged rank.
fn unigrams(runs: &[RunFile<'_>], merge: &RunMerge<'_>) -> Result<Profile> {
    let (lo, hi) = (
        merge.firsts.start,
        merge.firsts.end.min(merge.distinct as u32 + 1),
    );
    let mut sums = vec![0u64; hi.saturating_sub(lo) as usize];
    for run in runs {
        for (&g, &c) in run.global.iter().zip(run.unigrams) {
            if (lo..hi).contains(&g) {
                let s = &mut sums[(g - lo) as usize];
                *s = s.checked_add(c).ok_or_else(overflow)?;
            }
        }
    }
    let counts: Vec<u64> = sums.into_iter().filter(|&c| c > 0).collect();
    Profile::from_counts(&counts)
}

/// A run's rows in the merged layout: `first | tail fields | flags`, high bits to low, each
/// field a merged rank (`bits` wide), `flags` bits of mask flags (all set for a shard without
/// a mask, whose every window counts).
struct Cursor<'a> {
    run: &'a RunFile<'a>,
    name: usize,
    words: usize,
    /// Tail fields (K - 1), their width and flags in the shard.
    fields: u32,
    local_bits: u32,
    local_flags: u32,
    /// The same in the merged layout.
    bits: u32,
    flags: u32,
    /// Next row, the row past the last, the index entry of the next row's first token.
    row: usize,
    end: usize,
    entry: usize,
    /// The merged rank of the current first token, and where its rows end.
    first: u128,
    first_end: usize,
    last: Option<u128>,
}

impl<'a> Cursor<'a> {
    fn new(
        name: usize,
        run: &'a RunFile<'a>,
        k: usize,
        bits: u32,
        flags: u32,
        merge: &RunMerge<'_>,
    ) -> Result<Self> {
        let bad = |what: String| Error::Invalid(format!("run {name}: {what}"));
        let fields = k as u32 - 1;
        let local_flags = if run.masked { fields } else { 0 };
        let width = fields * run.bits + local_flags;
        let words = if width <= 64 { 1 } else { 2 };
        let rows = run.counts.len();
        if run.tails.len() != rows * words || run.index.len() % 2 != 0 {
            return Err(bad(format!(
                "{} tail words and {} index values for {rows} rows of {words} word(s)",
                run.tails.len(),
                run.index.len()
            )));
        }
        if run.global.len() != run.unigrams.len()
            || !run.global.is_sorted_by(|a, b| a < b)
            || run.global.first() == Some(&0)
            || run
                .global
                .last()
                .is_some_and(|&g| g as usize > merge.distinct)
            || width > 128
            || (run.global.len() as u64) >= 1u64 << run.bits.min(63)
        {
            return Err(bad(
                "its ranks are not a strictly increasing map into the merged vocabulary, or \
                 its field width does not fit its vocabulary"
                    .into(),
            ));
        }
        let entries: Vec<(u64, u64)> = run.index.chunks(2).map(|e| (e[0], e[1])).collect();
        if !entries.is_sorted_by(|a, b| a.0 < b.0 && a.1 <= b.1)
            || entries.first().is_some_and(|e| e.0 == 0)
            || entries
                .last()
                .is_some_and(|e| e.1 as usize != rows || e.0 as usize > run.global.len())
        {
            return Err(bad(
                "its index is not increasing first ranks with the rows' ends".into(),
            ));
        }
        // The rows whose first token's merged rank lies in range: ranks map in order, so
        // they are one stretch of the index.
        let global = |first: u64| run.global[first as usize - 1];
        let start = entries.partition_point(|e| global(e.0) < merge.firsts.start);
        let stop = entries.partition_point(|e| global(e.0) < merge.firsts.end);
        let row_at = |j: usize| if j == 0 { 0 } else { entries[j - 1].1 as usize };
        let mut cursor = Self {
            run,
            name,
            words,
            fields,
            local_bits: run.bits,
            local_flags,
            bits,
            flags,
            row: row_at(start),
            end: row_at(stop),
            entry: start,
            first: 0,
            first_end: 0,
            last: None,
        };
        cursor.row = cursor.row.min(cursor.end);
        Ok(cursor)
    }

    /// The next row in the merged layout and its count.
    #[inline]
    fn next(&mut self) -> Result<Option<(u128, u64)>> {
        if self.row >= self.end {
            return Ok(None);
        }
        while self.row >= self.first_end {
            let at = 2 * self.entry;
            let first = self.run.index[at];
            self.first = u128::from(self.run.global[first as usize - 1]);
            self.first_end = self.run.index[at + 1] as usize;
            self.entry += 1;
        }
        let i = self.row;
        self.row += 1;
        let words = &self.run.tails[i * self.words..][..self.words];
        let tail = words
            .iter()
            .rev()
            .fold(0u128, |t, &w| (t << 64) | u128::from(w));
        let field = (1u128 << self.local_bits) - 1;
        let mut key = self.first;
        for j in (0..self.fields).rev() {
            let r = (tail >> (self.local_flags + j * self.local_bits)) & field;
            let g = if r == 0 {
                0
            } else {
                match self.run.global.get(r as usize - 1) {
                    Some(&g) => u128::from(g),
                    None => {
                        return Err(Error::Invalid(format!(
                            "run {}, row {i}: rank {r} is not in its vocabulary",
                            self.name
                        )))
                    }
                }
            };
            key = (key << self.bits) | g;
        }
        let flags = if self.local_flags > 0 {
            tail & ((1u128 << self.local_flags) - 1)
        } else {
            (1u128 << self.flags) - 1
        };
        key = (key << self.flags) | flags;
        if self.last.is_some_and(|last| last >= key) {
            return Err(Error::Invalid(format!(
                "run {} is not sorted: row {i} does not come after the row before it (a run's \
                 rows are strictly increasing, as ngram_runs writes them)",
                self.name
            )));
        }
        self.last = Some(key);
        let count = self.run.counts.get(i);
        if count == 0 {
            return Err(Error::Invalid(format!(
                "run {}, row {i}: a count of 0 (a run holds windows seen at least once)",
                self.name
            )));
        }
        Ok(Some((key, count)))
    }
}

/// A loser tree over the cursors (Knuth, TAOCP vol. 3, 5.4.1): the root holds the run with
/// the smallest head, each inner node the loser of the match played there, so replacing the
/// winner's head costs one comparison per level.
struct LoserTree<'a> {
    cursors: Vec<Cursor<'a>>,
    /// Each run's head, or None once exhausted.
    heads: Vec<Option<(u128, u64)>>,
    /// `tree[0]`: the winner; `tree[1..]`: losers.
    tree: Vec<usize>,
}

impl<'a> LoserTree<'a> {
    fn new(mut cursors: Vec<Cursor<'a>>) -> Result<Self> {
        let n = cursors.len();
        let heads = (cursors.iter_mut())
            .map(Cursor::next)
            .collect::<Result<_>>()?;
        let mut tree = Self {
            cursors,
            heads,
            tree: vec![usize::MAX; n.max(1)],
        };
        for leaf in 0..n {
            let mut winner = leaf;
            let mut node = (leaf + n) / 2;
            while node > 0 {
                if tree.tree[node] == usize::MAX {
                    tree.tree[node] = winner;
                    winner = usize::MAX;
                    break;
                }
                if tree.less(tree.tree[node], winner) {
                    std::mem::swap(&mut tree.tree[node], &mut winner);
                }
                node /= 2;
            }
            if winner != usize::MAX {
                tree.tree[0] = winner;
            }
        }
        Ok(tree)
    }

    /// Whether run a's head comes before run b's (exhausted runs last).
    #[inline]
    fn less(&self, a: usize, b: usize) -> bool {
        match (self.heads[a], self.heads[b]) {
            (Some(x), Some(y)) => x.0 < y.0,
            (Some(_), None) => true,
            _ => false,
        }
    }

    /// The smallest head of all runs (and its count), replaced by that run's next row.
    fn pop(&mut self) -> Result<Option<(u128, u64)>> {
        let n = self.cursors.len();
        let Some(&w) = self.tree.first().filter(|_| n > 0) else {
            return Ok(None);
        };
        let Some(head) = self.heads[w] else {
            return Ok(None);
        };
        self.heads[w] = self.cursors[w].next()?;
        let mut winner = w;
        let mut node = (w + n) / 2;
        while node > 0 {
            if self.less(self.tree[node], winner) {
                std::mem::swap(&mut self.tree[node], &mut winner);
            }
            node /= 2;
        }
        self.tree[0] = winner;
        Ok(Some(head))
    }
}

/// One scan over merged windows closing the runs of every order, weighted by counts.
struct Scan {
    /// Per order n: `key >> shift` is the n-prefix; the n-th field is `(key >> shift) &
    /// field`; flag bit `n - 2` says it counts (with a mask).
    shifts: Vec<u32>,
    flag_bits: Vec<u32>,
    open: Vec<u64>,
    tallies: Vec<Tally>,
    field: u128,
    masked: bool,
    prev: Option<u128>,
}

impl Scan {
    fn new(orders: &[usize], k: usize, bits: u32, flags: u32) -> Self {
        Self {
            shifts: (orders.iter())
                .map(|&n| flags + (k - n) as u32 * bits)
                .collect(),
            flag_bits: orders.iter().map(|&n| n as u32 - 2).collect(),
            open: vec![0; orders.len()],
            tallies: (0..orders.len()).map(|_| Tally::default()).collect(),
            field: (1u128 << bits) - 1,
            masked: flags > 0,
            prev: None,
        }
    }

    #[inline]
    fn add(&mut self, key: u128, count: u64) -> Result<()> {
        let differ = self.prev.map_or(0, |p| p ^ key);
        self.prev = Some(key);
        for j in 0..self.shifts.len() {
            let shift = self.shifts[j];
            if differ >> shift != 0 && self.open[j] > 0 {
                self.tallies[j].add(std::mem::take(&mut self.open[j]));
            }
            let valid = (key >> shift) & self.field != 0;
            let on = !self.masked || (key >> self.flag_bits[j]) & 1 == 1;
            if valid && on {
                self.open[j] = self.open[j].checked_add(count).ok_or_else(overflow)?;
            }
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Vec<Tally>> {
        for (open, tally) in self.open.iter().zip(&mut self.tallies) {
            if *open > 0 {
                tally.add(*open);
            }
        }
        Ok(self.tallies)
    }
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
    fn add(&mut self, count: u64) {
        match usize::try_from(count) {
            Ok(k) if k < DENSE_COUNTS => {
                if self.dense.is_empty() {
                    self.dense = vec![0; DENSE_COUNTS];
                }
                self.dense[k] += 1;
            }
            _ => *self.sparse.entry(count).or_insert(0) += 1,
        }
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
    use proptest::prelude::*;

    use super::super::{ngram_profiles, ngram_runs, CountOptions, RunInfo};
    use super::*;

    /// One shard's run as [`ngram_runs`] hands it over, kept in memory.
    struct Written {
        info: RunInfo,
        tails: Vec<u64>,
        counts: Vec<u64>,
        index: Vec<u64>,
    }

    fn write(tokens: &[u32], k: usize, mask: Option<&[bool]>, sep: Option<u64>) -> Written {
        let (mut tails, mut counts, mut index) = (Vec::new(), Vec::new(), Vec::<u64>::new());
        let opts = CountOptions {
            separator: sep,
            mask,
            memory_limit: None,
        };
        let info = ngram_runs(tokens, k, &opts, &Control::default(), &mut |b| {
            for (i, &f) in b.firsts.iter().enumerate() {
                if index.len() >= 2 && index[index.len() - 2] == u64::from(f) {
                    index.pop();
                } else {
                    index.push(u64::from(f));
                }
                index.push(counts.len() as u64 + i as u64 + 1);
            }
            tails.extend_from_slice(b.tails);
            counts.extend_from_slice(b.counts);
            Ok(())
        })
        .unwrap();
        Written {
            info,
            tails,
            counts,
            index,
        }
    }

    /// Merges the shards' runs over `parts` ranges of first tokens, adding the profiles.
    fn merged(shards: &[Written], k: usize, orders: &[usize], parts: u32) -> Vec<(usize, Profile)> {
        let mut ids: Vec<u64> = shards.iter().flat_map(|w| w.info.ids.clone()).collect();
        ids.sort_unstable();
        ids.dedup();
        let globals: Vec<Vec<u32>> = (shards.iter())
            .map(|w| {
                (w.info.ids.iter())
                    .map(|id| ids.binary_search(id).unwrap() as u32 + 1)
                    .collect()
            })
            .collect();
        let files: Vec<RunFile<'_>> = (shards.iter().zip(&globals))
            .map(|(w, g)| RunFile {
                tails: &w.tails,
                counts: RunCounts::U64(&w.counts),
                index: &w.index,
                global: g,
                unigrams: &w.info.unigrams,
                bits: w.info.bits,
                masked: w.info.masked,
            })
            .collect();
        let v = ids.len() as u32;
        let mut total: Vec<(usize, Profile)> = Vec::new();
        for p in 0..parts {
            let firsts = (1 + v * p / parts)..if p + 1 == parts {
                u32::MAX
            } else {
                1 + v * (p + 1) / parts
            };
            let merge = RunMerge {
                order: k,
                orders,
                distinct: ids.len(),
                firsts,
            };
            let got = merge_ngram_runs(&files, &merge, &Control::default()).unwrap();
            if total.is_empty() {
                total = got;
            } else {
                for ((_, a), (_, b)) in total.iter_mut().zip(got) {
                    *a = a.add(&b).unwrap();
                }
            }
        }
        total
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn shards_merge_to_the_concatenation(
            shards in prop::collection::vec(prop::collection::vec(0u32..6, 0..40), 1..5),
            masks in prop::collection::vec(any::<bool>(), 200),
            masked in any::<bool>(),
            k in 2usize..=5,
            parts in 1u32..4,
        ) {
            // Shards are documents apart (id 9 between them in the concatenation), and id 5
            // ends documents inside them (9 too, for one machine: neither is ever counted).
            let (mut joined, mut joined_mask) = (Vec::new(), Vec::new());
            let mut written = Vec::new();
            for (i, s) in shards.iter().enumerate() {
                if i > 0 {
                    joined.push(9);
                    joined_mask.push(false);
                }
                let at = joined.len();
                let m: Vec<bool> = (at..at + s.len()).map(|j| masks[j % 200]).collect();
                joined.extend(s.iter().map(|&x| if x == 5 { 9 } else { x }));
                joined_mask.extend_from_slice(&m);
                written.push(write(s, k, masked.then_some(&m[..]), Some(5)));
            }
            let orders: Vec<usize> = (1..=k).collect();
            let opts = CountOptions {
                separator: Some(9),
                mask: masked.then_some(&joined_mask[..]),
                memory_limit: None,
            };
            let one = ngram_profiles(&joined, &orders, &opts, &Control::default()).unwrap();
            prop_assert_eq!(merged(&written, k, &orders, parts), one);
        }
    }

    #[test]
    fn bad_runs_are_named() {
        let w = write(&[1, 2, 3, 1, 2], 3, None, None);
        let g: Vec<u32> = vec![1, 2, 3];
        let mut tails = w.tails.clone();
        tails.swap(0, 1);
        let file = RunFile {
            tails: &tails,
            counts: RunCounts::U64(&w.counts),
            index: &w.index,
            global: &g,
            unigrams: &w.info.unigrams,
            bits: w.info.bits,
            masked: false,
        };
        let merge = RunMerge {
            order: 3,
            orders: &[2, 3],
            distinct: 3,
            firsts: 0..u32::MAX,
        };
        let e = merge_ngram_runs(&[file], &merge, &Control::default());
        assert!(e.unwrap_err().to_string().contains("run 0 is not sorted"));
        let short = RunFile {
            counts: RunCounts::U64(&w.counts[1..]),
            ..file
        };
        let e = merge_ngram_runs(&[file, short], &merge, &Control::default());
        assert!(e.unwrap_err().to_string().starts_with("run 1:"));
        let wide = RunMerge {
            order: 9,
            orders: &[9],
            distinct: 65_535,
            ..merge
        };
        let e = merge_ngram_runs(&[], &wide, &Control::default()).unwrap_err();
        assert!(e.to_string().starts_with("order 9 is too large"), "{e}");
    }
}
