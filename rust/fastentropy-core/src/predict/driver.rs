//! The prequential loop: score each token before learning from it, record the curve.
//!
//! Code length (Dawid 1984, prequential analysis; Rissanen 1984): `L_N = Σ_{t<=N} -ln q(x_t |
//! x_<t)` over the scored tokens, accumulated in f64 in token order (so the same bits on
//! any machine and thread count: the loop is sequential). A separator is neither scored nor
//! learned: it ends the document, and the next token is predicted from the empty context.
//! A masked-out token is learned from but not scored. The curve holds `L_N` at every
//! `N = 2^10, 2^11, ...` scored tokens and at the end.

use super::bits::{
    BitCoder, BitModel, Trim, WideModel, DEFAULT_BIT_ORDER, DEFAULT_WIDE_ORDER, MAX_BIT_ORDER,
    MAX_SYMBOLS, MAX_WIDE_BITS,
};
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
    /// Which model; `None`: [`choose`]'s choice.
    pub model: Option<ModelKind>,
    /// Parts of the byte bit model switched off (a development knob: the speed and code
    /// length frontier of docs/prequential.md; not exposed to Python). `None`: all on.
    #[doc(hidden)]
    pub trim: Option<Trim>,
}

/// The two predictors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelKind {
    /// The blend of whole-symbol distributions over orders 0..=K ([`super::model`]).
    Tokens,
    /// Bit-level context mixing ([`super::bits`]), for at most 2^20 codable ids (bytes, or
    /// tokens with contexts of whole tokens).
    Bits,
}

/// The model that runs when none is asked for: the bit model for at most 2^20 codable ids when no
/// order is given (it codes English text, as bytes and as 16k BPE tokens, shorter and runs faster;
/// see docs/prequential.md), the token model otherwise — and also when the memory limit is below
/// the bit model's fixed tables (see [`build`]).
pub fn choose(vocab: u64, opts: &PredictOptions<'_>) -> ModelKind {
    let codable = vocab - u64::from(opts.separator.is_some_and(|s| s < vocab));
    opts.model
        .unwrap_or(if opts.order.is_none() && codable <= 1 << MAX_WIDE_BITS {
            ModelKind::Bits
        } else {
            ModelKind::Tokens
        })
}

/// The model that runs.
pub(super) enum Engine {
    Tokens(Box<Model>),
    Bits(Box<BitModel>),
    Wide(Box<WideModel>),
}

impl Engine {
    pub(super) fn reset(&mut self) {
        match self {
            Self::Tokens(m) => m.reset(),
            Self::Bits(m) => m.reset(),
            Self::Wide(m) => m.reset(),
        }
    }

    /// Codes the token `id`: `q(id | context)`, then learns.
    #[inline]
    pub(super) fn code(&mut self, id: u64, ranks: &Ranks) -> f64 {
        match self {
            Self::Tokens(m) => m.code(ranks.rank(id)),
            Self::Bits(m) => m.code(id),
            Self::Wide(m) => m.code(id),
        }
    }

    /// `q(id | context)`, nothing changed.
    pub(super) fn probability(&self, id: u64, ranks: &Ranks) -> f64 {
        match self {
            Self::Tokens(m) => m.probability(ranks.rank(id)),
            Self::Bits(m) => m.probability(id),
            Self::Wide(m) => m.probability(id),
        }
    }

    fn settings(&self) -> &Settings {
        match self {
            Self::Tokens(m) => m.settings(),
            Self::Bits(m) => m.settings(),
            Self::Wide(m) => m.settings(),
        }
    }
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
    crate::tokens::check_mask_len(opts.mask, tokens.len())?;
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

/// Builds the model the options ask for over `vocab` ids held as `symbols` symbols (the
/// token model) or as themselves (the bit model).
pub(super) fn build(
    kind: ModelKind,
    vocab: u64,
    symbols: u64,
    tokens: usize,
    opts: &PredictOptions<'_>,
) -> Result<Engine> {
    let memory = opts.memory_limit.unwrap_or(DEFAULT_MEMORY);
    let tokens_model = |symbols: u64| -> Result<Engine> {
        let order = opts.order.unwrap_or_else(|| default_order(vocab as usize));
        Ok(Engine::Tokens(Box::new(Model::new(
            order,
            vocab,
            symbols,
            opts.separator.is_some(),
            memory,
            tokens,
        )?)))
    };
    match kind {
        ModelKind::Tokens => tokens_model(symbols),
        ModelKind::Bits => {
            let codable = vocab - u64::from(opts.separator.is_some_and(|s| s < vocab));
            let built = if codable <= MAX_SYMBOLS {
                let order = opts.order.unwrap_or(DEFAULT_BIT_ORDER);
                let trim = opts.trim.clone().unwrap_or_default();
                BitModel::new(vocab, opts.separator, order, memory, tokens, &trim)
                    .map(|m| Engine::Bits(Box::new(m)))
            } else {
                let order = opts.order.unwrap_or(DEFAULT_WIDE_ORDER);
                WideModel::new(vocab, opts.separator, order, memory, tokens)
                    .map(|m| Engine::Wide(Box::new(m)))
            };
            match built {
                Ok(m) => Ok(m),
                // Chosen, not asked for, and the limit is below its fixed tables: the
                // token model over the ids themselves (what it codes with any remap).
                Err(Error::MemoryLimit { .. }) if opts.model.is_none() => tokens_model(vocab),
                Err(e) => Err(e),
            }
        }
    }
}

/// Runs the model over `tokens` (ids read as `ranks` says); `per_token[t]` (if given, same length)
/// receives `-ln q(x_t | x_<t)` as f32, NaN where nothing is scored.
pub(super) fn run<T: Token>(
    tokens: &[T],
    ranks: &Ranks,
    model: &mut Engine,
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
    let order = match model {
        Engine::Tokens(m) => m.order(),
        Engine::Bits(_) | Engine::Wide(_) => 0,
    };
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
            if let (Engine::Tokens(m), true) = (&*model, order > 0) {
                prefetch_ahead(
                    tokens,
                    index + AHEAD,
                    order,
                    &symbol,
                    m,
                    &mut window,
                    &mut scratch,
                );
            }
            match &mut *model {
                Engine::Bits(m) => prefetch_bits(tokens, index + AHEAD, sep, |w, n, x| {
                    m.prefetch(w, n, x);
                }),
                Engine::Wide(m) => prefetch_bits(tokens, index + AHEAD, sep, |w, n, x| {
                    m.prefetch(w, n, x);
                }),
                Engine::Tokens(_) => {}
            }
            let x = t.id().unwrap_or(0);
            if sep == Some(x) {
                model.reset();
                if let Some(out) = per_token.as_deref_mut() {
                    out[index] = f32::NAN;
                }
                continue;
            }
            let q = model.code(x, ranks);
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

/// Prefetches the context slots of the bit model for the token at `at`: its document's
/// last symbols (back to a separator, at most [`MAX_BIT_ORDER`]) and the token itself.
#[inline]
fn prefetch_bits<T: Token>(
    tokens: &[T],
    at: usize,
    sep: Option<u64>,
    mut prefetch: impl FnMut(&[u64], u64, u64),
) {
    let Some(next) = tokens.get(at).and_then(|t| t.id()) else {
        return;
    };
    if sep == Some(next) {
        return;
    }
    let mut window = [0u64; MAX_BIT_ORDER];
    let mut n = 0;
    for t in tokens[at.saturating_sub(MAX_BIT_ORDER)..at].iter().rev() {
        let id = t.id().unwrap_or(0);
        if sep == Some(id) {
            break;
        }
        n += 1;
        window[MAX_BIT_ORDER - n] = id;
    }
    // Whether the document is longer than the window: then its full length is at least
    // MAX_BIT_ORDER, which is all the hashes look at.
    prefetch(&window[MAX_BIT_ORDER - n..], n as u64, next);
}

/// The default order of a vocabulary (re-exported for callers that state it up front).
pub fn order_for(vocab: u64) -> usize {
    default_order(vocab as usize)
}
