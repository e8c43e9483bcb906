//! Exact, order-free accumulation of per-token losses, overall and per segment.
//!
//! Each loss (nats, `f64`) is truncated to a multiple of 2^-64 nats and added as an `i128`.
//! Integer addition is associative, so a sum does not depend on thread count, chunking,
//! or the order in which partial sums are merged: streaming a file in pieces, one-shot, and
//! merging accumulators of disjoint pieces all give the same bits. The truncation costs under
//! 5.5e-20 nats per token; the range is 2^63 nats in all.

use std::collections::BTreeMap;

use crate::{Error, Result};

/// 2^64: losses are counted in units of 2^-64 nats.
const SCALE: f64 = 18_446_744_073_709_551_616.0;
/// The largest loss of one token accepted (2^62 nats).
const MAX_LOSS: f64 = 4_611_686_018_427_387_904.0;

/// Token count and exact loss sum of a set of tokens.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Total {
    /// Tokens counted.
    pub count: u64,
    /// Sum of their losses in units of 2^-64 nats.
    pub fixed: i128,
}

impl Total {
    /// The sum in nats (correctly rounded to `f64`).
    pub fn nats(&self) -> f64 {
        self.fixed as f64 / SCALE
    }

    /// Adds `other` in place.
    pub fn add(&mut self, other: &Total) -> Result<()> {
        self.count += other.count;
        self.fixed = self.fixed.checked_add(other.fixed).ok_or_else(|| {
            Error::Invalid("the loss sum exceeds 2^63 nats, the accumulator's range".into())
        })?;
        Ok(())
    }

    /// The loss `nats` of one token in fixed point; `None` if negative, NaN or over 2^62.
    pub(crate) fn fixed_of(nats: f64) -> Option<i128> {
        (0.0..MAX_LOSS)
            .contains(&nats)
            .then_some((nats * SCALE) as i128)
    }
}

/// Counts and loss sums: of all tokens, and per segment id for tokens given one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sums {
    total: Total,
    segments: BTreeMap<i64, Total>,
}

impl Sums {
    /// No tokens.
    pub fn new() -> Self {
        Self::default()
    }

    /// Rebuilds sums from their parts (as returned by [`Sums::total`] and
    /// [`Sums::segments`]), e.g. after serialisation.
    pub fn from_parts(total: Total, segments: impl IntoIterator<Item = (i64, Total)>) -> Self {
        Self {
            total,
            segments: segments.into_iter().collect(),
        }
    }

    /// All tokens counted.
    pub fn total(&self) -> Total {
        self.total
    }

    /// Per segment id (ascending), for the tokens that came with segment ids.
    pub fn segments(&self) -> &BTreeMap<i64, Total> {
        &self.segments
    }

    /// Adds the tokens of `other`.
    pub fn merge(&mut self, other: &Sums) -> Result<()> {
        self.total.add(&other.total)?;
        for (id, t) in &other.segments {
            self.segments.entry(*id).or_default().add(t)?;
        }
        Ok(())
    }

    /// Sums of consecutive tokens: `fixed[i]` (or `None`: not counted) with segment
    /// `segments[i]` if given. Runs of one segment id cost one map update.
    pub(crate) fn of_tokens(fixed: &[Option<i128>], segments: Option<&[i64]>) -> Result<Sums> {
        let mut sums = Sums::new();
        let mut run: Option<(i64, Total)> = None;
        for (i, f) in fixed.iter().enumerate() {
            let Some(f) = *f else { continue };
            let one = Total { count: 1, fixed: f };
            sums.total.add(&one)?;
            if let Some(seg) = segments.map(|s| s[i]) {
                match &mut run {
                    Some((id, t)) if *id == seg => t.add(&one)?,
                    _ => {
                        if let Some((id, t)) = run.replace((seg, one)) {
                            sums.segments.entry(id).or_default().add(&t)?;
                        }
                    }
                }
            }
        }
        if let Some((id, t)) = run {
            sums.segments.entry(id).or_default().add(&t)?;
        }
        Ok(sums)
    }
}
