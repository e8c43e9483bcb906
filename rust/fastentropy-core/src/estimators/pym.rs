//! Pitman–Yor mixture (PYM) posterior mean and std of the entropy (Archer, Park & Pillow
//! 2014, "Bayesian entropy estimation for countable discrete distributions", JMLR 15:2833,
//! arXiv:1302.0328, section 5).
//!
//! A mixture of PY(d, α) priors, d ∈ [0, 1), α > 0, chosen so that the prior on H is nearly
//! flat: flat in the prior mean entropy h = ψ(α+1) − ψ(1−d), and with the shape parameter
//! γ = (ψ(1) − ψ(1−d))/h ∈ [0, 1) weighted by q(γ) = exp(−10/(1−γ)) (the paper's default).
//! In (α, d) that is p(α, d) ∝ q(γ)·|∂(h, γ)/∂(α, d)| = q(γ)·ψ₁(α+1)·ψ₁(1−d)/h.
//! The Jacobian is what makes the prior flat in h, the paper's construction; note that the
//! authors' MATLAB toolbox (PYMentropy, `pymPriorFactory.m`) evaluates q(γ) alone, which
//! changes the estimate noticeably on small samples (e.g. counts [1, 2, 2, 4]: 1.815 nats
//! here, 2.244 without the Jacobian).
//!
//! The posterior over (α, d) is integrated in full over (0, ∞) × (0, 1) — no truncated box:
//! an outer integral over y = logit(d) of inner integrals over x = ln α, each done by
//! `quadrature::mixture` (mode, curvature scale, sinh-mapped trapezoid to convergence);
//! the law of total variance combines the levels. The conditional moments and evidence come
//! from `pitman_yor`. Proper iff the sample has a coincidence (N > K_obs): at large α the
//! density in α behaves like α^{K_obs−N−1}/ln α, so one coincidence already gives a finite
//! mean and variance (without the Jacobian it would take two, as the toolbox's README says).
//! Suited to heavy-tailed (power-law, Zipf-like) distributions such as n-grams of text;
//! like every prior-driven estimator it is dominated by the prior when coincidences are few.

use super::nsb::kappa_search;
use super::pitman_yor::Conditional;
use crate::error::Result;
use crate::profile::Profile;
use crate::quadrature::{mixture, Node, Search};
use crate::special::{digamma, trigamma, EULER_GAMMA};

/// Exponent scale of q(γ) = exp(−Q_SCALE/(1−γ)).
const Q_SCALE: f64 = 10.0;

/// Returns (posterior mean, posterior std).
pub(crate) fn pym(p: &Profile) -> Result<(f64, f64)> {
    debug_assert!(p.coincidences() > 0, "Method::check requires a coincidence");
    let inner_search = kappa_search(p.n() as f64, p.distinct() as f64, 0.0);
    // Neighbouring outer nodes have nearby inner modes: each inner integral starts its
    // search where the last one found its mode.
    let last_mode = std::cell::Cell::new(None);
    let outer = |y: f64, need: bool| {
        // d and 1 − d computed separately so that 1 − d keeps its digits near d = 1.
        let (d, one_minus_d) = (1.0 / (1.0 + (-y).exp()), 1.0 / (1.0 + y.exp()));
        let py = Conditional::new(p, d, one_minus_d);
        let psi_tail = digamma(one_minus_d);
        let inner = |x: f64, need_inner: bool| {
            let alpha = x.exp();
            let psi_a = digamma(alpha + 1.0);
            let h = psi_a - psi_tail;
            // 1 − γ = (ψ(α+1) − ψ(1))/h; as α → 0 it vanishes and so does q (rounding may
            // leave it ≤ 0 there, where the weight is e^{−∞} in any case).
            let gap = psi_a + EULER_GAMMA;
            let ln_q = if gap > 0.0 {
                -Q_SCALE * h / gap
            } else {
                f64::NEG_INFINITY
            };
            let ln_w = ln_q + trigamma(alpha + 1.0).ln() - h.ln() + x + py.ln_evidence(alpha);
            if !need_inner {
                return Node::weight_only(ln_w);
            }
            let (mean, var) = py.moments(alpha);
            Node { ln_w, mean, var }
        };
        match mixture(
            inner,
            Search {
                start: last_mode.get(),
                ..inner_search
            },
        ) {
            Ok(m) => {
                last_mode.set(Some(m.mode));
                // dα dd = α·d(1−d) dx dy; the α factor is inside the inner integral.
                let ln_w = m.ln_z + trigamma(one_minus_d).ln() + d.ln() + one_minus_d.ln();
                if need {
                    Node {
                        ln_w,
                        mean: m.mean,
                        var: m.var,
                    }
                } else {
                    Node::weight_only(ln_w)
                }
            }
            Err(_) => Node::weight_only(f64::NEG_INFINITY),
        }
    };
    let search = Search {
        lo: -24.0,
        hi: 24.0,
        step: 2.0,
        domain: (-700.0, 36.0),
        start: None,
        noise: inner_search.noise,
    };
    let m = mixture(outer, search)?;
    Ok((m.mean, super::std_of(m.var)))
}
