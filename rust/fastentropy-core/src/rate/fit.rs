//! The least-squares pieces the rate estimators share: a weighted fit of `y ≈ a·u + b·v`
//! in closed form (the normal equations of two columns), and a golden-section search for
//! the one nonlinear parameter of a profile. Profiling the nonlinear exponent on a grid and
//! solving the linear rest exactly is deterministic and cannot wander off like a free
//! Levenberg–Marquardt start can (Golub & Pereyra 1973 give the variable-projection idea).

/// A weighted two-column least-squares fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Linear2 {
    /// Coefficients of the first and second columns.
    pub a: f64,
    pub b: f64,
    /// Weighted residual sum of squares `Σ w (y − a u − b v)²`.
    pub sse: f64,
    /// `(UᵀWU)⁻¹` entries for `a` (variance factor) and `b`: multiply by σ² for variances.
    pub var_a: f64,
    pub var_b: f64,
}

/// Minimises `Σ w_k (y_k − a u_k − b v_k)²`; `None` when the columns are collinear.
pub fn linear2(y: &[f64], u: &[f64], v: &[f64], w: &[f64]) -> Option<Linear2> {
    let (mut suu, mut suv, mut svv, mut suy, mut svy) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for k in 0..y.len() {
        suu += w[k] * u[k] * u[k];
        suv += w[k] * u[k] * v[k];
        svv += w[k] * v[k] * v[k];
        suy += w[k] * u[k] * y[k];
        svy += w[k] * v[k] * y[k];
    }
    let det = suu * svv - suv * suv;
    if !(det.is_finite() && det > 1e-12 * suu * svv) {
        return None;
    }
    let a = (svv * suy - suv * svy) / det;
    let b = (suu * svy - suv * suy) / det;
    let sse = (0..y.len())
        .map(|k| w[k] * (y[k] - a * u[k] - b * v[k]).powi(2))
        .sum();
    Some(Linear2 {
        a,
        b,
        sse,
        var_a: svv / det,
        var_b: suu / det,
    })
}

/// The minimiser of `f` on `[lo, hi]` by golden-section search (`f` unimodal there),
/// `iters` shrinkings by 0.618 each.
pub fn golden(f: impl Fn(f64) -> f64, mut lo: f64, mut hi: f64, iters: usize) -> f64 {
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let (mut x1, mut x2) = (hi - g * (hi - lo), lo + g * (hi - lo));
    let (mut f1, mut f2) = (f(x1), f(x2));
    for _ in 0..iters {
        if f1 <= f2 {
            hi = x2;
            (x2, f2) = (x1, f1);
            x1 = hi - g * (hi - lo);
            f1 = f(x1);
        } else {
            lo = x1;
            (x1, f1) = (x2, f2);
            x2 = lo + g * (hi - lo);
            f2 = f(x2);
        }
    }
    if f1 <= f2 {
        x1
    } else {
        x2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear2_recovers_an_exact_line_and_its_variances() {
        let x = [1.0, 2.0, 3.0, 4.0];
        let y: Vec<f64> = x.iter().map(|x| 2.0 + 0.5 * x).collect();
        let fit = linear2(&y, &[1.0; 4], &x, &[1.0; 4]).unwrap();
        assert!((fit.a - 2.0).abs() < 1e-12 && (fit.b - 0.5).abs() < 1e-12);
        assert!(fit.sse < 1e-20);
        // Ordinary least squares: var(slope) = σ²/Σ(x − x̄)² = σ²/5.
        assert!((fit.var_b - 0.2).abs() < 1e-12);
        assert!(linear2(&y, &x, &x, &[1.0; 4]).is_none());
    }

    #[test]
    fn golden_finds_a_parabola_minimum() {
        let x = golden(|x| (x - 0.3).powi(2), 0.0, 1.0, 60);
        assert!((x - 0.3).abs() < 1e-9);
    }
}
