//! The match model: the symbol that followed the longest earlier occurrence of the current
//! context (Cleary, Teahan & Witten 1995 "unbounded contexts", PPM*; as a model in context
//! mixing, Mahoney 2005, lpaq1's MatchModel).
//!
//! The history of symbols coded so far (a ring of the most recent ones, within the memory
//! share) and a table from the hash of the last [`Matcher::min_len`] symbols to the
//! position after them. While a match holds, the predicted symbol is the one that followed
//! it; a correct prediction extends the match by one, a wrong one drops it, and a new one is
//! looked up from the hash (its length verified backwards, so a colliding entry is never
//! taken for a match). Matches never reach back past the start of the current document
//! (the context is that document's tokens only); the statistics of earlier documents are
//! where they point.
//!
//! Deterministic and sequential; how much the prediction is trusted is learned elsewhere
//! ([`super::sse`]), by match length.

/// Marks a separator in the history: no match extends over it, none predicts it.
const GAP: u32 = u32::MAX;
/// Lengths are counted up to this (longer matches are as good as certain).
const MAX_LEN: u32 = 65_535;
/// Backward verification of a new match stops here (it then grows as it is confirmed).
const VERIFY: u32 = 64;

pub struct Matcher {
    /// Ring of the last `history.len()` symbols (`GAP` for separators); empty: disabled.
    history: Vec<u32>,
    /// Hash of the last `lens[i]` symbols → position just after them (absolute, mod 2^32),
    /// two tables of equal size one after the other: long contexts, then short ones.
    table: Vec<u32>,
    /// Symbols coded so far (separators included), mod 2^32.
    now: u32,
    /// Symbols of the current document so far (capped).
    doc: u32,
    /// Position (absolute) of the predicted symbol, valid while `len > 0`.
    ptr: u32,
    /// Length of the current match, 0: none.
    len: u32,
    /// Context lengths looked up: a long one first (the most recent occurrence of a long
    /// context predicts best), then a short one (the most recent occurrence of a short
    /// context: recency the counts do not have).
    lens: [u32; 2],
}

impl Matcher {
    /// Bytes a matcher with `slots` table entries (both tables) and `ring` history symbols takes.
    pub fn bytes(slots: usize, ring: usize) -> usize {
        4 * (slots + ring)
    }

    /// A matcher within `memory` bytes for a stream of `tokens` tokens, looking contexts up
    /// by their last `lens[0]`, then `lens[1]` symbols (`lens[0] > lens[1] >= 1`); disabled
    /// (predicts nothing) when `memory` holds less than a small table.
    pub fn new(memory: usize, tokens: usize, lens: [u32; 2]) -> Self {
        // A third for the table (a power of two, at most two slots per token), the rest
        // for the ring (at most the whole stream).
        let mut slots = (memory / 12).min(2 * tokens.max(1)).next_power_of_two();
        while slots > 1 && 4 * slots > memory / 3 {
            slots /= 2;
        }
        let ring = (memory.saturating_sub(4 * slots) / 4)
            .min(tokens + 1)
            .min(1 << 31);
        if slots < 64 || ring < 64 || lens == [0, 0] {
            return Self {
                history: Vec::new(),
                table: Vec::new(),
                now: 0,
                doc: 0,
                ptr: 0,
                len: 0,
                lens,
            };
        }
        Self {
            history: vec![GAP; ring],
            table: vec![0; slots],
            now: 0,
            doc: 0,
            ptr: 0,
            len: 0,
            lens,
        }
    }

    pub fn memory(&self) -> usize {
        Self::bytes(self.table.len(), self.history.len())
    }

    #[inline]
    fn at(&self, pos: u32) -> u32 {
        self.history[pos as usize % self.history.len()]
    }

    /// Whether absolute position `pos` (before `now`) is still in the ring.
    #[inline]
    fn held(&self, pos: u32) -> bool {
        let back = self.now.wrapping_sub(pos);
        back >= 1 && (back as usize) <= self.history.len()
    }

    /// The predicted symbol and the match length, if a match holds.
    #[inline]
    pub fn expected(&self) -> Option<(u32, u32)> {
        if self.len == 0 {
            return None;
        }
        let s = self.at(self.ptr);
        (s != GAP).then_some((s, self.len))
    }

    /// Starts a new document.
    pub fn reset(&mut self) {
        if self.history.is_empty() {
            return;
        }
        let i = self.now as usize % self.history.len();
        self.history[i] = GAP;
        self.now = self.now.wrapping_add(1);
        self.doc = 0;
        self.len = 0;
    }

    /// Appends `x` and moves the match on.
    pub fn update(&mut self, x: u32) {
        if self.history.is_empty() {
            return;
        }
        if self.len > 0 && self.held(self.ptr) && self.at(self.ptr) == x {
            self.len = (self.len + 1).min(MAX_LEN);
            self.ptr = self.ptr.wrapping_add(1);
        } else {
            self.len = 0;
        }
        let i = self.now as usize % self.history.len();
        self.history[i] = x;
        self.now = self.now.wrapping_add(1);
        self.doc = self.doc.saturating_add(1);
        let half = self.table.len() / 2;
        for (i, &need) in self.lens.iter().enumerate() {
            if need == 0 || self.doc < need {
                continue;
            }
            let slot = i * half + self.slot(need, half);
            if self.len < need {
                let cand = self.table[slot];
                let len = self.verify(cand);
                if len >= need && len > self.len {
                    self.len = len;
                    self.ptr = cand;
                }
            }
            self.table[slot] = self.now;
        }
    }

    /// How many symbols before `cand` equal the last ones of the current document (up to
    /// [`VERIFY`]); 0 for a position no longer held.
    fn verify(&self, cand: u32) -> u32 {
        if cand == 0 || !self.held(cand) {
            return 0;
        }
        let most = self.doc.min(VERIFY);
        let mut len = 0;
        while len < most {
            let back = cand.wrapping_sub(1 + len);
            if !self.held(back) {
                break;
            }
            let a = self.at(back);
            if a == GAP || a != self.at(self.now.wrapping_sub(1 + len)) {
                break;
            }
            len += 1;
        }
        len
    }

    /// The slot (of `slots`, a power of two) of the last `n` symbols.
    #[inline]
    fn slot(&self, n: u32, slots: usize) -> usize {
        let mut h: u64 = u64::from(n);
        for k in 1..=n {
            h = (h ^ u64::from(self.at(self.now.wrapping_sub(k))))
                .wrapping_mul(0x9e37_79b9_7f4a_7c15)
                .rotate_left(23);
        }
        (h >> 7) as usize & (slots - 1)
    }
}
