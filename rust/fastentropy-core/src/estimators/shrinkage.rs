//! James–Stein shrinkage estimator (Hausser & Strimmer 2009, JMLR 10:1469, eqs. 5–8):
//! shrink the ML frequencies θ̂ toward the uniform target t = 1/K with the data-driven
//! intensity
//!
//!   λ* = (1 − Σ θ̂²) / ((N − 1)·Σ (t − θ̂)²),  clipped to [0, 1],
//!
//! then take the plug-in entropy of λ*·t + (1 − λ*)·θ̂ over all K bins (the K − K_obs empty
//! bins are one group). Without an alphabet size, K = K_obs. Good when the true distribution
//! is near uniform; pulled toward ln K otherwise.

use crate::profile::Profile;

pub(crate) fn shrinkage(p: &Profile, alphabet: f64) -> f64 {
    let n = p.n() as f64;
    let k_obs = p.distinct() as f64;
    let target = 1.0 / alphabet;
    let empty = alphabet - k_obs;
    let sum_sq: f64 = p.pairs_f64().map(|(k, m)| m * (k / n).powi(2)).sum();
    let dist_sq: f64 = p
        .pairs_f64()
        .map(|(k, m)| m * (target - k / n).powi(2))
        .sum::<f64>()
        + empty * target * target;
    let lambda = if n <= 1.0 || dist_sq == 0.0 {
        1.0
    } else {
        ((1.0 - sum_sq) / ((n - 1.0) * dist_sq)).clamp(0.0, 1.0)
    };
    let term = |q: f64| if q > 0.0 { -q * q.ln() } else { 0.0 };
    let observed: f64 = p
        .pairs_f64()
        .map(|(k, m)| m * term(lambda * target + (1.0 - lambda) * k / n))
        .sum();
    observed + empty * term(lambda * target)
}
