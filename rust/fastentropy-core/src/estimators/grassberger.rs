//! Grassberger's estimator (Grassberger 2003, "Entropy estimates from insufficient
//! samplings", arXiv:physics/0307138, eq. 35; the ψ(N) form of Grassberger 2008/2022):
//!
//!   Ĥ_G = ψ(N) − (1/N) Σ_i n_i·G(n_i),  G(n) = ψ(n) + ½(−1)ⁿ [ψ((n+1)/2) − ψ(n/2)].
//!
//! The older form with ln N in place of ψ(N) (`grassberger_lnN`) differs by ln N − ψ(N) ≈
//! 1/(2N). Small bias when most outcomes are seen at least a few times; like every
//! estimator without a prior, it is biased low when most of the mass is unseen.

use crate::profile::Profile;
use crate::special::digamma;

fn g(n: f64) -> f64 {
    // (−1)ⁿ for an integer-valued n.
    let sign = if n % 2.0 == 0.0 { 1.0 } else { -1.0 };
    digamma(n) + 0.5 * sign * (digamma((n + 1.0) / 2.0) - digamma(n / 2.0))
}

fn weighted_g(p: &Profile) -> f64 {
    p.pairs_f64().map(|(k, m)| m * k * g(k)).sum::<f64>() / p.n() as f64
}

pub(crate) fn grassberger(p: &Profile) -> f64 {
    digamma(p.n() as f64) - weighted_g(p)
}

pub(crate) fn grassberger_ln_n(p: &Profile) -> f64 {
    (p.n() as f64).ln() - weighted_g(p)
}
