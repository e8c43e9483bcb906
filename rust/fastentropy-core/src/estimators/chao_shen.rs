//! Chao–Shen coverage-adjusted estimator (Chao & Shen 2003, Environmental and Ecological
//! Statistics 10:429): a Horvitz–Thompson sum over observed outcomes with probabilities
//! shrunk by the Good–Turing sample coverage C = 1 − f₁/N,
//!
//!   Ĥ_CS = −Σ_i p̃_i ln p̃_i / (1 − (1 − p̃_i)^N),  p̃_i = C·n_i/N.
//!
//! When every observation is a singleton (f₁ = N) the coverage would be 0; as Chao & Shen
//! do, f₁ is then taken as N − 1. (1 − p̃)^N is computed as exp(N·ln(1 − p̃)). Works well
//! down to N ~ K; for N ≪ K it still cannot exceed what the coverage allows.

use crate::profile::Profile;

pub(crate) fn chao_shen(p: &Profile) -> f64 {
    let n = p.n() as f64;
    let f1 = p.singletons() as f64;
    let f1 = if f1 == n { n - 1.0 } else { f1 };
    let coverage = 1.0 - f1 / n;
    p.pairs_f64()
        .map(|(k, m)| {
            let pa = coverage * k / n;
            if pa >= 1.0 {
                return 0.0;
            }
            // 1 − (1 − p̃)^N without cancellation.
            let inclusion = -(n * (-pa).ln_1p()).exp_m1();
            -m * pa * pa.ln() / inclusion
        })
        .sum()
}
