//! Packing the K-gram that starts at each position into one integer key.
//!
//! Layout, high bits to low: the ranks of tokens `i, i+1, ..., i+K-1` (`bits` each, the
//! first token highest so that integer order is n-gram order), then, with a mask, `K` flag
//! bits (bit `n-1` set iff the window `i..i+n` ends on a masked-in token). Fields past the end
//! of the input or at/after a separator hold the sentinel 0, so the n-prefix of a key is the
//! n-gram at `i`, valid iff its n-th field is non-zero.

use std::ops::{BitAnd, BitOr, BitXor, Shl, Shr};

use super::buffer::Zeroed;
use super::vocab::Rank;
use crate::error::{Error, Result};

/// An unsigned integer wide enough for a packed key.
pub(crate) trait Key:
    Zeroed
    + Ord
    + Send
    + Sync
    + From<u64>
    + Shl<u32, Output = Self>
    + Shr<u32, Output = Self>
    + BitOr<Output = Self>
    + BitAnd<Output = Self>
    + BitXor<Output = Self>
{
    const BITS: u32;
    const ZERO: Self;
    /// The largest key: all bits set.
    const MAX: Self;
    fn leading_zeros(self) -> u32;
    fn to_u128(self) -> u128;
    /// `keys` as `u64`s, when that is what they are.
    fn as_u64s(keys: &[Self]) -> Option<&[u64]>;
}

macro_rules! impl_key {
    ($($t:ty => $as_u64s:expr),*) => {$(
        impl Key for $t {
            const BITS: u32 = <$t>::BITS;
            const ZERO: Self = 0;
            const MAX: Self = <$t>::MAX;
            #[inline]
            fn leading_zeros(self) -> u32 { <$t>::leading_zeros(self) }
            #[inline]
            fn to_u128(self) -> u128 { self as u128 }
            #[inline]
            fn as_u64s(keys: &[Self]) -> Option<&[u64]> {
                $as_u64s(keys)
            }
        }
    )*};
}
impl_key!(u64 => Some, u128 => |_| None);

/// The widths that place fields in a key.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Layout {
    /// Tokens per key, K.
    pub order: usize,
    /// Bits per token field.
    pub bits: u32,
    /// Flag bits below the fields: K with a mask, else 0.
    pub flags: u32,
}

impl Layout {
    /// The layout for K-grams over `distinct` ranks; `requested` is the order the caller
    /// asked for (named in the error when the key would exceed 128 bits).
    pub fn new(order: usize, distinct: usize, masked: bool, requested: usize) -> Result<Self> {
        let bits = bits_per_token(distinct);
        let flags = if masked { order as u32 } else { 0 };
        let layout = Self { order, bits, flags };
        if layout.width() > KEY_BITS {
            let most = max_order(distinct, masked);
            return Err(Error::Invalid(format!(
                "order {requested} is too large for a vocabulary of {distinct} distinct ids: \
                 {order} tokens x {bits} bits{} do not fit a 128-bit key; the largest order \
                 for this vocabulary is {most}",
                if masked { " (+1 mask bit each)" } else { "" }
            )));
        }
        Ok(layout)
    }

    /// Bits a key uses.
    pub fn width(&self) -> usize {
        self.order * self.bits as usize + self.flags as usize
    }

    /// The key of the window at `i` and its valid length L (tokens before the first sentinel,
    /// at most K).
    #[inline]
    pub fn build<K: Key, R: Rank>(
        &self,
        ranks: &[R],
        mask: Option<&[bool]>,
        i: usize,
    ) -> (K, usize) {
        let mut key = K::ZERO;
        let mut len = 0;
        let mut alive = true;
        // Branch-free over the K fields: a sentinel zeroes every later field.
        for j in 0..self.order {
            let r = ranks.get(i + j).map_or(0, |&r| r.get());
            alive &= r != 0;
            let r = if alive { r } else { 0 };
            len += alive as usize;
            key = (key << self.bits) | K::from(r as u64);
        }
        if let Some(m) = mask {
            key = key << self.flags;
            let mut flags = 0u64;
            for (n, &on) in m[i..i + len].iter().enumerate() {
                flags |= (on as u64) << n;
            }
            key = key | K::from(flags);
        }
        (key, len)
    }

    /// As [`Layout::build`] without a mask, for a layout of `N` fields: a window wholly
    /// inside the input without a sentinel (nearly all of them) takes one bounds check and
    /// no per-field selects.
    #[inline(always)]
    pub fn build_plain<K: Key, R: Rank, const N: usize>(
        &self,
        ranks: &[R],
        i: usize,
    ) -> (K, usize) {
        if let Some(window) = ranks
            .get(i..i + N)
            .and_then(|w| <&[R; N]>::try_from(w).ok())
        {
            if window.iter().fold(true, |all, r| all & (r.get() != 0)) {
                let key = (window.iter())
                    .fold(K::ZERO, |k, r| (k << self.bits) | K::from(r.get() as u64));
                return (key, N);
            }
        }
        self.build(ranks, None, i)
    }

    /// Ranks of an n-gram packed by [`Layout::prefix`], first token first.
    pub fn unpack(&self, prefix: u128, n: usize) -> impl Iterator<Item = u32> + '_ {
        let field = (1u128 << self.bits) - 1;
        (0..n).map(move |j| ((prefix >> ((n - 1 - j) as u32 * self.bits)) & field) as u32)
    }
}

/// Bits of the widest key.
const KEY_BITS: usize = 128;

/// The largest n-gram order whose key fits [`KEY_BITS`] for `distinct` token ids: each
/// token takes `bits_per_token(distinct)` bits, plus one flag bit with a mask (at least 1).
pub fn max_order(distinct: usize, masked: bool) -> usize {
    (KEY_BITS / (bits_per_token(distinct) as usize + masked as usize)).max(1)
}

/// Bits for ranks `0..=distinct`.
pub(crate) fn bits_per_token(distinct: usize) -> u32 {
    usize::BITS - distinct.max(1).leading_zeros()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_pads_and_flags() {
        let layout = Layout::new(3, 5, true, 3).unwrap();
        assert_eq!(layout.bits, 3);
        let ranks = [1u32, 5, 0, 2, 3];
        let mask = [true, false, true, true, true];
        let (k, len): (u64, usize) = layout.build(&ranks, Some(&mask), 0);
        // Fields 1, 5, sentinel; flags: window 1 masked in, window 2 not.
        assert_eq!((k, len), (0b001_101_000_001, 2));
        // Past the end of the input: sentinels.
        let (k2, len2): (u64, usize) = layout.build(&ranks, Some(&mask), 3);
        assert_eq!((k2, len2), (0b010_011_000_011, 2));
        assert_eq!(layout.unpack(0b001_101, 2).collect::<Vec<_>>(), vec![1, 5]);
    }

    #[test]
    fn plain_build_matches_build() {
        // Sentinels inside, at the start and at the end of windows, and windows past the end.
        let ranks: Vec<u16> = (0..200u32).map(|i| (i * 7 % 11) as u16).collect();
        let layout = Layout::new(4, 10, false, 4).unwrap();
        for i in 0..=ranks.len() {
            let want: (u64, usize) = layout.build(&ranks, None, i);
            assert_eq!(layout.build_plain::<u64, u16, 4>(&ranks, i), want, "at {i}");
        }
    }

    #[test]
    fn the_largest_order_is_the_widest_that_fits() {
        // 65,535 ids take 16 bits: 8 fit 128 bits, or 7 with a mask bit each (7 x 17 = 119).
        for (distinct, masked, most) in [(65_535, false, 8), (65_535, true, 7), (1, true, 64)] {
            assert_eq!(max_order(distinct, masked), most);
            assert!(Layout::new(most, distinct, masked, most).is_ok());
            assert!(Layout::new(most + 1, distinct, masked, most + 1).is_err());
        }
        // Wider ids than a key holds still count unigrams.
        assert_eq!(max_order(usize::MAX, true), 1);
    }

    #[test]
    fn too_wide_is_an_error() {
        assert!(Layout::new(8, 65_535, false, 8).is_ok());
        let err = Layout::new(9, 65_535, false, 9).unwrap_err().to_string();
        assert!(err.starts_with("order 9 is too large"), "{err}");
        assert!(
            err.contains("the largest order for this vocabulary is 8"),
            "{err}"
        );
    }
}
