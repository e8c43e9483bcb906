//! Entropy moments and evidence of a sample under a fixed Pitman–Yor process PY(d, α)
//! (Archer, Park & Pillow 2014, JMLR 15:2833, sections 4–5; Pitman 1996 for the posterior).
//!
//! Given counts n_1..n_K (K = K_obs, N = Σn_i), the posterior is
//! (p_1..p_K, p_*) ~ Dirichlet(n_1 − d, …, n_K − d, α + Kd), with the unseen mass p_* spread
//! as an independent PY(d, α + Kd) whose entropy is H_*. Then H = D + p_*·H_* where D is
//! the entropy of the Dirichlet part, so with μ_* = E[H_*] and the shifted Dirichlet moments
//! of `dirichlet::moments` (shift μ_* on the p_* bin):
//!
//!   E[H] = ψ(A+1) − Σ(n_i − d)ψ(n_i − d + 1)/A − (α + Kd)ψ(1 − d)/A,   A = N + α,
//!   Var[H] = Var[D + μ_* p_*] + E[p_*²]·Var[H_*].
//!
//! The prior moments of a PY(d, a) entropy follow from size-biased sampling
//! (p̃ ~ Beta(1−d, a+d)): E[H_*] = ψ(a+1) − ψ(1−d) and, derived here in the same way and
//! rearranged to avoid cancellation, Var[H_*] = φ(1−d)/s − φ(s+1)/(s+1) − 1/(s²(s+1)) with
//! s = a + 1 and φ(z) = zψ₁(z) − 1.
//!
//! The evidence is p(n | d, α) = Π_{l=1}^{K−1}(α + l·d) · Γ(1+α)/Γ(α+N) · Π_i Γ(n_i−d)/Γ(1−d).
//! Everything that depends only on d is summed over the profile once, so a node in α costs
//! O(1): this is what makes the two-dimensional PYM integral fast.

use crate::profile::Profile;
use crate::special::{
    digamma, ln_gamma, ln_gamma_ratio, ln_gamma_ratio_excess, ln_gamma_ratio_reduced,
    z_trigamma_m1, ASYMPTOTIC_FROM,
};

/// The PY(d, ·) posterior of one sample at a fixed discount d, ready to evaluate at any α.
pub(crate) struct Conditional {
    d: f64,
    one_minus_d: f64,
    n: f64,
    k_obs: f64,
    /// ψ(1 − d).
    psi_tail: f64,
    /// Σ m_k (k − d): the Dirichlet mass of the observed bins.
    w_obs: f64,
    /// Mass-weighted mean of ψ(k − d + 1) over observed bins.
    psi_mean: f64,
    /// Mass-weighted sum of squared deviations of ψ(k − d + 1) from `psi_mean`.
    psi_ss: f64,
    /// Σ m_k (k − d)·φ(k − d + 1).
    phi_sum: f64,
    /// Σ m_k ln[Γ(k − d)/Γ(1 − d)].
    ln_ev_observed: f64,
}

impl Conditional {
    /// `one_minus_d` is passed separately so that d close to 1 keeps its precision.
    pub(crate) fn new(p: &Profile, d: f64, one_minus_d: f64) -> Self {
        let w_obs = p.n() as f64 - p.distinct() as f64 * d;
        let (mut phi_sum, mut ln_gamma_sum, mut repeated) = (0.0, 0.0, 0.0);
        // (mass m·(k − d), ψ(k − d + 1)) per pair; k − d as (k − 1) + (1 − d) keeps its
        // digits when d is close to 1.
        let terms: Vec<(f64, f64)> = p
            .pairs_f64()
            .map(|(k, m)| {
                let a = (k - 1.0) + one_minus_d;
                phi_sum += m * a * z_trigamma_m1(a + 1.0);
                if k > 1.0 {
                    // lnΓ(k − d) less the constant lnΓ(k) where k is large: −ln Γ(a + d)/Γ(a),
                    // of size d ln k rather than k ln k (0 at d = 0), so that the evidence's
                    // variation in d is not lost to rounding at huge counts. Chosen by k
                    // alone (a ≥ SHIFT follows): the constant dropped must not depend on d.
                    ln_gamma_sum += if k >= ASYMPTOTIC_FROM + 1.0 {
                        -m * ln_gamma_ratio(a, d)
                    } else {
                        m * ln_gamma(a)
                    };
                    repeated += m;
                }
                (m * a, digamma(a + 1.0))
            })
            .collect();
        let psi_mean = terms.iter().map(|&(w, psi)| w * psi).sum::<f64>() / w_obs;
        let psi_ss = terms
            .iter()
            .map(|&(w, psi)| w * (psi - psi_mean).powi(2))
            .sum();
        // Σ m_k ln[Γ(k − d)/Γ(1 − d)], the k = 1 terms being 0.
        let ln_ev_observed = ln_gamma_sum - repeated * ln_gamma(one_minus_d);
        Self {
            d,
            one_minus_d,
            n: p.n() as f64,
            k_obs: p.distinct() as f64,
            psi_tail: digamma(one_minus_d),
            w_obs,
            psi_mean,
            psi_ss,
            phi_sum,
            ln_ev_observed,
        }
    }

    /// ln p(n | d, α), up to a constant that depends on neither.
    pub(crate) fn ln_evidence(&self, alpha: f64) -> f64 {
        let j = self.k_obs - 1.0;
        // ln Π_{l=1}^{K−1} (α + l·d) = (K−1) ln d + ln Γ(x + K − 1)/Γ(x), x = α/d + 1.
        let rising = if j == 0.0 {
            0.0
        } else if self.d == 0.0 {
            j * alpha.ln()
        } else {
            let x = alpha / self.d + 1.0;
            if x >= ASYMPTOTIC_FROM {
                // (K−1) ln(d·x) = (K−1) ln(α + d): no large logs that cancel when d ≪ α.
                j * (alpha + self.d).ln() + ln_gamma_ratio_excess(x, j)
            } else {
                j * self.d.ln() + ln_gamma_ratio(x, j)
            }
        };
        // Reduced: without lnΓ(N − 1), a constant of size N ln N.
        rising - ln_gamma_ratio_reduced(1.0 + alpha, self.n - 1.0) + self.ln_ev_observed
    }

    /// (E[H | d, α, n], Var[H | d, α, n]).
    pub(crate) fn moments(&self, alpha: f64) -> (f64, f64) {
        let total = self.n + alpha;
        let tail_alpha = alpha + self.k_obs * self.d;
        let (a_obs, a_tail) = (self.w_obs / total, tail_alpha / total);
        let mean = digamma(total + 1.0) - a_obs * self.psi_mean - a_tail * self.psi_tail;
        // Spread of ψ terms: within the observed bins, and between them and the tail bin
        // (whose shifted ψ term is exactly ψ(1 − d) − ψ(A + 1)).
        let spread = self.psi_ss / total + a_obs * a_tail * (self.psi_mean - self.psi_tail).powi(2);
        let curvature = self.phi_sum / total + a_tail * z_trigamma_m1(tail_alpha + 1.0)
            - z_trigamma_m1(total + 1.0);
        let s = tail_alpha + 1.0;
        let tail_var = z_trigamma_m1(self.one_minus_d) / s
            - z_trigamma_m1(s + 1.0) / (s + 1.0)
            - 1.0 / (s * s * (s + 1.0));
        // E[p_*²], factored so that α near the top of the f64 range does not overflow.
        let tail_second = (tail_alpha / total) * ((tail_alpha + 1.0) / (total + 1.0));
        (
            mean,
            (spread + curvature) / (total + 1.0) + tail_second * tail_var,
        )
    }
}
