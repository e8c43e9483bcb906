//! The count profile ("fingerprint", count of counts) of a sample.
//!
//! For each count value `k ≥ 1`, `m_k` is the number of distinct outcomes seen exactly `k`
//! times; N = Σ k·m_k and K_obs = Σ m_k. Profiles of samples with disjoint supports add
//! pairwise, which is what lets counting run in partitions, in parallel and out of core.

use std::collections::BTreeMap;

use rayon::prelude::*;

use crate::error::{Error, Result};

/// Counts smaller than this are tallied in a dense array; larger ones in a map.
const DENSE_COUNTS: usize = 1024;
/// Fixed chunk length for parallel scans (fixed so that work splits the same way always).
const CHUNK: usize = 1 << 18;

/// A count profile: pairs `(k, m_k)` with `k` strictly increasing and every `m_k > 0`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    pairs: Vec<(u64, u64)>,
    n: u64,
    distinct: u64,
}

/// An integer type that can hold a count (negative values are rejected).
pub trait CountValue: Copy + Send + Sync + std::fmt::Display {
    /// The count as `u64`, or `None` if it is negative.
    fn to_count(self) -> Option<u64>;
}

/// An integer type whose values label outcomes.
pub trait SampleValue: Copy + Send + Sync {
    /// Bits of the type: up to 16 bits a dense histogram is used.
    const BITS: u32;
    /// An injective map into `u64` (order is irrelevant, only equality matters).
    fn key(self) -> u64;
}

macro_rules! impl_unsigned {
    ($($t:ty),*) => {$(
        impl CountValue for $t {
            #[inline]
            fn to_count(self) -> Option<u64> { Some(self as u64) }
        }
        impl SampleValue for $t {
            const BITS: u32 = <$t>::BITS;
            #[inline]
            fn key(self) -> u64 { self as u64 }
        }
    )*};
}
macro_rules! impl_signed {
    ($($t:ty => $u:ty),*) => {$(
        impl CountValue for $t {
            #[inline]
            fn to_count(self) -> Option<u64> { u64::try_from(self).ok() }
        }
        impl SampleValue for $t {
            const BITS: u32 = <$t>::BITS;
            #[inline]
            fn key(self) -> u64 { self as $u as u64 }
        }
    )*};
}
impl_unsigned!(u8, u16, u32, u64);
impl_signed!(i8 => u8, i16 => u16, i32 => u32, i64 => u64);

/// Histogram of count values, dense for small counts.
struct CountHistogram {
    dense: Vec<u64>,
    sparse: BTreeMap<u64, u64>,
}

impl CountHistogram {
    fn new() -> Self {
        Self {
            dense: vec![0; DENSE_COUNTS],
            sparse: BTreeMap::new(),
        }
    }

    #[inline]
    fn add(&mut self, k: u64, times: u64) {
        if k < DENSE_COUNTS as u64 {
            self.dense[k as usize] += times;
        } else {
            *self.sparse.entry(k).or_insert(0) += times;
        }
    }

    fn merge(mut self, other: Self) -> Self {
        for (a, b) in self.dense.iter_mut().zip(&other.dense) {
            *a += b;
        }
        for (k, m) in other.sparse {
            *self.sparse.entry(k).or_insert(0) += m;
        }
        self
    }

    fn into_profile(self) -> Result<Profile> {
        let pairs = self
            .dense
            .into_iter()
            .enumerate()
            .skip(1)
            .filter(|&(_, m)| m > 0)
            .map(|(k, m)| (k as u64, m))
            .chain(self.sparse.into_iter().filter(|&(k, m)| k > 0 && m > 0));
        Profile::from_sorted_pairs(pairs.collect())
    }
}

impl Profile {
    /// Builds a profile from explicit `(k, m_k)` pairs in any order; repeated `k` are merged
    /// and pairs with `m_k = 0` dropped.
    ///
    /// # Errors
    /// Mismatched lengths, `k = 0`, or a total count beyond `u64`.
    pub fn from_pairs(ks: &[u64], mks: &[u64]) -> Result<Self> {
        if ks.len() != mks.len() {
            return Err(Error::Invalid(format!(
                "ks and mks must have the same length, got {} and {}",
                ks.len(),
                mks.len()
            )));
        }
        // Fast path: already normalised (what every Profile hands back), so no map is built.
        let normalised = ks.first().is_none_or(|&k| k > 0)
            && ks.windows(2).all(|w| w[0] < w[1])
            && mks.iter().all(|&m| m > 0);
        if normalised {
            return Self::from_sorted_pairs(ks.iter().copied().zip(mks.iter().copied()).collect());
        }
        let mut merged = BTreeMap::new();
        for (i, (&k, &m)) in ks.iter().zip(mks).enumerate() {
            if k == 0 {
                return Err(Error::Invalid(format!(
                    "ks[{i}] = 0: a count value must be at least 1 (outcomes seen zero times \
                     are not part of a profile)"
                )));
            }
            if m > 0 {
                let slot: &mut u64 = merged.entry(k).or_insert(0);
                *slot = slot.checked_add(m).ok_or_else(overflow)?;
            }
        }
        Self::from_sorted_pairs(merged.into_iter().collect())
    }

    /// Builds a profile from a vector of outcome counts; zeros are ignored.
    ///
    /// # Errors
    /// A negative count (the message names its position), or a total beyond `u64`.
    pub fn from_counts<T: CountValue>(counts: &[T]) -> Result<Self> {
        let hist = counts
            .par_chunks(CHUNK)
            .enumerate()
            .map(|(c, chunk)| {
                let mut h = CountHistogram::new();
                for (i, &v) in chunk.iter().enumerate() {
                    match v.to_count() {
                        Some(k) => h.add(k, 1),
                        None => return Err(negative_count(c * CHUNK + i, v)),
                    }
                }
                Ok(h)
            })
            // Keep the error of the earliest chunk, so the message is the same every run.
            .reduce(
                || Ok(CountHistogram::new()),
                |a, b| match (a, b) {
                    (Ok(a), Ok(b)) => Ok(a.merge(b)),
                    (Err(e), _) | (Ok(_), Err(e)) => Err(e),
                },
            )?;
        hist.into_profile()
    }

    /// Builds the profile of a sample of outcome labels: counts each distinct value.
    ///
    /// # Errors
    /// Only for a total beyond `u64`, which a slice cannot reach.
    pub fn from_samples<T: SampleValue>(samples: &[T]) -> Result<Self> {
        let mut hist = CountHistogram::new();
        if T::BITS <= 16 {
            let dense = samples
                .par_chunks(CHUNK)
                .map(|chunk| {
                    let mut d = vec![0u64; 1 << T::BITS];
                    for &v in chunk {
                        d[v.key() as usize] += 1;
                    }
                    d
                })
                .reduce(
                    || vec![0u64; 1 << T::BITS],
                    |mut a, b| {
                        a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
                        a
                    },
                );
            dense
                .into_iter()
                .filter(|&c| c > 0)
                .for_each(|c| hist.add(c, 1));
        } else {
            let mut keys: Vec<u64> = samples.par_iter().map(|v| v.key()).collect();
            keys.par_sort_unstable();
            for run in keys.chunk_by(|a, b| a == b) {
                hist.add(run.len() as u64, 1);
            }
        }
        hist.into_profile()
    }

    /// Pairs already sorted by `k`, unique, with `k ≥ 1` and `m > 0`.
    fn from_sorted_pairs(pairs: Vec<(u64, u64)>) -> Result<Self> {
        let mut n: u64 = 0;
        let mut distinct: u64 = 0;
        for &(k, m) in &pairs {
            debug_assert!(k > 0 && m > 0);
            n = k
                .checked_mul(m)
                .and_then(|km| n.checked_add(km))
                .ok_or_else(overflow)?;
            distinct = distinct.checked_add(m).ok_or_else(overflow)?;
        }
        Ok(Self { pairs, n, distinct })
    }

    /// The profile of the union of two samples with disjoint supports.
    ///
    /// # Errors
    /// A total beyond `u64`.
    pub fn add(&self, other: &Self) -> Result<Self> {
        let mut merged: BTreeMap<u64, u64> = self.pairs.iter().copied().collect();
        for &(k, m) in &other.pairs {
            let slot = merged.entry(k).or_insert(0);
            *slot = slot.checked_add(m).ok_or_else(overflow)?;
        }
        Self::from_sorted_pairs(merged.into_iter().collect())
    }

    /// The `(k, m_k)` pairs, `k` strictly increasing.
    pub fn pairs(&self) -> &[(u64, u64)] {
        &self.pairs
    }

    /// Number of observations N = Σ k·m_k.
    pub fn n(&self) -> u64 {
        self.n
    }

    /// Number of distinct outcomes observed, K_obs = Σ m_k.
    pub fn distinct(&self) -> u64 {
        self.distinct
    }

    /// Number of outcomes seen exactly once, f₁ = m₁.
    pub fn singletons(&self) -> u64 {
        match self.pairs.first() {
            Some(&(1, m)) => m,
            _ => 0,
        }
    }

    /// Coincidences N − K_obs: observations that repeat an outcome already seen.
    pub fn coincidences(&self) -> u64 {
        self.n - self.distinct
    }

    /// Pairs as `f64`, the form the estimators compute with.
    pub(crate) fn pairs_f64(&self) -> impl Iterator<Item = (f64, f64)> + Clone + '_ {
        self.pairs.iter().map(|&(k, m)| (k as f64, m as f64))
    }
}

fn overflow() -> Error {
    Error::Invalid("the total count N overflows a 64-bit integer".into())
}

fn negative_count(index: usize, value: impl std::fmt::Display) -> Error {
    Error::Invalid(format!(
        "counts[{index}] = {value} is negative: counts must be >= 0"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn naive_from_counts(counts: &[u64]) -> Vec<(u64, u64)> {
        let mut h: BTreeMap<u64, u64> = BTreeMap::new();
        for &c in counts.iter().filter(|&&c| c > 0) {
            *h.entry(c).or_default() += 1;
        }
        h.into_iter().collect()
    }

    #[test]
    fn counts_profile_and_totals() {
        let p = Profile::from_counts(&[3u32, 0, 1, 3, 5000, 1, 1]).unwrap();
        assert_eq!(p.pairs(), &[(1, 3), (3, 2), (5000, 1)]);
        assert_eq!(p.n(), 5009);
        assert_eq!(p.distinct(), 6);
        assert_eq!(p.singletons(), 3);
    }

    #[test]
    fn negative_count_names_position() {
        let err = Profile::from_counts(&[1i64, 2, -7]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "counts[2] = -7 is negative: counts must be >= 0"
        );
    }

    #[test]
    fn negative_count_reports_first_position_across_chunks() {
        let mut v = vec![1i32; 3 * CHUNK];
        v[2 * CHUNK + 5] = -1;
        v[CHUNK + 1] = -2;
        let err = Profile::from_counts(&v).unwrap_err();
        assert!(err
            .to_string()
            .starts_with(&format!("counts[{}] = -2", CHUNK + 1)));
    }

    #[test]
    fn pairs_are_merged_sorted_and_validated() {
        let p = Profile::from_pairs(&[5, 1, 5, 2], &[1, 2, 3, 0]).unwrap();
        assert_eq!(p.pairs(), &[(1, 2), (5, 4)]);
        assert!(Profile::from_pairs(&[0], &[1]).is_err());
        assert!(Profile::from_pairs(&[1, 2], &[1]).is_err());
        assert!(Profile::from_pairs(&[u64::MAX], &[2]).is_err());
    }

    proptest! {
        #[test]
        fn from_counts_matches_naive(counts in prop::collection::vec(0u64..3000, 0..500)) {
            let p = Profile::from_counts(&counts).unwrap();
            let want = naive_from_counts(&counts);
            prop_assert_eq!(p.pairs(), want.as_slice());
        }

        #[test]
        fn from_samples_matches_hashmap(samples in prop::collection::vec(-40i64..40, 0..400)) {
            let mut h: HashMap<i64, u64> = HashMap::new();
            for &s in &samples { *h.entry(s).or_default() += 1; }
            let counts: Vec<u64> = h.values().copied().collect();
            let p = Profile::from_samples(&samples).unwrap();
            let want = naive_from_counts(&counts);
            prop_assert_eq!(p.pairs(), want.as_slice());
            let narrow: Vec<i8> = samples.iter().map(|&s| s as i8).collect();
            prop_assert_eq!(Profile::from_samples(&narrow).unwrap(), p);
        }

        #[test]
        fn disjoint_profiles_add(a in prop::collection::vec(0u64..50, 0..100),
                                 b in prop::collection::vec(0u64..50, 0..100)) {
            let joint: Vec<u64> = a.iter().chain(&b).copied().collect();
            let sum = Profile::from_counts(&a).unwrap().add(&Profile::from_counts(&b).unwrap());
            prop_assert_eq!(sum.unwrap(), Profile::from_counts(&joint).unwrap());
        }
    }
}
