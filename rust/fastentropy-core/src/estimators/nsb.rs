//! Nemenman–Shafee–Bialek (NSB) posterior mean and std of the entropy (Nemenman, Shafee &
//! Bialek 2002, "Entropy and inference, revisited", NIPS 14; Nemenman, Bialek & de Ruyter
//! van Steveninck 2004, Phys. Rev. E 69:056111).
//!
//! A mixture of symmetric Dirichlet(β) priors over K bins with hyperprior flat in the prior
//! mean entropy ξ(β) = ψ(Kβ+1) − ψ(β+1), i.e. p(β) ∝ dξ/dβ = Kψ₁(Kβ+1) − ψ₁(β+1), so the
//! induced prior on H is nearly flat on [0, ln K]. The evidence is
//! Γ(Kβ)/Γ(N+Kβ)·Π_i Γ(n_i+β)/Γ(β); the posterior over x = ln β is integrated by
//! `quadrature::mixture`, the conditional moments by `dirichlet::moments`.
//!
//! With `alphabet_size=None` the exact K → ∞ limit is taken: with κ = Kβ fixed, the prior
//! weight tends to ψ₁(κ+1) dκ and the evidence to κ^{K_obs}Γ(κ)/Γ(N+κ), a mixture of
//! Dirichlet processes DP(κ) whose conditional moments are the Pitman–Yor ones at d = 0.
//! That posterior is proper iff there is at least one coincidence (N > K_obs): its density
//! decays like κ^{−(N−K_obs)} as κ → ∞. NSB is reliable when coincidences exist; with K
//! given and none observed it returns, honestly, a value near ln K with a wide std.

use super::dirichlet::{moments, symmetric_groups};
use super::pitman_yor::Conditional;
use crate::error::Result;
use crate::profile::Profile;
use crate::quadrature::{mixture, Mixture, Node, Search};
use crate::special::{ln_gamma_ratio_reduced, trigamma, z_trigamma_m1};

/// Returns (posterior mean, posterior std).
pub(crate) fn nsb(p: &Profile, alphabet: Option<f64>) -> Result<(f64, f64)> {
    match alphabet {
        Some(k) => finite(p, k),
        None => infinite(p),
    }
}

/// Where the mode in ln κ (κ = Kβ) is sought first (the scan extends itself if needed),
/// and the rounding error of log-evidences of N observations in `distinct` outcomes: with
/// the constant lnΓ(count) terms taken out (`ln_gamma_ratio_reduced`) each outcome's term is
/// about ln N in size near the mode, not its count times ln N.
pub(crate) fn kappa_search(n: f64, distinct: f64, shift: f64) -> Search {
    Search {
        lo: -20.0 - shift,
        hi: 2.0 * (n + 1.0).ln() + 20.0 - shift,
        step: 2.0,
        domain: (-700.0, 700.0 - shift.max(0.0)),
        start: None,
        noise: 64.0 * f64::EPSILON * (distinct + 1.0) * ((n + 2.0).ln() + 1.0),
    }
}

/// dξ/dβ = Kψ₁(Kβ+1) − ψ₁(β+1), written as
/// (K−1)/((Kβ+1)(β+1)) + Kφ(Kβ+1)/(Kβ+1) − φ(β+1)/(β+1) with φ(z) = zψ₁(z) − 1, so that the
/// two ~1/β terms of the plain form do not cancel at large β.
fn xi_slope(beta: f64, k: f64) -> f64 {
    let kb1 = k * beta + 1.0;
    (k - 1.0) / (kb1 * (beta + 1.0)) + k * z_trigamma_m1(kb1) / kb1
        - z_trigamma_m1(beta + 1.0) / (beta + 1.0)
}

fn finite(p: &Profile, k: f64) -> Result<(f64, f64)> {
    if k <= 1.0 {
        // One possible outcome: the entropy is 0 with certainty.
        return Ok((0.0, 0.0));
    }
    let n = p.n() as f64;
    let node = |x: f64, need: bool| {
        let beta = x.exp();
        // Up to a constant: the reduced ratios drop lnΓ(count) terms of size N ln N whose
        // rounding would swamp the variation in β when counts are huge.
        let ln_ev = -ln_gamma_ratio_reduced(k * beta, n)
            + p.pairs_f64()
                .map(|(c, m)| m * ln_gamma_ratio_reduced(beta, c))
                .sum::<f64>();
        let ln_w = x + xi_slope(beta, k).ln() + ln_ev;
        if !need {
            return Node::weight_only(ln_w);
        }
        let (mean, var) = moments(symmetric_groups(p, beta, k), n + k * beta);
        Node { ln_w, mean, var }
    };
    // With coincidences, the K → ∞ posterior (cheap: O(1) per node) puts its mode in
    // κ = Kβ close to the finite-K one whenever K ≫ N; the search checks the guess.
    let start = if p.coincidences() > 0 {
        dirichlet_process(p).ok().map(|m| m.mode - k.ln())
    } else {
        None
    };
    let m = mixture(
        node,
        Search {
            start,
            ..kappa_search(n, p.distinct() as f64, k.ln())
        },
    )?;
    Ok((m.mean, super::std_of(m.var)))
}

fn infinite(p: &Profile) -> Result<(f64, f64)> {
    debug_assert!(p.coincidences() > 0, "Method::check requires a coincidence");
    let m = dirichlet_process(p)?;
    Ok((m.mean, super::std_of(m.var)))
}

/// The K → ∞ mixture over ln κ (needs a coincidence to be proper).
fn dirichlet_process(p: &Profile) -> Result<Mixture> {
    let dp = Conditional::new(p, 0.0, 1.0);
    let node = |x: f64, need: bool| {
        let kappa = x.exp();
        let ln_w = x + trigamma(kappa + 1.0).ln() + dp.ln_evidence(kappa);
        if !need {
            return Node::weight_only(ln_w);
        }
        let (mean, var) = dp.moments(kappa);
        Node { ln_w, mean, var }
    };
    mixture(node, kappa_search(p.n() as f64, p.distinct() as f64, 0.0))
}
