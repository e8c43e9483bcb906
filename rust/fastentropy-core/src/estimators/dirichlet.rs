//! Posterior mean and variance of the entropy under a Dirichlet posterior (Wolpert & Wolf
//! 1995, Phys. Rev. E 52:6841; the second moment as in Nemenman, Shafee & Bialek 2002).
//!
//! With p ~ Dirichlet(α_1..α_M), A = Σα_i, a_i = α_i/A and the quantity
//! G = −Σ p_i (ln p_i − c_i) (c = 0 is the entropy; the Pitman–Yor posterior needs a shift on
//! one bin), the moments are
//!
//!   u_i = ψ(α_i+1) − ψ(A+1) − c_i,  E[G] = −Σ a_i u_i,
//!   Var[G] = Σ a_i (u_i + E[G])² / (A+1) + Σ a_i [φ(α_i+1) − φ(A+1)] / (A+1),
//!
//! with φ(z) = zψ₁(z) − 1. This is the classical E[G²] − E[G]² rearranged (using
//! ψ₁(x) = ψ₁(x+1) + 1/x² and Σa_i = 1) so that both sums are of non-negative terms: no
//! cancellation, however large A or however concentrated the posterior.
//!
//! As an estimator with a fixed concentration a (all α_i = n_i + a over K bins) it is the
//! posterior mean under a symmetric Dirichlet(a) prior: a = 1/2 Jeffreys (Krichevsky–
//! Trofimov), 1 Laplace, 1/K Perks, √N/K minimax (Trybula). A fixed prior concentrates on
//! an entropy near its own prior mean when N ≪ K, so the estimate then mostly reflects a —
//! the motivation for NSB.

use crate::error::{Error, Result};
use crate::profile::Profile;
use crate::special::{digamma, z_trigamma_m1};

/// A group of `count` bins that share the posterior parameter `alpha` and shift `shift`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Group {
    pub alpha: f64,
    pub count: f64,
    pub shift: f64,
}

/// (E[G], Var[G]) for the Dirichlet posterior with total `total` = Σ count·alpha.
pub(crate) fn moments(groups: impl Iterator<Item = Group>, total: f64) -> (f64, f64) {
    let psi_total = digamma(total + 1.0);
    let phi_total = z_trigamma_m1(total + 1.0);
    let mut curvature = 0.0;
    // (a_i, u_i), kept for the centred second pass.
    let terms: Vec<(f64, f64)> = groups
        .filter(|g| g.count > 0.0 && g.alpha > 0.0)
        .map(|g| {
            let a = g.count * g.alpha / total;
            curvature += a * (z_trigamma_m1(g.alpha + 1.0) - phi_total);
            (a, digamma(g.alpha + 1.0) - psi_total - g.shift)
        })
        .collect();
    let mean = -terms.iter().map(|&(a, u)| a * u).sum::<f64>();
    let spread: f64 = terms.iter().map(|&(a, u)| a * (u + mean).powi(2)).sum();
    (mean, (spread + curvature) / (total + 1.0))
}

/// Groups of the symmetric Dirichlet(a) posterior over `alphabet` bins.
pub(crate) fn symmetric_groups(
    p: &Profile,
    a: f64,
    alphabet: f64,
) -> impl Iterator<Item = Group> + '_ {
    let empty = Group {
        alpha: a,
        count: alphabet - p.distinct() as f64,
        shift: 0.0,
    };
    p.pairs_f64()
        .map(move |(k, m)| Group {
            alpha: k + a,
            count: m,
            shift: 0.0,
        })
        .chain(std::iter::once(empty))
}

/// The prior concentration a of the `dirichlet` method.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Concentration {
    /// A fixed value a ≥ 0.
    Value(f64),
    /// a = 1/2 (Jeffreys, Krichevsky–Trofimov).
    Jeffreys,
    /// a = 1 (Laplace).
    Laplace,
    /// a = 1/K (Perks).
    Perks,
    /// a = √N/K (minimax for squared loss on the probabilities, Trybula).
    Minimax,
}

impl Concentration {
    /// The names accepted for the named concentrations.
    pub const NAMES: [&'static str; 4] = ["jeffreys", "laplace", "perks", "minimax"];

    /// A named concentration.
    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "jeffreys" => Ok(Self::Jeffreys),
            "laplace" => Ok(Self::Laplace),
            "perks" => Ok(Self::Perks),
            "minimax" => Ok(Self::Minimax),
            _ => Err(Error::Invalid(format!(
                "unknown concentration {name:?}: give a number >= 0 or one of {}",
                Self::NAMES.join(", ")
            ))),
        }
    }

    fn value(self, n: f64, alphabet: f64) -> Result<f64> {
        let a = match self {
            Self::Value(a) => a,
            Self::Jeffreys => 0.5,
            Self::Laplace => 1.0,
            Self::Perks => 1.0 / alphabet,
            Self::Minimax => n.sqrt() / alphabet,
        };
        if a.is_finite() && a >= 0.0 {
            Ok(a)
        } else {
            Err(Error::Invalid(format!(
                "concentration must be finite and >= 0, got {a}"
            )))
        }
    }
}

/// Returns (posterior mean, posterior std).
pub(crate) fn dirichlet(p: &Profile, c: Concentration, alphabet: f64) -> Result<(f64, f64)> {
    let a = c.value(p.n() as f64, alphabet)?;
    let total = p.n() as f64 + alphabet * a;
    let (mean, var) = moments(symmetric_groups(p, a, alphabet), total);
    Ok((mean, super::std_of(var)))
}
