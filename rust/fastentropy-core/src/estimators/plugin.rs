//! Plug-in (maximum-likelihood) entropy and the Miller–Madow correction.
//!
//! plug-in: Ĥ = −Σ (n_i/N) ln(n_i/N) = Σ_k m_k·(k/N)·ln(N/k), summed in that form (terms
//! of one sign, no ln N − ln N cancellation).
//! Negatively biased by ≈ (K−1)/(2N) when N ≫ K (Miller 1955), and by far more when
//! N ≲ K, where it is bounded by ln N whatever the true entropy.
//!
//! Miller–Madow: Ĥ + (K_obs − 1)/(2N) (Miller 1955; Madow's first-order bias term with the
//! observed support). Removes the leading bias only in the well-sampled regime N ≫ K.

use crate::profile::Profile;

pub(crate) fn plugin(p: &Profile) -> f64 {
    let n = p.n() as f64;
    p.pairs_f64().map(|(k, m)| m * (k / n) * (n / k).ln()).sum()
}

pub(crate) fn miller_madow(p: &Profile) -> f64 {
    plugin(p) + (p.distinct() as f64 - 1.0) / (2.0 * p.n() as f64)
}
