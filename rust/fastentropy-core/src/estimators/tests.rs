//! Cross-checks of the estimators against brute-force and closed-form computations written
//! independently of the profile-based code (the mpmath reference lives in the Python tests).

use super::dirichlet::{moments, Group};
use super::pitman_yor::Conditional;
use super::*;
use crate::special::{digamma, trigamma};

fn profile(counts: &[u64]) -> Profile {
    Profile::from_counts(counts).unwrap()
}

fn run(counts: &[u64], method: Method, alphabet_size: Option<f64>) -> Estimate {
    let opts = Options {
        alphabet_size,
        concentration: None,
    };
    estimate(&profile(counts), method, &opts).unwrap()
}

fn rel_close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * b.abs().max(1e-300)
}

fn plugin_of(counts: &[u64]) -> f64 {
    let n: u64 = counts.iter().sum();
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n as f64;
            -p * p.ln()
        })
        .sum()
}

#[test]
fn plugin_of_uniform_counts_is_ln_k() {
    let e = run(&[7; 13], Method::Plugin, None);
    assert!(rel_close(e.value, 13f64.ln(), 1e-15));
    assert_eq!(run(&[9], Method::Plugin, None).value, 0.0);
}

#[test]
fn jackknife_matches_leave_one_out_by_brute_force() {
    let counts = [5u64, 3, 1, 1, 2, 9, 1];
    let n: u64 = counts.iter().sum();
    let mut loo = Vec::new();
    for i in 0..counts.len() {
        let mut c = counts.to_vec();
        c[i] -= 1;
        loo.extend(std::iter::repeat_n(plugin_of(&c), counts[i] as usize));
    }
    let mean = loo.iter().sum::<f64>() / n as f64;
    let nf = n as f64;
    let want = nf * plugin_of(&counts) - (nf - 1.0) * mean;
    let var = (nf - 1.0) / nf * loo.iter().map(|h| (h - mean).powi(2)).sum::<f64>();
    let e = run(&counts, Method::Jackknife, None);
    assert!(rel_close(e.value, want, 1e-13), "{} vs {want}", e.value);
    assert!(rel_close(e.std.unwrap(), var.sqrt(), 1e-10));
}

#[test]
fn zhang_matches_its_original_double_sum() {
    // Zhang (2012) eq. (4): Σ_v 1/v · N^{v+1}(N−v−1)!/N! · Σ_k p_k Π_{j<v} (1 − p_k − j/N).
    let counts = [4u64, 2, 1, 1, 3];
    let n: u64 = counts.iter().sum();
    let nf = n as f64;
    let mut total = 0.0;
    for v in 1..n {
        // N^{v+1}(N−v−1)!/N! = Π_{j=0}^{v} N/(N−j), whose j = 0 factor is 1.
        let factor: f64 = (1..=v).map(|j| nf / (nf - j as f64)).product::<f64>();
        let inner: f64 = counts
            .iter()
            .map(|&c| {
                let p = c as f64 / nf;
                p * (0..v).map(|j| 1.0 - p - j as f64 / nf).product::<f64>()
            })
            .sum();
        total += factor * inner / v as f64;
    }
    assert!(rel_close(
        run(&counts, Method::Zhang, None).value,
        total,
        1e-12
    ));
}

#[test]
fn chao_shen_with_all_singletons_is_finite() {
    let e = run(&[1; 10], Method::ChaoShen, None);
    assert!(e.value.is_finite() && e.value > 10f64.ln());
}

#[test]
fn dirichlet_moments_match_the_classical_second_moment_formula() {
    // E[H²] = Σ_{i≠j} α_iα_j/(A(A+1)) [(ψ(α_i+1)−ψ(A+2))(ψ(α_j+1)−ψ(A+2)) − ψ₁(A+2)]
    //       + Σ_i α_i(α_i+1)/(A(A+1)) [(ψ(α_i+2)−ψ(A+2))² + ψ₁(α_i+2) − ψ₁(A+2)].
    let alphas = [0.3, 1.7, 2.0, 5.5, 0.01];
    let a: f64 = alphas.iter().sum();
    let mean: f64 = digamma(a + 1.0)
        - alphas
            .iter()
            .map(|&x| x / a * digamma(x + 1.0))
            .sum::<f64>();
    let mut second = 0.0;
    for (i, &x) in alphas.iter().enumerate() {
        for (j, &y) in alphas.iter().enumerate() {
            let w = if i == j { x * (x + 1.0) } else { x * y } / (a * (a + 1.0));
            second += w * if i == j {
                (digamma(x + 2.0) - digamma(a + 2.0)).powi(2) + trigamma(x + 2.0)
                    - trigamma(a + 2.0)
            } else {
                (digamma(x + 1.0) - digamma(a + 2.0)) * (digamma(y + 1.0) - digamma(a + 2.0))
                    - trigamma(a + 2.0)
            };
        }
    }
    let groups = alphas.iter().map(|&alpha| Group {
        alpha,
        count: 1.0,
        shift: 0.0,
    });
    let (m, v) = moments(groups, a);
    assert!(rel_close(m, mean, 1e-14));
    assert!(
        rel_close(v, second - mean * mean, 1e-10),
        "{v} vs {}",
        second - mean * mean
    );
}

#[test]
fn nsb_of_one_coin_flip_is_half_ln_2() {
    let e = run(&[1], Method::Nsb, Some(2.0));
    assert!(
        rel_close(e.value, std::f64::consts::LN_2 / 2.0, 1e-12),
        "{}",
        e.value
    );
    assert!(e.std.unwrap() > 0.1);
}

#[test]
fn dirichlet_process_moments_are_the_limit_of_large_symmetric_dirichlets() {
    let p = profile(&[6, 3, 1, 1, 2]);
    let kappa = 2.5;
    let dp = Conditional::new(&p, 0.0, 1.0);
    let (m_dp, v_dp) = dp.moments(kappa);
    let k = 1e9;
    let beta = kappa / k;
    let groups = p
        .pairs_f64()
        .map(|(c, m)| Group {
            alpha: c + beta,
            count: m,
            shift: 0.0,
        })
        .chain([Group {
            alpha: beta,
            count: k - p.distinct() as f64,
            shift: 0.0,
        }]);
    let (m_k, v_k) = moments(groups, p.n() as f64 + kappa);
    assert!(rel_close(m_dp, m_k, 1e-7), "{m_dp} vs {m_k}");
    assert!(rel_close(v_dp, v_k, 1e-6), "{v_dp} vs {v_k}");
}

#[test]
fn finite_nsb_approaches_its_infinite_alphabet_limit() {
    let counts = [5u64, 2, 2, 1, 1, 1, 1, 3];
    let inf = run(&counts, Method::Nsb, None);
    let mut previous_gap = f64::INFINITY;
    for k in [1e4, 1e6, 1e8, 1e10] {
        let fin = run(&counts, Method::Nsb, Some(k));
        let gap = (fin.value - inf.value).abs();
        assert!(gap < previous_gap, "K={k}: gap {gap} did not shrink");
        previous_gap = gap;
    }
    assert!(previous_gap < 1e-5 * inf.value, "gap {previous_gap}");
}

#[test]
fn methods_needing_coincidences_refuse_all_singletons() {
    for m in [Method::Ansb, Method::Pym] {
        let err = estimate(&profile(&[1, 1, 1]), m, &Options::default()).unwrap_err();
        assert!(matches!(err, Error::TooFewCoincidences { .. }), "{m}");
    }
    assert!(estimate(&profile(&[1, 1, 1]), Method::Nsb, &Options::default()).is_err());
    assert!(run(&[1, 1, 1], Method::Nsb, Some(1e6)).value > 0.0);
}

#[test]
fn check_states_each_methods_requirements_and_estimate_obeys_it() {
    // Which methods refuse, by hand from their papers: the jackknife needs N >= 2, dirichlet
    // a K, and the mixtures over an unbounded alphabet (ansb, pym, nsb without K) a
    // coincidence.
    let refused = |counts: &[u64], k: Option<f64>| -> Vec<&str> {
        let p = profile(counts);
        let mut out: Vec<&str> = (Method::ALL.iter())
            .filter(|m| m.check(&p, k).is_err())
            .map(|m| m.name())
            .collect();
        out.sort_unstable();
        out
    };
    assert_eq!(
        refused(&[1], None),
        ["ansb", "dirichlet", "jackknife", "nsb", "pym"]
    );
    assert_eq!(refused(&[1], Some(4.0)), ["ansb", "jackknife", "pym"]);
    assert_eq!(
        refused(&[1, 1, 1], None),
        ["ansb", "dirichlet", "nsb", "pym"]
    );
    assert_eq!(refused(&[2, 1], None), ["dirichlet"]);
    assert!(refused(&[2, 1], Some(3.0)).is_empty());
    // estimate refuses exactly what check refuses, with the same error.
    for counts in [&[1u64][..], &[1, 1, 1], &[2, 1], &[3]] {
        for k in [None, Some(5.0)] {
            let p = profile(counts);
            for m in Method::ALL {
                let options = Options {
                    alphabet_size: k,
                    concentration: None,
                };
                match (m.check(&p, k), estimate(&p, m, &options)) {
                    (Ok(()), Ok(_)) => {}
                    (Err(a), Err(b)) => assert_eq!(a, b, "{m} {counts:?} {k:?}"),
                    (a, b) => panic!("{m} {counts:?} {k:?}: check {a:?}, estimate {b:?}"),
                }
            }
        }
    }
}

#[test]
fn bad_options_are_errors() {
    let p = profile(&[2, 1]);
    let with = |k: f64| Options {
        alphabet_size: Some(k),
        concentration: None,
    };
    assert!(estimate(&p, Method::Plugin, &with(1.0)).is_err());
    assert!(estimate(&p, Method::Plugin, &with(f64::NAN)).is_err());
    assert!(estimate(&p, Method::Dirichlet, &Options::default()).is_err());
    assert_eq!(
        estimate(&Profile::default(), Method::Plugin, &with(3.0)),
        Err(Error::Empty)
    );
    assert!("nope".parse::<Method>().is_err());
    for m in Method::ALL {
        assert_eq!(m.name().parse::<Method>().unwrap(), m);
    }
}

#[test]
fn every_method_is_finite_on_huge_counts_and_alphabets() {
    let counts = [1u64 << 40, 3, 1 << 33, 1, 1];
    for m in Method::ALL {
        let e = estimate(
            &profile(&counts),
            m,
            &Options {
                alphabet_size: Some(50000f64.powi(5)),
                concentration: None,
            },
        )
        .unwrap();
        assert!(e.value.is_finite() && e.value >= 0.0, "{m}: {e:?}");
    }
}

// --- Closed forms of the bias-corrected estimators -------------------------------------
// Each value is checked twice: against the paper's formula evaluated here per outcome (not
// per profile entry), with ψ at integers and half-integers from its exact series, and
// against a literal computed once with mpmath at 40 digits from the same formula.

const GAMMA: f64 = 0.577_215_664_901_532_9;

/// ψ(n) = −γ + Σ_{k<n} 1/k for an integer n ≥ 1 (Abramowitz & Stegun 6.3.2).
fn psi_int(n: u64) -> f64 {
    -GAMMA + (1..n).map(|k| 1.0 / k as f64).sum::<f64>()
}

/// ψ(m + ½) = −γ − 2 ln 2 + Σ_{k=1}^{m} 2/(2k − 1) (Abramowitz & Stegun 6.3.4).
fn psi_half(m: u64) -> f64 {
    -GAMMA - 2.0 * std::f64::consts::LN_2 + (1..=m).map(|k| 2.0 / (2 * k - 1) as f64).sum::<f64>()
}

/// Sample with even and odd counts, singletons and a doubleton.
const MIXED: [u64; 8] = [1, 2, 3, 4, 7, 1, 1, 2];

#[test]
fn grassberger_matches_its_closed_form() {
    // Grassberger (2003) eq. 35: Ĥ = ψ(N) − (1/N) Σ n_i G(n_i), with
    // G(n) = ψ(n) + ½(−1)ⁿ[ψ((n+1)/2) − ψ(n/2)]: for n = 2m the bracket is ψ(m+½) − ψ(m),
    // for n = 2m+1 it is ψ(m+1) − ψ(m+½).
    let g = |n: u64| {
        let m = n / 2;
        if n.is_multiple_of(2) {
            psi_int(n) + 0.5 * (psi_half(m) - psi_int(m))
        } else {
            psi_int(n) - 0.5 * (psi_int(m + 1) - psi_half(m))
        }
    };
    let n: u64 = MIXED.iter().sum();
    let want = psi_int(n) - MIXED.iter().map(|&c| c as f64 * g(c)).sum::<f64>() / n as f64;
    let e = run(&MIXED, Method::Grassberger, None);
    assert!(rel_close(e.value, want, 1e-13), "{} vs {want}", e.value);
    assert!(rel_close(e.value, 2.094_061_440_878_230_4, 1e-13));
    // The ln N form differs by ln N − ψ(N) exactly.
    let ln_n = run(&MIXED, Method::GrassbergerLnN, None).value;
    assert!(rel_close(ln_n, want + (n as f64).ln() - psi_int(n), 1e-13));
    // One outcome seen once: G(1) = −γ − ln 2, so Ĥ = ψ(1) − G(1) = ln 2.
    assert!(rel_close(
        run(&[1], Method::Grassberger, None).value,
        std::f64::consts::LN_2,
        1e-14
    ));
}

#[test]
fn miller_madow_matches_its_closed_form() {
    // Miller (1955): the plug-in plus (K_obs − 1)/(2N).
    let n: u64 = MIXED.iter().sum();
    let want = plugin_of(&MIXED) + (MIXED.len() as f64 - 1.0) / (2.0 * n as f64);
    let e = run(&MIXED, Method::MillerMadow, None);
    assert!(rel_close(e.value, want, 1e-14), "{} vs {want}", e.value);
    assert!(rel_close(e.value, 2.009_523_672_194_334, 1e-14));
    assert!(e.std.is_none());
}

#[test]
fn chao_shen_matches_its_closed_form() {
    // Chao & Shen (2003): −Σ_i p̃ ln p̃ / (1 − (1 − p̃)^N), p̃ = C n_i/N, C = 1 − f₁/N, with
    // f₁ = N − 1 when every outcome is a singleton.
    let by_hand = |counts: &[u64]| {
        let n: u64 = counts.iter().sum();
        let f1 = counts.iter().filter(|&&c| c == 1).count() as u64;
        let f1 = if f1 == n { n - 1 } else { f1 };
        let coverage = 1.0 - f1 as f64 / n as f64;
        counts
            .iter()
            .map(|&c| {
                let p = coverage * c as f64 / n as f64;
                -p * p.ln() / (1.0 - (1.0 - p).powi(n as i32))
            })
            .sum::<f64>()
    };
    let e = run(&MIXED, Method::ChaoShen, None);
    assert!(rel_close(e.value, by_hand(&MIXED), 1e-13), "{}", e.value);
    assert!(rel_close(e.value, 2.098_979_683_622_354_5, 1e-13));
    let singletons = run(&[1; 5], Method::ChaoShen, None).value;
    assert!(rel_close(singletons, by_hand(&[1; 5]), 1e-13));
    assert!(rel_close(singletons, 3.486_890_381_894_244_4, 1e-13));
}

#[test]
fn ansb_matches_its_closed_form() {
    // Nemenman (2011) eqs. 29–30: (γ − ln 2) + 2 ln N − ψ(Δ), std √ψ₁(Δ), Δ = N − K_obs;
    // ψ₁(n) = π²/6 − Σ_{k<n} 1/k² at an integer (Abramowitz & Stegun 6.4.2).
    let counts = [1, 1, 1, 1, 2, 1, 1, 3, 1, 1, 1, 1];
    let (n, delta) = (15u64, 3u64);
    let want = GAMMA - std::f64::consts::LN_2 + 2.0 * (n as f64).ln() - psi_int(delta);
    let trigamma_delta = std::f64::consts::PI.powi(2) / 6.0 - 1.0 - 0.25;
    let e = run(&counts, Method::Ansb, None);
    assert!(rel_close(e.value, want, 1e-14), "{} vs {want}", e.value);
    assert!(rel_close(e.value, 4.377_384_551_447_54, 1e-14));
    let std = e.std.unwrap();
    assert!(rel_close(std, trigamma_delta.sqrt(), 1e-13), "{std}");
    assert!(rel_close(std, 0.628_437_798_710_601_5, 1e-13));
}

#[test]
fn shrinkage_matches_its_closed_form() {
    // Hausser & Strimmer (2009) eqs. 5–8, over all K bins (the empty ones included).
    let counts = [9u64, 5, 3, 3, 1, 1, 1];
    let by_hand = |k: usize| {
        let n: u64 = counts.iter().sum();
        let mut theta: Vec<f64> = counts.iter().map(|&c| c as f64 / n as f64).collect();
        theta.resize(k, 0.0);
        let t = 1.0 / k as f64;
        let num = 1.0 - theta.iter().map(|x| x * x).sum::<f64>();
        let den = (n - 1) as f64 * theta.iter().map(|x| (t - x).powi(2)).sum::<f64>();
        let lambda = (num / den).clamp(0.0, 1.0);
        let h = theta
            .iter()
            .map(|x| lambda * t + (1.0 - lambda) * x)
            .map(|q| -q * q.ln())
            .sum::<f64>();
        (h, lambda)
    };
    for (k, literal, lambda) in [
        (12, 2.017_964_380_461_578, 0.220_374_600_274_097_76),
        (7, 1.818_896_975_177_263_5, 0.355_303_030_303_030_3),
    ] {
        let (want, lam) = by_hand(k);
        assert!(rel_close(lam, lambda, 1e-13)); // the case is not clipped
        let alphabet = (k != counts.len()).then_some(k as f64);
        let e = run(&counts, Method::Shrinkage, alphabet);
        assert!(
            rel_close(e.value, want, 1e-13),
            "K = {k}: {} vs {want}",
            e.value
        );
        assert!(rel_close(e.value, literal, 1e-13));
    }
}

#[test]
fn nsb_finite_alphabet_at_counts_near_2_pow_63() {
    // Once refused ("the posterior weight vanished everywhere"): the log-evidence's
    // lnΓ(N) terms (~2e20) left rounding noise of ~1e4 in it. One outcome seen 2^62 times
    // out of K = 4: E[H] ≈ 3β(ln N + 1 + γ)/N ≈ 2e-19 at the posterior's β ~ 1/(3 ln N).
    for ks in [vec![1u64 << 60], vec![1u64 << 62], vec![1u64 << 63]] {
        let (h, sd) = super::nsb::nsb(&profile(&ks), Some(4.0)).unwrap();
        assert!(
            (0.0..1e-16).contains(&h) && sd.is_finite(),
            "{ks:?}: {h} ± {sd}"
        );
    }
    let (h, _) = super::nsb::nsb(&profile(&[1u64 << 62, 1]), Some(4.0)).unwrap();
    assert!(h.is_finite() && (0.0..1e-15).contains(&h), "{h}");
    // Two outcomes seen 2^62 times each: ln 2 to the precision of the counts.
    let (h, sd) = super::nsb::nsb(&profile(&[1u64 << 62, 1u64 << 62]), Some(4.0)).unwrap();
    assert!(
        (h - std::f64::consts::LN_2).abs() < 1e-12 && sd < 1e-8,
        "{h} ± {sd}"
    );
}
