//! Sorting one bucket of tail keys.
//!
//! On a large vocabulary a bucket (the windows of one first token) holds a few thousand
//! keys, so pdqsort spends about log2(n) passes over them. One counting pass on the key's
//! top byte first spreads them into 256 ranges, each then sorted alone: it replaces several
//! of those passes (a full LSD radix sort was 3x slower than pdqsort). The spread goes to a
//! buffer of its own, at most [`SPREAD_MAX`] keys per worker (counted in the memory limit);
//! larger buckets (byte-level text) are sorted in place.
//!
//! Most ranges then hold a handful of keys, where insertion sort (what `sort_unstable` does
//! up to 20 keys) mispredicts about once a key; a branch-free sorting network does not. The
//! spread's counting and scatter run as two interleaved halves with their own cursors, so a
//! run of keys with one top byte does not wait on one cursor's store-to-load forwarding.
//! Measured on one thread, sorting every bucket of 4-token tails (u64), 1e8 tokens of a
//! 50k vocabulary (~2k keys a bucket): 1.63 s with pdqsort per range, 1.43 s with networks,
//! 1.29 s with both; 1e7 strongly Zipfian tokens (half the keys in buckets past
//! `SPREAD_MAX`): 0.255 -> 0.237 s, part of it from [`SPREAD_MIN`] 64 -> 256. Slower or no
//! better: a spread on 9-12 bits (fewer keys a range, but more counters to clear and sum);
//! finishing with one insertion pass over the whole spread; MSD recursion on every range
//! above 16 keys (+30%) or one more level above 64-512 keys; a log-scale digit (wins on
//! Zipfian keys, +15% on the others); an in-place top-byte pass (American flag) before
//! pdqsort on the largest buckets; four interleaved quarters instead of two halves.

use super::keys::Key;

/// Sorts `$keys` (at most `$n`) with the comparators `[i, j]` of a sorting network on `$n`
/// keys, on a copy padded with `K::MAX`. Unrolled on a local array, each comparator becomes
/// two conditional moves: no branch to mispredict, unlike insertion sort on random keys.
macro_rules! network {
    ($keys:expr, $n:literal; $([$i:literal, $j:literal]),+ $(,)?) => {{
        let keys: &mut [K] = $keys;
        let mut v = [K::MAX; $n];
        // Loops, not `copy_from_slice`: a variable-length copy would call memcpy.
        for (x, &k) in v.iter_mut().zip(keys.iter()) {
            *x = k;
        }
        $(
            let (a, b) = (v[$i], v[$j]);
            let swap = b < a;
            v[$i] = std::hint::select_unpredictable(swap, b, a);
            v[$j] = std::hint::select_unpredictable(swap, a, b);
        )+
        for (k, &x) in keys.iter_mut().zip(v.iter()) {
            *k = x;
        }
    }};
}

/// Buckets up to this many keys are spread by their top byte first; it bounds the buffer
/// (256 KiB of u64 keys).
pub(crate) const SPREAD_MAX: usize = 1 << 15;
/// Below this, a bucket is too small for the spread to pay: on skewed keys one range often
/// takes most of it (256 was ~5% faster than 64 on Zipfian text, 512 no better).
const SPREAD_MIN: usize = 256;

pub(crate) struct Sorter<K> {
    /// The top byte of a key is `key >> shift`.
    shift: u32,
    spread: Vec<K>,
}

impl<K: Key> Sorter<K> {
    /// For keys that use their low `width` bits.
    pub fn new(width: usize) -> Self {
        Self {
            shift: width.saturating_sub(8) as u32,
            spread: Vec::new(),
        }
    }

    /// Sorts `bucket`; the sorted keys are either `bucket` or the sorter's own buffer.
    pub fn sort<'a>(&'a mut self, bucket: &'a mut [K]) -> &'a [K] {
        if !(SPREAD_MIN..=SPREAD_MAX).contains(&bucket.len()) {
            sort_range(bucket);
            return bucket;
        }
        let digit = |k: K| (k >> self.shift).to_u128() as u8 as usize;
        // Two halves in step, each with its own cursors: a run of keys with one top byte
        // (common in skewed buckets) would otherwise wait on its cursor's store each time.
        let (a, b) = bucket.split_at(bucket.len() / 2);
        let (pairs, odd) = (a.iter().zip(b), &b[a.len()..]);
        let mut next = [[0u32; 256]; 2];
        for (&x, &y) in pairs.clone() {
            next[0][digit(x)] += 1;
            next[1][digit(y)] += 1;
        }
        for &y in odd {
            next[1][digit(y)] += 1;
        }
        let mut starts = [0u32; 257];
        for d in 0..256 {
            let mut at = starts[d];
            for half in &mut next {
                (half[d], at) = (at, at + half[d]);
            }
            starts[d + 1] = at;
        }
        if self.spread.len() < bucket.len() {
            self.spread.resize(bucket.len(), K::ZERO);
        }
        let spread = &mut self.spread[..bucket.len()];
        let mut put = |half: usize, k: K| {
            let at = &mut next[half][digit(k)];
            spread[*at as usize] = k;
            *at += 1;
        };
        for (&x, &y) in pairs {
            put(0, x);
            put(1, y);
        }
        for &y in odd {
            put(1, y);
        }
        for d in starts.windows(2) {
            sort_range(&mut spread[d[0] as usize..d[1] as usize]);
        }
        spread
    }
}

/// Sorts a range left by the spread or a bucket too small for it: by a sorting network when
/// short.
fn sort_range<K: Key>(keys: &mut [K]) {
    // Padded to 4, 8 or 16 keys with `K::MAX`, which sort last.
    match keys.len() {
        0 | 1 => {}
        2..=4 => network!(keys, 4; [0, 2], [1, 3], [0, 1], [2, 3], [1, 2]),
        5..=8 => network!(keys, 8;
            [0, 2], [1, 3], [4, 6], [5, 7], [0, 4], [1, 5], [2, 6], [3, 7],
            [0, 1], [2, 3], [4, 5], [6, 7], [2, 4], [3, 5], [1, 4], [3, 6],
            [1, 2], [3, 4], [5, 6]),
        9..=16 => network!(keys, 16;
            [0, 13], [1, 12], [2, 15], [3, 14], [4, 8], [5, 6], [7, 11], [9, 10],
            [0, 5], [1, 7], [2, 9], [3, 4], [6, 13], [8, 14], [10, 15], [11, 12],
            [0, 1], [2, 3], [4, 5], [6, 8], [7, 9], [10, 11], [12, 13], [14, 15],
            [0, 2], [1, 3], [4, 10], [5, 11], [6, 7], [8, 9], [12, 14], [13, 15],
            [1, 2], [3, 12], [4, 6], [5, 7], [8, 10], [9, 11], [13, 14],
            [1, 4], [2, 6], [5, 8], [7, 10], [9, 13], [11, 14],
            [2, 4], [3, 6], [9, 12], [11, 13],
            [3, 5], [6, 8], [7, 9], [10, 12],
            [3, 4], [5, 6], [7, 8], [9, 10], [11, 12],
            [6, 7], [8, 9]),
        _ => keys.sort_unstable(),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn sorts_like_sort_unstable(
            mut keys in prop::collection::vec(any::<u64>(), 0..3000),
            width in 1usize..=64,
        ) {
            let mask = u64::MAX >> (64 - width);
            keys.iter_mut().for_each(|k| *k &= mask);
            let mut want = keys.clone();
            want.sort_unstable();
            let mut sorter = Sorter::<u64>::new(width);
            prop_assert_eq!(sorter.sort(&mut keys), &want[..]);
        }
    }

    proptest! {
        #[test]
        fn short_buckets_sort_like_sort_unstable(
            mut keys in prop::collection::vec(any::<u128>(), 0..=40),
            bits in 1u32..=128,
        ) {
            // Few bits: many equal keys, and keys equal to the padding `K::MAX`.
            keys.iter_mut().for_each(|k| *k |= u128::MAX << (bits - 1));
            let mut want = keys.clone();
            want.sort_unstable();
            let mut narrow: Vec<u64> = keys.iter().map(|&k| k as u64).collect();
            let mut want_narrow = narrow.clone();
            want_narrow.sort_unstable();
            let (mut wide, mut sorter) = (Sorter::<u128>::new(128), Sorter::<u64>::new(64));
            prop_assert_eq!(wide.sort(&mut keys), &want[..]);
            prop_assert_eq!(sorter.sort(&mut narrow), &want_narrow[..]);
        }
    }

    /// The 0-1 principle: a network that sorts every sequence of 0s and 1s sorts everything.
    #[test]
    fn networks_sort_every_01_sequence() {
        for len in 0..=16 {
            for bits in 0u32..1 << len {
                let mut keys: Vec<u64> = (0..len).map(|i| (bits >> i & 1) as u64).collect();
                sort_range(&mut keys);
                assert!(keys.is_sorted(), "{len} keys {bits:b}");
            }
        }
    }

    #[test]
    fn lengths_at_the_spread_thresholds() {
        let mut x = 3u64;
        for len in [
            SPREAD_MIN - 1,
            SPREAD_MIN,
            SPREAD_MIN + 1,
            SPREAD_MAX,
            SPREAD_MAX + 1,
        ] {
            // Top bytes from 16 values, Zipf-like: ranges of every size class.
            let keys: Vec<u64> = (0..len)
                .map(|_| {
                    x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    (x >> 60 >> (x >> 58 & 3)) << 56 | x >> 40
                })
                .collect();
            let mut want = keys.clone();
            want.sort_unstable();
            assert_eq!(Sorter::<u64>::new(64).sort(&mut keys.clone()), &want[..]);
            let mut wide: Vec<u128> = keys.iter().map(|&k| (k as u128) << 64 | 5).collect();
            let want: Vec<u128> = want.iter().map(|&k| (k as u128) << 64 | 5).collect();
            assert_eq!(Sorter::<u128>::new(128).sort(&mut wide), &want[..]);
        }
    }

    #[test]
    fn wide_keys_and_skew() {
        let mut x = 7u128;
        let mut keys: Vec<u128> = (0..5000)
            .map(|i| {
                x = x.wrapping_mul(0x2545_F491_4F6C_DD1D_0123_4567_89AB_CDEF) | 1;
                // Most keys share their top byte: one range takes nearly everything.
                ((i % 7 == 0) as u128) << 90 | (x >> 40)
            })
            .collect();
        let mut want = keys.clone();
        want.sort_unstable();
        assert_eq!(Sorter::<u128>::new(91).sort(&mut keys), &want[..]);
    }
}
