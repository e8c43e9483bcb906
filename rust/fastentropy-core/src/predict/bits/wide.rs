//! The bit-level context-mixing model for large vocabularies (BPE tokens and the like): the
//! byte model's machinery ([`super`]: Mahoney 2005, lpaq1 2007, "Data Compression
//! Explained" ch. 4.3) with contexts made of whole previous tokens.
//!
//! - **Binary decomposition.** As for bytes: `B = ceil(log2 V')` bits, most significant
//!   first, a branch holding only ids `>= V'` forced (no cost), every other bit coded with
//!   `1 <= p <= 65535` in 1/65536, so `q(x) = Π P(bit)` is positive and sums to exactly 1 over
//!   the `V'` codable ids. The bits are cut into chunks of at most four from the least
//!   significant end (`B = 14`: 2, 4, 4, 4); each chunk of each context finds its own slot
//!   of 15 bit-history states ([`super::contexts`]), keyed by the context and the bits of
//!   the symbol above the chunk, so a slot is a node subtree of that context's successor
//!   distribution (PPM's successor list, held as a binary tree of adaptive probabilities).
//! - **Contexts.** Order 0: an exact table of adaptive probabilities per node of the tree.
//!   Order 1 twice more as adaptive probabilities (slow and fast), hashed by (previous token,
//!   node) without a check (a collision costs compression, never normalisation). Orders
//!   1..=4, 6 and the longest order (see [`wide_orders`]) as hashed slots of bit-history
//!   states. A context is the current document's last tokens.
//! - **Long memory** (from order 2): sparse contexts, the token at distance 2, 3 and 4
//!   alone (PAQ8's sparse models; up to the order), and the most frequent of the last 16
//!   tokens, as slots like the orders'; the cache inputs of [`super::recency`] (the last 32
//!   tokens that agree with the bits so far). A hidden state or topic that lasts ~20 tokens
//!   shows in each of them, where an n-gram context of a few tokens rarely has been seen.
//! - **Match model**: the token after the last occurrence of the last [`WIDE_MIN_LEN`]
//!   tokens predicts each bit while its prefix agrees.
//! - **Mixing**: a logistic mixer whose weight set is chosen by how many n-gram contexts have
//!   seen the current node (the role of PPM's escape to the longest matching order), the
//!   match state, the bit position and the cache's class; a second by the bits so far; two
//!   SSE stages (by the bits so far, by the previous token with them), averaged as for bytes.
//!
//! Deterministic (integer arithmetic in a fixed order, sequential).

use super::apm::Apm;
use super::coder::{
    bit_settings, find_slots, learn_states, slot_buckets, slot_hash, BitCoder, Ids,
};
use super::contexts::{mix, SlotTable, WAYS};
use super::counters::{Counters, Logistic};
use super::matcher::{vote, Match};
use super::mixer::Mixer;
use super::parts::{match_model, Parts};
use super::recency::{Recency, CACHE_CLASSES, CACHE_INPUTS};
use super::{prev_power_of_two, FAST, SLOW};
use crate::error::{Error, Result};
use crate::predict::model::Settings;

/// The most bits per id the wide model codes (`V' <= 2^20`).
pub const MAX_WIDE_BITS: u32 = 20;
/// Tokens hashed to find a match (and the least length of a verified one).
/// (4 MB of English in 16k BPE tokens: 1 and 2 tokens code 1.6863 and 1.6874 bits/byte; 3
/// and 5, measured before the run inputs were added, 0.2% and 0.5% more than 2.)
pub const WIDE_MIN_LEN: u64 = 1;
/// Mixer starting weight (1/65536, more inputs than bytes: smaller) and learning rate.
const W0_WIDE: i32 = 16_000;
const LR_WIDE: i32 = 6;
/// The longest order when none is given.
pub const DEFAULT_WIDE_ORDER: usize = 6;
/// Counters of each order-1 table of adaptive probabilities (at most).
const O1_SIZE: usize = 1 << 22;
/// Match state classes: none, short, long.
const MATCH_CLASSES: usize = 3;
/// Weight sets of the second mixer chosen by the bits so far (deeper bits share by depth).
const PREFIX_SETS: usize = 4096;
/// Inputs: order 0, order 1 slow and fast, then the hashed contexts, the match model's two,
/// the bias last.
const IN_O1: usize = 1;
const IN_CTX: usize = 3;
/// Inputs of the wide model's mixers: up to 12 contexts with a run input each, the match
/// model's two, the cache's, the bias.
const INPUTS: usize = 32;
/// Contexts beyond the orders: sparse ones (the token at a distance alone), the recent mode.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Extra {
    /// The token at this distance (1: the previous token) alone.
    Skip(usize),
    /// The most frequent recent token ([`Recency::mode`]).
    Mode,
}
/// Sparse distances (64-state hidden-Markov source, V = 2000, 10^6 tokens, nats/token above
/// the source: without 0.986, 2 and 3 0.556, 2-4 0.502; 4 MB of 16k BPE, bits/byte: 1.6866,
/// 1.6499, 1.6421).
const SKIPS: [usize; 3] = [2, 3, 4];
const IN_BIAS: usize = INPUTS - 1;
/// Bytes of a context's first slot that hold its run (the first chunk has at most 3 bits,
/// so nodes 1..=7 only): the last token seen in the context (3 bytes) and how many times in
/// a row (1 byte).
const RUN: usize = 8;

/// The long-memory contexts of a longest order `k`: the sparse distances up to `k`, the
/// recent mode from order 2.
fn extras(k: usize) -> Vec<Extra> {
    let mut v: Vec<Extra> = SKIPS
        .iter()
        .filter(|&&d| d <= k)
        .map(|&d| Extra::Skip(d))
        .collect();
    if k >= 2 {
        v.push(Extra::Mode);
    }
    v
}

/// The hashed orders of a longest order `k`: 1 to 4 (up to `k`), 6, and `k` itself.
pub fn wide_orders(k: usize) -> Vec<usize> {
    let mut v: Vec<usize> = (1..=k.min(4)).collect();
    for extra in [6, k] {
        if extra <= k && !v.contains(&extra) {
            v.push(extra);
        }
    }
    v
}

#[derive(Clone)]
pub struct WideModel {
    /// The tables (the wide model's SSE stages: by the bits so far, by the previous token
    /// with them).
    p: Parts<u32, INPUTS>,
    ids: Ids,
    orders: Vec<usize>,
    /// The long-memory contexts, after the orders in the slots.
    extras: Vec<Extra>,
    /// The recent tokens: the cache inputs and the mode (from order 2).
    recency: Option<Recency>,
    o1_mask: usize,
    /// Per context: (run length class, bit) -> P(1) when the run's token agrees so far.
    run_maps: Vec<Counters>,
    /// Weight sets of the second mixer chosen by the bits so far.
    prefix_sets: usize,
    /// Bits of the first chunk (at most 3, so its slot has room for the run).
    first: u32,
    apm1_mask: usize,
    apm2_mask: usize,
    // The current document: its last tokens, newest first.
    hist: [u32; 8],
    doc_len: u64,
    /// Hash of the previous token (0 at a document's start).
    h1: u64,
    // The current symbol.
    hashes: Vec<u64>,
    slots: Vec<usize>,
    /// The first-chunk slot of each context, where its run is kept.
    run_slots: Vec<usize>,
    /// Each context's run vote on the current bit.
    runs: Vec<Option<(u32, usize)>>,
    inputs: [i32; INPUTS],
    /// The match input's length class and bit, for the update.
    vote: Option<(u32, usize)>,
    settings: Settings,
}

impl WideModel {
    /// A model over ids `0..vocab` (the `separator`, if any, never coded) with contexts up to
    /// `order` tokens, within `memory` bytes, for a stream of `tokens` tokens.
    ///
    /// # Errors
    /// More than `2^`[`MAX_WIDE_BITS`] codable ids, an order above
    /// [`super::MAX_BIT_ORDER`], a memory limit below the fixed tables plus a minimal slot
    /// table.
    pub fn new(
        vocab: u64,
        separator: Option<u64>,
        order: usize,
        memory: usize,
        tokens: usize,
    ) -> Result<Self> {
        let ids = Ids::new(
            vocab,
            separator,
            order,
            (MAX_WIDE_BITS, ": give model=\"tokens\""),
        )?;
        let bits = ids.bits;
        let lg = Logistic::new();
        let orders = wide_orders(order);
        let extras = extras(order);
        let contexts = orders.len() + extras.len();
        let nodes = 1usize << bits;
        // Tables never larger than the input can fill (a node per bit per token).
        let fill = (tokens.max(1) * bits.max(1) as usize).next_power_of_two();
        let o1 = if order >= 1 {
            prev_power_of_two(memory / 64)
                .clamp(1 << 8, O1_SIZE)
                .min(fill.max(1 << 8))
        } else {
            1
        };
        let apm1_rows = nodes.min(1 << 16);
        let apm2_rows = prev_power_of_two(memory / 8 / 66)
            .clamp(1 << 8, 1 << 16)
            .min(fill.max(1 << 8));
        if contexts > 12 {
            return Err(Error::Invalid("internal: more than 12 contexts".into()));
        }
        let sets1 = (orders.len() + 1) * MATCH_CLASSES * bits.max(1) as usize * CACHE_CLASSES;
        let prefix_sets = PREFIX_SETS.min(nodes);
        let sets2 = prefix_sets + bits as usize;
        let matcher = (order >= 1).then(|| match_model::<u32>(tokens, memory, 32));
        let recency = (order >= 2).then(Recency::new);
        let fixed = (nodes + 2 * o1 + contexts * (256 + 64) + 64) * 4
            + recency.as_ref().map_or(0, Recency::bytes)
            + (sets1 + sets2) * INPUTS * 2
            + (apm1_rows + apm2_rows) * 33 * 2
            + matcher.as_ref().map_or(0, Match::bytes)
            + 16 * 1024;
        let chunks = bits.div_ceil(4) as usize;
        // A slot per chunk per context per token at most, most of them seen before: room
        // for half (4 MB of 16k BPE: 1.6848 -> 1.6866 bits/byte, 404 -> 228 MiB).
        let useful = tokens.max(1) * contexts.max(1) * chunks / (2 * WAYS) + 16;
        let what = format!(
            "over {} ids: order 0, order 1, mixers, SSE, match model",
            ids.symbols
        );
        let buckets = slot_buckets(memory, fixed, useful, &what)?;
        let mut model = Self {
            ids,
            p: Parts {
                table: SlotTable::new(buckets),
                maps: (0..contexts).map(|_| Counters::new(256, SLOW)).collect(),
                o0: Counters::new(nodes, SLOW),
                o1_slow: Counters::new(o1, SLOW),
                o1_fast: Counters::new(o1, FAST),
                matcher,
                match_map: Counters::new(64, SLOW),
                mixer: Mixer::new(sets1, W0_WIDE, LR_WIDE),
                mixer2: Mixer::new(sets2, W0_WIDE, LR_WIDE),
                apm1: Apm::new(apm1_rows, 7, &lg),
                apm2: Apm::new(apm2_rows, 7, &lg),
                lg,
            },
            o1_mask: o1 - 1,
            run_maps: (0..contexts).map(|_| Counters::new(64, SLOW)).collect(),
            prefix_sets,
            first: if bits.is_multiple_of(4) {
                bits.min(3)
            } else {
                bits % 4
            },
            run_slots: vec![0; contexts],
            runs: vec![None; contexts],
            apm1_mask: apm1_rows - 1,
            apm2_mask: apm2_rows - 1,
            hist: [0; 8],
            doc_len: 0,
            h1: 0,
            hashes: vec![0; contexts],
            slots: vec![0; contexts],
            inputs: [0; INPUTS],
            vote: None,
            settings: Settings::default(),
            orders,
            extras,
            recency,
        };
        let recent = if model.recency.is_some() {
            super::recency::RECENT
        } else {
            0
        };
        model.settings = bit_settings(
            (vocab, order, model.bytes()),
            bits,
            (&model.orders, 1),
            &model.p.table,
            model.p.matcher.as_ref().map(|m| (m.window(), WIDE_MIN_LEN)),
            &[
                ("order1_counters", o1),
                ("mixer_weight_sets", sets1),
                ("sse_stages", 2),
                ("sparse_contexts", model.extras.len()),
                ("recent_tokens", recent),
            ],
        );
        model.start_symbol();
        Ok(model)
    }

    fn bytes(&self) -> usize {
        self.p.bytes()
            + self.run_maps.iter().map(Counters::bytes).sum::<usize>()
            + self.recency.as_ref().map_or(0, Recency::bytes)
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Starts a new document: no context, statistics kept.
    pub fn reset(&mut self) {
        self.hist = [0; 8];
        self.doc_len = 0;
        self.h1 = 0;
        if let Some(m) = &mut self.p.matcher {
            m.reset();
        }
        if let Some(r) = &mut self.recency {
            r.reset();
        }
        self.start_symbol();
    }

    /// The order-1 counters' index of node `c0` after the previous token.
    #[inline]
    fn o1_row(&self, c0: u32) -> usize {
        self.node_row(c0, 0x9e37_79b9_7f4a_7c15, 20) & self.o1_mask
    }

    /// The order-1 SSE stage's row of node `c0` after the previous token.
    #[inline]
    fn apm2_row(&self, c0: u32) -> usize {
        self.node_row(c0, 0x2545_f491_4f6c_dd1d, 24) & self.apm2_mask
    }

    /// Asks the memory for the rows of the hashed tables by (previous token, node) that
    /// the node `c0` will read: they are far apart, a miss each (4 MB of BPE: a third of
    /// the time went to waiting for them before).
    #[inline]
    fn prefetch_node(&self, c0: u32) {
        let r = self.o1_row(c0);
        self.p.o1_slow.prefetch(r);
        self.p.o1_fast.prefetch(r);
        self.p.apm2.prefetch_row(self.apm2_row(c0));
    }

    /// A hash of (previous token, node `c0`): `salt` and `shift` keep the tables apart.
    #[inline]
    fn node_row(&self, c0: u32, salt: u64, shift: u32) -> usize {
        (self.h1.wrapping_add(u64::from(c0).wrapping_mul(salt)) >> shift) as usize
    }

    /// The context hashes of the next symbol and its first slots.
    fn start_symbol(&mut self) {
        for (m, &k) in self.orders.iter().enumerate() {
            self.hashes[m] = order_hash(&self.hist, self.doc_len, k);
        }
        let mode = self.recency.as_ref().map_or(0, Recency::mode);
        for (m, &e) in self.extras.iter().enumerate() {
            self.hashes[self.orders.len() + m] = extra_hash(e, &self.hist, self.doc_len, mode);
        }
        self.find_slots(1);
        self.run_slots.copy_from_slice(&self.slots);
        self.prefetch_node(1);
    }

    /// Asks the memory for every slot a later symbol `next` (an id) will use, after the
    /// document's symbols `window` (ids, oldest first, at most [`super::MAX_BIT_ORDER`];
    /// `doc_len` symbols of the document before `next`).
    pub fn prefetch(&self, window: &[u64], doc_len: u64, next: u64) {
        let mut hist = [0u32; 8];
        for (h, &id) in hist.iter_mut().zip(window.iter().rev()) {
            *h = self.code_of(id);
        }
        let x = self.code_of(next);
        if let Some(m) = &self.p.matcher {
            let mut with = [0u32; 8];
            with[0] = x;
            with[1..].copy_from_slice(&hist[..7]);
            m.prefetch(match_hash(&with, doc_len + 1, WIDE_MIN_LEN as usize));
        }
        let first = self.first;
        // The mode's slots are not asked for: it needs more tokens than the window (a
        // frequent token's, they are often at hand).
        let skips = self.extras.iter().filter_map(|&e| match e {
            Extra::Skip(_) => Some(extra_hash(e, &hist, doc_len, 0)),
            Extra::Mode => None,
        });
        for h in self
            .orders
            .iter()
            .map(|&k| order_hash(&hist, doc_len, k))
            .chain(skips)
        {
            let mut done = 0;
            while done < self.ids.bits {
                let c0 = (1 << done) | (x >> (self.ids.bits - done));
                let _ = self.p.table.prefetch(slot_hash(h, c0));
                done += if done == 0 { first } else { 4 };
            }
        }
    }
}

impl BitCoder for WideModel {
    fn ids(&self) -> &Ids {
        &self.ids
    }

    /// Chunks of four bits after the first of `first`.
    #[inline]
    fn starts_chunk(&self, i: u32) -> bool {
        i >= self.first && (i - self.first).is_multiple_of(4)
    }

    #[inline]
    fn find_slots(&mut self, c0: u32) {
        // Each chunk's slot hashed alone: in the page of the chunk before (as the bytes'
        // second nibble), 4 MB of 16k BPE coded 1.6163 -> 1.6164 bits/byte for no time.
        find_slots(&mut self.p.table, &self.hashes, &mut self.slots, c0, false);
    }

    #[inline]
    fn predict(&mut self, c0: u32, node: usize, i: u32) -> u32 {
        let lg = &self.p.lg;
        let c0u = c0 as usize;
        let r = self.o1_row(c0);
        let a2_row = self.apm2_row(c0);
        // Both children of this node: the next bit reads one of them.
        self.prefetch_node(c0 << 1);
        self.prefetch_node((c0 << 1) | 1);
        let x = &mut self.inputs;
        x[0] = lg.stretch(self.p.o0.p16(c0u));
        x[IN_O1] = lg.stretch(self.p.o1_slow.p16(r));
        x[IN_O1 + 1] = lg.stretch(self.p.o1_fast.p16(r));
        // The deepest context that has seen this node (0: none).
        let mut seen = 0;
        let orders = self.orders.len();
        for (m, &slot) in self.slots.iter().enumerate() {
            let s = self.p.table.state(slot, node);
            seen += usize::from(s != 0 && m < orders);
            x[IN_CTX + m] = lg.stretch(self.p.maps[m].p16(s as usize));
        }
        let n = self.slots.len();
        for m in 0..n {
            let at = self.run_slots[m];
            let count = self.p.table.state(at, RUN + 3);
            let vote_m = if count > 0 {
                let token = u32::from(self.p.table.state(at, RUN))
                    | u32::from(self.p.table.state(at, RUN + 1)) << 8
                    | u32::from(self.p.table.state(at, RUN + 2)) << 16;
                vote(Some((token, u64::from(count))), self.ids.bits, i, c0)
            } else {
                None
            };
            self.runs[m] = vote_m;
            x[IN_CTX + n + m] = match vote_m {
                Some((bit, lq)) => lg.stretch(self.run_maps[m].p16(lq * 2 + bit as usize)),
                None => 0,
            };
        }
        let at = IN_CTX + 2 * n;
        let expected = self.p.matcher.as_ref().and_then(Match::expected);
        self.vote = vote(expected, self.ids.bits, i, c0);
        let mut class = 0;
        if let Some((bit, lq)) = self.vote {
            x[at] = lg.stretch(self.p.match_map.p16(lq * 2 + bit as usize));
            let sure = (lq as i32 * 64).min(2047);
            x[at + 1] = if bit == 1 { sure } else { -sure };
            class = if lq < 16 { 1 } else { 2 };
        } else {
            x[at] = 0;
            x[at + 1] = 0;
        }
        let mut cache = 0;
        if let Some(r) = &mut self.recency {
            r.predict(
                self.ids.bits,
                i,
                c0,
                lg,
                &mut x[at + 2..at + 2 + CACHE_INPUTS],
            );
            cache = r.class();
        }
        x[IN_BIAS] = 256;
        // (4 MB of 16k BPE: with the cache's class 1.6198 -> 1.6163 bits/byte; the 64-state
        // source at 10^6: 0.4508 -> 0.4514 nats/token above it.)
        let set1 = ((seen * MATCH_CLASSES + class) * self.ids.bits as usize + i as usize)
            * CACHE_CLASSES
            + cache;
        self.p.mixer.mix(x, set1, lg);
        let set2 = if c0u < self.prefix_sets {
            c0u
        } else {
            self.prefix_sets + i as usize
        };
        self.p.mixer2.mix(x, set2, lg);
        let st = (self.p.mixer.dot() + self.p.mixer2.dot()) / 2;
        let p_mix = lg.squash(st);
        let a1 = self.p.apm1.refine(st, c0u & self.apm1_mask);
        let a2 = self.p.apm2.refine(st, a2_row);
        ((p_mix + a1 + 2 * a2 + 2) / 4).clamp(1, 65535)
    }

    #[inline]
    fn learn(&mut self, c0: u32, node: usize, y: u32) {
        self.p.o0.update(c0 as usize, y);
        let r = self.o1_row(c0);
        self.p.o1_slow.update(r, y);
        self.p.o1_fast.update(r, y);
        learn_states(&mut self.p.table, &self.slots, &mut self.p.maps, node, y);
        if let Some((bit, lq)) = self.vote {
            self.p.match_map.update(lq * 2 + bit as usize, y);
        }
        for (map, run) in self.run_maps.iter_mut().zip(&self.runs) {
            if let Some((bit, lq)) = run {
                map.update(lq * 2 + *bit as usize, y);
            }
        }
        if let Some(r) = &mut self.recency {
            r.learn(y);
        }
        self.p.mixer.learn(y);
        self.p.mixer2.learn(y);
        self.p.apm1.learn(y);
        self.p.apm2.learn(y);
    }

    fn end_symbol(&mut self, x: u32) {
        for &at in &self.run_slots {
            let token = u32::from(self.p.table.state(at, RUN))
                | u32::from(self.p.table.state(at, RUN + 1)) << 8
                | u32::from(self.p.table.state(at, RUN + 2)) << 16;
            let count = self.p.table.state(at, RUN + 3);
            if count > 0 && token == x {
                *self.p.table.state_mut(at, RUN + 3) = count.saturating_add(1);
            } else {
                for (k, b) in x.to_le_bytes()[..3].iter().enumerate() {
                    *self.p.table.state_mut(at, RUN + k) = *b;
                }
                *self.p.table.state_mut(at, RUN + 3) = 1;
            }
        }
        self.hist.copy_within(0..7, 1);
        self.hist[0] = x;
        self.doc_len += 1;
        if let Some(r) = &mut self.recency {
            r.push(x);
        }
        self.h1 = mix(u64::from(x) | (1 << 40));
        if let Some(m) = &mut self.p.matcher {
            let hash = match_hash(&self.hist, self.doc_len, WIDE_MIN_LEN as usize);
            m.update(x, hash, self.doc_len, WIDE_MIN_LEN);
        }
        self.start_symbol();
    }
}

/// The hash of a long-memory context (`hist`: the document's last tokens, newest first;
/// `doc_len` tokens so far; `mode`: [`Recency::mode`]).
#[inline]
fn extra_hash(e: Extra, hist: &[u32; 8], doc_len: u64, mode: u64) -> u64 {
    match e {
        Extra::Skip(d) => {
            let t = if (d as u64) <= doc_len {
                u64::from(hist[d - 1]) + 1
            } else {
                0
            };
            mix(mix(((d as u64) << 32) | 0xe0_0000_0000_0000) ^ t)
        }
        Extra::Mode => mix(mix(6 << 32 | 0xe0_0000_0000_0000) ^ mode),
    }
}

/// The hash of the last [`WIDE_MIN_LEN`] tokens (`hist`, newest first) for the match model.
#[inline]
fn match_hash(hist: &[u32; 8], doc_len: u64, n: usize) -> u64 {
    order_hash(hist, doc_len, n) ^ 0x6d61_7463_6800_0000
}

/// The hash of the order-`k` context: the last `k` tokens of the document (`hist`, newest
/// first; `doc_len` tokens so far), fewer at its start.
#[inline]
fn order_hash(hist: &[u32; 8], doc_len: u64, k: usize) -> u64 {
    let avail = (k as u64).min(doc_len) as usize;
    let mut h = mix(((k as u64) << 8) | avail as u64 | (1 << 48));
    for &t in &hist[..avail] {
        h = mix(h ^ u64::from(t));
    }
    h
}
