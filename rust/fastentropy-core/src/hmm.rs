//! Hidden-Markov sources: token corpora with long memory whose entropy rate is known to
//! within a stated standard error, for testing rate estimators where n-gram statistics run
//! out of data.
//!
//! A hidden chain over `S` states moves by `A = s·I + (1 − s)·Q`: it stays with probability
//! `s` (the stickiness; memory of order 1/(1 − s) tokens) and otherwise jumps along its row
//! of `Q`, a Zipf law `∝ r^-1` over its own random permutation of the states. Each state
//! emits a token from its row of `B`, a Zipf law `∝ r^-e` over its own random permutation of
//! the vocabulary with `e` uniform in a range: every state can emit every token, so no single
//! token reveals the state and the past keeps informing the next token at every distance.
//! The stationary distribution π of `A` is that of `Q` (π A = π ⟺ π Q = π), found by power
//! iteration on `Q`, which mixes fast.
//!
//! The rate has no closed form. By Shannon–McMillan–Breiman, `−(1/n) ln P(x_1..n) → h`
//! almost surely for a stationary ergodic source; `ln P` is the sum of the log normalisers
//! `ln c_t` of the scaled forward recursion (Rabiner 1989, Proc. IEEE 77:257, §III.A and the
//! scaling of §V.A): `α_t(j) ∝ B[j, x_t] Σ_i α_{t−1}(i) A[i, j]`, `c_t` = the sum before
//! normalising, so `c_t = P(x_t | x_1..t−1)`. [`HiddenMarkovSource::entropy_rate`] runs it
//! over [`RATE_CHAINS`] independent stationary stretches, drops the first block of each (the
//! filter forgets its start; what is left estimates `E[−ln P(x_t | long past)] = h`), and
//! takes the standard error by batch means over blocks (the per-token terms are correlated;
//! blocks far longer than the filter's memory make block means nearly independent).
//! Validity: the chain must mix (Q has full support, so it does); the error is statistical
//! only, from a finite stretch.

use std::sync::Mutex;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_distr::weighted::WeightedAliasIndex;
use rand_distr::Distribution;
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;

use crate::control::Control;
use crate::error::{Error, Result};

/// Largest `S·V + S·S`: the rows and alias tables take about 20 bytes per entry.
pub const MAX_ENTRIES: usize = 1 << 24;
/// Independent stretches the rate is computed over; fixed (not the thread count) so the
/// result is the same for any number of threads.
pub const RATE_CHAINS: usize = 8;
/// Tokens sampled between two checks of the cancel flag.
const CHUNK: usize = 1 << 20;
const STATIONARY_TOL: f64 = 1e-15;
const MAX_ITERATIONS: usize = 100_000;

/// A hidden-Markov source: transition matrix, emission matrix and stationary distribution.
#[derive(Debug, Clone)]
pub struct HiddenMarkovSource {
    states: usize,
    vocab: usize,
    /// `S × S`, row-major: `A[i, j]` = P(next state j | state i).
    transitions: Vec<f64>,
    /// `S × V`, row-major: `B[i, y]` = P(token y | state i).
    emissions: Vec<f64>,
    move_alias: Vec<WeightedAliasIndex<f64>>,
    emit_alias: Vec<WeightedAliasIndex<f64>>,
    stationary: Vec<f64>,
}

/// The entropy rate by the forward algorithm, with its batch-means standard error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ForwardRate {
    /// Mean of `−ln P(x_t | x_<t)` over the scored tokens, nats per token.
    pub rate: f64,
    /// Standard error of `rate` from the spread of block means.
    pub std: f64,
    /// Tokens scored (burn-in excluded).
    pub tokens: u64,
    /// Blocks the standard error comes from.
    pub blocks: u64,
}

impl HiddenMarkovSource {
    /// A source of `states` hidden states over `vocab` tokens, staying in a state with
    /// probability `stickiness`, emission Zipf exponents uniform in `exponents = (lo, hi)`,
    /// all drawn from `seed`.
    ///
    /// # Errors
    /// No states, a vocabulary below 2, a stickiness outside `[0, 1)`, a bad exponent range,
    /// or more than [`MAX_ENTRIES`] probabilities.
    pub fn new(
        states: usize,
        vocab: usize,
        stickiness: f64,
        exponents: (f64, f64),
        seed: u64,
    ) -> Result<Self> {
        let (lo, hi) = exponents;
        if !(lo.is_finite() && hi.is_finite() && 0.0 <= lo && lo <= hi) {
            return Err(Error::Invalid(format!(
                "exponents must be a finite range 0 <= lo <= hi, got ({lo}, {hi})"
            )));
        }
        if !(0.0..1.0).contains(&stickiness) {
            return Err(Error::Invalid(format!(
                "stickiness must be in [0, 1), got {stickiness}"
            )));
        }
        check_sizes(states, vocab)?;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut jumps = vec![0.0; states * states];
        for row in jumps.chunks_exact_mut(states) {
            zipf_row(row, 1.0, &mut rng);
        }
        let mut emissions = vec![0.0; states * vocab];
        for row in emissions.chunks_exact_mut(vocab) {
            let e = lo + (hi - lo) * rng.random::<f64>();
            zipf_row(row, e, &mut rng);
        }
        let stationary = stationary(&jumps, states)?;
        let mut transitions: Vec<f64> = jumps.iter().map(|q| (1.0 - stickiness) * q).collect();
        (0..states).for_each(|i| transitions[i * states + i] += stickiness);
        Self::assemble(states, vocab, transitions, emissions, stationary)
    }

    /// A source from explicit row-stochastic matrices: `transitions` `S × S` and
    /// `emissions` `S × V`, row-major. π by power iteration on `transitions`.
    ///
    /// # Errors
    /// Shapes that do not match, rows that are not probability vectors (non-negative,
    /// summing to 1 within 1e-9), or a stationary distribution that power iteration from
    /// the uniform start does not find.
    pub fn from_matrices(
        states: usize,
        vocab: usize,
        transitions: Vec<f64>,
        emissions: Vec<f64>,
    ) -> Result<Self> {
        check_sizes(states, vocab)?;
        if transitions.len() != states * states || emissions.len() != states * vocab {
            return Err(Error::Invalid(format!(
                "transitions must be {states}x{states} and emissions {states}x{vocab}, got {} \
                 and {} entries",
                transitions.len(),
                emissions.len()
            )));
        }
        for (name, m, width) in [
            ("transitions", &transitions, states),
            ("emissions", &emissions, vocab),
        ] {
            for (i, row) in m.chunks_exact(width).enumerate() {
                let sum: f64 = row.iter().sum();
                if row.iter().any(|p| !(p.is_finite() && *p >= 0.0)) || (sum - 1.0).abs() > 1e-9 {
                    return Err(Error::Invalid(format!(
                        "{name} row {i} is not a probability vector (sum {sum})"
                    )));
                }
            }
        }
        let stationary = stationary(&transitions, states)?;
        Self::assemble(states, vocab, transitions, emissions, stationary)
    }

    fn assemble(
        states: usize,
        vocab: usize,
        transitions: Vec<f64>,
        emissions: Vec<f64>,
        stationary: Vec<f64>,
    ) -> Result<Self> {
        let alias = |m: &[f64], width: usize| {
            m.chunks_exact(width)
                .map(|row| WeightedAliasIndex::new(row.to_vec()))
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| Error::Invalid(format!("probability row rejected: {e}")))
        };
        Ok(Self {
            states,
            vocab,
            move_alias: alias(&transitions, states)?,
            emit_alias: alias(&emissions, vocab)?,
            transitions,
            emissions,
            stationary,
        })
    }

    /// Number of hidden states S.
    pub fn states(&self) -> usize {
        self.states
    }

    /// Vocabulary size V.
    pub fn vocab(&self) -> usize {
        self.vocab
    }

    /// `S × S` transition probabilities, row-major.
    pub fn transitions(&self) -> &[f64] {
        &self.transitions
    }

    /// `S × V` emission probabilities, row-major.
    pub fn emissions(&self) -> &[f64] {
        &self.emissions
    }

    /// The stationary distribution of the hidden chain.
    pub fn stationary(&self) -> &[f64] {
        &self.stationary
    }

    /// `n` tokens from a stationary start; the same `seed` gives the same tokens. Sampled in
    /// chunks, checking `ctl` between them.
    ///
    /// # Errors
    /// [`Error::Cancelled`].
    pub fn sample(&self, n: usize, seed: u64, ctl: &Control<'_>) -> Result<Vec<u32>> {
        let mut walker = self.walker(seed);
        let mut out = vec![0u32; n];
        let mut done = 0;
        for chunk in out.chunks_mut(CHUNK) {
            ctl.check()?;
            walker.fill(self, chunk);
            done += chunk.len();
            ctl.report(done as u64, n as u64);
        }
        Ok(out)
    }

    /// `ln P(x_1..n)` of `tokens` under the source from a stationary start, by the scaled
    /// forward recursion; `-inf` when the tokens are impossible.
    ///
    /// # Errors
    /// A token id not below V.
    pub fn log_likelihood(&self, tokens: &[u32]) -> Result<f64> {
        if let Some((i, &y)) = tokens
            .iter()
            .enumerate()
            .find(|(_, &y)| y as usize >= self.vocab)
        {
            return Err(Error::Invalid(format!(
                "tokens[{i}] = {y} is out of range for a vocabulary of {}",
                self.vocab
            )));
        }
        let mut filter = Forward::new(self);
        Ok(tokens.iter().map(|&y| filter.step(self, y)).sum())
    }

    /// The entropy rate by Shannon–McMillan–Breiman over [`RATE_CHAINS`] independent
    /// stationary stretches of `tokens / RATE_CHAINS` tokens each (seeds from `seed`), cut
    /// into blocks of `block` tokens; the first block of each stretch is burn-in. The
    /// stretches run in parallel under `ctl`.
    ///
    /// # Errors
    /// Fewer than 3 blocks per stretch (one burn-in, two to spread), or cancellation.
    pub fn entropy_rate(
        &self,
        tokens: usize,
        block: usize,
        seed: u64,
        ctl: &Control<'_>,
    ) -> Result<ForwardRate> {
        let per_chain = tokens / RATE_CHAINS;
        if block == 0 || per_chain / block < 3 {
            return Err(Error::Invalid(format!(
                "entropy_rate needs at least 3 blocks of {block} tokens in each of \
                 {RATE_CHAINS} stretches, so tokens >= {}; got {tokens}",
                3 * block.max(1) * RATE_CHAINS
            )));
        }
        let blocks_per_chain = per_chain / block;
        let total = (blocks_per_chain * RATE_CHAINS) as u64;
        let done = Mutex::new(0u64);
        let chains: Vec<Vec<f64>> = ctl.run(|| {
            (0..RATE_CHAINS)
                .into_par_iter()
                .map(|c| {
                    let chain_seed = seed ^ (c as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                    let mut walker = self.walker(chain_seed);
                    let mut filter = Forward::new(self);
                    let mut buf = vec![0u32; block];
                    let mut means = Vec::with_capacity(blocks_per_chain);
                    for _ in 0..blocks_per_chain {
                        ctl.check()?;
                        walker.fill(self, &mut buf);
                        let nats: f64 = -buf.iter().map(|&y| filter.step(self, y)).sum::<f64>();
                        means.push(nats / block as f64);
                        let mut d = done.lock().unwrap_or_else(|e| e.into_inner());
                        *d += 1;
                        ctl.report(*d, total);
                    }
                    Ok(means[1..].to_vec())
                })
                .collect::<Result<Vec<_>>>()
        })?;
        let means: Vec<f64> = chains.into_iter().flatten().collect();
        let k = means.len() as f64;
        let rate = means.iter().sum::<f64>() / k;
        let var = means.iter().map(|m| (m - rate).powi(2)).sum::<f64>() / (k - 1.0);
        Ok(ForwardRate {
            rate,
            std: (var / k).sqrt(),
            tokens: (means.len() * block) as u64,
            blocks: means.len() as u64,
        })
    }

    fn walker(&self, seed: u64) -> Walker {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let state = WeightedAliasIndex::new(self.stationary.clone())
            .map_or(0, |start| start.sample(&mut rng));
        Walker { state, rng }
    }
}

/// The hidden chain in motion: its state and its random stream.
struct Walker {
    state: usize,
    rng: Xoshiro256PlusPlus,
}

impl Walker {
    /// Emits from the current state, then moves, once per slot of `out`.
    fn fill(&mut self, src: &HiddenMarkovSource, out: &mut [u32]) {
        for y in out {
            *y = src.emit_alias[self.state].sample(&mut self.rng) as u32;
            self.state = src.move_alias[self.state].sample(&mut self.rng);
        }
    }
}

/// The scaled forward variables: `alpha` = P(state_t | x_1..t−1) before the next token.
struct Forward {
    alpha: Vec<f64>,
    next: Vec<f64>,
}

impl Forward {
    fn new(src: &HiddenMarkovSource) -> Self {
        Self {
            alpha: src.stationary.clone(),
            next: vec![0.0; src.states],
        }
    }

    /// Takes token `y`, returns `ln P(y | past)`, and predicts the next state.
    fn step(&mut self, src: &HiddenMarkovSource, y: u32) -> f64 {
        let (s, v) = (src.states, src.vocab);
        // Condition on y: alpha_j B[j, y], normalised by c = P(y | past).
        let mut c = 0.0;
        for (j, a) in self.alpha.iter_mut().enumerate() {
            *a *= src.emissions[j * v + y as usize];
            c += *a;
        }
        if c <= 0.0 {
            return f64::NEG_INFINITY;
        }
        // Predict: next_j = Σ_i alpha_i A[i, j] / c (row-wise, so the inner loop vectorises).
        self.next.iter_mut().for_each(|x| *x = 0.0);
        for (a, row) in self.alpha.iter().zip(src.transitions.chunks_exact(s)) {
            let w = a / c;
            if w != 0.0 {
                self.next.iter_mut().zip(row).for_each(|(n, p)| *n += w * p);
            }
        }
        std::mem::swap(&mut self.alpha, &mut self.next);
        c.ln()
    }
}

fn check_sizes(states: usize, vocab: usize) -> Result<()> {
    if states == 0 || states > u32::MAX as usize {
        return Err(Error::Invalid(format!(
            "states must be in 1..=2^32-1, got {states}"
        )));
    }
    if vocab < 2 || vocab > u32::MAX as usize {
        return Err(Error::Invalid(format!(
            "vocab_size must be in 2..=2^32-1, got {vocab}"
        )));
    }
    let entries = states
        .checked_mul(vocab)
        .and_then(|e| e.checked_add(states.checked_mul(states)?));
    match entries {
        Some(e) if e <= MAX_ENTRIES => Ok(()),
        _ => Err(Error::Invalid(format!(
            "states * (states + vocab_size) = {states} * ({states} + {vocab}) exceeds \
             {MAX_ENTRIES} probabilities: use fewer states or a smaller vocabulary"
        ))),
    }
}

/// A Zipf law `∝ r^-e` over a random permutation of the row's slots.
fn zipf_row(row: &mut [f64], e: f64, rng: &mut Xoshiro256PlusPlus) {
    let mut ids: Vec<usize> = (0..row.len()).collect();
    ids.shuffle(rng);
    let total: f64 = (1..=row.len()).map(|r| (r as f64).powf(-e)).sum();
    for (r, &id) in ids.iter().enumerate() {
        row[id] = ((r + 1) as f64).powf(-e) / total;
    }
}

/// π with π M = π by power iteration.
fn stationary(m: &[f64], states: usize) -> Result<Vec<f64>> {
    let mut pi = vec![1.0 / states as f64; states];
    let mut next = vec![0.0; states];
    for _ in 0..MAX_ITERATIONS {
        next.iter_mut().for_each(|x| *x = 0.0);
        for (p, row) in pi.iter().zip(m.chunks_exact(states)) {
            next.iter_mut().zip(row).for_each(|(n, q)| *n += p * q);
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
        "the stationary distribution did not converge in {MAX_ITERATIONS} iterations \
         (is the chain periodic?)"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entropy(row: &[f64]) -> f64 {
        -row.iter()
            .filter(|&&p| p > 0.0)
            .map(|p| p * p.ln())
            .sum::<f64>()
    }

    #[test]
    fn identity_emissions_give_the_chain_rate() {
        // Tokens reveal the state: the rate is Σ π_i H(A_i), in closed form.
        let a = vec![0.7, 0.2, 0.1, 0.3, 0.3, 0.4, 0.05, 0.15, 0.8];
        let b = vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
        let src = HiddenMarkovSource::from_matrices(3, 3, a.clone(), b).unwrap();
        let pi = src.stationary();
        let exact: f64 = a.chunks(3).zip(pi).map(|(r, p)| p * entropy(r)).sum();
        let r = src
            .entropy_rate(400_000, 5_000, 1, &Control::default())
            .unwrap();
        assert!((r.rate - exact).abs() < 4.0 * r.std, "{r:?} vs {exact}");
        assert!(r.std < 0.01);
    }

    #[test]
    fn one_state_rate_is_the_emission_entropy() {
        let src = HiddenMarkovSource::new(1, 50, 0.0, (1.0, 1.0), 3).unwrap();
        let exact = entropy(src.emissions());
        let r = src
            .entropy_rate(400_000, 5_000, 2, &Control::default())
            .unwrap();
        assert!((r.rate - exact).abs() < 4.0 * r.std, "{r:?} vs {exact}");
        // One state: −ln P(x) is a sum of i.i.d. terms, exactly the emission log-probs.
        let x = src.sample(1000, 5, &Control::default()).unwrap();
        let direct: f64 = x.iter().map(|&y| src.emissions()[y as usize].ln()).sum();
        assert!((src.log_likelihood(&x).unwrap() - direct).abs() < 1e-9);
    }

    #[test]
    fn stationary_is_invariant_under_the_sticky_chain() {
        let src = HiddenMarkovSource::new(6, 10, 0.9, (0.8, 1.6), 4).unwrap();
        let (s, pi) = (6, src.stationary());
        let mut moved = vec![0.0; s];
        for (i, row) in src.transitions().chunks_exact(s).enumerate() {
            row.iter()
                .enumerate()
                .for_each(|(j, p)| moved[j] += pi[i] * p);
        }
        let err: f64 = moved.iter().zip(pi).map(|(a, b)| (a - b).abs()).sum();
        assert!(err < 1e-12, "{err}");
        for i in 0..s {
            assert!(src.transitions()[i * s + i] >= 0.9);
        }
    }

    #[test]
    fn rate_is_the_same_for_any_thread_count() {
        let src = HiddenMarkovSource::new(4, 20, 0.8, (0.8, 1.6), 7).unwrap();
        let one = src
            .entropy_rate(48_000, 2_000, 3, &Control::with_threads(Some(1)))
            .unwrap();
        let three = src
            .entropy_rate(48_000, 2_000, 3, &Control::with_threads(Some(3)))
            .unwrap();
        assert_eq!(one, three);
    }

    #[test]
    fn samples_are_reproducible_and_cancellable() {
        let src = HiddenMarkovSource::new(5, 30, 0.95, (0.8, 1.6), 1).unwrap();
        let ctl = Control::default();
        assert_eq!(
            src.sample(1000, 4, &ctl).unwrap(),
            src.sample(1000, 4, &ctl).unwrap()
        );
        assert_ne!(
            src.sample(1000, 4, &ctl).unwrap(),
            src.sample(1000, 5, &ctl).unwrap()
        );
        assert!(src.sample(0, 4, &ctl).unwrap().is_empty());
        let flag = std::sync::atomic::AtomicBool::new(true);
        let stop = Control {
            cancel: Some(&flag),
            ..Control::default()
        };
        assert_eq!(src.sample(10, 1, &stop), Err(Error::Cancelled));
        assert_eq!(
            src.entropy_rate(30_000, 1_000, 1, &stop),
            Err(Error::Cancelled)
        );
    }

    #[test]
    fn bad_arguments_are_errors() {
        assert!(HiddenMarkovSource::new(0, 10, 0.5, (1.0, 1.0), 0).is_err());
        assert!(HiddenMarkovSource::new(2, 1, 0.5, (1.0, 1.0), 0).is_err());
        assert!(HiddenMarkovSource::new(2, 10, 1.0, (1.0, 1.0), 0).is_err());
        assert!(HiddenMarkovSource::new(2, 10, f64::NAN, (1.0, 1.0), 0).is_err());
        assert!(HiddenMarkovSource::new(2, 10, 0.5, (2.0, 1.0), 0).is_err());
        assert!(HiddenMarkovSource::new(1 << 13, 1 << 12, 0.5, (1.0, 1.0), 0).is_err());
        let bad_row = vec![0.5, 0.4, 0.5, 0.5];
        assert!(HiddenMarkovSource::from_matrices(2, 2, bad_row, vec![0.5; 4]).is_err());
        let src = HiddenMarkovSource::new(2, 10, 0.5, (1.0, 1.0), 0).unwrap();
        assert!(src.log_likelihood(&[3, 10]).is_err());
        assert!(src
            .entropy_rate(1000, 1000, 0, &Control::default())
            .is_err());
    }
}
