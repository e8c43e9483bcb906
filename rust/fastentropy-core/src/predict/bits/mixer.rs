//! The logistic mixer: `p = squash(Σ_i w_i · stretch(p_i))`, one weight vector per small
//! context, trained online by gradient descent on the coding cost (Mahoney 2005, "Adaptive
//! weighing of context models for lossless data compression"; "Data Compression Explained"
//! sec. 4.3.3): `w_i += η · x_i · (y - p)`, which is the gradient of `-ln q(y)` in `w_i`.
//!
//! Fixed point, 16 bits (PAQ7/8 and lpaq1 keep inputs and weights in 16 bits so that one
//! `pmaddwd` multiplies and pairs 8 or 16 of them at once; the idea is theirs, the code is
//! ours): inputs in 1/256 of the logistic domain (±3071), weights in 1/16384 (±2, saturating),
//! the dot product exact in 64 bits, the step `w_i += round(x_i · e / 2^15)` with
//! `e = err / 2` (`err` the 12-bit error times the learning rate). With AVX2 (detected at run
//! time) the dot product and the update run 16 lanes at a time: the same integer operations
//! (`pmaddwd` pairs, `pmulhrsw`'s rounding, `paddsw`'s saturation), so the same bits.
//! (4 MB of English, the byte model: 1.434574 bits/byte with 32-bit weights in 1/65536,
//! 1.433979 with these; 4 MB of 16k BPE tokens: 3.9025 and 3.9024 nats/token.)

use super::counters::{Logistic, ST_MAX};

/// Inputs per weight vector (unused ones stay 0).
pub const INPUTS: usize = 16;
/// Weights' fixed point: 1.0 is `1 << W_BITS`.
const W_BITS: u32 = 14;

/// Whether this CPU runs the AVX2 paths.
fn avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

#[derive(Clone)]
pub struct Mixer<const N: usize = INPUTS> {
    weights: Vec<[i16; N]>,
    /// The last inputs in 16 bits, the selected weight vector and the last output, for
    /// the update.
    x: [i16; N],
    set: usize,
    dot: i32,
    p16: u32,
    rate: i32,
    avx2: bool,
}

impl<const N: usize> Mixer<N> {
    /// `sets` weight vectors, each starting at `start / 65536` per input.
    pub fn new(sets: usize, start: i32, rate: i32) -> Self {
        let w = (start >> (16 - W_BITS)).clamp(-32768, 32767) as i16;
        Self {
            weights: vec![[w; N]; sets],
            x: [0; N],
            set: 0,
            dot: 0,
            p16: 1 << 15,
            rate,
            avx2: avx2(),
        }
    }

    /// Mixes `x` (each within ±[`ST_MAX`]) with weight vector `set`: `P(1)` in 16 bits.
    #[inline]
    pub fn mix(&mut self, x: &[i32; N], set: usize, lg: &Logistic) -> u32 {
        for (a, &b) in self.x.iter_mut().zip(x) {
            *a = b.clamp(-ST_MAX, ST_MAX) as i16;
        }
        let w = &self.weights[set];
        #[cfg(target_arch = "x86_64")]
        let dot = if self.avx2 {
            // SAFETY: AVX2 was detected on this CPU.
            unsafe { simd::dot(&self.x, w) }
        } else {
            dot(&self.x, w)
        };
        #[cfg(not(target_arch = "x86_64"))]
        let dot = dot(&self.x, w);
        self.set = set;
        self.dot = ((dot >> W_BITS) as i32).clamp(-ST_MAX, ST_MAX);
        self.p16 = lg.squash(self.dot);
        self.p16
    }

    /// The last mix in the logistic domain (for the SSE stages).
    #[inline]
    pub fn dot(&self) -> i32 {
        self.dot
    }

    /// One gradient step towards the coded bit `y`, on the inputs of the last mix.
    #[inline]
    pub fn learn(&mut self, y: u32) {
        let err = ((((y as i32) << 16) - self.p16 as i32) >> 4) * self.rate;
        let e = (err / 2).clamp(-32767, 32767) as i16;
        let w = &mut self.weights[self.set];
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: AVX2 was detected on this CPU.
            unsafe { simd::learn(&self.x, w, e) };
            return;
        }
        learn(&self.x, w, e);
    }

    pub fn bytes(&self) -> usize {
        self.weights.len() * N * 2
    }
}

/// `Σ x_i w_i`, exact.
#[inline]
fn dot<const N: usize>(x: &[i16; N], w: &[i16; N]) -> i64 {
    x.iter()
        .zip(w)
        .map(|(&a, &b)| i64::from(a) * i64::from(b))
        .sum()
}

/// `round(x · e / 2^15)` as `pmulhrsw` computes it.
#[inline]
fn step(x: i16, e: i16) -> i16 {
    ((i32::from(x) * i32::from(e) + (1 << 14)) >> 15) as i16
}

/// `w_i += round(x_i · e / 2^15)`, saturating.
#[inline]
fn learn<const N: usize>(x: &[i16; N], w: &mut [i16; N], e: i16) {
    for (wi, &xi) in w.iter_mut().zip(x) {
        *wi = wi.saturating_add(step(xi, e));
    }
}

#[cfg(target_arch = "x86_64")]
mod simd {
    use std::arch::x86_64::{
        __m128i, __m256i, _mm256_add_epi64, _mm256_adds_epi16, _mm256_castsi256_si128,
        _mm256_cvtepi32_epi64, _mm256_extracti128_si256, _mm256_loadu_si256, _mm256_madd_epi16,
        _mm256_mulhrs_epi16, _mm256_set1_epi16, _mm256_setzero_si256, _mm256_storeu_si256,
        _mm_adds_epi16, _mm_loadu_si128, _mm_madd_epi16, _mm_mulhrs_epi16, _mm_set1_epi16,
        _mm_storeu_si128,
    };

    /// [`super::dot`]: 16 lanes at a time, `pmaddwd` into 32-bit pair sums (each at most
    /// 2 · 3071 · 32768 in size), widened to 64 bits before they are added up.
    #[target_feature(enable = "avx2")]
    pub unsafe fn dot<const N: usize>(x: &[i16; N], w: &[i16; N]) -> i64 {
        let mut sum = _mm256_setzero_si256();
        let mut i = 0;
        let widen = |s: __m256i, p: __m256i| {
            let lo = _mm256_cvtepi32_epi64(_mm256_castsi256_si128(p));
            let hi = _mm256_cvtepi32_epi64(_mm256_extracti128_si256::<1>(p));
            _mm256_add_epi64(s, _mm256_add_epi64(lo, hi))
        };
        while i + 16 <= N {
            // SAFETY: i + 16 <= N, unaligned loads.
            let p = unsafe {
                _mm256_madd_epi16(
                    _mm256_loadu_si256(x.as_ptr().add(i).cast::<__m256i>()),
                    _mm256_loadu_si256(w.as_ptr().add(i).cast::<__m256i>()),
                )
            };
            sum = widen(sum, p);
            i += 16;
        }
        if i + 8 <= N {
            // SAFETY: i + 8 <= N, unaligned loads.
            let p = unsafe {
                _mm_madd_epi16(
                    _mm_loadu_si128(x.as_ptr().add(i).cast::<__m128i>()),
                    _mm_loadu_si128(w.as_ptr().add(i).cast::<__m128i>()),
                )
            };
            sum = _mm256_add_epi64(sum, _mm256_cvtepi32_epi64(p));
            i += 8;
        }
        let mut acc = [0i64; 4];
        // SAFETY: four i64 lanes into four i64s.
        unsafe { _mm256_storeu_si256(acc.as_mut_ptr().cast::<__m256i>(), sum) };
        let mut total: i64 = acc.iter().sum();
        while i < N {
            total += i64::from(x[i]) * i64::from(w[i]);
            i += 1;
        }
        total
    }

    /// [`super::learn`], 16 lanes at a time (`pmulhrsw` is [`super::step`]).
    #[target_feature(enable = "avx2")]
    pub unsafe fn learn<const N: usize>(x: &[i16; N], w: &mut [i16; N], e: i16) {
        let mut i = 0;
        let e16 = _mm256_set1_epi16(e);
        while i + 16 <= N {
            // SAFETY: i + 16 <= N, unaligned loads and store.
            unsafe {
                let a = _mm256_loadu_si256(x.as_ptr().add(i).cast::<__m256i>());
                let p = w.as_mut_ptr().add(i).cast::<__m256i>();
                let step = _mm256_mulhrs_epi16(a, e16);
                _mm256_storeu_si256(p, _mm256_adds_epi16(_mm256_loadu_si256(p), step));
            }
            i += 16;
        }
        if i + 8 <= N {
            // SAFETY: i + 8 <= N, unaligned loads and store.
            unsafe {
                let a = _mm_loadu_si128(x.as_ptr().add(i).cast::<__m128i>());
                let p = w.as_mut_ptr().add(i).cast::<__m128i>();
                let step = _mm_mulhrs_epi16(a, _mm_set1_epi16(e));
                _mm_storeu_si128(p, _mm_adds_epi16(_mm_loadu_si128(p), step));
            }
            i += 8;
        }
        while i < N {
            w[i] = w[i].saturating_add(super::step(x[i], e));
            i += 1;
        }
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    #[test]
    fn the_avx2_paths_give_the_plain_loops_integers() {
        if !super::avx2() {
            return;
        }
        // Inputs over the whole logistic range, weights over all of i16 (saturation),
        // widths with 16-, 8- and 1-lane tails; the reference is i64 arithmetic.
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        for _ in 0..2000 {
            let x: [i16; 27] = std::array::from_fn(|_| rng.random_range(-3071..=3071));
            let w: [i16; 27] = std::array::from_fn(|_| rng.random_range(i16::MIN..=i16::MAX));
            let want: i64 = x
                .iter()
                .zip(&w)
                .map(|(&a, &b)| i64::from(a) * i64::from(b))
                .sum();
            // SAFETY: AVX2 was detected.
            assert_eq!(unsafe { super::simd::dot(&x, &w) }, want);
            let e = rng.random_range(-32767..=32767);
            let mut got = w;
            // SAFETY: AVX2 was detected.
            unsafe { super::simd::learn(&x, &mut got, e) };
            for i in 0..27 {
                let step = (i64::from(x[i]) * i64::from(e) + (1 << 14)) >> 15;
                let want = (i64::from(w[i]) + step).clamp(-32768, 32767);
                assert_eq!(i64::from(got[i]), want, "lane {i}");
            }
        }
    }
}
