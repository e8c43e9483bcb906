//! The prequential code length of an online n-gram predictor: what an honest causal model
//! reaches on a corpus, token by token, and its learning curve.
//!
//! Each token is scored by `-ln q(x_t | x_<t)` before the model learns from it (Dawid 1984),
//! so the total is a code length (an arithmetic coder would reach it within two bits;
//! Rissanen 1984) and an upper bound, in expectation, on `N ×` the entropy rate. The model
//! ([`model`]) blends contexts of order 0..=K, Pitman–Yor / Kneser–Ney style ([`blend`],
//! Teh 2006; PPM blending, Cleary & Witten 1984), with discounts and concentrations learned
//! online per order and class of context (Steinruecken, Ghahramani & MacKay 2015), counts
//! held in hashed tables bounded by the memory limit ([`table`]); match models
//! ([`matcher`], PPM*'s unbounded contexts, Cleary, Teahan & Witten 1995) then decide
//! "their symbol or not" in binary stages mixed logistically (Mahoney 2005) with SSE
//! ([`sse`], Shkarin 2002). `q` is a proper
//! distribution over the whole vocabulary at every step, whatever the hash collisions.
//! Sparse ids are held as dense ranks ([`ranks`]), the probabilities still proper over the
//! whole declared vocabulary.
//!
//! For at most 256 codable ids (bytes) a second model runs by default ([`bits`], see
//! [`choose`]): bit-level context mixing in the family of PAQ8 / lpaq (Mahoney 2005), each
//! symbol coded as its binary decisions, which codes English text shorter and faster than a
//! blend of whole-symbol distributions.
//!
//! The loop is sequential, so the result is the same for any thread count; the `threads`
//! of a [`Control`] are not used (the memory latency is hidden by prefetching the contexts
//! of tokens a few positions ahead instead).

mod bits;
mod blend;
mod driver;
mod matcher;
mod model;
mod ranks;
mod sse;
mod table;
#[cfg(test)]
mod testing;
#[cfg(test)]
mod tests;

pub use bits::{Trim, DEFAULT_BIT_ORDER, MAX_BIT_ORDER};
pub use driver::{choose, order_for, CodeLength, ModelKind, PredictOptions, FIRST_MARK};
pub use model::{Settings, DEFAULT_MEMORY, MAX_ORDER};

use crate::control::Control;
use crate::error::{Error, Result};
use crate::tokens::Token;
use ranks::Ranks;

/// The prequential code length of `tokens` under the online predictor.
///
/// `per_token`, if given (same length as `tokens`), receives each token's `-ln q` as f32,
/// NaN for separators and masked-out tokens.
///
/// # Errors
/// Empty input, a negative id, an id at or above `vocab_size`, a separator outside the
/// vocabulary, a mask or `per_token` of the wrong length, an order above [`MAX_ORDER`], a
/// memory limit too small for the tables, cancellation.
pub fn prequential<T: Token>(
    tokens: &[T],
    opts: &PredictOptions<'_>,
    per_token: Option<&mut [f32]>,
    ctl: &Control<'_>,
) -> Result<CodeLength> {
    let vocab = driver::validate(tokens, opts, ctl)?;
    let (kind, ranks) = ranks_for(tokens, vocab, opts, ctl)?;
    let mut model = driver::build(kind, vocab, ranks.symbols(vocab), tokens.len(), opts)?;
    driver::run(tokens, &ranks, &mut model, opts, per_token, ctl)
}

/// The full predictive distribution `q(· | x_<p)` over every id, after the model has coded
/// `tokens[..p]`, for each `p` in `positions` (increasing, at most `tokens.len()`). For
/// tests of normalisation: it costs `V` predictions per position.
///
/// # Errors
/// As [`prequential`], and positions that are not increasing or lie past the end.
pub fn distributions<T: Token>(
    tokens: &[T],
    opts: &PredictOptions<'_>,
    positions: &[usize],
) -> Result<Vec<Vec<f64>>> {
    let ctl = Control::default();
    let vocab = driver::validate(tokens, opts, &ctl)?;
    let (kind, ranks) = ranks_for(tokens, vocab, opts, &ctl)?;
    let mut model = driver::build(kind, vocab, ranks.symbols(vocab), tokens.len(), opts)?;
    if positions.windows(2).any(|w| w[0] > w[1]) || positions.iter().any(|&p| p > tokens.len()) {
        return Err(Error::Invalid(format!(
            "positions must be increasing and at most {}",
            tokens.len()
        )));
    }
    let mut out = Vec::with_capacity(positions.len());
    let mut done = 0;
    for &p in positions {
        for &t in &tokens[done..p] {
            let x = t.id().unwrap_or(0);
            if opts.separator == Some(x) {
                model.reset();
            } else {
                model.code(x, &ranks);
            }
        }
        done = p;
        out.push((0..vocab).map(|x| model.probability(x, &ranks)).collect());
    }
    Ok(out)
}

/// The model to run and how ids map to its symbols: the bit model codes ids themselves.
fn ranks_for<T: Token>(
    tokens: &[T],
    vocab: u64,
    opts: &PredictOptions<'_>,
    ctl: &Control<'_>,
) -> Result<(ModelKind, Ranks)> {
    let kind = choose(vocab, opts);
    let ranks = match kind {
        ModelKind::Bits => Ranks::Identity,
        ModelKind::Tokens => Ranks::of(tokens, vocab, opts.separator, ctl)?,
    };
    Ok((kind, ranks))
}
