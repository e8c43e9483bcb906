//! Zhang's estimator (Zhang 2012, "Entropy estimation in Turing's perspective", Neural
//! Computation 24:1368), a sum over v = 1..N−1 of Turing-type coverage terms whose bias
//! decays exponentially in N for finite alphabets. Schürmann (2015, "A note on entropy
//! estimation", Neural Computation 27:2097) shows it equals
//!
//!   Ĥ_Z = Σ_i (n_i/N)·[ψ(N) − ψ(n_i)] = ψ(N) − (1/N) Σ_k m_k·k·ψ(k),
//!
//! which is what is computed here (the test suite checks the identity against the double
//! sum). Biased low when N ≲ K, like every estimator without a prior on unseen mass.

use crate::profile::Profile;
use crate::special::digamma;

pub(crate) fn zhang(p: &Profile) -> f64 {
    let n = p.n() as f64;
    digamma(n) - p.pairs_f64().map(|(k, m)| m * k * digamma(k)).sum::<f64>() / n
}
