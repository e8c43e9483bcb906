//! The last stage: a binary decision "is the next symbol the one the match model expects?",
//! its probability learned online, the rest of the mass spread as the blend spreads it.
//!
//! Formula: with `s` the expected symbol, `b(·)` the blend's distribution and `h` the
//! probability of a hit,
//!
//! ```text
//! q(s) = h,     q(x) = (1 - h) · b(x) / (1 - b(s))   (x ≠ s)
//! ```
//!
//! which sums to 1 over the whole vocabulary whenever `b` does and `0 < h < 1`, so `q`
//! stays proper and positive. The stage is skipped (q = b) when there is no match or the
//! blend is already near-certain of `s` (`b(s) > 1 - SURE`: then `1 - b(s)` would lose
//! digits and the rest of the mass its normalisation); both depend on the context only.
//!
//! `h` is the logistic mix (Mahoney 2005, PAQ's mixer: `h = squash(Σ w_i·t_i)`, weights
//! moved by `η·(y - h)·t_i`, the gradient of the coding cost) of, in the stretched domain
//! `t = ln(p/(1-p))`: the blend's own `b(s)`; the hit rate so far of matches of this
//! length; an adaptive probability map of `b(s)` by match length (secondary symbol
//! estimation, SSE: Shkarin 2002 in PPMd; an APM as in lpaq1, 33 points interpolated);
//! and a bias. One weight set per match length class. All state is updated after the
//! symbol is known, so the decoder could do the same.

/// Classes of match length: 1..16 one each, then powers of two.
pub const LEN_CLASSES: usize = 24;
/// Points of the probability maps, over stretch ∈ [-8, 8].
const POINTS: usize = 33;
/// Inputs of the mixer.
const INPUTS: usize = 4;
/// Mixer step (in stretch units).
const RATE_MIX: f64 = 0.002;
/// Slowest step of a probability-map point (its first steps average, `1/(n + 1.5)`).
const RATE_MAP: f64 = 0.01;
/// Hit counts halve at this total (recent matches weigh more, as in a count state).
const RATE_CAP: f64 = 1024.0;
/// `h` stays within `[LIMIT, 1 - LIMIT]`.
const LIMIT: f64 = 1e-6;
/// The stage is skipped when `1 - b(s)` is below this.
pub const SURE: f64 = 1e-3;

#[inline]
fn stretch(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

#[inline]
fn squash(t: f64) -> f64 {
    1.0 / (1.0 + (-t).exp())
}

/// The class of a match of `len` symbols.
pub fn len_class(len: u32) -> usize {
    if len < 16 {
        len as usize
    } else {
        (16 + (len.ilog2() - 4) as usize).min(LEN_CLASSES - 1)
    }
}

/// One decision in flight: what was predicted from, for the update.
#[derive(Clone, Copy, Debug)]
pub struct Decision {
    class: usize,
    inputs: [f64; INPUTS],
    /// Probability-map point below and the weight of the one above.
    point: usize,
    frac: f64,
    /// The probability of a hit.
    pub h: f64,
}

pub struct Sse {
    /// Hits and trials per class.
    hits: Vec<(f64, f64)>,
    /// Probability maps (per class, POINTS each) and their update counts.
    map: Vec<f64>,
    seen: Vec<f64>,
    w: Vec<[f64; INPUTS]>,
}

impl Sse {
    /// A stage with `classes` classes of context.
    pub fn new(classes: usize) -> Self {
        let row: Vec<f64> = (0..POINTS).map(|i| squash(i as f64 * 0.5 - 8.0)).collect();
        Self {
            hits: vec![(0.0, 0.0); classes],
            map: row.repeat(classes),
            seen: vec![0.0; classes * POINTS],
            w: vec![[0.35, 0.3, 0.35, 0.0]; classes],
        }
    }

    /// The probability that the expected symbol comes, in a context of `class`, when the
    /// blend gives it `b` (`0 < b < 1 - SURE`).
    pub fn predict(&self, class: usize, b: f64) -> Decision {
        let tb = stretch(b).clamp(-8.0, 8.0);
        let (hit, n) = self.hits[class];
        let rate = (hit + 0.5) / (n + 1.0);
        let pos = (tb + 8.0) * 2.0;
        let point = (pos as usize).min(POINTS - 2);
        let frac = pos - point as f64;
        let row = &self.map[class * POINTS..];
        let mapped = row[point] * (1.0 - frac) + row[point + 1] * frac;
        let inputs = [
            tb,
            stretch(rate),
            stretch(mapped.clamp(LIMIT, 1.0 - LIMIT)),
            1.0,
        ];
        let w = &self.w[class];
        let dot: f64 = w.iter().zip(&inputs).map(|(w, t)| w * t).sum();
        Decision {
            class,
            inputs,
            point,
            frac,
            h: squash(dot).clamp(LIMIT, 1.0 - LIMIT),
        }
    }

    /// Learns from the outcome of `d`.
    pub fn learn(&mut self, d: &Decision, hit: bool) {
        let y = f64::from(u8::from(hit));
        let err = y - d.h;
        for (w, t) in self.w[d.class].iter_mut().zip(&d.inputs) {
            *w += RATE_MIX * err * t;
        }
        let h = &mut self.hits[d.class];
        h.0 += y;
        h.1 += 1.0;
        if h.1 >= RATE_CAP {
            h.0 /= 2.0;
            h.1 /= 2.0;
        }
        for (i, share) in [(d.point, 1.0 - d.frac), (d.point + 1, d.frac)] {
            let j = d.class * POINTS + i;
            let rate = (1.0 / (self.seen[j] + 1.5)).max(RATE_MAP) * share;
            self.map[j] += rate * (y - self.map[j]);
            self.seen[j] += share;
        }
    }
}
