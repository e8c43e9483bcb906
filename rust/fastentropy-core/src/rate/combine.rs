//! One rate interval from several estimators', never above the prequential bound.
//!
//! Rule (stated here, validated by benches/rate_accuracy.py):
//! 1. The interval is the **union** of the estimators' intervals, and the point the
//!    **median** of their points. Each family fails differently (the curve and order
//!    extrapolations by model error, the match lengths by a bias low of O(1/ln n)); no one
//!    of them is trusted to be narrow-and-right, and the union covers the truth whenever any
//!    one interval does. An estimator that failed contributes nothing.
//! 2. The prequential code length L/N of a causal predictor is an upper bound on the rate
//!    (Barron's lemma: no code beats −ln P by more than c nats with probability > e^−c), so
//!    point and upper end are capped at it ("capped" says when this bit).
//! 3. If every estimator's interval lies above the bound, they are contradicted by it and
//!    nothing is known below it: the interval becomes [0, bound], flagged not informative.
//!    With no estimator at all the same holds. The lower end is never below 0.
//!
//! Validity: the union is as honest as its most honest member and as wide as its widest;
//! whether its coverage and width meet the targets is measured, not assumed.

use crate::error::{Error, Result};

/// An estimate with its interval, nats per token.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// The estimate.
    pub point: f64,
    /// Lower end of the interval.
    pub lower: f64,
    /// Upper end of the interval.
    pub upper: f64,
}

/// The combined rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Combined {
    /// The combined point estimate.
    pub point: f64,
    /// Lower end of the combined interval.
    pub lower: f64,
    /// Upper end of the combined interval.
    pub upper: f64,
    /// The bound lowered the point or the upper end.
    pub capped: bool,
    /// False when the lower end carries no information (no estimator, or all above the
    /// bound).
    pub informative: bool,
}

/// Combines estimator intervals under an optional upper `bound` (see the module's rule).
///
/// # Errors
/// An interval that is not finite or has `lower > point` or `point > upper`; a bound that is
/// not finite and non-negative; no estimator and no bound.
pub fn combine(estimates: &[Interval], bound: Option<f64>) -> Result<Combined> {
    for (i, e) in estimates.iter().enumerate() {
        let finite = e.point.is_finite() && e.lower.is_finite() && e.upper.is_finite();
        if !(finite && e.lower <= e.point && e.point <= e.upper) {
            return Err(Error::Invalid(format!(
                "estimate {i} must be finite with lower <= point <= upper, got {e:?}"
            )));
        }
    }
    if let Some(b) = bound {
        if !(b.is_finite() && b >= 0.0) {
            return Err(Error::Invalid(format!(
                "the bound must be finite and >= 0, got {b}"
            )));
        }
    }
    if estimates.is_empty() {
        let b = bound
            .ok_or_else(|| Error::Invalid("no estimate and no bound: nothing to combine".into()))?;
        return Ok(Combined {
            point: b,
            lower: 0.0,
            upper: b,
            capped: false,
            informative: false,
        });
    }
    let mut points: Vec<f64> = estimates.iter().map(|e| e.point).collect();
    points.sort_by(f64::total_cmp);
    let m = points.len();
    let median = if m % 2 == 1 {
        points[m / 2]
    } else {
        (points[m / 2 - 1] + points[m / 2]) / 2.0
    };
    let lower = estimates
        .iter()
        .map(|e| e.lower)
        .fold(f64::INFINITY, f64::min);
    let upper = estimates
        .iter()
        .map(|e| e.upper)
        .fold(f64::NEG_INFINITY, f64::max);
    let b = bound.unwrap_or(f64::INFINITY);
    if lower > b {
        return Ok(Combined {
            point: b,
            lower: 0.0,
            upper: b,
            capped: true,
            informative: false,
        });
    }
    Ok(Combined {
        point: median.min(b),
        lower: lower.max(0.0),
        upper: upper.min(b),
        capped: upper > b,
        informative: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iv(point: f64, lower: f64, upper: f64) -> Interval {
        Interval {
            point,
            lower,
            upper,
        }
    }

    #[test]
    fn union_and_median() {
        let c = combine(
            &[iv(3.0, 2.8, 3.3), iv(3.6, 3.5, 3.9), iv(3.4, 3.0, 3.5)],
            None,
        )
        .unwrap();
        assert_eq!((c.point, c.lower, c.upper), (3.4, 2.8, 3.9));
        assert!(c.informative && !c.capped);
        let even = combine(&[iv(1.0, 0.5, 1.5), iv(2.0, 1.5, 2.5)], None).unwrap();
        assert_eq!(even.point, 1.5);
    }

    #[test]
    fn never_above_the_bound() {
        let c = combine(&[iv(3.0, 2.8, 3.3), iv(3.6, 3.5, 3.9)], Some(3.4)).unwrap();
        assert!(c.upper <= 3.4 && c.point <= 3.4 && c.capped);
        assert_eq!(c.lower, 2.8);
        // All above the bound: nothing known below it.
        let c = combine(&[iv(3.6, 3.5, 3.9)], Some(3.4)).unwrap();
        assert_eq!((c.lower, c.upper, c.informative), (0.0, 3.4, false));
        let none = combine(&[], Some(2.0)).unwrap();
        assert_eq!(
            (none.lower, none.upper, none.informative),
            (0.0, 2.0, false)
        );
    }

    #[test]
    fn the_union_contains_every_interval_and_is_clipped_at_zero() {
        let ests = [iv(0.2, -0.3, 0.5), iv(1.0, 0.7, 1.4)];
        let c = combine(&ests, Some(5.0)).unwrap();
        assert_eq!(c.lower, 0.0);
        for e in ests {
            assert!(c.lower <= e.lower.max(0.0) && e.upper <= c.upper);
        }
    }

    #[test]
    fn bad_inputs_are_refused() {
        assert!(combine(&[], None).is_err());
        assert!(combine(&[iv(1.0, 1.5, 2.0)], None).is_err());
        assert!(combine(&[iv(f64::NAN, 0.0, 1.0)], None).is_err());
        assert!(combine(&[iv(1.0, 0.5, 2.0)], Some(-1.0)).is_err());
    }
}
