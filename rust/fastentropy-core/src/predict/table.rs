//! Count tables of the predictor: one context's successor counts, looked up by context.
//!
//! Two kinds. A [`Dense`] table indexes contexts exactly (the empty context, or the previous
//! token when the vocabulary is small) and keeps a full row of counts per context. A
//! [`Hashed`] table holds contexts of one order in fixed-size buckets found by a hash of the
//! context: a bucket is a tag word and `E` entries `(token << 32) | count`, so one context
//! keeps at most `E` successors (the least counted is replaced when a new one arrives) and
//! two contexts whose hashes collide share a bucket until one evicts the other.
//!
//! What keeps the model normalised whatever the collisions: every figure of a context that
//! the blend uses (its total `C`, its distinct successors `T`, the count `c_x` of the token
//! asked about) is read from the same entries at the same moment, so `Σ_x c_x = C` and
//! `#{x : c_x > 0} = T` hold exactly for whatever the bucket holds. A collision or an
//! eviction changes which counts a context has, never their consistency.

/// A context's figures: the count of the token asked about, the total of its counts and how
/// many distinct successors have a count. `total == 0` means an unseen context.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Stats {
    pub count: u32,
    pub total: u64,
    pub distinct: u32,
}

/// Counts of a dense table are halved (rounding up, so none reaches 0) when one reaches this: old
/// evidence then weighs half as much as new, as in PPM's periodic rescaling (Moffat 1990), and a
/// count always fits its 32 bits.
pub const COUNT_CAP: u32 = 1 << 16;

/// Exact rows of counts for `contexts` contexts over `vocab` tokens.
pub struct Dense {
    vocab: usize,
    counts: Vec<u32>,
    totals: Vec<u64>,
    distinct: Vec<u32>,
}

impl Dense {
    /// Bytes a table of `contexts` rows over `vocab` tokens takes (saturating: a size past
    /// the address space is refused by the memory check, never an overflow).
    pub fn bytes(contexts: usize, vocab: usize) -> usize {
        contexts.saturating_mul(vocab.saturating_mul(4).saturating_add(12))
    }

    pub fn new(contexts: usize, vocab: usize) -> Self {
        let mut counts = vec![0; contexts * vocab];
        huge_pages(&mut counts);
        Self {
            vocab,
            counts,
            totals: vec![0; contexts],
            distinct: vec![0; contexts],
        }
    }

    #[inline]
    pub fn stats(&self, ctx: usize, x: u32) -> Stats {
        Stats {
            count: self.counts[ctx * self.vocab + x as usize],
            total: self.totals[ctx],
            distinct: self.distinct[ctx],
        }
    }

    /// Adds one to `x` in context `ctx`; true if `x` was new there.
    pub fn add(&mut self, ctx: usize, x: u32) -> bool {
        let row = &mut self.counts[ctx * self.vocab..(ctx + 1) * self.vocab];
        let c = &mut row[x as usize];
        let new = *c == 0;
        *c += 1;
        self.totals[ctx] += 1;
        self.distinct[ctx] += u32::from(new);
        if *c >= COUNT_CAP {
            let (mut total, mut distinct) = (0u64, 0u32);
            for c in row.iter_mut() {
                *c = c.div_ceil(2);
                total += u64::from(*c);
                distinct += u32::from(*c > 0);
            }
            self.totals[ctx] = total;
            self.distinct[ctx] = distinct;
        }
        new
    }
}

/// Buckets of `E` entries for the contexts of one order, found by hash.
pub struct Hashed {
    words: Vec<u64>,
    /// Words per bucket: one tag word, then the entries.
    width: usize,
    /// Pairs of buckets.
    pairs: u64,
    /// Counts are halved when one reaches this.
    cap: u32,
}

impl Hashed {
    /// Bytes per bucket of `entries` entries.
    pub fn bucket_bytes(entries: usize) -> usize {
        (entries + 1) * 8
    }

    /// The largest table of `entries`-entry buckets within `bytes`, or `None` below two
    /// buckets.
    pub fn within(bytes: usize, entries: usize, cap: u32) -> Option<Self> {
        let buckets = bytes / Self::bucket_bytes(entries);
        if buckets < 2 {
            return None;
        }
        // Any even count (not only powers of two), so the whole limit is used.
        let buckets = (buckets & !1).min(1 << 33);
        let mut words = vec![0; buckets * (entries + 1)];
        huge_pages(&mut words);
        Some(Self {
            words,
            width: entries + 1,
            pairs: (buckets / 2) as u64,
            cap,
        })
    }

    pub fn bytes(&self) -> usize {
        self.words.len() * 8
    }

    /// Tag of a context hash: never 0, the mark of an empty bucket.
    #[inline]
    fn tag(hash: u64) -> u64 {
        (hash >> 32) | 1
    }

    /// The two buckets a hash may live in (adjacent, so one prefetch region).
    #[inline]
    fn pair(&self, hash: u64) -> usize {
        // The low 32 bits scaled to the pair count (Lemire's multiply-shift range
        // reduction); the tag takes the high 32.
        (((hash & 0xffff_ffff) * self.pairs) >> 32) as usize * 2
    }

    /// Asks the cache for the bucket pair of `hash` ahead of use.
    #[inline]
    pub fn prefetch(&self, hash: u64) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            let start = self.pair(hash) * self.width;
            let end = start + 2 * self.width;
            let mut w = start;
            while w < end {
                // SAFETY: `w` indexes `words` (the pair lies inside the table); prefetch
                // has no effect on memory contents.
                unsafe { _mm_prefetch(self.words.as_ptr().add(w).cast::<i8>(), _MM_HINT_T0) };
                w += 8;
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = hash;
    }

    /// Start of the bucket holding `hash`'s context, if any.
    #[inline]
    fn find(&self, hash: u64) -> Option<usize> {
        let tag = Self::tag(hash);
        let first = self.pair(hash) * self.width;
        [first, first + self.width]
            .into_iter()
            .find(|&b| self.words[b] == tag)
    }

    /// The figures of `x` in `hash`'s context (all zero for an unseen context).
    #[inline]
    pub fn stats(&self, hash: u64, x: u32) -> Stats {
        let mut s = Stats::default();
        if let Some(b) = self.find(hash) {
            for &w in &self.words[b + 1..b + self.width] {
                let c = w as u32;
                s.total += u64::from(c);
                s.distinct += u32::from(c > 0);
                if c > 0 && (w >> 32) as u32 == x {
                    s.count = c;
                }
            }
        }
        s
    }

    /// Adds one to `x` in `hash`'s context, claiming a bucket for an unseen context (an empty
    /// one, else the one of the pair with the smaller total); true if `x` was new there.
    pub fn add(&mut self, hash: u64, x: u32) -> bool {
        let b = match self.find(hash) {
            Some(b) => b,
            None => {
                let first = self.pair(hash) * self.width;
                let second = first + self.width;
                let b = if self.total(second) < self.total(first) {
                    second
                } else {
                    first
                };
                self.words[b..b + self.width].fill(0);
                self.words[b] = Self::tag(hash);
                b
            }
        };
        let entries = &mut self.words[b + 1..b + self.width];
        let key = u64::from(x) << 32;
        if let Some(w) = entries
            .iter_mut()
            .find(|w| **w as u32 > 0 && **w & !0xffff_ffff == key)
        {
            *w += 1;
            if *w as u32 >= self.cap {
                for w in entries.iter_mut() {
                    let c = (*w as u32).div_ceil(2);
                    *w = (*w & !0xffff_ffff) | u64::from(c);
                }
            }
            return false;
        }
        // A free entry, else the least counted (the last of equals, so older entries stay).
        let mut slot = 0;
        let mut least = u32::MAX;
        for (i, &w) in entries.iter().enumerate() {
            let c = w as u32;
            if c <= least {
                least = c;
                slot = i;
                if c == 0 {
                    break;
                }
            }
        }
        entries[slot] = key | 1;
        true
    }

    fn total(&self, b: usize) -> u64 {
        if self.words[b] == 0 {
            return 0;
        }
        self.words[b + 1..b + self.width]
            .iter()
            .map(|&w| u64::from(w as u32))
            .sum()
    }
}

/// Asks the kernel for 2 MB pages under a large table: its buckets are read at random, and
/// with 4 kB pages nearly every look-up would also miss the TLB.
pub(super) fn huge_pages<W>(words: &mut [W]) {
    #[cfg(target_os = "linux")]
    {
        let bytes = std::mem::size_of_val(words);
        if bytes >= 1 << 22 {
            let page = 4096;
            let start = words.as_mut_ptr() as usize;
            let aligned = start.next_multiple_of(page);
            let len = (start + bytes - aligned) / page * page;
            // SAFETY: the range lies inside `words`; MADV_HUGEPAGE is advice that never
            // changes the contents (failure is harmless and ignored).
            unsafe { libc::madvise(aligned as *mut libc::c_void, len, libc::MADV_HUGEPAGE) };
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = words;
}
