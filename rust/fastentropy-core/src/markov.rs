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
//!
//! Long work follows the [`Control`] rule: rows are drawn and their alias tables built a
//! block at a time, each power iteration is one step, and tokens are drawn a chunk at a time,
//! with a check and a progress report between. Chunking changes nothing: the random stream is
//! consumed in the same order, the alias tables are built row by row, and each iteration
//! gathers every state's incoming mass in the order the sequential scatter added it, so the
//! chain and its samples are the same bits for any thread count and chunk size.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_distr::weighted::WeightedAliasIndex;
use rand_distr::Distribution;
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;

use crate::control::Control;
use crate::error::{Error, Result};

/// Largest `V^k * V`: the rows and their alias tables take about 20 bytes per entry.
pub const MAX_ENTRIES: usize = 1 << 24;
/// Power iteration stops when the L1 change of π falls below this.
const STATIONARY_TOL: f64 = 1e-15;
const MAX_ITERATIONS: usize = 100_000;
/// Transition probabilities drawn (or alias entries built) between two checks of the
/// caller's [`Control`]: about 2 M `powf` calls, ~20 ms.
const BLOCK_ENTRIES: usize = 1 << 20;
/// Tokens drawn between two checks of the caller's [`Control`]: ~10 ms at ~10 ns a draw.
const SAMPLE_CHUNK: usize = 1 << 20;

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
        Self::new_with(vocab, order, exponents, seed, &Control::default())
    }

    /// [`Self::new`] under a [`Control`]: on its threads, cancellable between blocks of rows
    /// and between power iterations, reporting `(done, total)` with `total` three times the
    /// transition probabilities (drawn, alias tables built, then π's convergence, estimated
    /// from the iterations' shrinking change). The chain is the same for any thread count.
    ///
    /// # Errors
    /// As [`Self::new`], a bad thread count, or cancellation.
    pub fn new_with(
        vocab: usize,
        order: usize,
        exponents: (f64, f64),
        seed: u64,
        ctl: &Control<'_>,
    ) -> Result<Self> {
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
        let entries = (states * vocab) as u64;
        let total = 3 * entries;
        // Whole rows per block, at least one.
        let block = (BLOCK_ENTRIES / vocab).max(1) * vocab;
        ctl.run(|| {
            // One random stream, consumed row after row: drawn sequentially.
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
            let mut ids: Vec<usize> = (0..vocab).collect();
            let mut rows = vec![0.0; states * vocab];
            let mut done = 0;
            for rows in rows.chunks_mut(block) {
                ctl.check()?;
                for row in rows.chunks_exact_mut(vocab) {
                    let s = lo + (hi - lo) * rng.random::<f64>();
                    ids.shuffle(&mut rng);
                    let total: f64 = (1..=vocab).map(|r| (r as f64).powf(-s)).sum();
                    for (r, &id) in ids.iter().enumerate() {
                        row[id] = ((r + 1) as f64).powf(-s) / total;
                    }
                }
                done += rows.len() as u64;
                ctl.report(done, total);
            }
            let mut alias = Vec::with_capacity(states);
            for rows in rows.chunks(block) {
                ctl.check()?;
                let built = (rows.par_chunks_exact(vocab))
                    .map(|row| WeightedAliasIndex::new(row.to_vec()))
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map_err(|e| Error::Invalid(format!("transition row rejected: {e}")))?;
                alias.extend(built);
                done += rows.len() as u64;
                ctl.report(done, total);
            }
            let stationary = stationary(&rows, vocab, states, ctl, |f| {
                ctl.report(2 * entries + (f * entries as f64) as u64, total);
            })?;
            ctl.report(total, total);
            Ok(Self {
                vocab,
                order,
                rows,
                alias,
                stationary,
            })
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
        // Without a cancel flag nothing can fail.
        self.sample_with(n, seed, &Control::default())
            .unwrap_or_default()
    }

    /// [`Self::sample`] under a [`Control`]: drawn a chunk at a time (one chain, so one
    /// thread), cancellable between chunks, reporting `(tokens drawn, n)`. The tokens are the
    /// same as [`Self::sample`]'s.
    ///
    /// # Errors
    /// Cancellation.
    pub fn sample_with(&self, n: usize, seed: u64, ctl: &Control<'_>) -> Result<Vec<u32>> {
        self.sample_in_chunks(n, seed, ctl, SAMPLE_CHUNK)
    }

    fn sample_in_chunks(
        &self,
        n: usize,
        seed: u64,
        ctl: &Control<'_>,
        chunk: usize,
    ) -> Result<Vec<u32>> {
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
        out.reserve(n - out.len());
        let mut state = start;
        while out.len() < n {
            ctl.check()?;
            let end = (out.len() + chunk).min(n);
            while out.len() < end {
                let next = self.alias[state].sample(&mut rng);
                out.push(next as u32);
                state = (state * self.vocab + next) % states;
            }
            ctl.report(out.len() as u64, n as u64);
        }
        Ok(out)
    }
}

/// π by power iteration: mass at state s moves along row s to state `(s V + y) mod V^k`.
/// `ctl` is checked before each iteration; `converged` hears the fraction of the way (on a
/// log scale) from the first iteration's change to [`STATIONARY_TOL`], never decreasing.
fn stationary(
    rows: &[f64],
    vocab: usize,
    states: usize,
    ctl: &Control<'_>,
    converged: impl Fn(f64),
) -> Result<Vec<f64>> {
    let mut pi = vec![1.0 / states as f64; states];
    let mut next = vec![0.0; states];
    let (mut first, mut shown) = (None, 0.0f64);
    for _ in 0..MAX_ITERATIONS {
        ctl.check()?;
        step(rows, vocab, &pi, &mut next);
        let total: f64 = next.iter().sum();
        next.iter_mut().for_each(|x| *x /= total);
        let change: f64 = pi.iter().zip(&next).map(|(a, b)| (a - b).abs()).sum();
        std::mem::swap(&mut pi, &mut next);
        if change < STATIONARY_TOL {
            return Ok(pi);
        }
        let c0 = *first.get_or_insert(change);
        let f = ((c0 / change).ln() / (c0 / STATIONARY_TOL).ln()).clamp(0.0, 1.0);
        if f > shown {
            shown = f;
            converged(f);
        }
    }
    Err(Error::Invalid(format!(
        "the stationary distribution did not converge in {MAX_ITERATIONS} iterations"
    )))
}

/// One step of the chain, `next = π P` unnormalised, gathered per block of V target states
/// (in parallel): the targets `qV..qV+V` receive from the states `q + j V^(k-1)`, j = 0..V,
/// in increasing order, which is the order a scatter over the states adds them in, so the
/// sums are the same bits whatever the threads.
fn step(rows: &[f64], vocab: usize, pi: &[f64], next: &mut [f64]) {
    let states = pi.len();
    if states == 1 {
        // Order 0: one state, all mass returns to it.
        next[0] = pi[0];
        return;
    }
    let stride = states / vocab;
    next.par_chunks_exact_mut(vocab)
        .enumerate()
        .for_each(|(q, to)| {
            to.iter_mut().for_each(|x| *x = 0.0);
            for s in (0..vocab).map(|j| q + j * stride) {
                let row = &rows[s * vocab..(s + 1) * vocab];
                to.iter_mut().zip(row).for_each(|(t, &p)| *t += pi[s] * p);
            }
        });
}

fn row_entropy(row: &[f64]) -> f64 {
    -row.iter()
        .filter(|&&p| p > 0.0)
        .map(|&p| p * p.ln())
        .sum::<f64>()
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Mutex;

    use super::*;

    /// The sampler as it was before chunking: one loop over all `n` tokens.
    fn sample_unchunked(src: &MarkovSource, n: usize, seed: u64) -> Vec<u32> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let states = src.stationary.len();
        let start = WeightedAliasIndex::new(src.stationary.clone())
            .map_or(0, |start| start.sample(&mut rng));
        let mut out: Vec<u32> = (0..src.order)
            .rev()
            .map(|i| ((start / src.vocab.pow(i as u32)) % src.vocab) as u32)
            .collect();
        out.truncate(n);
        let mut state = start;
        while out.len() < n {
            let next = src.alias[state].sample(&mut rng);
            out.push(next as u32);
            state = (state * src.vocab + next) % states;
        }
        out
    }

    /// Power iteration as it was before it ran in parallel: a sequential scatter per state.
    fn stationary_sequential(rows: &[f64], vocab: usize, states: usize) -> Vec<f64> {
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
                return pi;
            }
        }
        panic!("no convergence");
    }

    fn bits(x: &[f64]) -> Vec<u64> {
        x.iter().map(|v| v.to_bits()).collect()
    }

    #[test]
    fn same_chain_for_any_thread_count() {
        for (v, k) in [(5, 0), (7, 1), (4, 2), (3, 3), (2, 6), (40, 2)] {
            let one = MarkovSource::new_with(v, k, (0.5, 2.0), 11, &Control::with_threads(Some(1)))
                .unwrap();
            let states = one.stationary().len();
            let want = stationary_sequential(one.rows(), v, states);
            assert_eq!(bits(one.stationary()), bits(&want), "V={v} k={k}");
            for threads in [Some(2), Some(3), None] {
                let src =
                    MarkovSource::new_with(v, k, (0.5, 2.0), 11, &Control::with_threads(threads))
                        .unwrap();
                assert_eq!(
                    bits(src.rows()),
                    bits(one.rows()),
                    "V={v} k={k} {threads:?}"
                );
                assert_eq!(
                    bits(src.stationary()),
                    bits(&want),
                    "V={v} k={k} {threads:?}"
                );
                assert_eq!(src.sample(500, 3), one.sample(500, 3));
            }
        }
    }

    #[test]
    fn chunked_sampling_draws_the_same_tokens() {
        for (v, k) in [(3, 0), (6, 1), (5, 3)] {
            let src = MarkovSource::new(v, k, (0.8, 1.4), 2).unwrap();
            for n in [0, 1, 2, 3, 4, 1000, 4099] {
                let want = sample_unchunked(&src, n, 7);
                assert_eq!(src.sample(n, 7), want, "V={v} k={k} n={n}");
                for chunk in [1, 2, 7, 1000, n.max(1), n + 5] {
                    let got = src.sample_in_chunks(n, 7, &Control::default(), chunk);
                    assert_eq!(got.unwrap(), want, "V={v} k={k} n={n} chunk={chunk}");
                }
            }
        }
    }

    #[test]
    fn sampling_reports_progress_and_stops_when_cancelled() {
        let src = MarkovSource::new(10, 2, (0.8, 1.4), 2).unwrap();
        let seen = Mutex::new(Vec::new());
        let record = |d, t| seen.lock().unwrap().push((d, t));
        let ctl = Control {
            progress: Some(&record),
            ..Control::default()
        };
        let got = src.sample_in_chunks(2500, 1, &ctl, 1000).unwrap();
        assert_eq!(got, sample_unchunked(&src, 2500, 1));
        // The start state's two tokens come before the chunks of draws.
        let seen = seen.into_inner().unwrap();
        assert_eq!(seen, vec![(1002, 2500), (2002, 2500), (2500, 2500)]);
        // Cancelled by the first report: one chunk drawn, then the check stops it.
        let flag = AtomicBool::new(false);
        let stop = |d, _| {
            assert_eq!(d, 1002);
            flag.store(true, Ordering::Relaxed);
        };
        let ctl = Control {
            cancel: Some(&flag),
            progress: Some(&stop),
            ..Control::default()
        };
        assert_eq!(
            src.sample_in_chunks(2500, 1, &ctl, 1000),
            Err(Error::Cancelled)
        );
    }

    #[test]
    fn construction_reports_progress_and_stops_when_cancelled() {
        // 300^2 * 300 = 2.7e7 > MAX_ENTRIES; 250^3 = 1.6e7 entries: 15 blocks of rows.
        let (v, k) = (250, 2);
        let entries = 250u64.pow(3);
        let seen = Mutex::new(Vec::new());
        let record = |d, t| seen.lock().unwrap().push((d, t));
        let ctl = Control {
            progress: Some(&record),
            ..Control::with_threads(Some(2))
        };
        let src = MarkovSource::new_with(v, k, (0.8, 1.4), 4, &ctl).unwrap();
        let seen = seen.into_inner().unwrap();
        assert!(seen.len() > 30, "{}", seen.len());
        assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0), "{seen:?}");
        assert!(seen.iter().all(|&(d, t)| t == 3 * entries && d <= t));
        assert_eq!(seen.last(), Some(&(3 * entries, 3 * entries)));
        assert!(src.entropy_rate() > 0.0);
        // A set flag stops it before the first block; a flag set by a report, at the next.
        let flag = AtomicBool::new(true);
        let ctl = Control {
            cancel: Some(&flag),
            ..Control::default()
        };
        let e = MarkovSource::new_with(v, k, (0.8, 1.4), 4, &ctl).unwrap_err();
        assert_eq!(e, Error::Cancelled);
        let flag = AtomicBool::new(false);
        let calls = Mutex::new(0);
        let stop = |_, _| {
            *calls.lock().unwrap() += 1;
            flag.store(true, Ordering::Relaxed);
        };
        let ctl = Control {
            cancel: Some(&flag),
            progress: Some(&stop),
            ..Control::default()
        };
        let e = MarkovSource::new_with(v, k, (0.8, 1.4), 4, &ctl).unwrap_err();
        assert_eq!((e, *calls.lock().unwrap()), (Error::Cancelled, 1));
    }

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
