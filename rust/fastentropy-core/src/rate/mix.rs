//! A mixture of online predictors from their per-token code lengths: one more causal
//! predictor, whose prequential code length bounds the rate like each of theirs.
//!
//! Formula. Predictors j = 1..k give proper distributions q_j(·|x_<t) over the same
//! vocabulary; their costs c_j,t = −ln q_j(x_t|x_<t) are all that is needed, because a linear
//! mixture q(x_t) = Σ_j w_j,t q_j(x_t) with weights fixed before x_t is seen is again a proper
//! distribution (a convex combination of proper ones), evaluated at x_t only.
//! - Fixed share (Herbster & Warmuth 1998, "Tracking the best expert", Machine Learning
//!   32:151): after each token the posterior v_j = w_j q_j(x_t)/q(x_t), then
//!   w_j,t+1 = (1 − α) v_j + α/k. Its code length is within ln k + (T−1)·(ln 1/(1−α)) + s·ln(k/α)
//!   nats of the best sequence of predictors with s switches: it follows whichever model
//!   predicts this stretch of the corpus better.
//! - The share rate α is not tuned to the corpus: one fixed-share mixture per α in
//!   [`ALPHAS`], and a Bayes mixture of those (the same update with α = 0), which costs at
//!   most ln |ALPHAS| nats in all over the best of them (Vovk 1990's aggregating algorithm
//!   with log loss; Cesa-Bianchi & Lugosi 2006, §3.3 and §5.2).
//!
//! Validity: the inputs must be the costs of causal predictors of the same tokens, scored at
//! the same positions (NaN where unscored, in every input alike). They are float32, so the
//! probabilities exp(−c) carry a relative rounding of ~6·10^-8·c: the mixture's q is proper to
//! that precision (≤ 10^-6 nats per token), far below any width reported.

use crate::error::{Error, Result};

/// The share rates of the fixed-share mixtures, mixed in turn by Bayes: from nearly "the best
/// single predictor" to switching every few tokens. Orders of magnitude apart, so one of
/// them is within a factor ~3 of any α in between; on the 4 MB dictionary text (bytes, bit
/// and token model) α = 0.05/0.1/0.2 gave 1.4885/1.4853/1.4830 bits/byte and on a Markov
/// chain (V = 40, order 2) α = 0.01 cost 0.004 nats/token over the better model, α = 0.2 0.02.
pub const ALPHAS: [f64; 3] = [0.002, 0.02, 0.2];

/// Mixes the per-token costs of several predictors: on return `target` holds the mixture's
/// cost at every position (NaN where unscored), and the result is the mixture's cumulative
/// code length (nats) after each count of scored tokens in `checkpoints` (increasing; a
/// checkpoint past the end gets the total).
///
/// `target` is the first predictor's costs (overwritten), `others` the rest.
///
/// # Errors
/// Inputs of different lengths; a position scored in one input and not in another; a cost
/// that is negative or infinite; no other predictor; checkpoints not increasing.
pub fn mix_costs(target: &mut [f32], others: &[&[f32]], checkpoints: &[u64]) -> Result<Vec<f64>> {
    if others.is_empty() {
        return Err(Error::Invalid(
            "a mixture needs at least two predictors".into(),
        ));
    }
    if let Some(o) = others.iter().find(|o| o.len() != target.len()) {
        return Err(Error::Invalid(format!(
            "per-token costs must have the same length, got {} and {}",
            target.len(),
            o.len()
        )));
    }
    if checkpoints.windows(2).any(|w| w[0] >= w[1]) {
        return Err(Error::Invalid("checkpoints must be increasing".into()));
    }
    let k = others.len() + 1;
    let a = ALPHAS.len();
    // w[i][j]: weight of predictor j in the fixed-share mixture i; v[i]: Bayes weight of i.
    let mut w = vec![vec![1.0 / k as f64; k]; a];
    let mut v = vec![1.0 / a as f64; a];
    let mut q = vec![0.0f64; k];
    let mut qa = vec![0.0f64; a];
    let mut out = Vec::with_capacity(checkpoints.len());
    let mut next = checkpoints.iter().peekable();
    let (mut scored, mut total) = (0u64, 0.0f64);
    for t in 0..target.len() {
        let first = target[t];
        if first.is_nan() {
            if let Some(o) = others.iter().find(|o| !o[t].is_nan()) {
                return Err(unaligned(t, first, o[t]));
            }
            continue;
        }
        for (j, qj) in q.iter_mut().enumerate() {
            let c = if j == 0 { first } else { others[j - 1][t] };
            if !(c.is_finite() && c >= 0.0) {
                return Err(if c.is_nan() {
                    unaligned(t, first, c)
                } else {
                    Error::Invalid(format!(
                        "code lengths must be finite and >= 0, got {c} at {t}"
                    ))
                });
            }
            *qj = f64::from(c);
        }
        // Probabilities relative to the likeliest predictor's, exp(−(c_j − m)): the updates
        // below are ratios, unchanged by the shift, and nothing underflows.
        let m = q.iter().copied().fold(f64::INFINITY, f64::min);
        q.iter_mut().for_each(|x| *x = (m - *x).exp());
        // Each fixed-share mixture's probability of the token, then their Bayes mixture
        // (every weight is > 0, so p > 0).
        for (qi, wi) in qa.iter_mut().zip(&w) {
            *qi = wi.iter().zip(&q).map(|(x, y)| x * y).sum::<f64>();
        }
        let p: f64 = v.iter().zip(&qa).map(|(x, y)| x * y).sum();
        let cost = m - p.ln();
        target[t] = cost as f32;
        total += cost;
        scored += 1;
        while next.peek().is_some_and(|&&c| c == scored) {
            out.push(total);
            next.next();
        }
        for ((vi, wi), &qi) in v.iter_mut().zip(w.iter_mut()).zip(&qa) {
            *vi *= qi / p;
            for (x, &y) in wi.iter_mut().zip(&q) {
                *x *= y / qi;
            }
        }
        for (wi, alpha) in w.iter_mut().zip(ALPHAS) {
            for x in wi.iter_mut() {
                *x = (1.0 - alpha) * *x + alpha / k as f64;
            }
        }
        // Renormalise against drift (the updates above are exact in real arithmetic).
        let s: f64 = v.iter().sum();
        v.iter_mut().for_each(|x| *x /= s);
    }
    out.extend(next.map(|_| total));
    Ok(out)
}

fn unaligned(t: usize, a: f32, b: f32) -> Error {
    Error::Invalid(format!(
        "the predictors must score the same positions: at {t} one cost is {a}, another {b}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_predictors_mix_to_themselves() {
        let c: Vec<f32> = (0..5000).map(|i| 0.5 + (i % 7) as f32 * 0.3).collect();
        let mut t = c.clone();
        let cum = mix_costs(&mut t, &[&c, &c], &[10, 5000, 9999]).unwrap();
        for (a, b) in t.iter().zip(&c) {
            assert!((a - b).abs() < 1e-5, "{a} {b}");
        }
        let total: f64 = c.iter().map(|&x| f64::from(x)).sum();
        let ten: f64 = c[..10].iter().map(|&x| f64::from(x)).sum();
        assert!((cum[0] - ten).abs() < 1e-4 && (cum[1] - total).abs() < 1e-2);
        assert_eq!(cum[2], cum[1]); // past the end: the total
    }

    #[test]
    fn the_mixture_is_never_much_worse_than_the_best_predictor() {
        // One predictor good in the first half, the other in the second: the mixture beats
        // both, and never exceeds the best by more than the fixed-share bound.
        let n = 20_000;
        let a: Vec<f32> = (0..n).map(|i| if i < n / 2 { 0.1 } else { 3.0 }).collect();
        let b: Vec<f32> = (0..n).map(|i| if i < n / 2 { 3.0 } else { 0.1 }).collect();
        let mut t = a.clone();
        let cum = mix_costs(&mut t, &[&b], &[n as u64]).unwrap();
        let single: f64 = a.iter().map(|&x| f64::from(x)).sum();
        assert!(cum[0] < 0.2 * single, "{} vs {single}", cum[0]);
        // Against the switching sequence's 0.1·n: the α = 0.002 mixture's regret,
        // ln 2 + (n−1)·ln(1/(1−α)) + ln(2/α), plus ln 3 for the Bayes layer.
        let alpha = ALPHAS[0];
        let bound = 0.1 * n as f64
            + 2f64.ln()
            + (n - 1) as f64 * (1.0 / (1.0 - alpha)).ln()
            + (2.0 / alpha).ln()
            + 3f64.ln();
        assert!(cum[0] <= bound, "{} > {bound}", cum[0]);
    }

    #[test]
    fn unscored_positions_stay_unscored_and_must_agree() {
        let a = [1.0f32, f32::NAN, 2.0];
        let b = [1.5f32, f32::NAN, 0.5];
        let mut t = a;
        let cum = mix_costs(&mut t, &[&b], &[1, 2]).unwrap();
        assert!(t[1].is_nan() && cum.len() == 2);
        // First token: weights 1/2, so q = (e^-1 + e^-1.5)/2 exactly.
        let first = -(((-1.0f64).exp() + (-1.5f64).exp()) / 2.0).ln();
        assert!((cum[0] - first).abs() < 1e-6);
        let mut t = a;
        assert!(mix_costs(&mut t, &[&[1.0, 1.0, 1.0]], &[]).is_err());
        let mut t = a;
        assert!(mix_costs(&mut t, &[&[1.0, f32::NAN]], &[]).is_err());
        let mut t = a;
        assert!(mix_costs(&mut t, &[], &[]).is_err());
        let mut t = [1.0f32, 1.0];
        assert!(mix_costs(&mut t, &[&[1.0, -1.0]], &[]).is_err());
        let mut t = [1.0f32, 1.0];
        assert!(mix_costs(&mut t, &[&[1.0, 1.0]], &[2, 1]).is_err());
    }

    #[test]
    fn costs_too_large_for_exp_are_mixed_exactly() {
        let mut t = [800.0f32, 1.0];
        let cum = mix_costs(&mut t, &[&[900.0, 1.0]], &[1]).unwrap();
        // −ln(½e^-800 + ½e^-900) = 800 + ln 2 − ln(1 + e^-100) = 800 + ln 2 in f64.
        assert!((cum[0] - (800.0 + 2f64.ln())).abs() < 1e-9, "{}", cum[0]);
    }
}
