//! The prequential loop: score each token before learning from it, record the curve.
//!
//! Code length (Dawid 1984, prequential analysis; Rissanen 1984): `L_N = Σ_{t<=N} -ln q(x_t |
//! x_<t)` over the scored tokens, accumulated in f64 in token order (so the same bits on
//! any machine and thread count: the loop is sequential). A separator is neither scored nor
//! learned: it ends the document, and the next token is predicted from the empty context.
//! A masked-out token is learned from but not scored. The curve holds `L_N` at every
//! `N = 2^10, 2^11, ...` scored tokens and at the end.

use super::model::{default_order, Model, Settings, DEFAULT_MEMORY};
use super::ranks::Ranks;
use crate::control::Control;
use crate::error::{Error, Result};
use crate::tokens::{negative_token, Token};

/// Options of [`prequential`](super::prequential).
#[derive(Default)]
pub struct PredictOptions<'a> {
    /// Longest context; `None`: [`default_order`] of the vocabulary.
    pub order: Option<usize>,
    /// Ids are below this; `None`: the largest id (or the separator) + 1.
    pub vocab_size: Option<u64>,
    /// The id that ends a document.
    pub separator: Option<u64>,
    /// Same length as the tokens: only masked-in tokens are scored.
    pub mask: Option<&'a [bool]>,
    /// Bytes the count tables may take; `None`: [`DEFAULT_MEMORY`].
    pub memory_limit: Option<usize>,
}

/// The result of a prequential run.
#[derive(Clone, Debug, PartialEq)]
pub struct CodeLength {
    /// Tokens scored.
    pub n: u64,
    /// Total code length of the scored tokens, nats.
    pub nats: f64,
    /// `(N, L_N)`: cumulative code length in nats after N scored tokens, at N = 2^10,
    /// 2^11, ... and at the end.
    pub curve: Vec<(u64, f64)>,
    /// What was run.
    pub settings: Settings,
}

/// Where the curve starts.
pub const FIRST_MARK: u64 = 1 << 10;
/// Tokens between cancellation checks and progress reports (well under a second).
const CHUNK: usize = 1 << 16;
/// How many tokens ahead the context buckets are prefetched.
const AHEAD: usize = 6;

/// Checks the input before any work: negative ids, ids out of the vocabulary, the mask's
/// length, the separator. Returns the vocabulary size to use.
pub(super) fn validate<T: Token>(
    tokens: &[T],
    opts: &PredictOptions<'_>,
    ctl: &Control<'_>,
) -> Result<u64> {
    if tokens.is_empty() {
        return Err(Error::Invalid(
            "tokens is empty: the prequential code length needs at least one token".into(),
        ));
    }
    if let Some(mask) = opts.mask {
        if mask.len() != tokens.len() {
            return Err(Error::Invalid(format!(
                "mask has {} entries but tokens has {}: they must be the same length",
                mask.len(),
                tokens.len()
            )));
        }
    }
    if opts.vocab_size == Some(0) {
        return Err(Error::Invalid("vocab_size must be >= 1, got 0".into()));
    }
    if let (Some(v), Some(s)) = (opts.vocab_size, opts.separator) {
        if s >= v {
            return Err(Error::Invalid(format!(
                "separator = {s} is out of range for a vocabulary of {v} ids (0..{v})"
            )));
        }
    }
    let mut top = 0u64;
    for (c, chunk) in tokens.chunks(CHUNK).enumerate() {
        ctl.check()?;
        for (i, &t) in chunk.iter().enumerate() {
            let index = c * CHUNK + i;
            let id = t.id().ok_or_else(|| negative_token(index, t))?;
            if let Some(v) = opts.vocab_size {
                if id >= v {
                    return Err(Error::Invalid(format!(
                        "tokens[{index}] = {id} is out of range for a vocabulary of {v} ids"
                    )));
                }
            }
            top = top.max(id);
        }
    }
    let vocab = opts
        .vocab_size
        .unwrap_or_else(|| top.max(opts.separator.unwrap_or(0)) + 1);
    if vocab > 1 << 32 {
        return Err(Error::Invalid(format!(
            "a vocabulary of {vocab} ids is too large: the predictor takes ids below 2^32"
        )));
    }
    Ok(vocab)
}

/// Builds the model the options ask for over `vocab` ids held as `symbols` symbols.
pub(super) fn build(
    vocab: u64,
    symbols: u64,
    tokens: usize,
    opts: &PredictOptions<'_>,
) -> Result<Model> {
    let order = opts.order.unwrap_or_else(|| default_order(vocab as usize));
    let memory = opts.memory_limit.unwrap_or(DEFAULT_MEMORY);
    Model::new(
        order,
        vocab,
        symbols,
        opts.separator.is_some(),
        memory,
        tokens,
    )
}

/// Runs the model over `tokens` (ids read as `ranks` says); `per_token[t]` (if given, same length) receives
/// `-ln q(x_t | x_<t)` as f32, NaN where nothing is scored.
pub(super) fn run<T: Token>(
    tokens: &[T],
    ranks: &Ranks,
    model: &mut Model,
    opts: &PredictOptions<'_>,
    mut per_token: Option<&mut [f32]>,
    ctl: &Control<'_>,
) -> Result<CodeLength> {
    if let Some(out) = &per_token {
        if out.len() != tokens.len() {
            return Err(Error::Invalid(format!(
                "per_token has {} entries but tokens has {}",
                out.len(),
                tokens.len()
            )));
        }
    }
    let sep = opts.separator;
    // A token's symbol, `None` for the separator.
    let symbol = |t: T| {
        let x = t.id().unwrap_or(0); // validated before
        (sep != Some(x)).then(|| ranks.rank(x))
    };
    let order = model.order();
    let mut window: Vec<u32> = Vec::with_capacity(order);
    let mut scratch = Vec::with_capacity(order);
    let (mut n, mut nats) = (0u64, 0.0f64);
    let mut mark = FIRST_MARK;
    let mut curve = Vec::new();
    let total = tokens.len() as u64;
    for (c, chunk) in tokens.chunks(CHUNK).enumerate() {
        ctl.check()?;
        ctl.report((c * CHUNK) as u64, total);
        for (i, &t) in chunk.iter().enumerate() {
            let index = c * CHUNK + i;
            if order > 0 {
                prefetch_ahead(
                    tokens,
                    index + AHEAD,
                    order,
                    &symbol,
                    model,
                    &mut window,
                    &mut scratch,
                );
            }
            let x = t.id().unwrap_or(0);
            if sep == Some(x) {
                model.reset();
                if let Some(out) = per_token.as_deref_mut() {
                    out[index] = f32::NAN;
                }
                continue;
            }
            let q = model.code(ranks.rank(x));
            let scored = opts.mask.is_none_or(|m| m[index]);
            let cost = -q.ln();
            if let Some(out) = per_token.as_deref_mut() {
                out[index] = if scored { cost as f32 } else { f32::NAN };
            }
            if scored {
                n += 1;
                nats += cost;
                if n == mark {
                    curve.push((n, nats));
                    mark *= 2;
                }
            }
        }
    }
    if curve.last().map(|&(m, _)| m) != Some(n) && n > 0 {
        curve.push((n, nats));
    }
    ctl.report(total, total);
    Ok(CodeLength {
        n,
        nats,
        curve,
        settings: model.settings().clone(),
    })
}

/// Prefetches the buckets that the token at `at` will be predicted from: its context is the
/// tokens before it back to the last separator, at most `order` of them.
#[inline]
fn prefetch_ahead<T: Token>(
    tokens: &[T],
    at: usize,
    order: usize,
    symbol: &impl Fn(T) -> Option<u32>,
    model: &Model,
    window: &mut Vec<u32>,
    scratch: &mut Vec<u64>,
) {
    if at >= tokens.len() {
        return;
    }
    window.clear();
    for &t in tokens[at.saturating_sub(order)..at].iter().rev() {
        let Some(x) = symbol(t) else { break };
        window.push(x);
    }
    window.reverse();
    model.prefetch(window, scratch);
}

/// The default order of a vocabulary (re-exported for callers that state it up front).
pub fn order_for(vocab: u64) -> usize {
    default_order(vocab as usize)
}
