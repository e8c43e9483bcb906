//! Estimators of the entropy rate `h = lim h_n`, one file per family, each a pure function
//! on plain arrays; the engines that produce those arrays (the prequential predictor's
//! learning curve, the suffix index's profiles and match lengths) live elsewhere.
//!
//! - [`curve`]: extrapolation of a prequential learning curve in the sample size N;
//! - [`order`]: extrapolation of the conditional entropies h_n in the order n;
//! - [`matches`]: match-length (Lempel–Ziv type) estimators;
//! - [`tail`]: the final stretch's code rate, an upper bound without the learning cost;
//! - [`mix`]: a mixture of online predictors from their per-token costs;
//! - [`combine`]: the rule that makes one interval of theirs, under the prequential bound.

pub mod combine;
pub mod curve;
mod fit;
pub mod matches;
pub mod mix;
pub mod order;
pub mod tail;
