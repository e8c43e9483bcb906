//! One scan over sorted keys closes the runs of every order at once.
//!
//! Windows that share an n-prefix are adjacent in sorted order, so a run of order n ends
//! exactly where two neighbours share fewer than n leading fields. Each closed run adds its
//! length to the count-of-counts of that order.

use std::collections::BTreeMap;
use std::hint::select_unpredictable;

use super::keys::{Key, Layout};
use crate::error::Result;
use crate::profile::Profile;

/// Counts below this are tallied in an array; larger ones in a map. Not a multiple of 512:
/// the arrays of the orders and [`COPIES`] lie one after another, and their hot counters
/// (0 and 1) would all share one set of the L1 cache (four copies then ran 1.8x slower).
const DENSE_COUNTS: usize = 1016;
/// Copies of each order's tally, used in turn by [`super::lanes::runs`]: 8% faster overall
/// than one (1e8 tokens, two threads, same-run A/B); four no better.
const COPIES: usize = 2;
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

/// The n-grams of one order with their counts, as `most_common` needs them, or (for a
/// count table, [`Self::all`]) every one seen at least `min` times.
#[derive(Debug, Clone, Default)]
pub(crate) struct Kept {
    /// `(packed n-gram, count)` for counts >= 2 (all counts >= `min` with `all`), in n-gram
    /// order.
    pub repeated: Vec<(u128, u64)>,
    /// The first [`KEPT_SINGLETONS`] n-grams seen once, in n-gram order (empty with `all`).
    pub singletons: Vec<u128>,
    all: bool,
    min: u64,
    /// For runs ([`super::ngram_runs`]): every distinct window, in window order.
    pub runs: Rows,
}

/// Distinct windows with their counts, as [`super::ngram_runs`] hands them on: `(first
/// token, rows)` per stretch of one first token, then each row's tail (`words` u64 words,
/// little-endian) and count.
#[derive(Debug, Clone, Default)]
pub(crate) struct Rows {
    pub firsts: Vec<(u32, u64)>,
    pub tails: Vec<u64>,
    pub counts: Vec<u64>,
}

impl Kept {
    /// Keeps every n-gram seen at least `min` times, all in `repeated`.
    pub fn all(min: u64) -> Self {
        Self {
            all: true,
            min,
            ..Self::default()
        }
    }

    #[inline]
    pub fn add(&mut self, ngram: u128, count: u64) {
        if self.all {
            if count >= self.min {
                self.repeated.push((ngram, count));
            }
        } else if count >= 2 {
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

/// Count of counts for each of `orders` over the sorted tails of the windows, one first
/// token (bucket) at a time; if `keep` names an order, its n-grams and counts too.
///
/// A tail is the (K-1)-gram key of the window after the first token ([`super::partition`]),
/// so an n-gram of the window is the first token plus the (n-1)-prefix of its tail: runs
/// are closed on tails within a bucket, and every run closes at a bucket's end.
pub(crate) struct Scanner {
    bits: u32,
    /// With a mask, flag bits follow the fields.
    masked: bool,
    orders: Vec<Order>,
    hists: Vec<Histogram>,
    kept: Kept,
    /// Without a mask: `shared[z]` is how many leading fields two keys share when their xor,
    /// as a u128, has z leading zeros (a table instead of a division by `bits`).
    shared: Vec<u8>,
    /// Counts below [`DENSE_COUNTS`] of the j-th of M orders at `small[c * M + j][count]`,
    /// c < [`COPIES`], without a mask: added to `hists` by [`Scanner::finish`].
    small: Vec<[u64; DENSE_COUNTS]>,
}

/// One tail order n and its open run.
struct Order {
    n: usize,
    /// Whether this order's n-grams (and counts) are kept.
    keep: bool,
    /// `key >> shift` is the n-prefix of a key: shifts spare a division by `bits` per key.
    shift: u32,
    /// Windows in the open run that are counted (valid and masked in); with a mask only.
    count: u64,
    /// Where the open run starts in its bucket; without a mask only.
    start: usize,
}

impl Scanner {
    /// `orders`: tail orders, `n - 1` for each counted order n (all >= 1, ascending).
    pub fn new(layout: &Layout, orders: &[usize], keep: Option<usize>) -> Self {
        Self {
            bits: layout.bits,
            masked: layout.flags > 0,
            orders: (orders.iter())
                .map(|&n| Order {
                    n,
                    keep: keep == Some(n),
                    shift: layout.flags + (layout.order - n) as u32 * layout.bits,
                    count: 0,
                    start: 0,
                })
                .collect(),
            hists: vec![Histogram::default(); orders.len()],
            small: vec![[0; DENSE_COUNTS]; COPIES * orders.len()],
            kept: Kept::default(),
            shared: (0..=128u32)
                .map(|z| {
                    let unused = 128 - layout.order as u32 * layout.bits;
                    (z.saturating_sub(unused) / layout.bits).min(layout.order as u32) as u8
                })
                .collect(),
        }
    }

    /// The scanner keeping its n-grams in `kept` (e.g. [`Kept::all`] for a count table).
    pub fn keeping(mut self, kept: Kept) -> Self {
        self.kept = kept;
        self
    }

    /// Scans the sorted tails of the windows that start with rank `first`. Buckets must come
    /// in increasing `first` so that kept n-grams stay in n-gram order.
    pub fn bucket<K: Key>(&mut self, first: u32, tails: &[K]) {
        if self.masked {
            self.bucket_masked(first, tails);
        } else {
            self.bucket_plain(first, tails);
        }
    }

    /// Without a mask every window of a run of order n counts or none does (validity is
    /// the n-th field, shared by the run), so a run's count is its length, and a run of
    /// order n closes where neighbours share fewer than n leading fields.
    fn bucket_plain<K: Key>(&mut self, first: u32, tails: &[K]) {
        if self.orders.iter().any(|o| o.keep) {
            return self.bucket_kept(first, tails);
        }
        // A fixed number of orders unrolls the per-key loop and keeps its state in registers.
        match self.orders.len() {
            1 => self.plain::<K, 1>(first, tails),
            2 => self.plain::<K, 2>(first, tails),
            3 => self.plain::<K, 3>(first, tails),
            4 => self.plain::<K, 4>(first, tails),
            5 => self.plain::<K, 5>(first, tails),
            6 => self.plain::<K, 6>(first, tails),
            7 => self.plain::<K, 7>(first, tails),
            _ => self.bucket_kept(first, tails),
        }
    }

    fn plain<K: Key, const M: usize>(&mut self, first: u32, tails: &[K]) {
        // Two comparisons per order and key, on whole keys: neighbours share their n-prefix
        // iff their xor is below the n-th field's lowest bit, and the n-th field of a key is
        // not the sentinel iff a bit of it or of a later field is set (a sentinel zeroes
        // every later field; there are no flag bits without a mask). Counting shared fields
        // with a bit scan per key was slower.
        let (mut differ, mut alive, mut start) = ([K::ZERO; M], [K::ZERO; M], [0; M]);
        for (j, o) in self.orders.iter().enumerate().take(M) {
            differ[j] = K::from(1) << o.shift;
            alive[j] = K::MAX >> (K::BITS - o.shift - self.bits);
        }
        let Self { hists, small, .. } = self;
        let Ok(copies) =
            <&mut [[[u64; DENSE_COUNTS]; M]; COPIES]>::try_from(small.as_chunks_mut().0)
        else {
            return self.bucket_kept(first, tails);
        };
        #[cfg(target_arch = "x86_64")]
        let in_lanes = (M <= 4 && super::lanes::available())
            .then(|| K::as_u64s(tails))
            .flatten();
        #[cfg(not(target_arch = "x86_64"))]
        let in_lanes: Option<&[u64]> = None;
        if let Some(keys) = in_lanes {
            let (mut high, mut alive4) = ([0; 4], [0; 4]);
            for j in 0..M {
                // A power of two: xor >= differ iff xor has a bit of -differ.
                high[j] = (differ[j].to_u128() as u64).wrapping_neg();
                alive4[j] = alive[j].to_u128() as u64;
            }
            let large = |j: usize, count: usize| add_large(&mut hists[j], count);
            // SAFETY: this CPU has AVX2 (checked above).
            let starts =
                unsafe { super::lanes::runs(keys, high, alive4, copies.each_mut(), large) };
            start.copy_from_slice(&starts[..M]);
        } else {
            // Branch-free: whether a run closes at a key is data-dependent and unpredictable
            // (most 5-grams are distinct, most bigrams are not), so every order is updated
            // at every key and a run that does not close (or is not an n-gram) tallies into
            // count 0, which no profile reads. Left to itself, the compiler turns the
            // selects back into branches.
            for (i, pair) in tails.windows(2).enumerate() {
                let (prev, end) = (pair[0], i + 1);
                let xor = prev ^ pair[1];
                for j in 0..M {
                    let closes = xor >= differ[j];
                    let valid = prev & alive[j] != K::ZERO;
                    let count = select_unpredictable(closes & valid, end - start[j], 0);
                    tally(&mut copies[0][j], &mut hists[j], count);
                    start[j] = select_unpredictable(closes, end, start[j]);
                }
            }
        }
        if let Some(&last) = tails.last() {
            for j in 0..M {
                let valid = last & alive[j] != K::ZERO;
                let count = if valid { tails.len() - start[j] } else { 0 };
                tally(&mut copies[0][j], &mut hists[j], count);
            }
        }
    }

    /// As [`Self::bucket_plain`], also keeping the n-grams of one order: only the orders
    /// that close at a key are touched.
    fn bucket_kept<K: Key>(&mut self, first: u32, tails: &[K]) {
        let Self {
            bits,
            orders,
            hists,
            kept,
            shared,
            ..
        } = self;
        let bits = *bits;
        let top = 128 - K::BITS;
        for o in orders.iter_mut() {
            o.start = 0;
        }
        for (i, pair) in tails.windows(2).enumerate() {
            let same = shared[(top + (pair[0] ^ pair[1]).leading_zeros()) as usize] as usize;
            for (o, hist) in orders.iter_mut().zip(hists.iter_mut()).rev() {
                if o.n <= same {
                    break;
                }
                close_run(o, hist, kept, first, bits, pair[0], i + 1);
            }
        }
        if let Some(&last) = tails.last() {
            for (o, hist) in orders.iter_mut().zip(hists.iter_mut()) {
                close_run(o, hist, kept, first, bits, last, tails.len());
            }
        }
    }

    fn bucket_masked<K: Key>(&mut self, first: u32, tails: &[K]) {
        let Some(&head) = tails.first() else {
            return;
        };
        let field = K::from((1u64 << self.bits) - 1);
        let mut prev = head;
        for &key in tails {
            let differ = prev ^ key;
            for (o, hist) in self.orders.iter_mut().zip(&mut self.hists) {
                // A run of order n closes where neighbours differ in their n-prefix.
                if differ >> o.shift != K::ZERO {
                    close(o, hist, &mut self.kept, first, self.bits, prev);
                }
                // The n-gram exists iff its n-th field is not the sentinel (a sentinel
                // zeroes every later field); flag bit n-1 says it counts (this scan runs
                // only with a mask).
                let valid = (key >> o.shift) & field != K::ZERO;
                let on = (key >> (o.n as u32 - 1)) & K::from(1) != K::ZERO;
                o.count += (valid & on) as u64;
            }
            prev = key;
        }
        for (o, hist) in self.orders.iter_mut().zip(&mut self.hists) {
            close(o, hist, &mut self.kept, first, self.bits, prev);
        }
    }

    /// Keeps each distinct tail of the sorted `tails` of first token `first` with its count
    /// ([`super::ngram_runs`]'s rows) in `kept.runs`; no order is scanned. Tails wider than
    /// 64 bits take two words.
    pub fn rows<K: Key>(&mut self, first: u32, tails: &[K]) {
        let runs = &mut self.kept.runs;
        let wide = K::BITS > 64;
        let before = runs.counts.len();
        let mut rest = tails;
        while let Some(&key) = rest.first() {
            let n = rest.iter().take_while(|&&k| k == key).count();
            let t = key.to_u128();
            runs.tails.push(t as u64);
            if wide {
                runs.tails.push((t >> 64) as u64);
            }
            runs.counts.push(n as u64);
            rest = &rest[n..];
        }
        let added = (runs.counts.len() - before) as u64;
        if added > 0 {
            runs.firsts.push((first, added));
        }
    }

    pub fn finish(mut self) -> (Vec<Histogram>, Kept) {
        for copy in self.small.chunks(self.hists.len()) {
            for (hist, small) in self.hists.iter_mut().zip(copy) {
                hist.dense.iter_mut().zip(small).for_each(|(a, b)| *a += b);
            }
        }
        (self.hists, self.kept)
    }
}

/// Adds a count to one order's tally.
#[inline(always)]
fn tally(small: &mut [u64; DENSE_COUNTS], hist: &mut Histogram, count: usize) {
    match small.get_mut(count) {
        Some(n) => *n += 1,
        None => add_large(hist, count),
    }
}

/// A count too large for the dense table: rare, kept out of the scan loop.
#[cold]
#[inline(never)]
fn add_large(hist: &mut Histogram, count: usize) {
    hist.add(count as u64);
}

/// Closes the run of one order that ends before position `end` of a bucket without a
/// mask, whose last key is `prev`: it counts iff its n-th field is not the sentinel.
#[inline]
fn close_run<K: Key>(
    o: &mut Order,
    hist: &mut Histogram,
    kept: &mut Kept,
    first: u32,
    bits: u32,
    prev: K,
    end: usize,
) {
    let n = end - o.start;
    o.start = end;
    if (prev >> o.shift) & K::from((1u64 << bits) - 1) != K::ZERO {
        hist.add(n as u64);
        if o.keep {
            let ngram = ((first as u128) << (o.n as u32 * bits)) | (prev >> o.shift).to_u128();
            kept.add(ngram, n as u64);
        }
    }
}

/// Closes the open run of one order, whose last key is `prev`.
#[inline]
fn close<K: Key>(
    o: &mut Order,
    hist: &mut Histogram,
    kept: &mut Kept,
    first: u32,
    bits: u32,
    prev: K,
) {
    if o.count > 0 {
        hist.add(o.count);
        if o.keep {
            let ngram = ((first as u128) << (o.n as u32 * bits)) | (prev >> o.shift).to_u128();
            kept.add(ngram, o.count);
        }
        o.count = 0;
    }
}
