//! The logistic mixer: `p = squash(Σ_i w_i · stretch(p_i))`, one weight vector per small
//! context, trained online by gradient descent on the coding cost (Mahoney 2005, "Adaptive
//! weighing of context models for lossless data compression"; "Data Compression Explained"
//! sec. 4.3.3): `w_i += η · x_i · (y - p)`, which is the gradient of `-ln q(y)` in `w_i`.
//!
//! Fixed point: inputs in 1/256 of the logistic domain, weights in 1/65536, the error in 12
//! bits, so every product fits an `i32` and the sums are exact (same bits on every run).

use super::counters::{Logistic, ST_MAX};

/// Inputs per weight vector (unused ones stay 0).
pub const INPUTS: usize = 16;

#[derive(Clone)]
pub struct Mixer<const N: usize = INPUTS> {
    weights: Vec<[i32; N]>,
    /// The selected weight vector and the last output, for the update.
    set: usize,
    dot: i32,
    p16: u32,
    rate: i32,
}

impl<const N: usize> Mixer<N> {
    /// `sets` weight vectors, each starting at `start / 65536` per input.
    pub fn new(sets: usize, start: i32, rate: i32) -> Self {
        Self {
            weights: vec![[start; N]; sets],
            set: 0,
            dot: 0,
            p16: 1 << 15,
            rate,
        }
    }

    /// Mixes `x` with weight vector `set`: `P(1)` in 16 bits.
    #[inline]
    pub fn mix(&mut self, x: &[i32; N], set: usize, lg: &Logistic) -> u32 {
        let w = &self.weights[set];
        let dot: i64 = x
            .iter()
            .zip(w)
            .map(|(&a, &b)| i64::from(a) * i64::from(b))
            .sum();
        self.set = set;
        self.dot = ((dot >> 16) as i32).clamp(-ST_MAX, ST_MAX);
        self.p16 = lg.squash(self.dot);
        self.p16
    }

    /// The last mix in the logistic domain (for the SSE stages).
    #[inline]
    pub fn dot(&self) -> i32 {
        self.dot
    }

    /// One gradient step towards the coded bit `y`.
    #[inline]
    pub fn learn(&mut self, x: &[i32; N], y: u32) {
        let err = ((((y as i32) << 16) - self.p16 as i32) >> 4) * self.rate;
        let w = &mut self.weights[self.set];
        for (wi, &xi) in w.iter_mut().zip(x) {
            *wi += (xi * err + (1 << 13)) >> 14;
        }
    }

    pub fn bytes(&self) -> usize {
        self.weights.len() * N * 4
    }
}
