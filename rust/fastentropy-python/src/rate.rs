//! Rate estimators on plain arrays: learning curves, h_n tables, match lengths, and the rule
//! that combines them. Small inputs, so no GIL release: each call is microseconds to a few
//! milliseconds, except the match-length sums (one pass over n values, GIL released).

use fastentropy_core::rate::{combine, curve, matches, mix, order, tail};
use numpy::{PyReadonlyArray1, PyReadwriteArray1};
use pyo3::prelude::*;

use crate::error::CoreError;

/// `(name, (h, lower, upper, a, exponent, misfit) or None, error or None)`.
type Fit = (
    &'static str,
    Option<(f64, f64, f64, f64, f64, f64)>,
    Option<String>,
);
/// `(value, std, terms)`.
type Match = (f64, Option<f64>, usize);
/// `((value, std, intercept, chi2_dof, octaves) or None, error or None)`.
type Slope = (Option<(f64, f64, f64, f64, usize)>, Option<String>);

fn fit_of<T>(
    name: &'static str,
    r: &fastentropy_core::Result<T>,
    f: impl Fn(&T) -> [f64; 6],
) -> Fit {
    match r {
        Ok(fit) => {
            let [h, lo, up, a, e, m] = f(fit);
            (name, Some((h, lo, up, a, e, m)), None)
        }
        Err(e) => (name, None, Some(e.to_string())),
    }
}

/// The learning-curve extrapolation: `(point, lower, upper, fits)`.
#[pyfunction]
pub fn rate_curve(
    n: PyReadonlyArray1<'_, f64>,
    nats: PyReadonlyArray1<'_, f64>,
) -> PyResult<(f64, f64, f64, Vec<Fit>)> {
    let r = curve::fit_curve(n.as_slice()?, nats.as_slice()?).map_err(CoreError)?;
    let fits = r
        .fits
        .iter()
        .map(|(ans, f)| {
            fit_of(ans.name(), f, |f| {
                [f.h, f.lower, f.upper, f.a, f.beta, f.sigma2]
            })
        })
        .collect();
    Ok((r.point, r.lower, r.upper, fits))
}

/// The order extrapolation: `(point, lower, upper, cap, fits)`.
#[pyfunction]
pub fn rate_orders(
    orders: PyReadonlyArray1<'_, f64>,
    h: PyReadonlyArray1<'_, f64>,
    std: PyReadonlyArray1<'_, f64>,
) -> PyResult<(f64, f64, f64, f64, Vec<Fit>)> {
    let r = order::extrapolate(orders.as_slice()?, h.as_slice()?, std.as_slice()?)
        .map_err(CoreError)?;
    let fits = r
        .fits
        .iter()
        .map(|(form, f)| {
            fit_of(form.name(), f, |f| {
                [f.h, f.lower, f.upper, f.a, f.exponent, f.chi2_dof]
            })
        })
        .collect();
    Ok((r.point, r.lower, r.upper, r.cap, fits))
}

/// Match-length estimates from previous-match lengths:
/// `(point, lower, upper, kasw, gao, slope)`, the slope as
/// `((value, std, intercept, chi2_dof, octaves) or None, error or None)`.
#[pyfunction]
pub fn rate_matches(
    py: Python<'_>,
    lengths: PyReadonlyArray1<'_, u32>,
) -> PyResult<(f64, f64, f64, Match, Match, Slope)> {
    let x = lengths.as_slice()?;
    let r = py.detach(|| matches::match_rate(x)).map_err(CoreError)?;
    let m = |e: matches::MatchEstimate| (e.value, e.std, e.terms);
    let slope = match &r.slope {
        Ok(c) => (
            Some((c.value, c.std, c.intercept, c.chi2_dof, c.octaves)),
            None,
        ),
        Err(e) => (None, Some(e.clone())),
    };
    Ok((r.point, r.lower, r.upper, m(r.kasw), m(r.gao), slope))
}

/// Grassberger's estimate from match lengths anywhere else.
#[pyfunction]
pub fn rate_grassberger(py: Python<'_>, lengths: PyReadonlyArray1<'_, u32>) -> PyResult<Match> {
    let x = lengths.as_slice()?;
    let e = py.detach(|| matches::grassberger(x)).map_err(CoreError)?;
    Ok((e.value, e.std, e.terms))
}

/// The final stretch's code rate from per-token code lengths (NaN = not scored):
/// `(mean, std, upper, tokens, start)`.
#[pyfunction]
pub fn rate_tail(
    py: Python<'_>,
    costs: PyReadonlyArray1<'_, f32>,
) -> PyResult<(f64, f64, f64, usize, usize)> {
    let x = costs.as_slice()?;
    let t = py.detach(|| tail::final_stretch(x)).map_err(CoreError)?;
    Ok((t.mean, t.std, t.upper, t.tokens, t.start))
}

/// The mixture of several predictors' per-token costs (NaN = not scored): `target` (the
/// first predictor's) is overwritten with the mixture's; returns its cumulative code length
/// at each count of scored tokens in `checkpoints`. One pass, GIL released.
#[pyfunction]
pub fn rate_mix(
    py: Python<'_>,
    mut target: PyReadwriteArray1<'_, f32>,
    others: Vec<PyReadonlyArray1<'_, f32>>,
    checkpoints: Vec<u64>,
) -> PyResult<Vec<f64>> {
    let t = target.as_slice_mut()?;
    let o = others
        .iter()
        .map(|a| a.as_slice())
        .collect::<Result<Vec<_>, _>>()?;
    py.detach(|| mix::mix_costs(t, &o, &checkpoints))
        .map_err(|e| CoreError(e).into())
}

/// Rule 4 of the combination: whether the slope's `(point, lower, upper)` (with its
/// regression's χ²/dof) alone may stand for the match estimators beside the learning-curve
/// extrapolation's (narrow enough to count, not wholly below the slope).
#[pyfunction]
#[pyo3(signature = (slope, slope_chi2_dof, curve=None))]
pub fn rate_slope_alone(
    slope: (f64, f64, f64),
    slope_chi2_dof: f64,
    curve: Option<(f64, f64, f64)>,
) -> bool {
    combine::slope_alone(
        &interval(slope),
        slope_chi2_dof,
        curve.map(interval).as_ref(),
    )
}

fn interval((point, lower, upper): (f64, f64, f64)) -> combine::Interval {
    combine::Interval {
        point,
        lower,
        upper,
    }
}

/// Rule 5 of the combination: whether the learning curve's `(point, lower, upper)` enters
/// with its lower end raised to the slope's (it vouched for the slope and agrees with it).
#[pyfunction]
pub fn rate_curve_absorbed(
    slope: (f64, f64, f64),
    slope_chi2_dof: f64,
    curve: (f64, f64, f64),
) -> bool {
    combine::curve_absorbed(&interval(slope), slope_chi2_dof, &interval(curve))
}

/// Rule 6 of the combination: the `(point, lower, upper)` each estimate enters with where it
/// differs from its own (an extrapolation, flagged in `extrapolation`, too imprecise beside
/// the narrowest interval used), else `None`.
#[pyfunction]
pub fn rate_imprecise_extrapolations(
    intervals: Vec<(f64, f64, f64)>,
    extrapolation: Vec<bool>,
) -> PyResult<Vec<Option<(f64, f64, f64)>>> {
    let ivs: Vec<combine::Interval> = intervals.into_iter().map(interval).collect();
    let cut = combine::imprecise_extrapolations(&ivs, &extrapolation).map_err(CoreError)?;
    Ok(cut
        .into_iter()
        .map(|c| c.map(|e| (e.point, e.lower, e.upper)))
        .collect())
}

/// The combination rule: `(point, lower, upper, capped, informative, used)`; `kasw_lower`
/// sets the margin floor where the estimators leave the lower end uninformed;
/// `predictor_limit` marks the estimates of a predictor's own limit (the learning curve),
/// which never set the lower end alone (rule 8).
#[pyfunction]
#[pyo3(signature = (intervals, bound=None, tail=None, kasw_lower=None, predictor_limit=None))]
pub fn rate_combine(
    intervals: Vec<(f64, f64, f64)>,
    bound: Option<f64>,
    tail: Option<f64>,
    kasw_lower: Option<f64>,
    predictor_limit: Option<Vec<bool>>,
) -> PyResult<(f64, f64, f64, bool, bool, Vec<bool>)> {
    let ivs: Vec<combine::Interval> = intervals.into_iter().map(interval).collect();
    let marks = predictor_limit.unwrap_or_default();
    let c = combine::combine_marked(&ivs, &marks, bound, tail, kasw_lower).map_err(CoreError)?;
    Ok((c.point, c.lower, c.upper, c.capped, c.informative, c.used))
}
