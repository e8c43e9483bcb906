//! What the byte and the wide bit models share: a symbol coded as its binary decisions,
//! most significant first, each predicted and learned by the model's per-bit step
//! ([`BitCoder`]). A branch that leads only to ids `>= V'` is never taken: its bit is forced
//! to 0 and costs nothing; every other bit costs `P(bit)` with `1 <= p <= 65535` in 1/65536.
//! So `q(x) = Π P(bit)` is positive and sums to exactly 1 over the `V'` codable ids (the
//! state a node sees depends only on the bits above it).

use super::contexts::{mix, SlotTable, WAYS};
use super::counters::{next_state, Counters};
use super::MAX_BIT_ORDER;
use crate::error::{Error, Result};
use crate::predict::model::Settings;

/// The per-bit step of a bit model; [`BitCoder::code`] and [`BitCoder::probability`] are
/// the symbol-level coding both models share.
pub trait BitCoder: Clone {
    /// The ids it codes.
    fn ids(&self) -> &Ids;
    /// Whether bit `i` (`0 < i < bits`) starts a new chunk of context slots.
    fn starts_chunk(&self, i: u32) -> bool;
    /// Finds every context's slot for the chunk that starts after the bits `c0`.
    fn find_slots(&mut self, c0: u32);
    /// `P(1)` of bit `i` (16 bits) after the symbol's bits `c0` (with a leading 1), at
    /// `node` of the current slots.
    fn predict(&mut self, c0: u32, node: usize, i: u32) -> u32;
    /// Every part learns bit `y` of the symbol (prefix `c0`, `node` of the slots).
    fn learn(&mut self, c0: u32, node: usize, y: u32);
    /// The symbol (code) `x` is coded: move the contexts on.
    fn end_symbol(&mut self, x: u32);

    /// The code of an id: ids above the separator move down by one.
    #[inline]
    fn code_of(&self, id: u64) -> u32 {
        (id - u64::from(self.ids().separator.is_some_and(|s| id > s))) as u32
    }

    /// Codes `id`: returns `q(id | context)`, learning from each bit as it goes.
    fn code(&mut self, id: u64) -> f64 {
        let x = self.code_of(id);
        let Ids { bits, symbols, .. } = *self.ids();
        let (mut q, mut c0, mut node) = (1.0f64, 1u32, 1usize);
        for i in 0..bits {
            let rest = bits - 1 - i;
            if i > 0 && self.starts_chunk(i) {
                self.find_slots(c0);
                node = 1;
            }
            let y = (x >> rest) & 1;
            let prefix = c0 - (1 << i);
            if ((prefix << 1) | 1) << rest < symbols {
                let p = self.predict(c0, node, i);
                q *= f64::from(if y == 1 { p } else { 65536 - p }) / 65536.0;
                self.learn(c0, node, y);
            } else {
                debug_assert_eq!(y, 0);
            }
            c0 = (c0 << 1) | y;
            node = (node << 1) | y as usize;
        }
        self.end_symbol(x);
        q
    }

    /// `q(id | context)` without changing the model (the tests sum it over every id): the
    /// probability [`BitCoder::code`] would return. The separator is never coded: 0.
    fn probability(&self, id: u64) -> f64 {
        if self.ids().separator == Some(id) {
            return 0.0;
        }
        self.clone().code(id)
    }
}

/// The slot hash of a context hash `h` for the chunk after the bits `c0` (with a leading 1).
#[inline]
pub fn slot_hash(h: u64, c0: u32) -> u64 {
    mix(h ^ u64::from(c0).wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

/// Finds the slot of each context hash in `hashes` for the chunk after the bits `c0`; with
/// `near`, in the page of the context's slot now in `slots` (the chunk before).
#[inline]
pub fn find_slots(table: &mut SlotTable, hashes: &[u64], slots: &mut [usize], c0: u32, near: bool) {
    for (h, slot) in hashes.iter().zip(slots) {
        let h = slot_hash(*h, c0);
        *slot = if near {
            table.find_near(*slot, h)
        } else {
            table.find(h)
        };
    }
}

/// Each context's state at `node` of its slot learns bit `y`: its map (state -> P(1)) and
/// the state itself.
#[inline]
pub fn learn_states(
    table: &mut SlotTable,
    slots: &[usize],
    maps: &mut [Counters],
    node: usize,
    y: u32,
) {
    for (map, &slot) in maps.iter_mut().zip(slots) {
        let s = table.state_mut(slot, node);
        map.update(*s as usize, y);
        *s = next_state(*s, y);
    }
}

/// The ids a bit model codes.
#[derive(Clone, Copy, Debug)]
pub struct Ids {
    /// Codable ids `V'` (at least 1; the separator excluded) and bits per symbol.
    pub symbols: u32,
    pub bits: u32,
    pub separator: Option<u64>,
}

impl Ids {
    /// The ids `0..vocab` but the `separator`, at most `2^max_bits` of them, with contexts
    /// up to `order` (at most [`MAX_BIT_ORDER`]); `hint` ends the message of too many ids.
    ///
    /// # Errors
    /// More than `2^max_bits` codable ids, an order above [`MAX_BIT_ORDER`].
    pub fn new(
        vocab: u64,
        separator: Option<u64>,
        order: usize,
        (max_bits, hint): (u32, &str),
    ) -> Result<Self> {
        let symbols = vocab - u64::from(separator.is_some_and(|s| s < vocab));
        if symbols > 1 << max_bits {
            return Err(Error::Invalid(format!(
                "the bit model codes at most 2^{max_bits} ids, got a vocabulary of \
                 {symbols}{hint}"
            )));
        }
        if order > MAX_BIT_ORDER {
            return Err(Error::Invalid(format!(
                "order = {order} is too long for the bit model: give 0..={MAX_BIT_ORDER}"
            )));
        }
        let symbols = symbols.max(1) as u32;
        Ok(Self {
            symbols,
            bits: 32 - (symbols - 1).leading_zeros(),
            separator,
        })
    }
}

/// The slot table's buckets: what `memory` leaves after the `fixed` tables (one bucket of
/// it aligns the others to cache lines), never more than `useful`, at least 16.
///
/// # Errors
/// A limit below the fixed tables and 16 buckets; `what` names the fixed tables.
pub fn slot_buckets(memory: usize, fixed: usize, useful: usize, what: &str) -> Result<usize> {
    let least = fixed + 64 * 17;
    if memory < least {
        return Err(Error::MemoryLimit {
            limit: memory as u64,
            needed: least as u64,
            reason: format!(
                "the bit model's fixed tables ({what}) need {fixed} bytes beside at least 16 \
                 buckets of context slots"
            ),
        });
    }
    Ok(((memory - fixed) / 64 - 1).min(useful).max(16))
}

/// What a bit model reports of itself: its `orders` in `table`, the parts both models have
/// (bits per symbol, slots, the match model's `(window, least length)`) before `parts`.
pub fn bit_settings(
    (vocab, order, memory): (u64, usize, usize),
    bits: u32,
    (orders, dense): (&[usize], usize),
    table: &SlotTable,
    matcher: Option<(usize, u64)>,
    parts: &[(&'static str, usize)],
) -> Settings {
    let mut all = vec![
        ("bits_per_symbol", bits as usize),
        ("slot_buckets", table.buckets()),
        ("slots_per_bucket", WAYS),
    ];
    all.extend_from_slice(parts);
    if let Some((window, least)) = matcher {
        all.push(("match_window", window));
        all.push(("match_min_len", least as usize));
    }
    Settings {
        name: "bits",
        order,
        vocab,
        memory,
        dense,
        hashed: orders.iter().map(|&k| (k, table.buckets(), WAYS)).collect(),
        parts: all,
    }
}
