//! Token ids as the counting engines read them: slices of any integer type. Memory-mapped
//! `.bin` / `.npy` files are opened on the Python side (`fastentropy.open_tokens`, a
//! `numpy.memmap`) and reach the engines as the same slices, read in place.

use std::fmt::Display;

use crate::error::Error;

/// An integer type that holds token ids. Ids are non-negative; signed types are accepted
/// because numpy hands out `int32` / `int64` arrays, and a negative id is an error.
pub trait Token: Copy + Send + Sync + Display {
    /// The id as `u64`, or `None` if it is negative.
    fn id(self) -> Option<u64>;

    /// `tokens` as a slice of `u16` or `u32` when it is one, so an engine can read the ids
    /// in place.
    fn as_narrow(tokens: &[Self]) -> Narrow<'_> {
        let _ = tokens;
        Narrow::Other
    }
}

/// A slice of ids seen as what it is, when that is a narrow unsigned type.
pub enum Narrow<'a> {
    /// `u16` ids.
    U16(&'a [u16]),
    /// `u32` ids.
    U32(&'a [u32]),
    /// Any other type (signed, or 8 or 64 bits wide).
    Other,
}

macro_rules! impl_unsigned {
    ($($t:ty),*) => {$(
        impl Token for $t {
            #[inline]
            fn id(self) -> Option<u64> { Some(self as u64) }
        }
    )*};
}
/// Unsigned types an engine can read in place.
macro_rules! impl_narrow {
    ($($t:ty => $v:ident),*) => {$(
        impl Token for $t {
            #[inline]
            fn id(self) -> Option<u64> { Some(self.into()) }
            fn as_narrow(tokens: &[Self]) -> Narrow<'_> { Narrow::$v(tokens) }
        }
    )*};
}
macro_rules! impl_signed {
    ($($t:ty),*) => {$(
        impl Token for $t {
            #[inline]
            fn id(self) -> Option<u64> { u64::try_from(self).ok() }
        }
    )*};
}
impl_unsigned!(u8, u64);
impl_narrow!(u16 => U16, u32 => U32);
impl_signed!(i8, i16, i32, i64);

/// Checks that a mask, when one is given, has an entry for each of the `tokens` tokens.
pub(crate) fn check_mask_len(mask: Option<&[bool]>, tokens: usize) -> Result<(), Error> {
    match mask {
        Some(m) if m.len() != tokens => Err(Error::Invalid(format!(
            "mask has {} entries but tokens has {tokens}: they must have the same length",
            m.len(),
        ))),
        _ => Ok(()),
    }
}

/// The error for a negative id at `index` (callers report the first such index).
pub(crate) fn negative_token(index: usize, value: impl Display) -> Error {
    Error::Invalid(format!(
        "tokens[{index}] = {value} is negative: token ids must be >= 0"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_of_every_type() {
        assert_eq!(255u8.id(), Some(255));
        assert_eq!(65535u16.id(), Some(65535));
        assert_eq!(u32::MAX.id(), Some(u32::MAX as u64));
        assert_eq!(i64::MAX.id(), Some(i64::MAX as u64));
        assert_eq!((-3i32).id(), None);
        assert_eq!(i64::MIN.id(), None);
    }

    #[test]
    fn negative_message() {
        assert_eq!(
            negative_token(17, -3i32).to_string(),
            "tokens[17] = -3 is negative: token ids must be >= 0"
        );
    }
}
