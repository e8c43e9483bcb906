//! The bit-level context-mixing model for small vocabularies (bytes): each symbol is coded
//! as its binary decisions, each decision predicted by a logistic mix of many context
//! models, in the family of PAQ8 / lpaq (Mahoney 2005, "Adaptive weighing of context models
//! for lossless data compression"; Mahoney 2007, lpaq1; the design facts from "Data
//! Compression Explained", Mahoney 2013, ch. 4.3).
//!
//! - **Binary decomposition.** A vocabulary of `V'` codable ids (the separator excluded)
//!   takes `B = ceil(log2 V')` bits, most significant first. A branch whose ids all lie at
//!   or above `V'` is never taken: that bit is forced to 0 and costs nothing. Every other
//!   node codes its bit with `P(1) = p/65536`, `P(0) = 1 - P(1)`, `1 <= p <= 65535`, so
//!   `q(x) = Π P(bit)` is positive and sums to exactly 1 over the `V'` ids (a proper binary
//!   tree of conditionals; the state a node sees depends on the bits above it only).
//!   `-ln q(x)` is the sum of its bits' costs.
//! - **Contexts.** Order 0 and order 1 are exact tables of adaptive probabilities; orders
//!   2 to 6 and 8 (the default order 8; see [`hashed_orders`]) and, from order 2, six text
//!   contexts ([`text`]: words, brackets, columns) are hashed into [`contexts`]' slots of
//!   bit-history states, each state mapped to a probability by a table learned per context
//!   ([`counters`]). A context is the current document's last symbols: after a separator
//!   the orders see a shorter history (a different hash), the tables are kept.
//! - **Match model** ([`matcher`]): the symbol after the last occurrence of the last 6+
//!   symbols predicts each bit while its prefix agrees, by match length.
//! - **Mixing** ([`mixer`]): two logistic mixers over the same inputs, one with weight
//!   vectors selected by the bits of the symbol seen so far, the match state and how many
//!   of the hashed orders have seen this node (the role of PPM's escape to the longest
//!   context seen; 4 MB of English 1.4419 -> 1.4346 bits/byte), one by the last symbol and
//!   the bit position, averaged in the logistic domain (a fixed second layer; a learned
//!   one coded 0.02% shorter for a third more mixing); then two SSE stages ([`apm`]), by
//!   the last symbol and by a hash of the last two, with the bits so far, averaged with
//!   the mix as `(2p + 3a_1 + 3a_2)/8` (lpaq1's APM chain by orders 1 and 2; the second
//!   stage: 1.4401 -> 1.4346; a stage by the bits so far alone cost time and coded 0.05%
//!   longer).
//!
//! Deterministic: integer arithmetic in a fixed order (the cost of a symbol is the product
//! of its bits' probabilities in f64, then one `ln`), sequential, so the same bits for any
//! thread count. Memory: the slot table takes what the limit leaves after the fixed tables
//! (about 10 MB) and the match model (a ring of recent symbols and a table of positions,
//! both no larger than the input needs), never more than the input can fill.

mod apm;
mod coder;
mod contexts;
mod counters;
mod matcher;
mod mixer;
mod parts;
mod recency;
mod text;
mod wide;

use apm::Apm;
pub use coder::BitCoder;
use coder::{bit_settings, find_slots, learn_states, slot_buckets, slot_hash, Ids};
use contexts::{mix, SlotTable, WAYS};
use counters::{Counters, Logistic};
use matcher::{len_class, vote, ByteMatch, MIN_LEN};
use mixer::Mixer;
use parts::{match_model, Parts};
use text::{Text, TEXT_CONTEXTS};

pub use wide::{WideModel, DEFAULT_WIDE_ORDER, MAX_WIDE_BITS};

use super::model::Settings;
use crate::error::Result;

/// The largest codable vocabulary (bytes).
pub const MAX_SYMBOLS: u64 = 1 << BYTE_BITS;
const BYTE_BITS: u32 = 8;
/// The longest context order the bit model takes.
pub const MAX_BIT_ORDER: usize = 8;
/// The longest context order when none is given.
pub const DEFAULT_BIT_ORDER: usize = 8;

/// Count limits of the adaptive probabilities: state maps and the order-0/1 tables learn
/// nearly stationary frequencies. (4 MB of English: state-map limits 127 / 255 / 1023
/// coded 1.5145 / 1.5129 / 1.5119 bits/byte; SSE weights (2, 1, 1) 1.5149, (1, 0, 3)
/// 1.5112.) A second, fast order-1 table (limit 30) was dropped once the text contexts
/// came: 4 MB 1.433979 -> 1.433150 bits/byte without it, our docs 1.8472 -> 1.8393,
/// Markov V = 40 at 10^6 +0.01867 -> +0.01748 nats above the rate.
const SLOW: u32 = 1023;
/// The wide model's fast order-1 table, which follows recent tokens.
const FAST: u32 = 30;
/// Mixer: starting weight (1/65536) and learning rate.
const W0: i32 = 22_000;
const LR: i32 = 10;
/// Inputs of the mixers: orders 0 and 1, up to 6 hashed orders and the text
/// contexts, the match model's two, the bias last.
const INPUTS: usize = 24;
/// Input slots.
const IN_O0: usize = 0;
const IN_O1: usize = 1;
const IN_CTX: usize = 2;
const IN_BIAS: usize = INPUTS - 1;
/// Match state classes for the mixer's weight sets: none, short, long.
const MATCH_CLASSES: usize = 3;

/// The hashed orders of a longest order `k`: 2 to 6 (up to `k`), and `k` itself.
/// On 1 MB of English, orders 2-6 and 8 coded 1.0% shorter than lpaq1's 2, 3, 4, 6.
pub fn hashed_orders(k: usize) -> Vec<usize> {
    let mut v: Vec<usize> = (2..=k.min(6)).collect();
    if k > 6 {
        v.push(k);
    }
    v
}

/// Parts of the byte model switched off, to measure what each costs and buys together
/// (docs/prequential.md, the speed frontier). The default is the whole model.
#[doc(hidden)]
#[derive(Clone, Debug, Default)]
pub struct Trim {
    /// The hashed orders instead of [`hashed_orders`]'s.
    pub orders: Option<Vec<usize>>,
    /// How many of the text contexts (in [`text::Text::hashes`]' order) at most.
    pub texts: Option<usize>,
    /// Without the second mixer; without the SSE stages.
    pub no_mixer2: bool,
    pub no_sse: bool,
}

#[derive(Clone)]
pub struct BitModel {
    /// The tables (the byte model's SSE stages: by the last symbol, by a hash of the last
    /// two, each with the bits so far).
    p: Parts<u8, INPUTS>,
    ids: Ids,
    order: usize,
    /// Hashed orders, then the text contexts (when used).
    orders: Vec<usize>,
    /// The text state of the current document (from order 2), and the same run ahead by
    /// [`BitModel::prefetch`] over the symbols it is shown (a hint only: never read for a
    /// prediction).
    text: Option<Text>,
    ahead: Text,
    apm_mask: usize,
    // The current document.
    hist: u64,
    doc_len: u64,
    c1: usize,
    /// The order-2 SSE stage's row of the symbol (its hash of the last two symbols).
    row2: usize,
    // The current symbol.
    hashes: Vec<u64>,
    slots: Vec<usize>,
    inputs: [i32; INPUTS],
    settings: Settings,
    trim: Trim,
}

/// The `(order 1 row)` of the previous symbol, or the start of a document.
const START: usize = 256;

impl BitModel {
    /// A model over ids `0..vocab` (the `separator`, if any, never coded) with contexts up to
    /// `order`, within `memory` bytes, for a stream of `tokens` tokens, without the parts
    /// `trim` names (the default: none).
    ///
    /// # Errors
    /// More than [`MAX_SYMBOLS`] codable ids, an order above [`MAX_BIT_ORDER`], a memory
    /// limit below the fixed tables plus a minimal slot table.
    pub fn new(
        vocab: u64,
        separator: Option<u64>,
        order: usize,
        memory: usize,
        tokens: usize,
        trim: &Trim,
    ) -> Result<Self> {
        let ids = Ids::new(vocab, separator, order, (BYTE_BITS, ""))?;
        let lg = Logistic::new();
        let orders = if order >= 2 {
            trim.orders.clone().unwrap_or_else(|| hashed_orders(order))
        } else {
            Vec::new()
        };
        let text = (order >= 2 && trim.texts != Some(0)).then(Text::new);
        // Below 128 ids no ASCII letter is codable: the words' first two contexts only (an
        // order 1 and 0 there), as before the text contexts (Markov V = 40 at 10^6: the
        // other four cost 0.02 nats/token).
        let texts = match text {
            Some(_) if vocab >= 128 => TEXT_CONTEXTS,
            Some(_) => 2,
            None => 0,
        }
        .min(trim.texts.unwrap_or(TEXT_CONTEXTS));
        let contexts = orders.len() + texts;
        // The SSE stages: a row per (last symbol, bits so far) while the limit is large,
        // folded into fewer rows under a small one; as many for the order-2 hash.
        let apm_rows = prev_power_of_two(memory / 16 / 66).clamp(1 << 8, 1 << 16);
        let sets = 256 * MATCH_CLASSES * (orders.len() + 1);
        let mut fixed = Self::fixed_bytes(apm_rows, sets, contexts);
        // The match model: a ring holding the whole input if it can, a position per symbol.
        let matcher = (order >= 1).then(|| match_model::<u8>(tokens, memory, 8));
        fixed += matcher.as_ref().map_or(0, ByteMatch::bytes);
        // Each symbol touches at most two slots per context, most of them slots seen
        // before: room for one per symbol and context (4 MB of English: 1.5112 -> 1.5113
        // bits/byte for half the memory; a quarter 1.5116).
        let useful = tokens.max(1) * contexts.max(1) / WAYS + 16;
        let buckets = slot_buckets(memory, fixed, useful, "orders 0-1, mixer, SSE, match model")?;
        let table = SlotTable::new(buckets);
        let mut model = Self {
            ids,
            order,
            text,
            ahead: Text::new(),
            p: Parts {
                table,
                maps: (0..contexts).map(|_| Counters::new(256, SLOW)).collect(),
                o0: Counters::new(256, SLOW),
                o1_slow: Counters::new(257 * 256, SLOW),
                // Not used by the byte model (the wide one's).
                o1_fast: Counters::new(0, SLOW),
                matcher,
                match_map: Counters::new(64, SLOW),
                mixer: Mixer::new(sets, W0, LR),
                mixer2: Mixer::new(257 * 8, W0, LR),
                apm1: Apm::new(apm_rows, 7, &lg),
                apm2: Apm::new(apm_rows, 7, &lg),
                lg,
            },
            apm_mask: apm_rows - 1,
            hist: 0,
            doc_len: 0,
            c1: START,
            row2: 0,
            hashes: vec![0; contexts],
            slots: vec![0; contexts],
            inputs: [0; INPUTS],
            settings: Settings::default(),
            orders,
            trim: trim.clone(),
        };
        model.settings = bit_settings(
            (vocab, order, model.bytes()),
            ids.bits,
            (&model.orders, if order >= 1 { 2 } else { 1 }),
            &model.p.table,
            model.p.matcher.as_ref().map(|m| (m.window(), MIN_LEN)),
            &[
                ("text_contexts", contexts - model.orders.len()),
                ("mixer_weight_sets", sets),
                ("sse_stages", 2),
            ],
        );
        model.start_symbol();
        Ok(model)
    }

    /// Bytes of the tables that do not depend on the memory limit: counters, mixers
    /// (`sets` weight vectors in the first), the SSE stages, the model itself.
    fn fixed_bytes(apm_rows: usize, sets: usize, contexts: usize) -> usize {
        let counters = (256 + 257 * 256 + 64 + contexts * 256) * 4;
        let mixer = (sets + 257 * 8) * INPUTS * 2;
        let apm = 2 * apm_rows * 33 * 2;
        counters + mixer + apm + std::mem::size_of::<Self>() + 16 * 1024
    }

    fn bytes(&self) -> usize {
        self.p.bytes() + std::mem::size_of::<Self>()
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Starts a new document: no context, statistics kept.
    pub fn reset(&mut self) {
        self.hist = 0;
        self.doc_len = 0;
        self.c1 = START;
        if let Some(t) = &mut self.text {
            t.reset();
        }
        if let Some(m) = &mut self.p.matcher {
            m.reset();
        }
        self.start_symbol();
    }

    /// The context hashes of the next symbol and its first slots.
    fn start_symbol(&mut self) {
        for (m, &k) in self.orders.iter().enumerate() {
            self.hashes[m] = order_hash(self.hist, self.doc_len, k);
        }
        if let Some(t) = &self.text {
            let n = self.orders.len();
            let all = t.hashes(self.hist, self.c1);
            let k = self.hashes.len() - n;
            self.hashes[n..].copy_from_slice(&all[..k]);
        }
        self.find_slots(1);
        self.row2 = (mix(self.hist & 0xffff) as usize) << 8;
        self.p.apm1.prefetch((self.c1 * 256 + 1) & self.apm_mask);
        self.p.apm2.prefetch((self.row2 + 1) & self.apm_mask);
    }

    /// Asks the memory for the slots of the contexts that a later symbol `next` (an id)
    /// will use, after the document's symbols `window` (ids, oldest first, at most
    /// [`MAX_BIT_ORDER`]; `doc_len` symbols of the document before `next`). Called for each
    /// symbol in turn, it runs a copy of the text state over them (a wrong guess, e.g. on
    /// the first call, costs time only).
    pub fn prefetch(&mut self, window: &[u64], doc_len: u64, next: u64) {
        let hist = window
            .iter()
            .fold(0u64, |h, &id| (h << 8) | u64::from(self.code_of(id)));
        let x = self.code_of(next);
        if let Some(m) = &self.p.matcher {
            m.prefetch(match_hash((hist << 8) | u64::from(x)));
        }
        let first = self.ids.bits.saturating_sub(4);
        let salts = [1, (1 << first) | (x >> (self.ids.bits - first))];
        let ask = |h: u64| {
            let home = self.p.table.prefetch(slot_hash(h, salts[0]));
            if first > 0 {
                self.p.table.prefetch_near(home, slot_hash(h, salts[1]));
            }
        };
        for &k in &self.orders {
            ask(order_hash(hist, doc_len, k));
        }
        if self.text.is_some() {
            let last = window.last().map(|&c| self.code_of(c) as usize);
            match last {
                Some(c1) if doc_len > 0 => self.ahead.update(c1 as u8),
                _ => self.ahead.reset(),
            }
            let k = self.hashes.len() - self.orders.len();
            for &h in &self.ahead.hashes(hist, last.unwrap_or(START))[..k] {
                ask(h);
            }
        }
    }
}

impl BitCoder for BitModel {
    fn ids(&self) -> &Ids {
        &self.ids
    }

    /// Slots cover the last four bits; the first chunk the rest.
    #[inline]
    fn starts_chunk(&self, i: u32) -> bool {
        i == self.ids.bits.saturating_sub(4)
    }

    #[inline]
    fn find_slots(&mut self, c0: u32) {
        // The second nibble in the page of the first.
        find_slots(&mut self.p.table, &self.hashes, &mut self.slots, c0, c0 > 1);
    }

    #[inline]
    fn predict(&mut self, c0: u32, node: usize, i: u32) -> u32 {
        let lg = &self.p.lg;
        let c0u = c0 as usize;
        let x = &mut self.inputs;
        x[IN_O0] = lg.stretch(self.p.o0.p16(c0u));
        if self.order >= 1 {
            let r = self.c1 * 256 + c0u;
            x[IN_O1] = lg.stretch(self.p.o1_slow.p16(r));
        }
        for (m, &slot) in self.slots.iter().enumerate() {
            let s = self.p.table.state(slot, node);
            x[IN_CTX + m] = lg.stretch(self.p.maps[m].p16(s as usize));
        }
        let at = IN_CTX + self.slots.len();
        let mut class = 0;
        x[at] = 0;
        x[at + 1] = 0;
        let expected = self.p.matcher.as_ref().and_then(ByteMatch::expected);
        if let Some((bit, lq)) = vote(expected, self.ids.bits, i, c0) {
            let p = self.p.match_map.p16(lq * 2 + bit as usize);
            x[at] = lg.stretch(p);
            let sure = (lq as i32 * 64).min(2047);
            x[at + 1] = if bit == 1 { sure } else { -sure };
            class = if lq < 16 { 1 } else { 2 };
        }
        x[IN_BIAS] = 256;
        let seen = self.slots[..self.orders.len()]
            .iter()
            .filter(|&&slot| self.p.table.state(slot, node) != 0)
            .count();
        self.p
            .mixer
            .mix(x, c0u + 256 * (class + MATCH_CLASSES * seen), lg);
        let st = if self.trim.no_mixer2 {
            self.p.mixer.dot()
        } else {
            let depth = 31 - c0.leading_zeros();
            self.p.mixer2.mix(x, self.c1 * 8 + depth as usize, lg);
            (self.p.mixer.dot() + self.p.mixer2.dot()) / 2
        };
        let p_mix = lg.squash(st);
        if self.trim.no_sse {
            return p_mix;
        }
        let a1 = self
            .p
            .apm1
            .refine(st, (self.c1 * 256 + c0u) & self.apm_mask);
        let a2 = self.p.apm2.refine(st, (self.row2 + c0u) & self.apm_mask);
        // The next bit's two rows (adjacent), while this bit is coded.
        self.p
            .apm1
            .prefetch((self.c1 * 256 + 2 * c0u) & self.apm_mask);
        self.p.apm2.prefetch((self.row2 + 2 * c0u) & self.apm_mask);
        ((2 * p_mix + 3 * a1 + 3 * a2 + 4) / 8).clamp(1, 65535)
    }

    #[inline]
    fn learn(&mut self, c0: u32, node: usize, y: u32) {
        let c0u = c0 as usize;
        self.p.o0.update(c0u, y);
        if self.order >= 1 {
            let r = self.c1 * 256 + c0u;
            self.p.o1_slow.update(r, y);
        }
        learn_states(&mut self.p.table, &self.slots, &mut self.p.maps, node, y);
        let at = IN_CTX + self.slots.len();
        if self.inputs[at + 1] != 0 {
            let (_, len) = self
                .p
                .matcher
                .as_ref()
                .and_then(ByteMatch::expected)
                .unwrap_or((0, 0));
            let lq = len_class(len);
            let bit = u32::from(self.inputs[at + 1] > 0) as usize;
            self.p.match_map.update(lq * 2 + bit, y);
        }
        self.p.mixer.learn(y);
        if !self.trim.no_mixer2 {
            self.p.mixer2.learn(y);
        }
        if !self.trim.no_sse {
            self.p.apm1.learn(y);
            self.p.apm2.learn(y);
        }
    }

    fn end_symbol(&mut self, x: u32) {
        self.hist = (self.hist << 8) | u64::from(x);
        self.doc_len += 1;
        self.c1 = x as usize;
        if let Some(t) = &mut self.text {
            t.update(x as u8);
        }
        if let Some(m) = &mut self.p.matcher {
            m.update(x, match_hash(self.hist), self.doc_len, MIN_LEN);
        }
        self.start_symbol();
    }
}

/// The hash of the last [`MIN_LEN`] symbols (`hist`, newest in the low byte) that the
/// match model looks up.
#[inline]
fn match_hash(hist: u64) -> u64 {
    mix((hist & ((1 << (8 * MIN_LEN)) - 1)) ^ 0x6d61_7463_6800_0000)
}

/// The hash of the order-`k` context: the last `k` symbols of the document (`hist`, newest
/// in the low byte; `doc_len` symbols so far), fewer at its start.
#[inline]
fn order_hash(hist: u64, doc_len: u64, k: usize) -> u64 {
    let avail = (k as u64).min(doc_len);
    let bytes = if avail >= 8 {
        hist
    } else {
        hist & ((1u64 << (8 * avail)) - 1)
    };
    mix(bytes ^ SALTS[k][avail as usize])
}

/// `mix((k << 8) | avail)` of every order `k` and available length `avail <= k`: the salt
/// that keeps contexts of different orders and lengths apart (computed once, not per byte).
static SALTS: [[u64; MAX_BIT_ORDER + 1]; MAX_BIT_ORDER + 1] = salts();

const fn salts() -> [[u64; MAX_BIT_ORDER + 1]; MAX_BIT_ORDER + 1] {
    let mut t = [[0u64; MAX_BIT_ORDER + 1]; MAX_BIT_ORDER + 1];
    let mut k = 0;
    while k <= MAX_BIT_ORDER {
        let mut a = 0;
        while a <= MAX_BIT_ORDER {
            t[k][a] = contexts::mix(((k as u64) << 8) | a as u64);
            a += 1;
        }
        k += 1;
    }
    t
}

fn prev_power_of_two(n: usize) -> usize {
    if n == 0 {
        0
    } else {
        1 << (usize::BITS - 1 - n.leading_zeros())
    }
}

#[cfg(test)]
mod tests;
