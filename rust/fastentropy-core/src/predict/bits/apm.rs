//! SSE / APM stage: refines a probability by a small context (Shkarin 2002, PPMd's SEE;
//! Mahoney's APM, "Data Compression Explained" sec. 4.3.4, lpaq1): for each context, a
//! piecewise-linear map of the stretched input probability, 33 knots over ±12, the output
//! interpolated between the two nearest knots; the nearer knot moves towards the coded bit
//! by 1/2^RATE. Knots start on the identity, so an unseen context passes its input on.

use super::counters::{Logistic, ST_MAX};

const KNOTS: usize = 33;
/// Logistic units between knots: 2 · (ST_MAX + 1) / 32.
const STEP: i32 = 192;

#[derive(Clone)]
pub struct Apm {
    knots: Vec<u16>,
    /// The knot to move after the bit is known.
    at: usize,
    rate: u32,
}

impl Apm {
    pub fn new(contexts: usize, rate: u32, lg: &Logistic) -> Self {
        let row: Vec<u16> = (0..KNOTS as i32)
            .map(|j| lg.squash((j - 16) * STEP) as u16)
            .collect();
        let mut knots = Vec::with_capacity(contexts * KNOTS);
        for _ in 0..contexts {
            knots.extend_from_slice(&row);
        }
        Self { knots, at: 0, rate }
    }

    /// The refined `P(1)` (16 bits) of a mix whose logistic value is `st`, in context `cx`.
    #[inline]
    pub fn refine(&mut self, st: i32, cx: usize) -> u32 {
        let s = st.clamp(-ST_MAX, ST_MAX) + ST_MAX + 1; // 1..=6143
        let (j, w) = ((s / STEP) as usize, (s % STEP) as u32);
        let base = cx * KNOTS + j;
        let (lo, hi) = (u32::from(self.knots[base]), u32::from(self.knots[base + 1]));
        self.at = if w < STEP as u32 / 2 { base } else { base + 1 };
        ((lo * (STEP as u32 - w) + hi * w) / STEP as u32).clamp(1, 65535)
    }

    #[inline]
    pub fn learn(&mut self, y: u32) {
        let t = i32::from(self.knots[self.at]);
        let target = if y == 1 { 65535 } else { 0 };
        self.knots[self.at] = (t + ((target - t) >> self.rate)) as u16;
    }

    /// Asks the memory for the rows of contexts `cx` and `cx + 1` ahead of use.
    #[inline]
    pub fn prefetch(&self, cx: usize) {
        let at = (cx * KNOTS).min(self.knots.len() - 1);
        super::contexts::prefetch(self.knots.as_ptr().wrapping_add(at));
        let end = (at + 2 * KNOTS).min(self.knots.len() - 1);
        super::contexts::prefetch(self.knots.as_ptr().wrapping_add(end));
    }

    /// Asks the memory for the row of context `cx` alone (66 bytes: at most two lines).
    #[inline]
    pub fn prefetch_row(&self, cx: usize) {
        let at = (cx * KNOTS).min(self.knots.len() - 1);
        super::contexts::prefetch(self.knots.as_ptr().wrapping_add(at));
        let end = (at + KNOTS - 1).min(self.knots.len() - 1);
        super::contexts::prefetch(self.knots.as_ptr().wrapping_add(end));
    }

    pub fn bytes(&self) -> usize {
        self.knots.len() * 2
    }
}
