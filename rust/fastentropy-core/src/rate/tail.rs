//! The code rate of the final stretch: an upper bound on the entropy rate without the
//! learning cost the cumulative code length carries.
//!
//! Formula. For a stationary source and any causal predictor q, every token's expected
//! code length is E[−ln q(x_t | x_<t)] = H(X_t | X_<t) + E[KL(p(·|x_<t) ‖ q(·|x_<t))]
//! ≥ H(X_t | X_<t) ≥ h (the conditional entropy given the whole past decreases to the rate;
//! Cover & Thomas 2006, Thm 4.2.1). So the mean code length over ANY stretch of positions
//! has expectation ≥ h, the last stretch included, whose mean is far below the cumulative
//! L/N when the predictor is still learning. The estimate is the mean over the last half of
//! the scored tokens; its standard error is by batch means (the stretch cut into
//! [`BATCHES`] contiguous batches, se = sd(batch means)/√B; Flegal & Jones 2010), which
//! holds for correlated costs as long as a batch is longer than their correlation. The
//! upper end is mean + 2 se (one-sided ≈ 97.7% when the batch means are near normal).
//!
//! Validity: stationary sources; on text it is the rate of the final half under this
//! predictor. It is an upper bound only in expectation, hence the 2 se.

use crate::error::{Error, Result};

/// Batches of the final stretch for the batch-means standard error.
pub const BATCHES: usize = 32;

/// Fewest scored tokens in the final stretch (so a batch holds at least 32).
pub const MIN_TOKENS: usize = BATCHES * 32;

/// The final stretch's code rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tail {
    /// Mean code length per scored token over the stretch, nats.
    pub mean: f64,
    /// Its batch-means standard error, nats.
    pub std: f64,
    /// `mean + 2 std`: the upper end it gives the rate, nats per token.
    pub upper: f64,
    /// Scored tokens in the stretch.
    pub tokens: usize,
    /// Index (in the input) of the stretch's first scored token.
    pub start: usize,
}

/// The code rate of the last half of the scored tokens of `costs` (−ln q per position,
/// NaN where nothing was scored, as the predictor's per-token output has it).
///
/// # Errors
/// Fewer than 2·[`MIN_TOKENS`] scored tokens; a cost that is negative or infinite.
pub fn final_stretch(costs: &[f32]) -> Result<Tail> {
    let mut scored = 0usize;
    for (i, &c) in costs.iter().enumerate() {
        if c.is_nan() {
            continue;
        }
        if !(c.is_finite() && c >= 0.0) {
            return Err(Error::Invalid(format!(
                "code lengths must be finite and >= 0 (NaN = not scored), got {c} at {i}"
            )));
        }
        scored += 1;
    }
    let tokens = scored - scored / 2;
    if tokens < MIN_TOKENS {
        return Err(Error::Invalid(format!(
            "the final half holds {tokens} scored tokens; a batch-means error needs at least \
             {MIN_TOKENS}"
        )));
    }
    // The stretch's k-th scored token is in batch ⌊k·B/m⌋ (sizes differ by at most 1).
    let mut sums = [0.0f64; BATCHES];
    let mut counts = [0usize; BATCHES];
    let (mut seen, mut start) = (0usize, costs.len());
    for (i, &c) in costs.iter().enumerate() {
        if c.is_nan() {
            continue;
        }
        seen += 1;
        if seen <= scored / 2 {
            continue;
        }
        let k = seen - scored / 2 - 1;
        if k == 0 {
            start = i;
        }
        let b = k * BATCHES / tokens;
        sums[b] += f64::from(c);
        counts[b] += 1;
    }
    let mean = sums.iter().sum::<f64>() / tokens as f64;
    let means: Vec<f64> = (sums.iter().zip(&counts))
        .map(|(s, &n)| s / n as f64)
        .collect();
    let bm = means.iter().sum::<f64>() / BATCHES as f64;
    let var = means.iter().map(|m| (m - bm) * (m - bm)).sum::<f64>() / (BATCHES - 1) as f64;
    let std = (var / BATCHES as f64).sqrt();
    Ok(Tail {
        mean,
        std,
        upper: mean + 2.0 * std,
        tokens,
        start,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_batch_error_of_the_last_half() {
        // 4096 scored tokens, the first half costs 9 (learning), the second alternates
        // batches of 1 and 3: mean 2, batch means ±1 around it, so sd 1·√(32/31), se sd/√32.
        let n = 4096;
        let mut costs: Vec<f32> = vec![9.0; n / 2];
        let per = n / 2 / BATCHES;
        for b in 0..BATCHES {
            costs.extend(std::iter::repeat_n(if b % 2 == 0 { 1.0 } else { 3.0 }, per));
        }
        let t = final_stretch(&costs).unwrap();
        assert_eq!((t.tokens, t.start), (2048, 2048));
        assert!((t.mean - 2.0).abs() < 1e-12);
        let se = (32.0f64 / 31.0).sqrt() / 32f64.sqrt();
        assert!((t.std - se).abs() < 1e-12, "{} vs {se}", t.std);
        assert!((t.upper - (2.0 + 2.0 * se)).abs() < 1e-12);
    }

    #[test]
    fn unscored_positions_are_skipped() {
        // NaN between every scored token: the same answer as without them.
        let plain: Vec<f32> = (0..3000).map(|i| (i % 7) as f32).collect();
        let mut gappy = Vec::new();
        for &c in &plain {
            gappy.push(f32::NAN);
            gappy.push(c);
        }
        let (a, b) = (
            final_stretch(&plain).unwrap(),
            final_stretch(&gappy).unwrap(),
        );
        assert_eq!((a.mean, a.std, a.tokens), (b.mean, b.std, b.tokens));
        assert_eq!(b.start, 2 * a.start + 1);
        // Brute force: the mean of the last 1500 values.
        let m: f64 = plain[1500..].iter().map(|&c| f64::from(c)).sum::<f64>() / 1500.0;
        assert!((a.mean - m).abs() < 1e-12);
    }

    #[test]
    fn too_short_or_bad_costs_are_refused() {
        assert!(final_stretch(&vec![1.0; 2 * MIN_TOKENS - 2]).is_err());
        assert!(final_stretch(&vec![1.0; 2 * MIN_TOKENS]).is_ok());
        let mut bad = vec![1.0f32; 4096];
        bad[7] = -1.0;
        assert!(final_stretch(&bad).is_err());
        bad[7] = f32::INFINITY;
        assert!(final_stretch(&bad).is_err());
    }
}
