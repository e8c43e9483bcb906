//! Order-k Markov sources over a Zipfian vocabulary, with their exact entropy rate: text-like
//! corpora whose true answer is known, for the demo and for testing the floor report.
//!
//! A state is the last k tokens, read as a base-V number. Each state's next-token row is a
//! Zipf law `p_r ∝ r^-s` laid over its own random permutation of the vocabulary, with its
//! own exponent `s` drawn uniformly from a range, so rows differ in entropy and the rate
//! `h = Σ_s π(s) H(row_s)` depends on the stationary distribution π, found by power
//! iteration. Every row has full support, so the chain is irreducible and aperiodic and π is
//! unique. Samples start from a state drawn from π, so they are stationary from the first
//! token and `h_n = H(X_n | X_1..X_{n-1})` equals the rate for every n > k.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_distr::weighted::WeightedAliasIndex;
use rand_distr::Distribution;
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::error::{Error, Result};

/// Largest `V^k * V`: the rows and their alias tables take about 20 bytes per entry.
pub const MAX_ENTRIES: usize = 1 << 24;
/// Power iteration stops when the L1 change of π falls below this.
const STATIONARY_TOL: f64 = 1e-15;
const MAX_ITERATIONS: usize = 100_000;

/// An order-k Markov chain with Zipfian rows and its stationary distribution.
#[derive(Debug, Clone)]
pub struct MarkovSource {
    vocab: usize,
    order: usize,
    /// `states * vocab` transition probabilities, row-major.
    rows: Vec<f64>,
    alias: Vec<WeightedAliasIndex<f64>>,
    stationary: Vec<f64>,
}

impl MarkovSource {
    /// A chain over `vocab` tokens whose next token depends on the last `order` tokens
    /// (`order = 0`: i.i.d. Zipf draws), row exponents uniform in `exponents = (lo, hi)`,
    /// rows drawn from `seed`.
    ///
    /// # Errors
    /// A vocabulary below 2, a range of exponents that is not finite, positive and ordered,
    /// or more than [`MAX_ENTRIES`] transition probabilities.
    pub fn new(vocab: usize, order: usize, exponents: (f64, f64), seed: u64) -> Result<Self> {
        let (lo, hi) = exponents;
        if vocab < 2 || vocab > u32::MAX as usize {
            return Err(Error::Invalid(format!(
                "vocab_size must be in 2..=2^32-1, got {vocab}"
            )));
        }
        if !(lo.is_finite() && hi.is_finite() && 0.0 <= lo && lo <= hi) {
            return Err(Error::Invalid(format!(
                "exponents must be a finite range 0 <= lo <= hi, got ({lo}, {hi})"
            )));
        }
        let states = (0..order)
            .try_fold(1usize, |s, _| s.checked_mul(vocab))
            .filter(|&s| s.saturating_mul(vocab) <= MAX_ENTRIES)
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "vocab_size^(order + 1) = {vocab}^{} exceeds {MAX_ENTRIES} transition \
                     probabilities: use a smaller vocabulary or order",
                    order + 1
                ))
            })?;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut ids: Vec<usize> = (0..vocab).collect();
        let mut rows = vec![0.0; states * vocab];
        for row in rows.chunks_exact_mut(vocab) {
            let s = lo + (hi - lo) * rng.random::<f64>();
            ids.shuffle(&mut rng);
            let total: f64 = (1..=vocab).map(|r| (r as f64).powf(-s)).sum();
            for (r, &id) in ids.iter().enumerate() {
                row[id] = ((r + 1) as f64).powf(-s) / total;
            }
        }
        let alias = (rows.chunks_exact(vocab))
            .map(|row| WeightedAliasIndex::new(row.to_vec()))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::Invalid(format!("transition row rejected: {e}")))?;
        let stationary = stationary(&rows, vocab, states)?;
        Ok(Self {
            vocab,
            order,
            rows,
            alias,
            stationary,
        })
    }

    /// The vocabulary size V.
    pub fn vocab(&self) -> usize {
        self.vocab
    }

    /// The Markov order k.
    pub fn order(&self) -> usize {
        self.order
    }

    /// Transition probabilities, `V^k` rows of `V`, the row of state `s` at `s * V`.
    pub fn rows(&self) -> &[f64] {
        &self.rows
    }

    /// The stationary distribution over the `V^k` states.
    pub fn stationary(&self) -> &[f64] {
        &self.stationary
    }

    /// The exact entropy rate `Σ_s π(s) H(row_s)`, in nats per token.
    pub fn entropy_rate(&self) -> f64 {
        (self.rows.chunks_exact(self.vocab))
            .zip(&self.stationary)
            .map(|(row, &pi)| pi * row_entropy(row))
            .sum()
    }

    /// `n` tokens (ids `0..V`) from a stationary start; the same `seed` gives the same
    /// tokens.
    pub fn sample(&self, n: usize, seed: u64) -> Vec<u32> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let states = self.stationary.len();
        let start = WeightedAliasIndex::new(self.stationary.clone())
            .map_or(0, |start| start.sample(&mut rng));
        // The start state's k tokens come first, then draws; only `n` are returned.
        let mut out: Vec<u32> = (0..self.order)
            .rev()
            .map(|i| ((start / self.vocab.pow(i as u32)) % self.vocab) as u32)
            .collect();
        out.truncate(n);
        let mut state = start;
        while out.len() < n {
            let next = self.alias[state].sample(&mut rng);
            out.push(next as u32);
            state = (state * self.vocab + next) % states;
        }
        out
    }
}

/// π by power iteration: mass at state s moves along row s to state `(s V + y) mod V^k`.
fn stationary(rows: &[f64], vocab: usize, states: usize) -> Result<Vec<f64>> {
    let mut pi = vec![1.0 / states as f64; states];
    let mut next = vec![0.0; states];
    for _ in 0..MAX_ITERATIONS {
        next.iter_mut().for_each(|x| *x = 0.0);
        for (s, row) in rows.chunks_exact(vocab).enumerate() {
            let base = (s * vocab) % states;
            let to = &mut next[base..base + vocab.min(states)];
            if states == 1 {
                to[0] += pi[s];
            } else {
                to.iter_mut().zip(row).for_each(|(t, &p)| *t += pi[s] * p);
            }
        }
        let total: f64 = next.iter().sum();
        next.iter_mut().for_each(|x| *x /= total);
        let change: f64 = pi.iter().zip(&next).map(|(a, b)| (a - b).abs()).sum();
        std::mem::swap(&mut pi, &mut next);
        if change < STATIONARY_TOL {
            return Ok(pi);
        }
    }
    Err(Error::Invalid(format!(
        "the stationary distribution did not converge in {MAX_ITERATIONS} iterations"
    )))
}

fn row_entropy(row: &[f64]) -> f64 {
    -row.iter()
        .filter(|&&p| p > 0.0)
        .map(|&p| p * p.ln())
        .sum::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iid_rate_is_the_zipf_entropy() {
        let src = MarkovSource::new(100, 0, (1.0, 1.0), 3).unwrap();
        let w: Vec<f64> = (1..=100).map(|r| 1.0 / r as f64).collect();
        let z: f64 = w.iter().sum();
        let h: f64 = -w.iter().map(|x| x / z * (x / z).ln()).sum::<f64>();
        assert!((src.entropy_rate() - h).abs() < 1e-13);
    }

    #[test]
    fn stationary_is_invariant() {
        let src = MarkovSource::new(7, 2, (0.5, 2.0), 11).unwrap();
        let (v, pi) = (7, src.stationary());
        let mut moved = vec![0.0; pi.len()];
        for (s, row) in src.rows().chunks_exact(v).enumerate() {
            for (y, p) in row.iter().enumerate() {
                moved[(s * v + y) % pi.len()] += pi[s] * p;
            }
        }
        let err: f64 = moved.iter().zip(pi).map(|(a, b)| (a - b).abs()).sum();
        assert!(err < 1e-13, "{err}");
        assert!((pi.iter().sum::<f64>() - 1.0).abs() < 1e-13);
    }

    #[test]
    fn sample_frequencies_follow_the_chain() {
        // Order 1, V = 3: bigram frequencies of a long sample approach π(a) P(a → b).
        let src = MarkovSource::new(3, 1, (0.5, 2.0), 5).unwrap();
        let n = 300_000;
        let x = src.sample(n, 9);
        assert_eq!(x.len(), n);
        let mut pairs = [[0usize; 3]; 3];
        for w in x.windows(2) {
            pairs[w[0] as usize][w[1] as usize] += 1;
        }
        for (a, row) in pairs.iter().enumerate() {
            for (b, &seen) in row.iter().enumerate() {
                let want = src.stationary()[a] * src.rows()[a * 3 + b];
                let got = seen as f64 / (n - 1) as f64;
                // Within 5 binomial standard deviations (generous: the draws are dependent).
                let sd = (want * (1.0 - want) / n as f64).sqrt();
                assert!(
                    (got - want).abs() < 5.0 * sd + 1e-3,
                    "{a}{b}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn seeds_are_reproducible_and_distinct() {
        let src = MarkovSource::new(50, 2, (0.8, 1.4), 1).unwrap();
        assert_eq!(src.sample(1000, 4), src.sample(1000, 4));
        assert_ne!(src.sample(1000, 4), src.sample(1000, 5));
        assert_eq!(src.sample(1, 4).len(), 1);
        assert!(src.sample(0, 4).is_empty());
    }

    #[test]
    fn bad_arguments_are_errors() {
        assert!(MarkovSource::new(1, 1, (1.0, 1.0), 0).is_err());
        assert!(MarkovSource::new(10, 1, (2.0, 1.0), 0).is_err());
        assert!(MarkovSource::new(10, 1, (f64::NAN, 1.0), 0).is_err());
        assert!(MarkovSource::new(1000, 3, (1.0, 1.0), 0).is_err());
        assert!(MarkovSource::new(usize::MAX, 9, (1.0, 1.0), 0).is_err());
    }
}
