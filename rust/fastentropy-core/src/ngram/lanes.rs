//! The scan without a mask on up to four orders at once, one order per AVX2 lane.
//!
//! Scalar, each order costs a dozen instructions a key (two tests, a subtraction, two
//! selects); in lanes, four orders cost about as much as one. What stays scalar is adding
//! each order's count to its tally, and that was the real cost: in lanes alone the scan
//! was barely faster (~1% overall), until consecutive keys tallied into two copies in turn
//! (~8% overall; 1e8 tokens, 50k vocabulary, two threads, same-run A/B).

use std::sync::OnceLock;

use std::arch::x86_64::{
    __m256i, _mm256_add_epi64, _mm256_and_si256, _mm256_andnot_si256, _mm256_blendv_epi8,
    _mm256_cmpeq_epi64, _mm256_or_si256, _mm256_set1_epi64x, _mm256_set_epi64x,
    _mm256_setzero_si256, _mm256_storeu_si256, _mm256_sub_epi64, _mm256_xor_si256,
};

/// Whether the scan uses [`runs`]: this CPU has AVX2, and the environment variable
/// `FASTENTROPY_PORTABLE` is not `1`. Set to `1` it forces the portable scalar scan, so that
/// tests run both paths on one machine; it is read once, at the first scan of the process.
pub(crate) fn available() -> bool {
    static LANES: OnceLock<bool> = OnceLock::new();
    *LANES.get_or_init(|| {
        std::env::var_os("FASTENTROPY_PORTABLE").is_none_or(|v| v != "1")
            && is_x86_feature_detected!("avx2")
    })
}

/// Closes the runs of M (at most four) orders over sorted `keys`, as the scalar scan does:
/// order j's run closes between neighbours whose xor has a bit in `high[j]`, and counts iff
/// the earlier key has a bit in `alive[j]`. A run of length c adds one to `small[k][j][c]`,
/// k turning from key to key over the C copies, or calls `large(j, c)` past its end; a key
/// that closes no counted run adds to c = 0. Returns where the open run of each order
/// starts. The caller checks [`available`].
///
/// The copies: the same count at consecutive keys (most keys close no bigram, most 5-grams
/// are seen once) would chain their load-add-stores on one counter, most of the time here.
#[target_feature(enable = "avx2")]
pub(crate) fn runs<const M: usize, const N: usize, const C: usize>(
    keys: &[u64],
    high: [u64; 4],
    alive: [u64; 4],
    mut small: [&mut [[u64; N]; M]; C],
    mut large: impl FnMut(usize, usize),
) -> [usize; 4] {
    let Some((&first, rest)) = keys.split_first() else {
        return [0; 4];
    };
    let mut lanes = Lanes::new(first, high, alive);
    let mut counts = [0u64; 4];
    let mut tally = |small: &mut [[u64; N]; M], counts: &[u64; 4]| {
        for (j, &count) in counts.iter().enumerate().take(M) {
            match small[j].get_mut(count as usize) {
                Some(n) => *n += 1,
                None => large(j, count as usize),
            }
        }
    };
    let mut steps = rest.chunks_exact(C);
    for step in steps.by_ref() {
        for (&key, small) in step.iter().zip(&mut small) {
            store(&mut counts, lanes.close(key));
            tally(small, &counts);
        }
    }
    for &key in steps.remainder() {
        store(&mut counts, lanes.close(key));
        tally(small[0], &counts);
    }
    store(&mut counts, lanes.start);
    counts.map(|s| s as usize)
}

/// The scan's state, one order per lane.
struct Lanes {
    high: __m256i,
    alive: __m256i,
    prev: __m256i,
    /// Where each order's open run starts ...
    start: __m256i,
    /// ... and the position of the key seen last.
    end: __m256i,
}

impl Lanes {
    #[inline(always)]
    fn new(first: u64, high: [u64; 4], alive: [u64; 4]) -> Self {
        // SAFETY: inlined only into `runs`, which has AVX2.
        let (prev, zero) = unsafe { (_mm256_set1_epi64x(first as i64), _mm256_setzero_si256()) };
        Self {
            high: load(high),
            alive: load(alive),
            prev,
            start: zero,
            end: zero,
        }
    }

    /// Moves on to `key`: the lengths of the runs it closes (0 where none counts).
    #[inline(always)]
    fn close(&mut self, key: u64) -> __m256i {
        // SAFETY: inlined only into `runs`, which has AVX2.
        unsafe {
            let zero = _mm256_setzero_si256();
            let next = _mm256_set1_epi64x(key as i64);
            self.end = _mm256_add_epi64(self.end, _mm256_set1_epi64x(1));
            let xor = _mm256_xor_si256(self.prev, next);
            let stays = _mm256_cmpeq_epi64(_mm256_and_si256(xor, self.high), zero);
            let dead = _mm256_cmpeq_epi64(_mm256_and_si256(self.prev, self.alive), zero);
            let length = _mm256_sub_epi64(self.end, self.start);
            self.start = _mm256_blendv_epi8(self.end, self.start, stays);
            self.prev = next;
            _mm256_andnot_si256(_mm256_or_si256(stays, dead), length)
        }
    }
}

#[inline(always)]
fn load(a: [u64; 4]) -> __m256i {
    let [x0, x1, x2, x3] = a.map(|x| x as i64);
    // SAFETY: inlined only into `runs`, which has AVX2.
    unsafe { _mm256_set_epi64x(x3, x2, x1, x0) }
}

#[inline(always)]
fn store(out: &mut [u64; 4], x: __m256i) {
    // SAFETY: `out` is 32 bytes, an unaligned store fits it; inlined only into `runs`,
    // which has AVX2.
    unsafe { _mm256_storeu_si256(out.as_mut_ptr().cast(), x) }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Per order, how many runs of each length below 16 closed; the longer runs (order,
    /// length); and where the open runs start.
    type Closed<const M: usize> = ([[u64; 16]; M], Vec<(usize, usize)>, [usize; 4]);

    /// What [`runs`] finds (its copies summed), one key at a time per order.
    fn one_by_one<const M: usize>(keys: &[u64], high: [u64; 4], alive: [u64; 4]) -> Closed<M> {
        let (mut small, mut large, mut start) = ([[0; 16]; M], Vec::new(), [0; 4]);
        for end in 1..keys.len() {
            let (prev, key) = (keys[end - 1], keys[end]);
            for j in 0..M {
                let closes = (prev ^ key) & high[j] != 0;
                let count = if closes && prev & alive[j] != 0 {
                    end - start[j]
                } else {
                    0
                };
                match small[j].get_mut(count) {
                    Some(n) => *n += 1,
                    None => large.push((j, count)),
                }
                if closes {
                    start[j] = end;
                }
            }
        }
        (small, large, start)
    }

    fn check<const M: usize>(keys: &[u64], high: [u64; 4], alive: [u64; 4]) {
        let mut copies = [[[0u64; 16]; M]; 2];
        let mut large = Vec::new();
        // SAFETY: AVX2 checked by the caller.
        let start = unsafe {
            runs(keys, high, alive, copies.each_mut(), |j, c| {
                large.push((j, c))
            })
        };
        let mut small = copies[0];
        for (s, o) in small.iter_mut().zip(&copies[1]) {
            s.iter_mut().zip(o).for_each(|(a, b)| *a += b);
        }
        let want = one_by_one::<M>(keys, high, alive);
        assert_eq!(
            (small, large, start[..M].to_vec()),
            (want.0, want.1, want.2[..M].to_vec())
        );
    }

    proptest! {
        #[test]
        fn lanes_close_runs_as_one_order_at_a_time(
            mut keys in prop::collection::vec(0u64..256, 0..200),
            high in prop::array::uniform4(0u64..256),
            alive in prop::array::uniform4(0u64..256),
            sorted in any::<bool>(),
        ) {
            // The CPU, not `available`: FASTENTROPY_PORTABLE must not skip this test.
            if !is_x86_feature_detected!("avx2") {
                return Ok(());
            }
            // Sorted keys make long runs (counts past the copies' 16 go to `large`).
            if sorted {
                keys.sort_unstable();
            }
            check::<4>(&keys, high, alive);
            check::<3>(&keys, high, alive);
            check::<1>(&keys, high, alive);
        }
    }
}
