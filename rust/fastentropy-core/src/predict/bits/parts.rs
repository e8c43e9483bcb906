//! The tables both bit models hold (the byte model, [`super::BitModel`], and the wide one,
//! [`super::WideModel`]), so that their memory is summed and the match model sized in one
//! place: context slots and their state maps, orders 0 and 1, the match model, two mixers,
//! two SSE stages.

use super::apm::Apm;
use super::contexts::SlotTable;
use super::counters::{Counters, Logistic};
use super::matcher::{Match, Sym};
use super::mixer::Mixer;
use super::prev_power_of_two;

#[derive(Clone)]
pub struct Parts<S: Sym, const N: usize> {
    pub lg: Logistic,
    pub table: SlotTable,
    /// Per hashed context: state -> P(1).
    pub maps: Vec<Counters>,
    pub o0: Counters,
    pub o1_slow: Counters,
    pub o1_fast: Counters,
    pub matcher: Option<Match<S>>,
    pub match_map: Counters,
    pub mixer: Mixer<N>,
    pub mixer2: Mixer<N>,
    pub apm1: Apm,
    pub apm2: Apm,
}

impl<S: Sym, const N: usize> Parts<S, N> {
    /// Bytes of every table.
    pub fn bytes(&self) -> usize {
        self.table.bytes()
            + self.maps.iter().map(Counters::bytes).sum::<usize>()
            + self.o0.bytes()
            + self.o1_slow.bytes()
            + self.o1_fast.bytes()
            + self.match_map.bytes()
            + self.matcher.as_ref().map_or(0, Match::bytes)
            + self.mixer.bytes()
            + self.mixer2.bytes()
            + self.apm1.bytes()
            + self.apm2.bytes()
    }
}

/// The match model of a stream of `tokens` symbols: a ring holding the whole input if it
/// can (at most `memory / ring_share` symbols), a position per symbol (at most `memory /
/// 32`); at least 256 of each.
pub fn match_model<S: Sym>(tokens: usize, memory: usize, ring_share: usize) -> Match<S> {
    let ring = (tokens + 1)
        .next_power_of_two()
        .min(prev_power_of_two(memory / ring_share));
    let slots = tokens
        .next_power_of_two()
        .min(prev_power_of_two(memory / 32));
    Match::new(ring.max(1 << 8), slots.max(1 << 8))
}
