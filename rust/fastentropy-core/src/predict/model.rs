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
//! levels ([`Mixer`]).

use super::blend::{Level, Mixer, Params};
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
/// caps clearly (4 MB of dictionary text: cap 16 codes 1.664 bits/byte, cap 65536 1.745);
/// the dense low orders keep [`super::table::COUNT_CAP`]'s precision, which a stationary source needs.
fn hashed_cap(order: usize) -> u32 {
    if order <= 2 {
        32
    } else {
        16
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
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
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
    settings: Settings,
}

impl Model {
    /// A model of contexts up to `order` over ids `0..vocab`, of which `excluded` (the
    /// separator) never occurs, held in tables over `symbols` symbols (see
    /// [`super::ranks`]: `vocab` when ids are not remapped), within `memory` bytes, for a
    /// stream of `tokens` tokens (a hashed order never gets more buckets than it can have contexts, so short
    /// inputs do not pay for zeroing a gigabyte).
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
        let share = (memory - dense_bytes) / hashed_orders.len().max(1);
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
            order,
            vocab,
            memory: dense_bytes + tables.iter().map(Hashed::bytes).sum::<usize>(),
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

    /// `q(x | context)` without changing anything (the tests sum it over every id).
    pub fn probability(&self, x: u32) -> f64 {
        let mut levels = Vec::with_capacity(self.order + 1);
        self.blend_into(x, &mut levels);
        self.mixer.probability(&levels)
    }

    /// Codes `x`: returns `q(x | context)`, then learns from it and moves the context on.
    pub fn code(&mut self, x: u32) -> f64 {
        let mut levels = std::mem::take(&mut self.levels);
        self.blend_into(x, &mut levels);
        let q = self.mixer.probability(&levels);
        self.mixer.learn(&levels, q);
        self.params.learn(&levels);
        self.levels = levels;
        self.update(x);
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
