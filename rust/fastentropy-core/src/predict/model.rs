//! The predictor: orders 0..=K of context, their count tables, and the blend over them.
//!
//! Low orders are kept exactly in dense tables (a row of `V` counts per context, the context
//! read as a base-`V` number) while they fit: order 0 always, then each next order while
//! the dense tables stay within a quarter of the memory limit and [`DENSE_MAX`] each (bytes:
//! orders 0..=2; a 40-token chain: 0..=3). Higher orders are hashed. The context of order k
//! is the last k tokens of the current document (a separator starts a new one), so early in
//! a document only the orders it already has are used.
//!
//! Update rule: the token is added to the counts of every order in use ("full updates"):
//! each order's counts are the plain frequencies in its contexts, so any order's estimate
//! converges to the source's own conditional distribution (what an order-k Markov source
//! needs). Kneser–Ney's shallow updates (add below only when new above) leave low orders
//! with counts that stop growing, which a long Markov chain punishes; on English bytes they
//! gained 1% with large count caps and lost with the small caps used here.
//!
//! Prediction: the blend of orders 0..=L ([`Params::blend`]), then a learned mixture of its
//! levels ([`Mixer`]), then one binary stage per match model ([`super::sse`],
//! [`super::matcher`]): "is it the symbol that followed the last occurrence of this
//! context?". The match models bring what counts lack: contexts longer than K, and
//! recency (the most recent occurrence of a 1- or 2-symbol context is, on 4 MB of English
//! bytes, a better guess than its counts alone make it: 1.655 → 1.594 bits/byte with the
//! stages; 16k BPE 1.839 → 1.809). Each stage keeps `q` proper (see there), so the whole
//! stays normalised over the vocabulary.

use super::blend::{Level, Mixer, Params};
use super::matcher::Matcher;
use super::sse::{len_class, Decision, Sse, LEN_CLASSES, SURE};
use super::table::{Dense, Hashed, Stats};
use crate::error::{Error, Result};

/// Largest dense table, bytes.
pub const DENSE_MAX: usize = 128 << 20;
/// Longest context the model accepts.
pub const MAX_ORDER: usize = 48;
/// Memory when the caller gives no limit.
pub const DEFAULT_MEMORY: usize = 1 << 30;

/// Entries per bucket of a hashed order: low orders have many successors per context.
fn entries(order: usize) -> usize {
    match order {
        1 => 127,
        2 => 63,
        3 => 31,
        4 => 15,
        _ => 7,
    }
}

/// Counts of a hashed order halve when one reaches this. Small caps keep these contexts
/// adaptive (recent successors weigh more), which on English bytes and BPE tokens beat large
/// caps clearly (4 MB of dictionary text: cap 16 codes 1.664 bits/byte, cap 65536 1.745;
/// with the match stages, whose recency covers part of it, caps of 8, 16, 24, 32 and 48
/// code 1.607, 1.596, 1.5947, 1.5945 and 1.597); the dense low orders keep
/// [`super::table::COUNT_CAP`]'s precision, which a stationary source needs.
fn hashed_cap(order: usize) -> u32 {
    if order <= 2 {
        32
    } else {
        24
    }
}

/// The default longest context for a vocabulary of `vocab` ids: long for bytes (English
/// needs 10+ characters of context; 257 ids are bytes and a separator), shorter as tokens
/// carry more each.
pub fn default_order(vocab: usize) -> usize {
    match vocab {
        0..=257 => 12,
        258..=4096 => 6,
        _ => 4,
    }
}

/// What a model was built with.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Settings {
    /// Which model ran: `"tokens"` (this blend) or `"bits"` (the bit-level context mixing
    /// of [`super::bits`]).
    pub name: &'static str,
    /// The longest context, tokens (orders `0..=order` are used).
    pub order: usize,
    /// The vocabulary size: ids are `0..vocab`.
    pub vocab: u64,
    /// Bytes of all count tables (within the memory limit).
    pub memory: usize,
    /// Orders `0..dense` are kept exactly.
    pub dense: usize,
    /// Each hashed order: (order, buckets, entries per bucket).
    pub hashed: Vec<(usize, usize, usize)>,
    /// Further settings of the model that ran, by name.
    pub parts: Vec<(&'static str, usize)>,
}

/// The state of the online predictor.
pub struct Model {
    order: usize,
    vocab: usize,
    /// The base: the uniform probability of each id that can occur.
    base: f64,
    /// Tables of orders `0..dense.len()`.
    dense: Vec<Dense>,
    /// Tables of orders `dense.len()..=order`.
    tables: Vec<Hashed>,
    params: Params,
    mixer: Mixer,
    /// The current document's last tokens, newest last (at most `order`).
    history: Vec<u32>,
    /// Context hashes of orders 1..=history.len() (index k-1).
    hashes: Vec<u64>,
    /// Dense row of orders 0..dense.len() that the history reaches (index k).
    rows: Vec<usize>,
    levels: Vec<Level>,
    /// The levels of the match model's expected symbol.
    expected: Vec<Level>,
    matchers: [Matcher; MATCHERS],
    /// The binary stage of each matcher.
    sse: [Sse; MATCHERS],
    decisions: Vec<(usize, u32, Decision)>,
    settings: Settings,
}

/// Match models, each with its binary stage.
const MATCHERS: usize = 2;
/// Classes of the blend's depth (levels with counts, order 0 included) for the stages:
/// up to 2, 3..=4, 5..=7, more.
const DEPTHS: usize = 4;

/// Context lengths each match model looks up (long, then short; 0: none), by alphabet:
/// tokens that carry more each need fewer. Measured on 4 MB of English (bytes, bits/byte):
/// one model [0, 6] 1.641, [0, 2] 1.608, [40, 2] 1.606, [40, 2] with [0, 1] 1.599;
/// 16k BPE: [0, 3] 1.829, [0, 1] 1.814, [0, 1] with [0, 2] 1.809.
fn match_lens(symbols: usize) -> [[u32; 2]; MATCHERS] {
    if symbols <= 257 {
        [[40, 2], [0, 1]]
    } else {
        [[0, 1], [0, 2]]
    }
}

impl Model {
    /// A model of contexts up to `order` over ids `0..vocab`, of which `excluded` (the separator)
    /// never occurs, held in tables over `symbols` symbols (see [`super::ranks`]: `vocab` when ids
    /// are not remapped), within `memory` bytes, for a stream of `tokens` tokens (a hashed order
    /// never gets more buckets than it can have contexts, so short inputs do not pay for zeroing a
    /// gigabyte).
    ///
    /// # Errors
    /// An order above [`MAX_ORDER`], a vocabulary above 2^32, or a memory limit too small
    /// for a row of order 0 plus two buckets of every hashed order.
    pub fn new(
        order: usize,
        vocab: u64,
        symbols: u64,
        excluded: bool,
        memory: usize,
        tokens: usize,
    ) -> Result<Self> {
        if order > MAX_ORDER {
            return Err(Error::Invalid(format!(
                "order = {order} is too long: give 0..={MAX_ORDER}"
            )));
        }
        if vocab > 1 << 32 {
            return Err(Error::Invalid(format!(
                "a vocabulary of {vocab} ids is too large: the predictor takes ids below 2^32"
            )));
        }
        let v = symbols as usize;
        // Dense orders: 0 always, then while they fit.
        let mut dense_bytes = Dense::bytes(1, v);
        let mut dense = 1;
        let mut contexts = 1usize;
        while dense <= order {
            let Some(next) = contexts.checked_mul(v) else {
                break;
            };
            let bytes = Dense::bytes(next, v);
            if bytes > DENSE_MAX || dense_bytes + bytes > memory / 4 {
                break;
            }
            contexts = next;
            dense_bytes += bytes;
            dense += 1;
        }
        let hashed_orders: Vec<usize> = (dense..=order).collect();
        // Equal shares, each of at least two of the widest buckets.
        let widest = hashed_orders
            .iter()
            .map(|&k| 2 * Hashed::bucket_bytes(entries(k)))
            .max()
            .unwrap_or(0);
        let least = dense_bytes + hashed_orders.len() * widest;
        if memory < least {
            return Err(Error::MemoryLimit {
                limit: memory as u64,
                needed: least as u64,
                reason: format!(
                    "the predictor's tables of order 0..={order} over {symbols} symbols need at \
                     least {least} bytes"
                ),
            });
        }
        // The match model takes an eighth of what is left, the hashed orders share the rest.
        let lens = match_lens(v);
        let matchers = lens.map(|l| Matcher::new((memory - least) / 16, tokens, l));
        let matched: usize = matchers.iter().map(Matcher::memory).sum();
        let share = (memory - dense_bytes - matched) / hashed_orders.len().max(1);
        let tables: Vec<Hashed> = hashed_orders
            .iter()
            .map(|&k| {
                let contexts = v.checked_pow(k as u32).unwrap_or(usize::MAX).min(tokens);
                let useful = (contexts.max(2) * 3 / 2) * Hashed::bucket_bytes(entries(k));
                Hashed::within(share.min(useful), entries(k), hashed_cap(k))
            })
            .collect::<Option<_>>()
            .ok_or_else(|| Error::Invalid("internal: a hashed share below two buckets".into()))?;
        let settings = Settings {
            name: "tokens",
            parts: Vec::new(),
            order,
            vocab,
            memory: dense_bytes + matched + tables.iter().map(Hashed::bytes).sum::<usize>(),
            dense,
            hashed: hashed_orders
                .iter()
                .zip(&tables)
                .map(|(&k, t)| (k, t.bytes() / Hashed::bucket_bytes(entries(k)), entries(k)))
                .collect(),
        };
        let possible = (vocab - u64::from(excluded)).max(1);
        let mut rows = Vec::with_capacity(dense);
        rows.push(0);
        Ok(Self {
            order,
            vocab: v,
            base: 1.0 / possible as f64,
            dense: (0..dense).map(|k| Dense::new(v.pow(k as u32), v)).collect(),
            tables,
            params: Params::new(order + 1),
            mixer: Mixer::new(order + 1),
            history: Vec::with_capacity(order),
            hashes: Vec::with_capacity(order),
            rows,
            levels: Vec::with_capacity(order + 1),
            expected: Vec::with_capacity(order + 1),
            matchers,
            sse: std::array::from_fn(|_| Sse::new(LEN_CLASSES * DEPTHS)),
            decisions: Vec::with_capacity(MATCHERS),
            settings,
        })
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Starts a new document: no context, statistics kept.
    pub fn reset(&mut self) {
        self.history.clear();
        self.hashes.clear();
        self.rows.truncate(1);
        for m in &mut self.matchers {
            m.reset();
        }
    }

    /// The figures of `x` at `order` in the current context.
    #[inline]
    fn stats(&self, order: usize, x: u32) -> Stats {
        match self.dense.get(order) {
            Some(table) => table.stats(self.rows[order], x),
            None => self.tables[order - self.dense.len()].stats(self.hashes[order - 1], x),
        }
    }

    /// The blend's levels for `x` in `levels` (order 0 first).
    fn blend_into(&self, x: u32, levels: &mut Vec<Level>) {
        levels.clear();
        let mut q = self.base;
        for k in 0..=self.history.len() {
            let stats = self.stats(k, x);
            if stats.total == 0 && k > 0 {
                // An unseen context: q stays, and deeper ones are (but for collisions)
                // unseen too. Stopping here depends on the context only, not on x, so the
                // distribution stays proper.
                break;
            }
            let param = Params::index(k, &stats);
            let below = q;
            q = self.params.blend(&stats, param, below);
            levels.push(Level {
                stats,
                param,
                below,
                q,
            });
        }
    }

    /// `q(x | context)`: the blend's `b(x) = bx`, then each match stage in turn
    /// ([`super::sse`]: `Q_i(s_i) = h_i`, `Q_i(y) = (1 - h_i) Q_{i-1}(y) / (1 - Q_{i-1}(s_i))`),
    /// a stage skipped when the one before is already sure of its symbol (context only).
    /// `decisions` receives each stage's decision, for learning; `scratch` holds levels.
    fn staged(
        &self,
        x: u32,
        bx: f64,
        depth: usize,
        scratch: &mut Vec<Level>,
        decisions: &mut Vec<(usize, u32, Decision)>,
    ) -> f64 {
        decisions.clear();
        let mut stages = [(0usize, 0u32, 0usize); MATCHERS];
        let mut n = 0;
        for (i, m) in self.matchers.iter().enumerate() {
            if let Some((s, len)) = m.expected() {
                let group = match depth {
                    0..=2 => 0,
                    3..=4 => 1,
                    5..=7 => 2,
                    _ => 3,
                };
                stages[n] = (i, s, len_class(len) + LEN_CLASSES * group);
                n += 1;
            }
        }
        if n == 0 {
            return bx;
        }
        // The symbols asked about (x first) and the current stage's Q at each.
        let mut syms = [0u32; MATCHERS + 1];
        let mut q = [0f64; MATCHERS + 1];
        syms[0] = x;
        q[0] = bx;
        let mut m = 1;
        for &(_, s, _) in &stages[..n] {
            if !syms[..m].contains(&s) {
                self.blend_into(s, scratch);
                syms[m] = s;
                q[m] = self.mixer.probability(scratch);
                m += 1;
            }
        }
        for &(i, s, class) in &stages[..n] {
            let j = syms[..m].iter().position(|&y| y == s).unwrap_or(0);
            let qs = q[j];
            if 1.0 - qs < SURE {
                continue;
            }
            let d = self.sse[i].predict(class, qs);
            let rest = (1.0 - d.h) / (1.0 - qs);
            for (y, v) in syms[..m].iter().zip(&mut q[..m]) {
                *v = if *y == s { d.h } else { *v * rest };
            }
            decisions.push((i, s, d));
        }
        q[0]
    }

    /// `q(x | context)` without changing anything (the tests sum it over every id).
    pub fn probability(&self, x: u32) -> f64 {
        let mut levels = Vec::with_capacity(self.order + 1);
        self.blend_into(x, &mut levels);
        let bx = self.mixer.probability(&levels);
        let depth = levels.len();
        self.staged(x, bx, depth, &mut levels, &mut Vec::new())
    }

    /// Codes `x`: returns `q(x | context)`, then learns from it and moves the context on.
    pub fn code(&mut self, x: u32) -> f64 {
        let mut levels = std::mem::take(&mut self.levels);
        let mut scratch = std::mem::take(&mut self.expected);
        let mut decisions = std::mem::take(&mut self.decisions);
        self.blend_into(x, &mut levels);
        let bx = self.mixer.probability(&levels);
        let q = self.staged(x, bx, levels.len(), &mut scratch, &mut decisions);
        for (i, s, d) in &decisions {
            self.sse[*i].learn(d, *s == x);
        }
        self.mixer.learn(&levels, bx);
        self.params.learn(&levels);
        self.levels = levels;
        self.expected = scratch;
        self.decisions = decisions;
        self.update(x);
        for m in &mut self.matchers {
            m.update(x);
        }
        q
    }

    /// Adds `x` to every order's counts in the current context and appends it to the
    /// context.
    fn update(&mut self, x: u32) {
        for k in 0..=self.history.len() {
            match self.dense.get_mut(k) {
                Some(table) => {
                    table.add(self.rows[k], x);
                }
                None => {
                    let d = self.dense.len();
                    self.tables[k - d].add(self.hashes[k - 1], x);
                }
            }
        }
        if self.order == 0 {
            return;
        }
        if self.history.len() == self.order {
            self.history.remove(0);
        }
        self.history.push(x);
        hashes(&self.history, &mut self.hashes);
        // Row of order k: the last k tokens as a base-V number, the newest the lowest digit.
        let reach = self.dense.len().min(self.history.len() + 1);
        self.rows.truncate(1);
        let (mut row, mut scale) = (0usize, 1usize);
        for &t in self.history.iter().rev().take(reach - 1) {
            row += t as usize * scale;
            scale *= self.vocab;
            self.rows.push(row);
        }
    }

    /// Prefetches the buckets of the context `window` (the tokens before a later position,
    /// newest last, at most `order` of them).
    pub fn prefetch(&self, window: &[u32], scratch: &mut Vec<u64>) {
        hashes(window, scratch);
        let d = self.dense.len();
        for (k, &h) in scratch.iter().enumerate().skip(d.saturating_sub(1)) {
            self.tables[k + 1 - d].prefetch(h);
        }
    }

    pub fn order(&self) -> usize {
        self.order
    }
}

/// Hashes of the contexts of order 1..=window.len() (the last k tokens of `window`).
fn hashes(window: &[u32], out: &mut Vec<u64>) {
    out.clear();
    let mut h: u64 = 0x243f_6a88_85a3_08d3;
    for &t in window.iter().rev() {
        h = mix(h ^ u64::from(t));
        out.push(h);
    }
}

/// The splitmix64 finaliser (Steele, Lea & Flood 2014): every input bit moves every output
/// bit, so low bits index buckets and high bits tag them.
#[inline]
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
