//! Hashed context slots: each holds the bit-history states of one context over one nibble
//! of the symbol (the 15 nodes of a 4-bit binary tree) and a check byte of the context's
//! hash, so that most collisions are detected (lpaq1's layout, Mahoney 2007; "Data
//! Compression Explained" sec. 4.3.2). Four slots share a 64-byte bucket (one cache line):
//! a context looks in the four, and if its check byte is in none it takes the slot that
//! has seen least (the count of its first node), zeroed. A collision that passes the check
//! costs compression only: the states feed predictions, the coder's `q` stays proper.

use super::counters::seen;

/// Slots per bucket.
pub const WAYS: usize = 4;

/// One context's nibble: `[0]` the check byte, `[1..16]` the node states.
pub type Slot = [u8; 16];

#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Bucket([Slot; WAYS]);

#[derive(Clone)]
pub struct SlotTable {
    buckets: Vec<Bucket>,
    mask: usize,
}

impl SlotTable {
    /// A table of `buckets` buckets (a power of two).
    pub fn new(buckets: usize) -> Self {
        debug_assert!(buckets.is_power_of_two());
        let mut buckets_v = vec![Bucket([[0; 16]; WAYS]); buckets];
        super::super::table::huge_pages(&mut buckets_v);
        Self {
            buckets: buckets_v,
            mask: buckets - 1,
        }
    }

    pub fn bytes(&self) -> usize {
        self.buckets.len() * std::mem::size_of::<Bucket>()
    }

    pub fn buckets(&self) -> usize {
        self.buckets.len()
    }

    /// The slot of context hash `h` (found, or taken over and zeroed): its index.
    #[inline]
    pub fn find(&mut self, h: u64) -> usize {
        let b = (h as usize) & self.mask;
        let check = ((h >> 56) as u8).max(1);
        let bucket = &mut self.buckets[b].0;
        let mut weakest = 0;
        for (i, slot) in bucket.iter().enumerate() {
            if slot[0] == check {
                return b * WAYS + i;
            }
            if seen(slot[1]) < seen(bucket[weakest][1]) {
                weakest = i;
            }
        }
        bucket[weakest] = [0; 16];
        bucket[weakest][0] = check;
        b * WAYS + weakest
    }

    #[inline]
    pub fn slot(&mut self, i: usize) -> &mut Slot {
        &mut self.buckets[i / WAYS].0[i % WAYS]
    }

    #[inline]
    pub fn state(&self, i: usize, node: usize) -> u8 {
        self.buckets[i / WAYS].0[i % WAYS][node]
    }

    /// Asks the memory for the bucket of `h` ahead of its use.
    #[inline]
    pub fn prefetch(&self, h: u64) {
        let b = (h as usize) & self.mask;
        #[cfg(target_arch = "x86_64")]
        // SAFETY: a prefetch is a hint: it reads nothing and the address is in bounds.
        unsafe {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            _mm_prefetch::<_MM_HINT_T0>(self.buckets.as_ptr().add(b).cast::<i8>());
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = b;
    }
}

/// A 64-bit finaliser (splitmix64's), so that nearby contexts land far apart.
#[inline]
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
