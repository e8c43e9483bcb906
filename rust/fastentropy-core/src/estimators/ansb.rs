//! Nemenman's asymptotic NSB (Nemenman 2011, "Coincidences and estimation of entropies of
//! random variables with large cardinalities", Entropy 13:2013, eqs. 29–30):
//!
//!   Ĥ ≈ (γ − ln 2) + 2 ln N − ψ(Δ),  σ ≈ √ψ₁(Δ),  Δ = N − K_obs (coincidences).
//!
//! A saddle-point approximation of NSB for the regime of few coincidences: valid only when
//! Δ ≪ N (and K ≫ N); needs Δ ≥ 1. Outside that regime (Δ > 0.1 N) the estimate carries a
//! warning that says so.

use crate::profile::Profile;
use crate::special::{digamma, trigamma, EULER_GAMMA};

/// Beyond this share of coincidences the asymptotic regime Δ ≪ N clearly does not hold.
const REGIME_LIMIT: f64 = 0.1;

/// Returns (estimate, std, whether the sample is outside the regime of validity). Needs
/// Δ ≥ 1, which [`super::Method::check`] enforces.
pub(crate) fn ansb(p: &Profile) -> (f64, f64, bool) {
    let delta = p.coincidences();
    debug_assert!(delta > 0, "Method::check requires a coincidence");
    let (n, d) = (p.n() as f64, delta as f64);
    let value = (EULER_GAMMA - std::f64::consts::LN_2) + 2.0 * n.ln() - digamma(d);
    (value, trigamma(d).sqrt(), d > REGIME_LIMIT * n)
}

/// The fraction Δ/N above which an `ansb` estimate carries a warning that it is outside its
/// regime (and Python's default method sets leave it out).
pub const ANSB_REGIME_LIMIT: f64 = REGIME_LIMIT;
