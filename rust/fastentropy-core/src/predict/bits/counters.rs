//! The probability arithmetic of the bit model: the logistic domain, adaptive probabilities
//! and the bit-history states of context slots.
//!
//! Fixed point throughout (so the same bits on every run): a probability of a 1 bit is a
//! 16-bit integer `p16 / 65536`; the logistic domain ("stretch", `ln(p / (1 - p))`) is held
//! in units of 1/256 (Mahoney 2005, "Adaptive weighing of context models for lossless data
//! compression"; lpaq1's stretch/squash, Mahoney 2007). `squash` covers ±12 (p down to 6e-6)
//! so a confident mixture can code a near-certain bit for ~1e-5 bits; inputs to the mixer
//! are stretched from 12 bits (±8.3).
//!
//! Adaptive probability ([`Counter`]): `p += (y - p) / (n + 1.5)`, `n` counting up to a limit
//! (the count-based learning rate of PAQ's StateMap, Mahoney, "Data Compression Explained",
//! sec. 4.3.2): while `n` is small it is the running frequency (KT-like), then an
//! exponential moving average with rate `1/(limit + 1.5)`.
//!
//! Bit-history state ([`next_state`]): a byte holding the counts `(n0, n1)` of 0s and 1s seen
//! in a context, each at most 15; seeing one bit halves a large opposite count (`n -> n/2 +
//! 1` above 2: PAQ's nonstationary rule, "Data Compression Explained" sec. 4.3.1), so it
//! says both how often and how recently. A per-order [`Counter`] table maps each state to
//! the probability it is followed by a 1 (indirect modelling, learned on the data).

/// Largest magnitude of the logistic domain, units of 1/256 (±12).
pub const ST_MAX: i32 = 3071;

/// Tables of stretch (12-bit probability in) and squash (logistic value in, 16-bit out).
#[derive(Clone)]
pub struct Logistic {
    stretch: Vec<i16>,
    squash: Vec<u16>,
}

impl Logistic {
    pub fn new() -> Self {
        let stretch = (0..4096)
            .map(|i| {
                let p = (f64::from(i) + 0.5) / 4096.0;
                (256.0 * (p / (1.0 - p)).ln()).round() as i16
            })
            .collect();
        let squash = (-ST_MAX..=ST_MAX)
            .map(|x| {
                let p = 65536.0 / (1.0 + (-f64::from(x) / 256.0).exp());
                p.round().clamp(1.0, 65535.0) as u16
            })
            .collect();
        Self { stretch, squash }
    }

    /// `256 ln(p / (1 - p))` of `p16 / 65536` (through its 12 top bits).
    #[inline]
    pub fn stretch(&self, p16: u32) -> i32 {
        i32::from(self.stretch[(p16 >> 4) as usize])
    }

    /// `65536 / (1 + e^(-x/256))` in `1..=65535`, `x` clamped to ±[`ST_MAX`].
    #[inline]
    pub fn squash(&self, x: i32) -> u32 {
        u32::from(self.squash[(x.clamp(-ST_MAX, ST_MAX) + ST_MAX) as usize])
    }
}

/// `65536 / (n + 1.5)`: the learning rate of a counter that has seen `n` bits.
const fn rates() -> [u32; 1024] {
    let mut r = [0u32; 1024];
    let mut n = 0;
    while n < 1024 {
        r[n] = 131_072 / (2 * n as u32 + 3);
        n += 1;
    }
    r
}
static RATE: [u32; 1024] = rates();

/// An adaptive probability: the top 22 bits are `P(1)`, the low 10 bits the count `n`.
#[derive(Clone, Copy)]
pub struct Counter(u32);

impl Counter {
    pub const HALF: Self = Self(1 << 31);

    /// `P(1)` in 16 bits.
    #[inline]
    pub fn p16(self) -> u32 {
        (self.0 >> 16).max(1)
    }

    /// Moves `P(1)` towards `y` by `1/(n + 1.5)`, counting up to `limit` (at most 1023).
    #[inline]
    pub fn update(&mut self, y: u32, limit: u32) {
        let n = self.0 & 1023;
        let p = i64::from(self.0 >> 10);
        let target = if y == 1 { (1i64 << 22) - 1 } else { 0 };
        let p = p + (((target - p) * i64::from(RATE[n as usize])) >> 16);
        self.0 = ((p as u32) << 10) | (n + u32::from(n < limit));
    }
}

/// A table of counters indexed by a small context.
#[derive(Clone)]
pub struct Counters {
    table: Vec<Counter>,
    limit: u32,
}

impl Counters {
    pub fn new(size: usize, limit: u32) -> Self {
        Self {
            table: vec![Counter::HALF; size],
            limit,
        }
    }

    #[inline]
    pub fn p16(&self, i: usize) -> u32 {
        self.table[i].p16()
    }

    #[inline]
    pub fn update(&mut self, i: usize, y: u32) {
        self.table[i].update(y, self.limit);
    }

    /// Asks the memory for counter `i` ahead of use.
    #[inline]
    pub fn prefetch(&self, i: usize) {
        super::contexts::prefetch(
            self.table
                .as_ptr()
                .wrapping_add(i.min(self.table.len() - 1)),
        );
    }

    pub fn bytes(&self) -> usize {
        self.table.len() * 4
    }
}

/// The bit-history state after seeing `y` in state `s` (`n0` low nibble, `n1` high).
#[inline]
pub fn next_state(s: u8, y: u32) -> u8 {
    let (mut n0, mut n1) = (s & 15, s >> 4);
    if y == 1 {
        n1 = (n1 + 1).min(15);
        if n0 > 2 {
            n0 = n0 / 2 + 1;
        }
    } else {
        n0 = (n0 + 1).min(15);
        if n1 > 2 {
            n1 = n1 / 2 + 1;
        }
    }
    n0 | (n1 << 4)
}

/// How much a state has seen (`n0 + n1`): the priority of a slot when one must be evicted.
#[inline]
pub fn seen(s: u8) -> u8 {
    (s & 15) + (s >> 4)
}
