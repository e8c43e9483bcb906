//! Delete-one jackknife of the plug-in estimator (Zahl 1977; Efron & Stein 1981), with its
//! jackknife standard error, in O(#pairs) from the profile.
//!
//! Removing one of the N observations from an outcome of count k gives a sample whose plug-in
//! entropy differs from Ĥ only through δ_k = k ln k − (k−1) ln(k−1), so the N leave-one-out
//! estimates take one value per count class. With e_k = (k−1)·ln(1 − 1/k) = ln k − δ_k:
//!
//!   Ĥ_JK = N·Ĥ − (N−1)·mean_i Ĥ_{−i} = Ĥ − (N−1)·ln(1 − 1/N) + (1/N) Σ_k m_k·k·e_k,
//!   Var_JK = (N−1)/N · Σ_i (Ĥ_{−i} − mean)² = Σ_k m_k·k·(δ_k − δ̄)² / (N(N−1)),
//!
//! written so that nothing large cancels. Reduces the plug-in bias to O(1/N²) when N ≫ K;
//! like the plug-in it cannot see unobserved outcomes, so it stays biased low when N ≲ K.
//! Needs N ≥ 2.

use super::plugin::plugin;
use crate::profile::Profile;

/// Returns (estimate, standard error). Needs N ≥ 2, which [`super::Method::check`] enforces.
pub(crate) fn jackknife(p: &Profile) -> (f64, f64) {
    debug_assert!(p.n() >= 2, "Method::check requires N >= 2");
    let n = p.n() as f64;
    let e = |k: f64| {
        if k > 1.0 {
            (k - 1.0) * (-1.0 / k).ln_1p()
        } else {
            0.0
        }
    };
    let delta = |k: f64| if k > 1.0 { k.ln() - e(k) } else { 0.0 };
    let value = plugin(p) - (n - 1.0) * (-1.0 / n).ln_1p()
        + p.pairs_f64().map(|(k, m)| m * k * e(k)).sum::<f64>() / n;
    let mean_delta = p.pairs_f64().map(|(k, m)| m * k * delta(k)).sum::<f64>() / n;
    let ss: f64 = p
        .pairs_f64()
        .map(|(k, m)| m * k * (delta(k) - mean_delta).powi(2))
        .sum();
    (value, (ss / (n * (n - 1.0))).sqrt())
}
