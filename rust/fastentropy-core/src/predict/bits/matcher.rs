//! The match model of the bit model: the longest recent match of the current context
//! predicts the next symbol's bits (lpaq1's MatchModel, Mahoney 2007; PPM*'s unbounded
//! contexts, Cleary, Teahan & Witten 1995). A hash of the last [`MIN_LEN`] symbols points
//! at the position after their last occurrence in a ring of recent symbols; the candidate
//! is verified backwards (so a hash collision never starts a false match), and while the
//! predicted symbol keeps coming the match grows by one per symbol.

/// Symbols hashed to find a match (and the least length of a verified one).
pub const MIN_LEN: u64 = 6;
/// Longest backward verification of a new candidate (longer matches grow from there).
const VERIFY: u64 = 32;

/// A symbol the ring holds: bytes for the byte model (a byte of memory per symbol of
/// history), ids for the wide model.
pub trait Sym: Copy + Eq + Default {
    fn of(x: u32) -> Self;
    fn get(self) -> u32;
}

impl Sym for u8 {
    #[inline]
    fn of(x: u32) -> Self {
        x as u8
    }
    #[inline]
    fn get(self) -> u32 {
        u32::from(self)
    }
}

impl Sym for u32 {
    #[inline]
    fn of(x: u32) -> Self {
        x
    }
    #[inline]
    fn get(self) -> u32 {
        self
    }
}

/// The match model over bytes.
pub type ByteMatch = Match<u8>;

#[derive(Clone)]
pub struct Match<S: Sym> {
    ring: Vec<S>,
    ring_mask: u64,
    /// Symbols appended so far.
    pos: u64,
    table: Vec<u32>,
    table_mask: u64,
    /// Position of the predicted symbol, valid while `len > 0`.
    ptr: u64,
    len: u64,
}

impl<S: Sym> Match<S> {
    /// A ring of `ring` symbols and a table of `slots` positions (powers of two).
    pub fn new(ring: usize, slots: usize) -> Self {
        Self {
            ring: vec![S::default(); ring],
            ring_mask: ring as u64 - 1,
            pos: 0,
            table: vec![0; slots],
            table_mask: slots as u64 - 1,
            ptr: 0,
            len: 0,
        }
    }

    pub fn bytes(&self) -> usize {
        self.ring.len() * std::mem::size_of::<S>() + self.table.len() * 4
    }

    pub fn window(&self) -> usize {
        self.ring.len()
    }

    /// The symbol the match predicts and the match length, if a match holds.
    #[inline]
    pub fn expected(&self) -> Option<(u32, u64)> {
        (self.len > 0).then(|| {
            (
                self.ring[(self.ptr & self.ring_mask) as usize].get(),
                self.len,
            )
        })
    }

    /// Asks the memory for the table entry of `hash` ahead of its use.
    #[inline]
    pub fn prefetch(&self, hash: u64) {
        super::contexts::prefetch(
            self.table
                .as_ptr()
                .wrapping_add((hash & self.table_mask) as usize),
        );
    }

    /// A new document: no match (the ring and table are kept).
    pub fn reset(&mut self) {
        self.len = 0;
    }

    /// Appends `x`; `hash` is the hash of the last `min_len` symbols including `x`,
    /// `doc_len` the symbols of the current document including `x`.
    pub fn update(&mut self, x: u32, hash: u64, doc_len: u64, min_len: u64) {
        if self.len > 0 {
            if self.expected().map(|(e, _)| e) == Some(x) {
                self.len += 1;
                self.ptr += 1;
            } else {
                self.len = 0;
            }
        }
        self.ring[(self.pos & self.ring_mask) as usize] = S::of(x);
        self.pos += 1;
        if doc_len < min_len {
            return;
        }
        let at = (hash & self.table_mask) as usize;
        if self.len == 0 {
            let dist = u64::from((self.pos as u32).wrapping_sub(self.table[at]));
            if self.table[at] != 0 && dist > 0 && dist < self.ring_mask && dist < self.pos {
                let cand = self.pos - dist;
                let reach = VERIFY.min(doc_len).min(cand);
                let mut l = 0;
                while l < reach
                    && self.ring[((cand - 1 - l) & self.ring_mask) as usize]
                        == self.ring[((self.pos - 1 - l) & self.ring_mask) as usize]
                {
                    l += 1;
                }
                if l >= min_len {
                    self.len = l;
                    self.ptr = cand;
                }
            }
        }
        self.table[at] = self.pos as u32;
    }
}

/// The class of a match of `len` symbols (0..32): lengths up to 15 one by one, then by 8s.
#[inline]
pub fn len_class(len: u64) -> usize {
    if len < 16 {
        len as usize
    } else {
        (16 + (len - 16) / 8).min(31) as usize
    }
}

/// What a match says about bit `i` of a `bits`-bit symbol whose bits so far are `c0` (with
/// a leading 1): the bit the expected symbol has there and its match's length class, or
/// `None` when no match holds or the expected symbol's first bits differ from `c0`.
#[inline]
pub fn vote(expected: Option<(u32, u64)>, bits: u32, i: u32, c0: u32) -> Option<(u32, usize)> {
    let (e, len) = expected?;
    let e = e | (1 << bits);
    (e >> (bits - i) == c0).then(|| ((e >> (bits - 1 - i)) & 1, len_class(len)))
}
