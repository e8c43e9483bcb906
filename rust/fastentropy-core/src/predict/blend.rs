//! The blend of orders: Pitman–Yor style interpolation with parameters learned online.
//!
//! Formula (Teh 2006, the hierarchical Pitman–Yor language model with one table per seen
//! type, i.e. interpolated Kneser–Ney with a concentration; the same shape as PPM blending,
//! Cleary & Witten 1984, Bunton 1996): for a context of order k with counts `c_x`, total
//! `C` and `T` distinct successors,
//!
//! ```text
//! q_k(x) = ( c_x - d·[c_x > 0]  +  (θ + d·T) · q_{k-1}(x) ) / (C + θ)      (C > 0)
//! q_k(x) = q_{k-1}(x)                                                       (C = 0)
//! q_{-1}(x) = 1 / (number of ids that can occur)
//! ```
//!
//! Summed over x the first term gives `C - d·T`, the second `θ + d·T`, so every level is a
//! proper distribution when the one below is, and `q(x) > 0` for every id because
//! `d >= D_MIN > 0` and `T >= 1` whenever `C > 0`. This holds for any `(d, θ)` in range, so
//! the parameters may be learned freely.
//!
//! Learning (Steinruecken, Ghahramani & MacKay 2015, "Improving PPM with dynamic parameter
//! updates"): after each prediction, one gradient step on `ln q(x)` for the `(d, θ)` of
//! every level used. With `B_k = (θ + d·T)/(C + θ)` the weight of the level below,
//! `∂q_K/∂q_k = Π_{j>k} B_j`, `∂q_k/∂d = (T·q_{k-1} - [c_x > 0]) / (C + θ)` and
//! `∂q_k/∂θ = (q_{k-1} - q_k) / (C + θ)`. Parameters are kept per order and per class of
//! context (how many successors it has seen, and how often), the role SEE plays in PPMd
//! (Shkarin 2002): escapes from a context seen once behave unlike escapes from a busy one.

use super::table::Stats;

/// Discounts stay in `[D_MIN, D_MAX]`: above 0 so unseen tokens keep mass, below 1 so a
/// seen token keeps some of its count.
const D_MIN: f64 = 0.02;
const D_MAX: f64 = 0.98;
/// Concentrations stay in `[0, THETA_MAX]`.
const THETA_MAX: f64 = 400.0;
/// Step sizes of the gradient steps on `ln q`, chosen on 4 MB of English (bytes and 16k BPE)
/// and an order-1 chain: the concentration's gradient is small (`1/(C+θ)`), so its step is
/// large (0.02 coded 4% worse, 0.005 worse still); the discount is insensitive (0.0005 to
/// 0.01 within 0.1%).
const RATE_D: f64 = 0.002;
const RATE_THETA: f64 = 0.5;
/// Starting values: a discount near Kneser–Ney's for counts of one, a small concentration.
const D_START: f64 = 0.6;
const THETA_START: f64 = 0.5;

/// Classes of context per order, by `(distinct, total)`.
pub const CLASSES: usize = 6;

/// The class of a context with these figures.
#[inline]
pub fn class(s: &Stats) -> usize {
    match (s.distinct, s.total) {
        (1, 1) => 0,
        (1, 2..=3) => 1,
        (1, _) => 2,
        (2, _) => 3,
        (3..=5, _) => 4,
        _ => 5,
    }
}

/// One level of a prediction: its figures and the blend's values there.
#[derive(Clone, Copy, Debug, Default)]
pub struct Level {
    pub stats: Stats,
    /// Index of this level's parameters.
    pub param: usize,
    /// `q_{k-1}(x)` and `q_k(x)`.
    pub below: f64,
    pub q: f64,
}

/// Discount and concentration of every (order, class).
#[derive(Clone, Debug)]
pub struct Params {
    pub d: Vec<f64>,
    pub theta: Vec<f64>,
}

impl Params {
    pub fn new(orders: usize) -> Self {
        Self {
            d: vec![D_START; orders * CLASSES],
            theta: vec![THETA_START; orders * CLASSES],
        }
    }

    /// Index of the parameters of a context of `order` with these figures.
    #[inline]
    pub fn index(order: usize, s: &Stats) -> usize {
        order * CLASSES + class(s)
    }

    /// `q_k(x)` from `q_{k-1}(x)` at one level.
    #[inline]
    pub fn blend(&self, level: &Stats, param: usize, below: f64) -> f64 {
        if level.total == 0 {
            return below;
        }
        let (d, theta) = (self.d[param], self.theta[param]);
        let seen = if level.count > 0 {
            f64::from(level.count) - d
        } else {
            0.0
        };
        (seen + (theta + d * f64::from(level.distinct)) * below) / (level.total as f64 + theta)
    }

    /// One gradient step on `ln q` at every level, deepest first (`levels` from order 0 up).
    pub fn learn(&mut self, levels: &[Level]) {
        let Some(top) = levels.last() else { return };
        // g = ∂ ln q_K / ∂ q_k, carried down the levels.
        let mut g = 1.0 / top.q;
        for l in levels.iter().rev() {
            let s = &l.stats;
            if s.total == 0 {
                continue;
            }
            let p = l.param;
            let denom = s.total as f64 + self.theta[p];
            let seen = f64::from(u8::from(s.count > 0));
            let grad_d = g * (f64::from(s.distinct) * l.below - seen) / denom;
            let grad_theta = g * (l.below - l.q) / denom;
            g *= (self.theta[p] + self.d[p] * f64::from(s.distinct)) / denom;
            self.d[p] = (self.d[p] + RATE_D * grad_d).clamp(D_MIN, D_MAX);
            self.theta[p] = (self.theta[p] + RATE_THETA * grad_theta).clamp(0.0, THETA_MAX);
        }
    }
}

/// Learning rate of the mixer: `w_k ← w_k (1 + η (q_k / q - 1))`, a first-order
/// exponentiated-gradient step (Kivinen & Warmuth 1997); η = 1 would be Bayes' rule.
const RATE_MIX: f64 = 0.02;
/// Floor of a weight after a step: lets the mixture switch back to a level it had dropped
/// (the fixed-share idea of Herbster & Warmuth 1998).
const MIX_FLOOR: f64 = 1e-4;
/// Starting weight of the deepest level with counts; the rest share what is left.
const MIX_START: f64 = 0.9;

/// The second stage: a mixture `q = Σ_k w_k q_k` of the blend's levels, with weights learned
/// online (the mixing of orders of context mixing, Mahoney 2005, applied to whole
/// distributions). One weight set per deepest order with counts and class of that context:
/// how far the blend should be trusted depends on how deep and how busy the context it has
/// seen is. The weights of a set are
/// positive and sum to 1 (the step keeps the sum: `Σ_k w_k q_k / q = 1`; rounding is
/// renormalised away), and a mixture of proper distributions is proper, so normalisation is
/// untouched.
#[derive(Clone, Debug)]
pub struct Mixer {
    levels: usize,
    /// `levels × CLASSES` weight sets of `levels` each; a set whose deepest level is `s`
    /// uses its first `s + 1` weights.
    w: Vec<f64>,
}

impl Mixer {
    pub fn new(levels: usize) -> Self {
        let mut w = vec![0.0; levels * levels * CLASSES];
        for i in 0..levels * CLASSES {
            let set = i / CLASSES;
            let row = &mut w[i * levels..][..=set];
            let rest = if set == 0 {
                0.0
            } else {
                (1.0 - MIX_START) / set as f64
            };
            row.fill(rest);
            row[set] = if set == 0 { 1.0 } else { MIX_START };
        }
        Self { levels, w }
    }

    /// The weight set of these levels: the deepest level and its context's class.
    #[inline]
    fn set(&self, levels: &[Level]) -> usize {
        let top = levels.len() - 1;
        (top * CLASSES + class(&levels[top].stats)) * self.levels
    }

    #[inline]
    fn weights(&self, levels: &[Level]) -> &[f64] {
        &self.w[self.set(levels)..][..levels.len()]
    }

    /// The mixture's `q(x)` (levels: the blend's, order 0 first, all with counts but for
    /// order 0 at the very start).
    #[inline]
    pub fn probability(&self, levels: &[Level]) -> f64 {
        self.weights(levels)
            .iter()
            .zip(levels)
            .map(|(w, l)| w * l.q)
            .sum()
    }

    /// One step after `q` was coded with these levels.
    pub fn learn(&mut self, levels: &[Level], q: f64) {
        let set = self.set(levels);
        let w = &mut self.w[set..][..levels.len()];
        let mut sum = 0.0;
        for (w, l) in w.iter_mut().zip(levels) {
            *w = (*w * (1.0 + RATE_MIX * (l.q / q - 1.0))).max(MIX_FLOOR);
            sum += *w;
        }
        for w in w.iter_mut() {
            *w /= sum;
        }
    }
}
