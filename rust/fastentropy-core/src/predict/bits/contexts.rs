//! Hashed context slots: each holds the bit-history states of one context over one nibble
//! of the symbol (the 15 nodes of a 4-bit binary tree) and a check byte of the context's
//! hash, so that most collisions are detected (lpaq1's layout, Mahoney 2007; "Data
//! Compression Explained" sec. 4.3.2). Four slots share a 64-byte bucket (one cache line):
//! a context looks in the four, and if its check byte is in none it takes the slot that
//! has seen least (the count of its first node), zeroed. A collision that passes the check
//! costs compression only: the states feed predictions, the coder's `q` stays proper.
//!
//! Pages: the buckets are grouped 64 to an aligned 4 KB page, and a chunk that follows a
//! context's chunk (a byte's second nibble) looks in the page of the chunk before, at a
//! bucket of its own hash ([`SlotTable::find_near`]): a byte then touches one page per
//! context instead of two, so half the address translations (the table is far larger than
//! what the TLB covers; on a virtual machine each miss walks two page tables) and DRAM
//! rows. The collisions stay those of a uniform hash: every page is the home of as many
//! contexts as any other.

use super::counters::seen;

/// Slots per bucket.
pub const WAYS: usize = 4;
/// Bytes of a slot: `[0]` the check byte, `[1..16]` the node states.
const SLOT: usize = 16;
const BUCKET: usize = SLOT * WAYS;
/// Buckets of a 4 KB page.
const PAGE_BUCKETS: usize = 64;
const PAGE: usize = BUCKET * PAGE_BUCKETS;

/// Buckets of four slots in one zeroed byte array, each bucket on its own cache line.
#[derive(Clone)]
pub struct SlotTable {
    /// `vec![0; ..]` (so the kernel's zero pages, untouched until used, and 2 MB pages can
    /// be asked for first); the buckets start at `base`, on a page boundary.
    bytes: Vec<u8>,
    base: usize,
    buckets: u64,
}

impl SlotTable {
    /// A table of `buckets` buckets (at least 1, below 2^32).
    pub fn new(buckets: usize) -> Self {
        let buckets = buckets.clamp(1, u32::MAX as usize);
        let mut bytes = vec![0u8; buckets * BUCKET + PAGE];
        super::super::table::huge_pages(&mut bytes);
        let base = bytes.as_ptr().align_offset(PAGE).min(PAGE);
        Self {
            bytes,
            base,
            buckets: buckets as u64,
        }
    }

    pub fn bytes(&self) -> usize {
        self.bytes.len()
    }

    pub fn buckets(&self) -> usize {
        self.buckets as usize
    }

    /// The byte offset of the bucket of `h`: its low 32 bits scaled to the bucket count
    /// (Lemire's multiply-shift range reduction), so any count works; the check byte is
    /// the top 8 bits.
    #[inline]
    fn start(&self, h: u64) -> usize {
        self.base + (((h & 0xffff_ffff) * self.buckets) >> 32) as usize * BUCKET
    }

    /// The byte offset of the bucket of `h` in the page of the slot at `home` (a byte
    /// offset): bits 32-37 of `h` pick one of its 64 buckets (in the last, partial page,
    /// one of the page before; a table under a page: any bucket).
    #[inline]
    fn start_near(&self, home: usize, h: u64) -> usize {
        let buckets = self.buckets as usize;
        let pick = (h >> 32) as usize;
        let b = if buckets < PAGE_BUCKETS {
            pick % buckets
        } else {
            let b =
                (((home - self.base) / BUCKET) & !(PAGE_BUCKETS - 1)) | (pick & (PAGE_BUCKETS - 1));
            if b < buckets {
                b
            } else {
                b - PAGE_BUCKETS
            }
        };
        self.base + b * BUCKET
    }

    /// The slot of context hash `h` (found, or taken over and zeroed): its byte offset.
    #[inline]
    pub fn find(&mut self, h: u64) -> usize {
        self.find_at(self.start(h), h)
    }

    /// The slot of hash `h` in the page of the slot at `home` (see [`SlotTable::find`]).
    #[inline]
    pub fn find_near(&mut self, home: usize, h: u64) -> usize {
        self.find_at(self.start_near(home, h), h)
    }

    #[inline]
    fn find_at(&mut self, start: usize, h: u64) -> usize {
        let check = ((h >> 56) as u8).max(1);
        let bucket = &mut self.bytes[start..start + BUCKET];
        let mut weakest = 0;
        for i in 0..WAYS {
            if bucket[i * SLOT] == check {
                return start + i * SLOT;
            }
            if seen(bucket[i * SLOT + 1]) < seen(bucket[weakest * SLOT + 1]) {
                weakest = i;
            }
        }
        let slot = &mut bucket[weakest * SLOT..(weakest + 1) * SLOT];
        slot.fill(0);
        slot[0] = check;
        start + weakest * SLOT
    }

    /// The state of `node` (1..16) in the slot at `at`.
    #[inline]
    pub fn state(&self, at: usize, node: usize) -> u8 {
        self.bytes[at + node]
    }

    #[inline]
    pub fn state_mut(&mut self, at: usize, node: usize) -> &mut u8 {
        &mut self.bytes[at + node]
    }

    /// Asks the memory for the bucket of `h` ahead of its use; returns its offset (the
    /// `home` of [`SlotTable::prefetch_near`]).
    #[inline]
    pub fn prefetch(&self, h: u64) -> usize {
        let start = self.start(h);
        prefetch(self.bytes.as_ptr().wrapping_add(start));
        start
    }

    /// Asks the memory for the bucket of `h` in the page of the bucket at `home`.
    #[inline]
    pub fn prefetch_near(&self, home: usize, h: u64) {
        let start = self.start_near(home, h);
        prefetch(self.bytes.as_ptr().wrapping_add(start));
    }
}

/// Asks the memory for the cache line at `p` (a hint: nothing is read, any address is
/// harmless).
#[inline]
pub fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch never faults and changes no memory contents.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(p.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// A 64-bit finaliser (splitmix64's), so that nearby contexts land far apart.
#[inline]
pub const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::{mix, SlotTable, BUCKET, PAGE, PAGE_BUCKETS, WAYS};

    #[test]
    fn a_later_chunk_stays_in_the_page_of_the_chunk_before() {
        // Tables under a page, of whole pages and with a partial last page.
        for buckets in [1, 5, 63, 64, 128, 200, 1000] {
            let mut t = SlotTable::new(buckets);
            assert_eq!(
                t.base % PAGE,
                (PAGE - t.bytes.as_ptr() as usize % PAGE) % PAGE
            );
            let last = buckets / PAGE_BUCKETS * PAGE_BUCKETS;
            for i in 0..2000u64 {
                let home = t.find(mix(i));
                let at = t.find_near(home, mix(i ^ 0xabcd));
                let (b, hb) = ((at - t.base) / BUCKET, (home - t.base) / BUCKET);
                assert!(b < buckets, "bucket {b} of {buckets}");
                assert_eq!((at - t.base) % (BUCKET / WAYS), 0);
                if buckets >= PAGE_BUCKETS && hb < last {
                    assert_eq!(
                        b / PAGE_BUCKETS,
                        hb / PAGE_BUCKETS,
                        "{buckets}: {hb} -> {b}"
                    );
                } else if buckets >= PAGE_BUCKETS {
                    // The last, partial page: itself or the page before.
                    let (p, hp) = (b / PAGE_BUCKETS, hb / PAGE_BUCKETS);
                    assert!(p == hp || p + 1 == hp, "{buckets}: {hb} -> {b}");
                }
                // Found again where it was put.
                assert_eq!(t.find_near(home, mix(i ^ 0xabcd)), at);
            }
        }
    }
}
