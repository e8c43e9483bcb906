//! The entropy rate by extrapolating a learning curve: the cumulative code length per token
//! `r(N) = L(N)/N` of an online (prequential) predictor, fitted with an ansatz and taken to
//! `N → ∞`.
//!
//! Ansatzes, both for the cumulative average `r(N)` (the quantity Takahira et al. fit: the
//! code length of a prefix of N tokens over N):
//! - stretched exponential, `r(N) = h·exp(A·N^(β−1))`, `0 < β < 1` (Takahira, Tanaka-Ishii &
//!   Dębowski 2016, *Entropy* 18:364, eq. for "ansatz (iii)": `exp(A n^(β−1) + h′)`,
//!   h = e^h′; their best-fitting ansatz on natural-language corpora);
//! - Hilberg-type power law, `r(N) = h + A·N^(β−1)` (Hilberg 1990; Ebeling & Nicolis 1991,
//!   *Europhys. Lett.* 14:191, in rate form; Takahira et al.'s ansatz (ii)).
//!
//! How the fit sees the data. Cumulative averages are nested (each contains all the earlier
//! tokens), so their residuals are strongly correlated and a least-squares interval on them
//! is far too narrow. We fit the *same* ansatz through the block means it implies between
//! consecutive curve points, `b_k = (L(N_k) − L(N_{k−1}))/(N_k − N_{k−1})`, modelled as
//! `(N_k r(N_k) − N_{k−1} r(N_{k−1}))/(N_k − N_{k−1})` (the first block is `r(N_0)` itself):
//! disjoint tokens, nearly independent errors, weights `N_k − N_{k−1}` (the inverse variance
//! of a mean of that many per-token code lengths).
//!
//! Method: β on a grid (0.02..0.98) then refined by golden section; for each β the rest is
//! solved exactly (power law: linear in h, A) or by a one-dimensional search on A with h in
//! closed form (stretched exponential). Interval (profile rule): σ² = SSE_min/(K − 3); every
//! β whose profiled SSE is within 4σ² of the minimum is admitted (Δχ² = 4 for one
//! parameter), and the interval is the range of `h(β) ± 2·se(h | β)` over the admitted β,
//! clipped at 0. The curve estimate is the better-fitting ansatz's h; its interval is the
//! union of both ansatzes' intervals (their spread is model error, not noise).
//!
//! Validity: the curve must come from one pass of a causal, learning predictor over a
//! stationary source, and span decades of N (K ≥ 5 points). A fit over a decade or two is
//! ill-conditioned in h (rate.md, addendum: PPMd on 40 MB gave h from 0.04 to 0.31
//! bits/byte by ansatz); the profile rule makes that visible as a wide interval, it does not
//! cure it. A non-stationary text (a dictionary in alphabetical order) violates the premise.

use super::fit::{golden, linear2};
use crate::error::{Error, Result};

/// Fewest curve points: three parameters and two degrees of freedom for σ².
pub const MIN_POINTS: usize = 5;
const PARAMS: f64 = 3.0;
const BETA_GRID: std::ops::RangeInclusive<usize> = 1..=49;
const BETA_STEP: f64 = 0.02;
/// Admitted: profiled SSE within this many σ² of the minimum (Δχ² for one parameter, ~95%).
const PROFILE_CHI2: f64 = 4.0;
/// Half-width of the interval in standard errors of h given β.
const STDS: f64 = 2.0;

/// The two learning-curve ansatzes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ansatz {
    /// `r(N) = h·exp(A·N^(β−1))`.
    StretchedExponential,
    /// `r(N) = h + A·N^(β−1)`.
    PowerLaw,
}

impl Ansatz {
    /// Both, in the order they are reported.
    pub const ALL: [Ansatz; 2] = [Ansatz::StretchedExponential, Ansatz::PowerLaw];

    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Ansatz::StretchedExponential => "stretched_exponential",
            Ansatz::PowerLaw => "power_law",
        }
    }

    /// `r(N)` under parameters `(h, A, β)`.
    pub fn rate(self, n: f64, h: f64, a: f64, beta: f64) -> f64 {
        let x = n.powf(beta - 1.0);
        match self {
            Ansatz::StretchedExponential => h * (a * x).exp(),
            Ansatz::PowerLaw => h + a * x,
        }
    }
}

/// One ansatz fitted to one curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnsatzFit {
    /// The ansatz fitted.
    pub ansatz: Ansatz,
    /// The extrapolated rate, nats per token.
    pub h: f64,
    /// Lower end of the profile interval of h (clipped at 0), nats per token.
    pub lower: f64,
    /// Upper end of the profile interval of h, nats per token.
    pub upper: f64,
    /// The fitted amplitude A of the `N^(β−1)` term (nats per token for the power law,
    /// dimensionless in the stretched exponential's exponent).
    pub a: f64,
    /// The fitted exponent β, in `(0, 1)`.
    pub beta: f64,
    /// Weighted residual variance of the block means (per unit weight).
    pub sigma2: f64,
}

/// The curve's estimate: each ansatz's fit (or why it failed), the point of the better fit
/// and the union of the intervals.
#[derive(Debug, Clone, PartialEq)]
pub struct CurveRate {
    /// Each ansatz with its fit, or the error that stopped it.
    pub fits: Vec<(Ansatz, Result<AnsatzFit>)>,
    /// The h of the better-fitting ansatz (smaller `sigma2`), nats per token.
    pub point: f64,
    /// The lowest lower end of the fitted ansatzes, nats per token.
    pub lower: f64,
    /// The highest upper end of the fitted ansatzes, nats per token.
    pub upper: f64,
}

/// The block means of a cumulative curve: values, weights, and the block ends.
struct Blocks {
    y: Vec<f64>,
    w: Vec<f64>,
    prev: Vec<f64>,
    n: Vec<f64>,
}

/// One β's profile: `(h, A, SSE, var factor of h)`.
type Profile = (f64, f64, f64, f64);

/// Both ansatzes fitted to a prequential curve: cumulative code lengths `nats[k]` (nats) at
/// `n[k]` tokens.
///
/// # Errors
/// Fewer than [`MIN_POINTS`] points, `n` not strictly increasing and positive, `nats` not
/// finite, negative or decreasing, or neither ansatz fitting.
pub fn fit_curve(n: &[f64], nats: &[f64]) -> Result<CurveRate> {
    let blocks = blocks(n, nats)?;
    let fits: Vec<_> = Ansatz::ALL
        .iter()
        .map(|&ans| (ans, fit_blocks(ans, &blocks)))
        .collect();
    let ok: Vec<&AnsatzFit> = fits.iter().filter_map(|(_, f)| f.as_ref().ok()).collect();
    let best = ok
        .iter()
        .min_by(|x, y| x.sigma2.total_cmp(&y.sigma2))
        .ok_or_else(|| Error::Invalid("no learning-curve ansatz could be fitted".into()))?;
    let point = best.h;
    let lower = ok.iter().map(|f| f.lower).fold(f64::INFINITY, f64::min);
    let upper = ok.iter().map(|f| f.upper).fold(f64::NEG_INFINITY, f64::max);
    Ok(CurveRate {
        fits,
        point,
        lower,
        upper,
    })
}

/// One ansatz fitted to a prequential curve (see [`fit_curve`]).
///
/// # Errors
/// As [`fit_curve`], or a fit that does not converge to finite numbers.
pub fn fit_ansatz(ansatz: Ansatz, n: &[f64], nats: &[f64]) -> Result<AnsatzFit> {
    fit_blocks(ansatz, &blocks(n, nats)?)
}

fn blocks(n: &[f64], nats: &[f64]) -> Result<Blocks> {
    if n.len() != nats.len() {
        return Err(Error::Invalid(format!(
            "n and nats must have the same length, got {} and {}",
            n.len(),
            nats.len()
        )));
    }
    if n.len() < MIN_POINTS {
        return Err(Error::Invalid(format!(
            "a learning curve needs at least {MIN_POINTS} points to fit three parameters with \
             an error, got {}",
            n.len()
        )));
    }
    let end = n[n.len() - 1];
    let (mut y, mut w, mut prev) = (vec![], vec![], vec![]);
    let (mut n0, mut l0) = (0.0, 0.0);
    for (k, (&nk, &lk)) in n.iter().zip(nats).enumerate() {
        if !(nk.is_finite() && nk > n0) {
            return Err(Error::Invalid(format!(
                "n must be positive and strictly increasing: n[{k}] = {nk} after {n0}"
            )));
        }
        if !(lk.is_finite() && lk >= l0) {
            return Err(Error::Invalid(format!(
                "nats must be finite, non-negative and non-decreasing (cumulative code \
                 lengths): nats[{k}] = {lk} after {l0}"
            )));
        }
        y.push((lk - l0) / (nk - n0));
        w.push((nk - n0) / end);
        prev.push(n0);
        (n0, l0) = (nk, lk);
    }
    Ok(Blocks {
        y,
        w,
        prev,
        n: n.to_vec(),
    })
}

/// The block mean of `N·r(N)` over `(prev, n]`, as `h·u + c·v` pieces: returns the model's
/// columns for the linear parameters.
fn cumulative(n: f64, beta: f64) -> f64 {
    n.powf(beta)
}

fn fit_blocks(ansatz: Ansatz, b: &Blocks) -> Result<AnsatzFit> {
    let dof = b.y.len() as f64 - PARAMS;
    let grid: Vec<(f64, Option<Profile>)> = BETA_GRID
        .map(|i| {
            let beta = i as f64 * BETA_STEP;
            (beta, profile(ansatz, b, beta))
        })
        .collect();
    let (best_beta, _) = grid
        .iter()
        .filter_map(|(beta, p)| p.map(|p| (*beta, p.2)))
        .min_by(|x, y| x.1.total_cmp(&y.1))
        .ok_or_else(|| Error::Invalid(format!("{}: no exponent fits", ansatz.name())))?;
    let sse_at = |beta: f64| profile(ansatz, b, beta).map_or(f64::INFINITY, |p| p.2);
    let lo = (best_beta - BETA_STEP).max(1e-3);
    let hi = (best_beta + BETA_STEP).min(1.0 - 1e-3);
    let beta = golden(sse_at, lo, hi, 48);
    let (h, a, sse, _) = profile(ansatz, b, beta)
        .filter(|p| p.2 <= sse_at(best_beta))
        .or_else(|| profile(ansatz, b, best_beta))
        .ok_or_else(|| Error::Invalid(format!("{}: the fit did not converge", ansatz.name())))?;
    let beta = if sse <= sse_at(best_beta) {
        beta
    } else {
        best_beta
    };
    let sigma2 = sse / dof;
    let admit = sse + PROFILE_CHI2 * sigma2;
    let (mut lower, mut upper) = (f64::INFINITY, f64::NEG_INFINITY);
    let refined = (beta, profile(ansatz, b, beta));
    for (_, p) in grid.iter().chain(std::iter::once(&refined)) {
        if let Some((hb, _, sb, var)) = *p {
            if sb <= admit {
                let se = (sigma2 * var).sqrt();
                lower = lower.min(hb - STDS * se);
                upper = upper.max(hb + STDS * se);
            }
        }
    }
    if !(h.is_finite() && lower.is_finite() && upper.is_finite()) {
        return Err(Error::Invalid(format!(
            "{}: the fit gave no finite rate",
            ansatz.name()
        )));
    }
    // A rate is not negative: a curve that extrapolates below zero is too short or still
    // falling too steeply for this ansatz, and says nothing about h.
    if h < 0.0 {
        return Err(Error::Invalid(format!(
            "{}: the fit extrapolates below zero (h = {h:.3}): the curve is too short for it",
            ansatz.name()
        )));
    }
    Ok(AnsatzFit {
        ansatz,
        h,
        lower: lower.max(0.0),
        upper,
        a,
        beta,
        sigma2,
    })
}

/// The best `(h, A)` for a fixed β, with the SSE and the variance factor of h.
fn profile(ansatz: Ansatz, b: &Blocks, beta: f64) -> Option<Profile> {
    match ansatz {
        Ansatz::PowerLaw => {
            // Block mean of h·N + A·N^β: h·1 + A·(N^β − N_prev^β)/ΔN.
            let v: Vec<f64> = (0..b.y.len())
                .map(|k| {
                    let (p, n) = (b.prev[k], b.n[k]);
                    (cumulative(n, beta) - cumulative(p, beta)) / (n - p)
                })
                .collect();
            let fit = linear2(&b.y, &vec![1.0; b.y.len()], &v, &b.w)?;
            Some((fit.a, fit.b, fit.sse, fit.var_a))
        }
        Ansatz::StretchedExponential => stretched(b, beta),
    }
}

/// Stretched exponential at fixed β: block mean `h·u_k(A)`, with
/// `u_k = (N e^(A N^(β−1)) − N_prev e^(A N_prev^(β−1)))/ΔN` (the first block: `e^(A N^(β−1))`).
/// A by golden section around the log-linear fit of the cumulative points; h in closed form.
fn stretched(b: &Blocks, beta: f64) -> Option<Profile> {
    let term = |n: f64, a: f64| {
        if n == 0.0 {
            (0.0, 0.0)
        } else {
            let x = n.powf(beta - 1.0);
            let e = (a * x).exp();
            (n * e, n * x * e)
        }
    };
    let columns = |a: f64| -> (Vec<f64>, Vec<f64>) {
        (0..b.y.len())
            .map(|k| {
                let (p, n) = (b.prev[k], b.n[k]);
                let ((cn, dn), (cp, dp)) = (term(n, a), term(p, a));
                ((cn - cp) / (n - p), (dn - dp) / (n - p))
            })
            .unzip()
    };
    let h_of = |u: &[f64]| {
        let (num, den) = (0..u.len()).fold((0.0, 0.0), |(s, t), k| {
            (s + b.w[k] * u[k] * b.y[k], t + b.w[k] * u[k] * u[k])
        });
        num / den
    };
    let sse_of = |a: f64| {
        let (u, _) = columns(a);
        let h = h_of(&u);
        let s: f64 = (0..u.len())
            .map(|k| b.w[k] * (b.y[k] - h * u[k]).powi(2))
            .sum();
        if s.is_finite() {
            s
        } else {
            f64::INFINITY
        }
    };
    // Start: ln r(N_k) = ln h + A N_k^(β−1) on the cumulative averages, linear in (ln h, A).
    let (mut cum, mut total) = (Vec::new(), 0.0);
    for k in 0..b.y.len() {
        total += b.y[k] * (b.n[k] - b.prev[k]);
        cum.push((total / b.n[k]).max(f64::MIN_POSITIVE).ln());
    }
    let x: Vec<f64> = b.n.iter().map(|n| n.powf(beta - 1.0)).collect();
    let start = linear2(&cum, &vec![1.0; x.len()], &x, &b.w)?.b;
    let span = 2.0 * start.abs() + 1e-6;
    let a = golden(sse_of, start - span, start + span, 80);
    let (u, du) = columns(a);
    let h = h_of(&u);
    let sse = sse_of(a);
    // se of h with A free: the linearised two-column fit (∂/∂h = u, ∂/∂A = h·du).
    let dh: Vec<f64> = du.iter().map(|d| h * d).collect();
    let lin = linear2(&b.y, &u, &dh, &b.w)?;
    (h.is_finite() && sse.is_finite() && h > 0.0).then_some((h, a, sse, lin.var_a))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_distr::{Distribution, Normal};
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn grid(end: f64) -> Vec<f64> {
        let mut n: Vec<f64> = (10..)
            .map(|e| 2f64.powi(e))
            .take_while(|&x| x < end)
            .collect();
        n.push(end);
        n
    }

    fn exact_curve(ansatz: Ansatz, h: f64, a: f64, beta: f64, end: f64) -> (Vec<f64>, Vec<f64>) {
        let n = grid(end);
        let nats = n.iter().map(|&x| x * ansatz.rate(x, h, a, beta)).collect();
        (n, nats)
    }

    #[test]
    fn exact_curves_give_back_their_parameters() {
        for (ansatz, h, a, beta) in [
            (Ansatz::StretchedExponential, 3.2, 1.1, 0.88),
            (Ansatz::StretchedExponential, 1.5, 2.0, 0.6),
            (Ansatz::PowerLaw, 3.78, 4.0, 0.7),
            (Ansatz::PowerLaw, 0.9, 10.0, 0.45),
        ] {
            let (n, nats) = exact_curve(ansatz, h, a, beta, 1e7);
            let fit = fit_ansatz(ansatz, &n, &nats).unwrap();
            assert!((fit.h - h).abs() < 1e-5 * h, "{fit:?}");
            assert!((fit.beta - beta).abs() < 1e-4, "{fit:?}");
            assert!(fit.lower <= h + 1e-9 && h <= fit.upper + 1e-9, "{fit:?}");
            assert!(fit.upper - fit.lower < 1e-3, "{fit:?}");
        }
    }

    #[test]
    fn noisy_curves_cover_the_rate() {
        // Per-block noise of a mean of ΔN per-token code lengths with std 2 nats, as a
        // prequential curve has: the interval must cover h in most seeds.
        let (h, a, beta) = (3.78, 1.0, 0.8);
        for ansatz in Ansatz::ALL {
            let mut covered = 0;
            for seed in 0..40 {
                let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
                let n = grid(1e7);
                let mut nats = Vec::new();
                let (mut prev_n, mut prev_l) = (0.0, 0.0);
                for &x in &n {
                    let before = if prev_n > 0.0 {
                        prev_n * ansatz.rate(prev_n, h, a, beta)
                    } else {
                        0.0
                    };
                    let exact = x * ansatz.rate(x, h, a, beta) - before;
                    let sd = 2.0 * (x - prev_n).sqrt();
                    let l = prev_l + exact + Normal::new(0.0, sd).unwrap().sample(&mut rng);
                    nats.push(l);
                    (prev_n, prev_l) = (x, l);
                }
                let fit = fit_ansatz(ansatz, &n, &nats).unwrap();
                covered += usize::from(fit.lower <= h && h <= fit.upper);
            }
            assert!(covered >= 34, "{ansatz:?}: {covered}/40");
        }
    }

    #[test]
    fn the_union_spans_both_ansatzes() {
        let (n, nats) = exact_curve(Ansatz::StretchedExponential, 2.0, 1.5, 0.85, 1e7);
        let c = fit_curve(&n, &nats).unwrap();
        assert_eq!(c.fits.len(), 2);
        assert!((c.point - 2.0).abs() < 1e-4, "{c:?}");
        for (_, f) in &c.fits {
            let f = f.as_ref().unwrap();
            assert!(c.lower <= f.lower && f.upper <= c.upper);
        }
    }

    #[test]
    fn a_fit_below_zero_is_no_rate() {
        // A short curve still falling steeply: the power law extrapolates it to h < 0 (a
        // 33 kB text did this). That fit is refused; whatever remains is a proper interval.
        let (n, nats) = exact_curve(Ansatz::PowerLaw, -0.2, 10.0, 0.7, 3e4);
        let err = fit_ansatz(Ansatz::PowerLaw, &n, &nats).unwrap_err();
        assert!(err.to_string().contains("below zero"), "{err}");
        if let Ok(c) = fit_curve(&n, &nats) {
            assert!(
                0.0 <= c.lower && c.lower <= c.point && c.point <= c.upper,
                "{c:?}"
            );
        }
    }

    #[test]
    fn bad_curves_are_refused() {
        let n = [1e3, 2e3, 4e3, 8e3, 16e3];
        assert!(fit_curve(&n[..4], &[1.0; 4]).is_err());
        assert!(fit_curve(&n, &[5e3, 9e3, 8e3, 3e4, 6e4]).is_err());
        assert!(fit_curve(&[1e3, 1e3, 4e3, 8e3, 16e3], &[1.0, 2.0, 3.0, 4.0, 5.0]).is_err());
        assert!(fit_curve(&n, &[1.0, 2.0, f64::NAN, 4.0, 5.0]).is_err());
        assert!(fit_curve(&n, &[1.0, 2.0]).is_err());
    }
}
