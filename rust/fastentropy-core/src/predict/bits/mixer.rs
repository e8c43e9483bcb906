//! The logistic mixer: `p = squash(Σ_i w_i · stretch(p_i))`, one weight vector per small
//! context, trained online by gradient descent on the coding cost (Mahoney 2005, "Adaptive
//! weighing of context models for lossless data compression"; "Data Compression Explained"
//! sec. 4.3.3): `w_i += η · x_i · (y - p)`, which is the gradient of `-ln q(y)` in `w_i`.
//!
//! Fixed point: inputs in 1/256 of the logistic domain, weights in 1/65536, the error in 12
//! bits, so every product fits an `i32` and the sums are exact (same bits on every run).
//! With AVX2 (detected at run time) the dot product and the update run 8 lanes at a time:
//! the same integer operations (exact 64-bit sums, 32-bit updates), so the same bits.

use super::counters::{Logistic, ST_MAX};

/// Inputs per weight vector (unused ones stay 0).
pub const INPUTS: usize = 16;

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
    weights: Vec<[i32; N]>,
    /// The selected weight vector and the last output, for the update.
    set: usize,
    dot: i32,
    p16: u32,
    rate: i32,
    avx2: bool,
}

impl<const N: usize> Mixer<N> {
    /// `sets` weight vectors, each starting at `start / 65536` per input.
    pub fn new(sets: usize, start: i32, rate: i32) -> Self {
        Self {
            weights: vec![[start; N]; sets],
            set: 0,
            dot: 0,
            p16: 1 << 15,
            rate,
            avx2: avx2(),
        }
    }

    /// Mixes `x` with weight vector `set`: `P(1)` in 16 bits.
    #[inline]
    pub fn mix(&mut self, x: &[i32; N], set: usize, lg: &Logistic) -> u32 {
        let w = &self.weights[set];
        #[cfg(target_arch = "x86_64")]
        let dot = if self.avx2 {
            // SAFETY: AVX2 was detected on this CPU.
            unsafe { simd::dot(x, w) }
        } else {
            dot(x, w)
        };
        #[cfg(not(target_arch = "x86_64"))]
        let dot = dot(x, w);
        self.set = set;
        self.dot = ((dot >> 16) as i32).clamp(-ST_MAX, ST_MAX);
        self.p16 = lg.squash(self.dot);
        self.p16
    }

    /// The last mix in the logistic domain (for the SSE stages).
    #[inline]
    pub fn dot(&self) -> i32 {
        self.dot
    }

    /// One gradient step towards the coded bit `y`.
    #[inline]
    pub fn learn(&mut self, x: &[i32; N], y: u32) {
        let err = ((((y as i32) << 16) - self.p16 as i32) >> 4) * self.rate;
        let w = &mut self.weights[self.set];
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: AVX2 was detected on this CPU.
            unsafe { simd::learn(x, w, err) };
            return;
        }
        learn(x, w, err);
    }

    pub fn bytes(&self) -> usize {
        self.weights.len() * N * 4
    }
}

/// `Σ x_i w_i`, exact.
#[inline]
fn dot<const N: usize>(x: &[i32; N], w: &[i32; N]) -> i64 {
    x.iter()
        .zip(w)
        .map(|(&a, &b)| i64::from(a) * i64::from(b))
        .sum()
}

/// `w_i += (x_i · err + 2^13) >> 14`.
#[inline]
fn learn<const N: usize>(x: &[i32; N], w: &mut [i32; N], err: i32) {
    for (wi, &xi) in w.iter_mut().zip(x) {
        *wi += (xi * err + (1 << 13)) >> 14;
    }
}

#[cfg(target_arch = "x86_64")]
mod simd {
    use std::arch::x86_64::{
        __m256i, _mm256_add_epi32, _mm256_add_epi64, _mm256_loadu_si256, _mm256_mul_epi32,
        _mm256_mullo_epi32, _mm256_set1_epi32, _mm256_srai_epi32, _mm256_srli_epi64,
        _mm256_storeu_si256,
    };

    /// [`super::dot`]: 64-bit products of the even and the odd 32-bit lanes, summed.
    #[target_feature(enable = "avx2")]
    pub unsafe fn dot<const N: usize>(x: &[i32; N], w: &[i32; N]) -> i64 {
        let mut acc = [0i64; 4];
        let mut sum = std::arch::x86_64::_mm256_setzero_si256();
        let mut i = 0;
        while i + 8 <= N {
            // SAFETY: i + 8 <= N, unaligned loads.
            let (a, b) = unsafe {
                (
                    _mm256_loadu_si256(x.as_ptr().add(i).cast::<__m256i>()),
                    _mm256_loadu_si256(w.as_ptr().add(i).cast::<__m256i>()),
                )
            };
            let even = _mm256_mul_epi32(a, b);
            let odd = _mm256_mul_epi32(_mm256_srli_epi64(a, 32), _mm256_srli_epi64(b, 32));
            sum = _mm256_add_epi64(sum, _mm256_add_epi64(even, odd));
            i += 8;
        }
        // SAFETY: four i64 lanes into four i64s.
        unsafe { _mm256_storeu_si256(acc.as_mut_ptr().cast::<__m256i>(), sum) };
        let mut total: i64 = acc.iter().sum();
        while i < N {
            total += i64::from(x[i]) * i64::from(w[i]);
            i += 1;
        }
        total
    }

    /// [`super::learn`], 8 lanes at a time.
    #[target_feature(enable = "avx2")]
    pub unsafe fn learn<const N: usize>(x: &[i32; N], w: &mut [i32; N], err: i32) {
        let e = _mm256_set1_epi32(err);
        let half = _mm256_set1_epi32(1 << 13);
        let mut i = 0;
        while i + 8 <= N {
            // SAFETY: i + 8 <= N, unaligned loads and store.
            unsafe {
                let a = _mm256_loadu_si256(x.as_ptr().add(i).cast::<__m256i>());
                let p = w.as_mut_ptr().add(i).cast::<__m256i>();
                let step = _mm256_srai_epi32(_mm256_add_epi32(_mm256_mullo_epi32(a, e), half), 14);
                _mm256_storeu_si256(p, _mm256_add_epi32(_mm256_loadu_si256(p), step));
            }
            i += 8;
        }
        while i < N {
            w[i] += (x[i] * err + (1 << 13)) >> 14;
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
        // Inputs over the whole logistic range, weights far past their usual size, widths
        // with and without a tail past the last 8 lanes; the reference is i64 arithmetic.
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        for _ in 0..2000 {
            let x: [i32; 20] = std::array::from_fn(|_| rng.random_range(-3071..=3071));
            let w: [i32; 20] = std::array::from_fn(|_| rng.random_range(-(1 << 24)..1 << 24));
            let want: i64 = x
                .iter()
                .zip(&w)
                .map(|(&a, &b)| i64::from(a) * i64::from(b))
                .sum();
            // SAFETY: AVX2 was detected.
            assert_eq!(unsafe { super::simd::dot(&x, &w) }, want);
            let err = rng.random_range(-40960..=40960);
            let mut got = w;
            // SAFETY: AVX2 was detected.
            unsafe { super::simd::learn(&x, &mut got, err) };
            for i in 0..20 {
                let step = (i64::from(x[i]) * i64::from(err) + (1 << 13)) >> 14;
                assert_eq!(i64::from(got[i]), i64::from(w[i]) + step, "lane {i}");
            }
        }
    }
}
