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

/// Rows a cursor converts at once (24 bytes each in its buffers).
const CONVERT_ROWS: usize = 1 << 16;

/// A run's rows in the merged layout: `first | tail fields | flags`, high bits to low, each
/// field a merged rank (`bits` wide), `flags` bits of mask flags (all set for a shard without
/// a mask, whose every window counts). Rows are converted [`CONVERT_ROWS`] at a time into a
/// buffer, in tight loops, and handed out from there.
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
    /// The merged rank of each local rank (0 for the sentinel), padded to every value a field
    /// can hold with `u32::MAX` (a rank the shard does not have).
    map: Vec<u32>,
    /// Next row to convert, the row past the last, the index entry of the next row.
    row: usize,
    end: usize,
    entry: usize,
    /// The current first token's merged rank (shifted into place) and where its rows end.
    first: u128,
    first_end: usize,
    /// Converted rows and the next one to hand out.
    keys: Vec<u128>,
    counts: Vec<u64>,
    at: usize,
    /// The last row converted.
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
        if run.tails.len() != rows * words || !run.index.len().is_multiple_of(2) {
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
            || run.bits > 32
            || (run.global.len() as u64) >= 1u64 << run.bits
        {
            return Err(bad(
                "its ranks are not a strictly increasing map into the merged vocabulary, or \
                 its field width does not fit its vocabulary"
                    .into(),
            ));
        }
        let entries: Vec<(u64, u64)> = run.index.chunks(2).map(|e| (e[0], e[1])).collect();
        if !entries.is_sorted_by(|a, b| a.0 < b.0 && a.1 < b.1)
            || entries.first().is_some_and(|e| e.0 == 0 || e.1 == 0)
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
        let mut map = vec![u32::MAX; 1 << run.bits];
        map[0] = 0;
        map[1..=run.global.len()].copy_from_slice(run.global);
        Ok(Self {
            run,
            name,
            words,
            fields,
            local_bits: run.bits,
            local_flags,
            bits,
            flags,
            map,
            row: row_at(start),
            end: row_at(stop),
            entry: start,
            first: 0,
            first_end: 0,
            keys: Vec::new(),
            counts: Vec::new(),
            at: 0,
            last: None,
        })
    }

    /// The next row in the merged layout and its count.
    #[inline]
    fn next(&mut self) -> Result<Option<(u128, u64)>> {
        if self.at == self.keys.len() && !self.fill()? {
            return Ok(None);
        }
        let at = self.at;
        self.at += 1;
        Ok(Some((self.keys[at], self.counts[at])))
    }

    /// Converts the next rows (at most [`CONVERT_ROWS`]); false when there are none left.
    /// Many rows of one run at a time: its rank map then stays in cache (converting one first
    /// token's few rows per run in turn missed it on nearly every field).
    fn fill(&mut self) -> Result<bool> {
        if self.row >= self.end {
            return Ok(false);
        }
        self.keys.clear();
        self.counts.clear();
        let start = self.row;
        let stop = self.end.min(start + CONVERT_ROWS);
        let mut missing = 0u32;
        while self.row < stop {
            if self.row >= self.first_end {
                let at = 2 * self.entry;
                let first = self.run.index[at] as usize;
                let shift = self.fields * self.bits + self.flags;
                self.first = u128::from(self.map[first]) << shift;
                self.first_end = self.run.index[at + 1] as usize;
                self.entry += 1;
            }
            let rows = self.row..self.first_end.min(stop);
            self.convert(rows.clone(), &mut missing);
            self.row = rows.end;
        }
        let rows = start..stop;
        match self.run.counts {
            RunCounts::U32(c) => {
                (self.counts).extend(c[rows.clone()].iter().map(|&c| u64::from(c)))
            }
            RunCounts::U64(c) => self.counts.extend_from_slice(&c[rows.clone()]),
        }
        let name = self.name;
        if missing != 0 {
            return Err(Error::Invalid(format!(
                "run {name}, rows {rows:?}: a rank that is not in its vocabulary"
            )));
        }
        // Rows must be strictly increasing, across stretches too (a later first token's
        // rows are larger by their top field).
        let after_last = self
            .last
            .is_none_or(|l| self.keys.first().is_none_or(|&k| l < k));
        if !after_last || !self.keys.is_sorted_by(|a, b| a < b) {
            return Err(Error::Invalid(format!(
                "run {name} is not sorted in rows {rows:?} (a run's rows are strictly \
                 increasing, as ngram_runs writes them)"
            )));
        }
        if self.counts.contains(&0) {
            return Err(Error::Invalid(format!(
                "run {name}, rows {rows:?}: a count of 0 (a run holds windows seen at least once)"
            )));
        }
        self.last = self.keys.last().copied();
        self.at = 0;
        Ok(true)
    }

    /// Appends the rows `rows` (all of the current first token) in the merged layout to
    /// `keys`; `missing` becomes non-zero if a rank is not in the run's vocabulary.
    fn convert(&mut self, rows: std::ops::Range<usize>, missing: &mut u32) {
        let (lbits, lflags, bits, flags) =
            (self.local_bits, self.local_flags, self.bits, self.flags);
        let field = (1u128 << lbits) - 1;
        // Flags of a shard without a mask: every window counts.
        let all = (1u128 << flags) - 1;
        let (map, first, fields) = (&self.map[..], self.first, self.fields);
        let convert = |tail: u128, missing: &mut u32| {
            let mut key = 0u128;
            for j in (0..fields).rev() {
                let r = ((tail >> (lflags + j * lbits)) & field) as usize;
                let g = map[r];
                *missing |= u32::from(g == u32::MAX);
                key = (key << bits) | u128::from(g);
            }
            let f = if lflags > 0 {
                tail & ((1u128 << lflags) - 1)
            } else {
                all
            };
            first | (key << flags) | f
        };
        if self.words == 1 {
            let tails = &self.run.tails[rows];
            (self.keys).extend(tails.iter().map(|&t| convert(u128::from(t), missing)));
        } else {
            let tails = &self.run.tails[2 * rows.start..2 * rows.end];
            self.keys.extend(
                tails
                    .chunks_exact(2)
                    .map(|w| convert(u128::from(w[0]) | u128::from(w[1]) << 64, missing)),
            );
        }
    }
}

/// A loser tree over the cursors (Knuth, TAOCP vol. 3, 5.4.1): the root holds the run with
/// the smallest head, each inner node the loser of the match played there, so replacing the
/// winner's head costs one comparison per level.
struct LoserTree<'a> {
    cursors: Vec<Cursor<'a>>,
    /// Each run's head and its count; an exhausted run has count 0 and the largest key.
    heads: Vec<u128>,
    counts: Vec<u64>,
    /// `tree[0]`: the winner; `tree[1..]`: losers.
    tree: Vec<usize>,
}

impl<'a> LoserTree<'a> {
    fn new(mut cursors: Vec<Cursor<'a>>) -> Result<Self> {
        let n = cursors.len();
        let (mut heads, mut counts) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for c in &mut cursors {
            let (key, count) = c.next()?.unwrap_or((u128::MAX, 0));
            heads.push(key);
            counts.push(count);
        }
        let mut tree = Self {
            cursors,
            heads,
            counts,
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

    /// Whether run a's head comes before run b's: exhausted runs last, even after a real row
    /// with the largest key.
    #[inline]
    fn less(&self, a: usize, b: usize) -> bool {
        let (x, y) = (self.heads[a], self.heads[b]);
        x < y || (x == y && self.counts[b] == 0)
    }

    /// The smallest head of all runs (and its count), replaced by that run's next row.
    #[inline]
    fn pop(&mut self) -> Result<Option<(u128, u64)>> {
        let n = self.cursors.len();
        let w = self.tree[0];
        if n == 0 || self.counts[w] == 0 {
            return Ok(None);
        }
        let head = (self.heads[w], self.counts[w]);
        (self.heads[w], self.counts[w]) = self.cursors[w].next()?.unwrap_or((u128::MAX, 0));
        let mut winner = w;
        let mut node = (w + n) / 2;
        while node > 0 {
            let other = self.tree[node];
            if self.less(other, winner) {
                self.tree[node] = winner;
                winner = other;
            }
            node /= 2;
        }
        self.tree[0] = winner;
        Ok(Some(head))
    }
}

/// One scan over merged windows closing the runs of every order, weighted by counts.
struct Scan {
    /// The orders (>= 2, ascending) and their open runs' counts.
    orders: Vec<usize>,
    open: Vec<u64>,
    tallies: Vec<Tally>,
    k: usize,
    bits: u32,
    flags: u32,
    /// Bits above the key's fields.
    unused: u32,
    prev: Option<u128>,
}

impl Scan {
    fn new(orders: &[usize], k: usize, bits: u32, flags: u32) -> Self {
        Self {
            orders: orders.to_vec(),
            open: vec![0; orders.len()],
            tallies: (0..orders.len()).map(|_| Tally::default()).collect(),
            k,
            bits,
            flags,
            unused: 128 - (k as u32 * bits + flags),
            prev: None,
        }
    }

    #[inline]
    fn add(&mut self, key: u128, count: u64) -> Result<()> {
        if let Some(prev) = self.prev {
            // Runs of the orders longer than the fields two neighbours share close here.
            let differ = prev ^ key;
            let shared = if differ == 0 {
                self.k
            } else {
                ((differ.leading_zeros() - self.unused) / self.bits) as usize
            };
            for j in (0..self.orders.len()).rev() {
                if self.orders[j] <= shared {
                    break;
                }
                let open = std::mem::take(&mut self.open[j]);
                if open > 0 {
                    self.tallies[j].add(open);
                }
            }
        }
        self.prev = Some(key);
        // The window's length: its fields up to the first sentinel (which zeroes the rest).
        let fields = key >> self.flags;
        let len = self.k - (fields.trailing_zeros() / self.bits) as usize;
        for j in 0..self.orders.len() {
            let n = self.orders[j];
            if n > len {
                break;
            }
            if self.flags == 0 || (key >> (n - 2)) & 1 == 1 {
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
    use crate::test_rng::Lcg;

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
            let mut end = counts.len() as u64;
            for &(f, n) in b.firsts {
                end += n;
                if index.len() >= 2 && index[index.len() - 2] == u64::from(f) {
                    index.pop();
                } else {
                    index.push(u64::from(f));
                }
                index.push(end);
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
    fn runs_longer_than_a_conversion_merge_whole() {
        // Rows past CONVERT_ROWS per run, masked windows of u128 tails (3 x 10 bits + 3 flags
        // fit u64; 7 x 10 + 7 do not): several conversions per cursor, both tail widths.
        let mut rng = Lcg(1);
        let mut next = || rng.step() >> 33;
        let shards: Vec<Vec<u32>> = (0..3)
            .map(|_| (0..90_000).map(|_| (next() % 1000) as u32).collect())
            .collect();
        let masks: Vec<Vec<bool>> = (shards.iter())
            .map(|s| s.iter().map(|_| next() % 4 > 0).collect())
            .collect();
        for k in [4, 8] {
            let written: Vec<Written> = (shards.iter().zip(&masks))
                .map(|(s, m)| write(s, k, Some(m), None))
                .collect();
            assert!(written[0].counts.len() > CONVERT_ROWS);
            let (mut joined, mut joined_mask) = (Vec::new(), Vec::new());
            for (s, m) in shards.iter().zip(&masks) {
                if !joined.is_empty() {
                    joined.push(5000);
                    joined_mask.push(false);
                }
                joined.extend_from_slice(s);
                joined_mask.extend_from_slice(m);
            }
            let opts = CountOptions {
                separator: Some(5000),
                mask: Some(&joined_mask),
                memory_limit: None,
            };
            let orders: Vec<usize> = (1..=k).collect();
            let one = ngram_profiles(&joined, &orders, &opts, &Control::default()).unwrap();
            assert_eq!(merged(&written, k, &orders, 2), one, "order {k}");
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
