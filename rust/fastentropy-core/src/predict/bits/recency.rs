//! Long memory for the wide model: what the document's last [`RECENT`] tokens say about the
//! next one, beyond the n-gram contexts of at most 6 tokens. A source whose hidden state
//! persists for ~20 tokens (a hidden-Markov source's sticky state; a text's topic) makes
//! the tokens of the recent past likely again, whatever the last few tokens were.
//!
//! - **Cache inputs** (the cache model of Kuhn & De Mori 1990, "A cache-based natural
//!   language model for speech recognition", as binary decisions): at each bit, among the
//!   recent tokens whose bits above it agree with the bits coded so far, how many continue
//!   with a 1 and how many with a 0 (in the last 8 tokens; in the last 32, by classes), and
//!   the distance and bit of the most recent of them. Each is mapped to `P(1)` by an
//!   adaptive table per bit position (indirect modelling, as for bit-history states).
//! - **The recent mode**: the most frequent of the last [`MODE_WINDOW`] tokens (ties: the
//!   most recent), a context of its own in the slot table ([`super::wide`]): it names the
//!   source's state or the topic the way a single previous token cannot.
//!
//! The tokens are the current document's; a separator empties the memory (as it shortens
//! the n-gram contexts). Integer counts, so the same bits on every run.

use super::counters::{Counters, Logistic};
use super::SLOW;

/// Tokens the cache remembers (the bits of a `u32` plane).
pub const RECENT: usize = 32;
/// The nearest tokens counted exactly.
const NEAR: usize = 8;
/// Tokens the mode is taken over (64-state source, 10^6 tokens: 16 and 32 coded 0.451 and
/// 0.464 nats/token above the source; 4 MB of 16k BPE: 1.6198 and 1.6187 bits/byte).
const MODE_WINDOW: usize = 16;
/// Bit positions with tables of their own (deeper ones share the last).
const DEPTHS: usize = 32;
/// The cache inputs of the mixer.
pub const CACHE_INPUTS: usize = 3;
/// Classes of the cache's say on the current bit, for the mixer's weight sets: no recent
/// token agrees, they disagree, they all continue with the same bit.
pub const CACHE_CLASSES: usize = 3;

#[derive(Clone)]
pub struct Recency {
    /// The document's last tokens, newest first; `len` of them valid.
    tokens: [u32; RECENT],
    len: usize,
    /// Bit planes of the same tokens: bit `j` of `planes[b]` is bit `b` of the token at
    /// distance `j` (so the tokens that agree with a prefix are a few ANDs, no scan).
    planes: [u32; 32],
    /// Per input: (counts or distance class, bit position) -> P(1).
    maps: [Counters; CACHE_INPUTS],
    /// Each input's row for the current bit (None: no recent token agrees).
    rows: [Option<usize>; CACHE_INPUTS],
    /// The current bit's class (below [`CACHE_CLASSES`]).
    class: usize,
}

impl Recency {
    pub fn new() -> Self {
        Self {
            tokens: [0; RECENT],
            len: 0,
            planes: [0; 32],
            maps: [
                Counters::new((NEAR + 1) * (NEAR + 1) * DEPTHS, SLOW),
                Counters::new(8 * 8 * DEPTHS, SLOW),
                Counters::new(16 * 2 * DEPTHS, SLOW),
            ],
            rows: [None; CACHE_INPUTS],
            class: 0,
        }
    }

    /// Forgets the document's tokens (the tables stay).
    pub fn reset(&mut self) {
        self.len = 0;
    }

    /// The token `x` is coded.
    pub fn push(&mut self, x: u32) {
        self.tokens.copy_within(0..RECENT - 1, 1);
        self.tokens[0] = x;
        self.len = (self.len + 1).min(RECENT);
        for (b, plane) in self.planes.iter_mut().enumerate() {
            *plane = (*plane << 1) | ((x >> b) & 1);
        }
    }

    /// The most frequent of the last [`MODE_WINDOW`] tokens (ties: the most recent) + 1, or
    /// 0 at a document's start.
    pub fn mode(&self) -> u64 {
        let near = &self.tokens[..self.len.min(MODE_WINDOW)];
        let mut best = (0u64, 0usize);
        for &t in near {
            let count = near.iter().filter(|&&u| u == t).count();
            if count > best.1 {
                best = (u64::from(t) + 1, count);
            }
        }
        best.0
    }

    /// Writes the cache inputs of bit `i` (of `bits`, most significant first) after the
    /// symbol's bits `c0` (with a leading 1) into `x` (0 where no recent token agrees).
    #[inline]
    pub fn predict(&mut self, bits: u32, i: u32, c0: u32, lg: &Logistic, x: &mut [i32]) {
        // The recent tokens whose bits above bit i are the bits coded so far (c0's, most
        // significant first), then those of them whose bit i is 1.
        let mut agree = if self.len == 0 {
            0
        } else {
            u32::MAX >> (RECENT - self.len)
        };
        for k in 0..i {
            let plane = self.planes[(bits - 1 - k) as usize];
            agree &= if (c0 >> (i - 1 - k)) & 1 == 1 {
                plane
            } else {
                !plane
            };
        }
        let plane = self.planes[(bits - 1 - i) as usize];
        let (ones, zeros) = (agree & plane, agree & !plane);
        let near_mask = (1u32 << NEAR) - 1;
        let far = [zeros.count_ones() as usize, ones.count_ones() as usize];
        let near = [
            (zeros & near_mask).count_ones() as usize,
            (ones & near_mask).count_ones() as usize,
        ];
        let last = (agree != 0).then(|| {
            let j = agree.trailing_zeros();
            (j as usize, ((plane >> j) & 1) as usize)
        });
        let depth = (i as usize).min(DEPTHS - 1);
        self.rows = [
            (near[0] + near[1] > 0).then(|| (near[0] * (NEAR + 1) + near[1]) * DEPTHS + depth),
            (far[0] + far[1] > 0)
                .then(|| (count_class(far[0]) * 8 + count_class(far[1])) * DEPTHS + depth),
            last.map(|(d, b)| (distance_class(d) * 2 + b) * DEPTHS + depth),
        ];
        self.class = match far {
            [0, 0] => 0,
            [0, _] | [_, 0] => 2,
            _ => 1,
        };
        for ((xi, map), row) in x.iter_mut().zip(&self.maps).zip(&self.rows) {
            *xi = row.map_or(0, |r| lg.stretch(map.p16(r)));
        }
    }

    /// The class of the last [`Self::predict`]'s bit (below [`CACHE_CLASSES`]).
    #[inline]
    pub fn class(&self) -> usize {
        self.class
    }

    /// The tables of the inputs of the current bit learn its value `y`.
    #[inline]
    pub fn learn(&mut self, y: u32) {
        for (map, row) in self.maps.iter_mut().zip(&self.rows) {
            if let Some(r) = row {
                map.update(*r, y);
            }
        }
    }

    pub fn bytes(&self) -> usize {
        self.maps.iter().map(Counters::bytes).sum()
    }
}

/// Class bounds of a count `0..=32`: 0, 1, 2, 3, 4-5, 6-9, 10-17, 18+.
const COUNT_BOUNDS: [usize; 7] = [1, 2, 3, 4, 6, 10, 18];
/// Class bounds of a distance `0..32` (0: the previous token): 0-3, 4-5, 6-7, 8-11, 12-15,
/// 16-23, 24+.
const DISTANCE_BOUNDS: [usize; 9] = [1, 2, 3, 4, 6, 8, 12, 16, 24];

#[inline]
fn count_class(n: usize) -> usize {
    class_of(n, &COUNT_BOUNDS)
}

#[inline]
fn distance_class(d: usize) -> usize {
    class_of(d, &DISTANCE_BOUNDS)
}

/// The class of `n`: how many of the increasing `bounds` it reaches.
#[inline]
fn class_of(n: usize, bounds: &[usize]) -> usize {
    bounds.iter().take_while(|&&b| b <= n).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The classes by hand at their edges.
    #[test]
    fn classes_at_their_edges() {
        let counts: Vec<usize> = [0, 1, 2, 3, 4, 5, 6, 9, 10, 17, 18, 32]
            .map(count_class)
            .to_vec();
        assert_eq!(counts, [0, 1, 2, 3, 4, 4, 5, 5, 6, 6, 7, 7]);
        let distances: Vec<usize> = [0, 3, 4, 5, 6, 7, 8, 11, 12, 15, 16, 23, 24, 31]
            .map(distance_class)
            .to_vec();
        assert_eq!(distances, [0, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9]);
    }

    /// The mode against a count by hand; ties go to the most recent.
    #[test]
    fn mode_is_the_most_frequent_recent_token() {
        let mut r = Recency::new();
        assert_eq!(r.mode(), 0);
        for x in [5, 7, 7, 5, 9] {
            r.push(x);
        }
        // 5 and 7 twice each: 5 is the more recent.
        assert_eq!(r.mode(), 6);
        r.push(7);
        assert_eq!(r.mode(), 8);
        // Only the last 16 count: 20 tokens of 3 push the older ones out.
        for _ in 0..20 {
            r.push(3);
        }
        for x in [1, 1] {
            r.push(x);
        }
        assert_eq!(r.mode(), 4);
        r.reset();
        assert_eq!(r.mode(), 0);
    }

    /// The cache inputs count the recent tokens that agree with the bits so far.
    #[test]
    fn cache_rows_count_agreeing_tokens() {
        let lg = Logistic::new();
        let mut r = Recency::new();
        let mut x = [0i32; CACHE_INPUTS];
        r.predict(4, 0, 1, &lg, &mut x);
        assert_eq!(r.rows, [None; 3]);
        assert_eq!(x, [0; 3]);
        // 4-bit ids, newest first: 0b1010, 0b0110, 0b1011.
        for t in [0b1011, 0b0110, 0b1010] {
            r.push(t);
        }
        // Bit 0: all agree with the empty prefix; bits 1, 0, 1: one 0 and two 1s, the
        // newest (distance 0) a 1.
        r.predict(4, 0, 1, &lg, &mut x);
        assert_eq!(r.rows[0], Some((NEAR + 1 + 2) * DEPTHS));
        assert_eq!(r.rows[1], Some((8 + 2) * DEPTHS));
        assert_eq!(r.rows[2], Some(DEPTHS));
        assert!(x.iter().all(|&v| v == 0), "untrained tables say 1/2: {x:?}");
        assert_eq!(r.class(), 1);
        // Bits 0b10 so far (i = 2): 0b1010 and 0b1011 agree; their bit 2 is 1 and 1.
        r.predict(4, 2, 0b110, &lg, &mut x);
        assert_eq!(r.rows[0], Some(2 * DEPTHS + 2));
        assert_eq!(r.rows[1], Some(2 * DEPTHS + 2));
        assert_eq!(r.rows[2], Some(DEPTHS + 2));
        assert_eq!(r.class(), 2);
        // Bits 0b11 so far: none agree.
        r.predict(4, 2, 0b111, &lg, &mut x);
        assert_eq!(r.rows, [None; 3]);
        assert_eq!(r.class(), 0);
    }
}
