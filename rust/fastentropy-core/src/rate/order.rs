//! The entropy rate by extrapolating conditional entropies in the order: estimates of
//! `h_n = H(X_n | X_1..X_{n−1})` at the orders the sample supports, fitted and taken to
//! `n → ∞`.
//!
//! For a stationary source h_n is non-increasing with limit h, so every population h_n is an
//! upper bound on h. Forms fitted, each with three parameters (h, A, exponent):
//! - power law `h_n = h + A·n^(−α)`, α > 0 (Ebeling & Nicolis 1991, *Europhys. Lett.* 14:191,
//!   for block entropies `H(n) ≈ h n + A n^β`; Cagnetta et al. 2026, arXiv 2602.07488,
//!   `h_n − h ∝ n^(−γ)` per BPE token);
//! - exponential `h_n = h + A·e^(−λ n)`, λ > 0: the decay of a finite-state source (an order-k
//!   Markov chain reaches h at n = k + 1; a hidden-Markov chain approaches it geometrically,
//!   at the rate of its forgetting).
//!
//! Rule (the caller chooses the orders): only orders whose estimates the sample supports —
//! in the floor report, the orders that are "reliable" by coverage and plug-in bias — with
//! their std (weights 1/std²; std floored at [`MIN_STD`]). At least 3 orders (3 parameters;
//! with exactly 3 the stds set the scale, σ² = 1, and no lack of fit can widen the interval —
//! the union of two forms and the cap below are what keep it honest; 4 were required until
//! the rate validation showed that sources with V ≥ 40 never have 4 well-sampled orders at
//! 10⁶–10⁷ tokens); fewer is an error that says so. Each form's exponent is
//! profiled on a grid with (h, A) in closed form; the interval is the profile rule of
//! [`super::curve`] (σ² = max(SSE/(K − 3), 1), since the weights are already inverse
//! variances: exponents within 4σ² of the best SSE admitted, range of h ± 2 se), the point
//! the better-fitting form's h, the interval the union of both forms'. Then the interval is
//! capped above by the lowest `h_n + 2 std` (an upper bound on h) and below by 0.
//!
//! Validity: extrapolation assumes the fitted form continues past the last reliable order.
//! For text whose memory outlasts the sampled orders (every natural language) the fit has
//! no information about the long tail: the power law's lower end is then the honest
//! statement, and a lower end near 0 means the orders say nothing below it.

use super::fit::linear2;
use crate::error::{Error, Result};

/// Fewest orders for a fit with an error. With three, no degree of freedom is left to check
/// the form: the stds are then taken as the scale of the errors (σ² = 1, the weights being
/// inverse variances), and the profile interval is read with them.
pub const MIN_ORDERS: usize = 3;
/// Smallest std used as a weight, nats: stops a near-exact estimate from taking all weight.
pub const MIN_STD: f64 = 1e-3;
const PROFILE_CHI2: f64 = 4.0;
const STDS: f64 = 2.0;

/// The two forms of h_n against n.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// `h + A n^(−α)`.
    PowerLaw,
    /// `h + A e^(−λ n)`.
    Exponential,
}

impl Form {
    /// Both, in the order they are reported.
    pub const ALL: [Form; 2] = [Form::PowerLaw, Form::Exponential];

    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Form::PowerLaw => "power_law",
            Form::Exponential => "exponential",
        }
    }

    fn column(self, n: f64, exponent: f64) -> f64 {
        match self {
            Form::PowerLaw => n.powf(-exponent),
            Form::Exponential => (-exponent * n).exp(),
        }
    }

    /// The exponent grid: α in 0.05..6, λ in 0.02..4.
    fn grid(self) -> Vec<f64> {
        match self {
            Form::PowerLaw => (1..=120).map(|i| i as f64 * 0.05).collect(),
            Form::Exponential => (1..=200).map(|i| i as f64 * 0.02).collect(),
        }
    }
}

/// One form fitted to the h_n table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FormFit {
    /// The form fitted.
    pub form: Form,
    /// The extrapolated rate (the limit of h_n), nats per token.
    pub h: f64,
    /// Lower end of the profile interval of h (clipped at 0), nats per token.
    pub lower: f64,
    /// Upper end of the profile interval of h, nats per token.
    pub upper: f64,
    /// The fitted amplitude A, nats per token.
    pub a: f64,
    /// The fitted exponent: α of the power law, λ of the exponential.
    pub exponent: f64,
    /// SSE / degrees of freedom (≈ 1 when the stds describe the scatter).
    pub chi2_dof: f64,
}

/// The order extrapolation: both forms (or why each failed), the point and the interval.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderRate {
    /// Each form with its fit, or the error that stopped it.
    pub fits: Vec<(Form, Result<FormFit>)>,
    /// The h of the better-fitting form (smaller `chi2_dof`), clamped into the interval,
    /// nats per token.
    pub point: f64,
    /// The lowest lower end of the fitted forms (at most `upper`), nats per token.
    pub lower: f64,
    /// The highest upper end of the fitted forms, capped at `cap`, nats per token.
    pub upper: f64,
    /// The cap from the table itself: min over orders of `h_n + 2 std`.
    pub cap: f64,
}

/// Extrapolates `h[k] ± std[k]` at orders `orders[k]` (see the module for the rule).
///
/// # Errors
/// Fewer than [`MIN_ORDERS`] orders, unequal lengths, orders not positive and strictly
/// increasing, values or stds not finite (stds ≥ 0), or neither form fitting.
pub fn extrapolate(orders: &[f64], h: &[f64], std: &[f64]) -> Result<OrderRate> {
    if orders.len() != h.len() || h.len() != std.len() {
        return Err(Error::Invalid(format!(
            "orders, values and stds must have one length, got {}, {} and {}",
            orders.len(),
            h.len(),
            std.len()
        )));
    }
    if orders.len() < MIN_ORDERS {
        return Err(Error::Invalid(format!(
            "extrapolation in the order needs at least {MIN_ORDERS} well-sampled orders, got {}",
            orders.len()
        )));
    }
    let mut last = 0.0;
    for k in 0..orders.len() {
        if !(orders[k].is_finite() && orders[k] > last) {
            return Err(Error::Invalid(format!(
                "orders must be positive and strictly increasing: {} after {last}",
                orders[k]
            )));
        }
        if !(h[k].is_finite() && std[k].is_finite() && std[k] >= 0.0) {
            return Err(Error::Invalid(format!(
                "h_n at order {} is {} ± {}: values and stds must be finite, stds >= 0",
                orders[k], h[k], std[k]
            )));
        }
        last = orders[k];
    }
    let w: Vec<f64> = std.iter().map(|s| 1.0 / s.max(MIN_STD).powi(2)).collect();
    let cap = (0..h.len())
        .map(|k| h[k] + STDS * std[k])
        .fold(f64::INFINITY, f64::min);
    let fits: Vec<_> = Form::ALL
        .iter()
        .map(|&f| (f, fit_form(f, orders, h, &w)))
        .collect();
    let ok: Vec<&FormFit> = fits.iter().filter_map(|(_, f)| f.as_ref().ok()).collect();
    let best = ok
        .iter()
        .min_by(|x, y| x.chi2_dof.total_cmp(&y.chi2_dof))
        .ok_or_else(|| Error::Invalid("neither form of h_n could be fitted".into()))?;
    let upper = ok
        .iter()
        .map(|f| f.upper)
        .fold(f64::NEG_INFINITY, f64::max)
        .min(cap);
    let lower = ok
        .iter()
        .map(|f| f.lower)
        .fold(f64::INFINITY, f64::min)
        .min(upper);
    let point = best.h.clamp(lower, upper);
    Ok(OrderRate {
        fits,
        point,
        lower,
        upper,
        cap,
    })
}

fn fit_form(form: Form, n: &[f64], h: &[f64], w: &[f64]) -> Result<FormFit> {
    let ones = vec![1.0; n.len()];
    let profiles: Vec<(f64, f64, f64, f64, f64)> = form
        .grid()
        .into_iter()
        .filter_map(|e| {
            let v: Vec<f64> = n.iter().map(|&x| form.column(x, e)).collect();
            linear2(h, &ones, &v, w).map(|f| (e, f.a, f.b, f.sse, f.var_a))
        })
        .collect();
    let &(exponent, hb, a, sse, _) = profiles
        .iter()
        .min_by(|x, y| x.3.total_cmp(&y.3))
        .ok_or_else(|| Error::Invalid(format!("{}: no exponent fits", form.name())))?;
    let dof = n.len() as f64 - 3.0;
    // No degree of freedom with three orders: SSE itself (0 at an exact fit), σ² = 1.
    let chi2_dof = if dof > 0.0 { sse / dof } else { sse };
    let sigma2 = chi2_dof.max(1.0);
    let admit = sse + PROFILE_CHI2 * sigma2;
    let (mut lower, mut upper) = (f64::INFINITY, f64::NEG_INFINITY);
    for &(_, hp, _, sp, var) in &profiles {
        if sp <= admit {
            let se = (sigma2 * var).sqrt();
            lower = lower.min(hp - STDS * se);
            upper = upper.max(hp + STDS * se);
        }
    }
    // A rate is not negative: a table that extrapolates below zero is still falling too
    // fast for this form, and says nothing about h.
    if hb < 0.0 {
        return Err(Error::Invalid(format!(
            "{}: the fit extrapolates below zero (h = {hb:.3})",
            form.name()
        )));
    }
    Ok(FormFit {
        form,
        h: hb,
        lower: lower.max(0.0),
        upper,
        a,
        exponent,
        chi2_dof,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_tables_give_back_their_limit() {
        let n: Vec<f64> = (1..=8).map(f64::from).collect();
        for (form, e) in [(Form::PowerLaw, 0.6), (Form::Exponential, 0.5)] {
            let h: Vec<f64> = n.iter().map(|&x| 2.5 + 1.5 * form.column(x, e)).collect();
            let r = extrapolate(&n, &h, &[0.01; 8]).unwrap();
            let (_, fit) = r.fits.iter().find(|(f, _)| *f == form).unwrap();
            let fit = fit.as_ref().unwrap();
            assert!((fit.h - 2.5).abs() < 1e-9, "{fit:?}");
            assert!((fit.exponent - e).abs() < 1e-9);
            assert!(r.lower <= 2.5 && 2.5 <= r.upper, "{r:?}");
            assert!(r.upper <= r.cap);
        }
    }

    #[test]
    fn the_cap_is_the_lowest_upper_end_of_the_table() {
        // A flat table (a Markov chain past its order): the rate is h_n itself.
        let n = [3.0, 4.0, 5.0, 6.0, 7.0];
        let h = [2.0, 2.0, 2.0, 2.0, 2.0];
        let r = extrapolate(&n, &h, &[0.02; 5]).unwrap();
        assert!((r.cap - 2.04).abs() < 1e-12);
        assert!(
            r.upper <= 2.04 && r.lower <= 2.0 && r.point <= r.upper,
            "{r:?}"
        );
    }

    #[test]
    fn a_limit_below_zero_is_no_rate() {
        // h_n still falling fast at the last orders: the power law extrapolates below zero.
        // That fit is refused (before, it made the point 0 with a lower end above its upper
        // end); what remains is a proper interval.
        let n: Vec<f64> = (1..=6).map(f64::from).collect();
        let h: Vec<f64> = n.iter().map(|&x| -0.5 + 3.0 * x.powf(-0.8)).collect();
        assert!(h.iter().all(|&v| v > 0.0));
        let r = extrapolate(&n, &h, &[0.001; 6]).unwrap();
        let (_, power) = r.fits.iter().find(|(f, _)| *f == Form::PowerLaw).unwrap();
        let err = power.as_ref().unwrap_err();
        assert!(err.to_string().contains("below zero"), "{err}");
        assert!(
            0.0 <= r.lower && r.lower <= r.point && r.point <= r.upper,
            "{r:?}"
        );
    }

    #[test]
    fn few_or_bad_orders_are_refused() {
        assert!(extrapolate(&[1.0, 2.0], &[3.0, 2.5], &[0.1; 2]).is_err());
        // Three orders fit (σ² = 1): the exact exponential 2 + e^(−n) is recovered, and the
        // interval is capped at the lowest h_n + 2 std.
        let h3: Vec<f64> = [1.0f64, 2.0, 3.0]
            .iter()
            .map(|n| 2.0 + (-n).exp())
            .collect();
        let r = extrapolate(&[1.0, 2.0, 3.0], &h3, &[0.001; 3]).unwrap();
        assert!(
            r.lower <= 2.0 && 2.0 <= r.upper && r.upper <= h3[2] + 0.002,
            "{r:?}"
        );
        assert!(extrapolate(&[1.0, 2.0, 2.0, 3.0], &[3.0; 4], &[0.1; 4]).is_err());
        assert!(extrapolate(&[1.0, 2.0, 3.0, 4.0], &[3.0, f64::NAN, 2.0, 1.0], &[0.1; 4]).is_err());
        assert!(extrapolate(&[1.0, 2.0, 3.0, 4.0], &[3.0; 4], &[-0.1; 4]).is_err());
    }
}
