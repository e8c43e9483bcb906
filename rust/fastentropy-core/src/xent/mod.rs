//! Cross-entropy of model outputs: per-token negative log-likelihood from logits `[T, V]`
//! (`f32`, `f16` or `bf16`) and target ids, or from gathered log-probabilities, reduced to
//! exact sums overall and per segment.
//!
//! * `row.rs`: one row's loss, `log1p(k - 1 + R) + (max - x_target)`, one pass over memory;
//! * `exp.rs`: the vectorised exponential it uses, and its measured error;
//! * `table.rs`: 16-bit rows by look-up of `e^x` for each of the 65,536 bit patterns, in
//!   `f64` (the vector kernel takes the rows beyond the table's range);
//! * `lanes.rs`, `avx2.rs`, `avx512.rs`: the vector operations per instruction set, chosen at
//!   run time in `dispatch.rs` (AVX-512 first ran and was measured on an Intel Xeon in the
//!   eighth session: `docs/xent_speed.md`);
//! * `path.rs`: whether 16-bit rows take the table or are widened for the vector kernel,
//!   fixed per CPU;
//! * `driver.rs`: input checks and the parallel loop over rows, in slabs between which the
//!   caller's [`crate::Control`] may cancel;
//! * `sums.rs`: the exact fixed-point sums that make results independent of threads and
//!   chunking.
//!
//! Accuracy: per-token relative error under 1e-6 against a float64 computation on the same
//! inputs, for every input type (the bound by analysis in `row.rs`; the measured worst cases
//! in `docs/xent_speed.md`, Accuracy); for 16-bit rows within the table's range, that of
//! `f64` arithmetic (tested at 1e-13). Results are bit-identical for any thread count and
//! chunking on one instruction set; the instruction sets differ in the last bits of
//! per-token values.

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
mod dispatch;
mod driver;
mod exp;
mod lanes;
mod path;
mod row;
mod sums;
mod table;
#[cfg(test)]
mod tests;

pub use dispatch::{exp_f32, Isa};
pub use driver::{logprob_sums, nll_sums, token_nll, Logits, Options, Target};
pub use path::{splits_256_bit, Format16, Path16};
pub use sums::{Sums, Total};
