//! An array the index owns, or reads in place from its memory-mapped file.

use std::sync::Arc;

use memmap2::Mmap;

use crate::ngram::buffer::{KeyBuf, Zeroed};

/// Plain integers that any bytes of the right length and alignment are a valid slice of.
///
/// # Safety
/// Every bit pattern must be a valid value, with no padding.
pub(crate) unsafe trait Plain: Zeroed + Send + Sync + 'static {}
// SAFETY: integers.
unsafe impl Plain for u8 {}
// SAFETY: integers.
unsafe impl Plain for u32 {}
// SAFETY: integers.
unsafe impl Plain for u64 {}

/// A suffix-array entry: a text position, 32-bit below 2^31 tokens and 64-bit beyond.
pub(crate) trait Entry: Plain + Ord {
    /// Φ of the first suffix in the array, which has no predecessor.
    const NONE: Self;
    /// The high bit, which marks a permuted-LCP value as stopped at a separator.
    const FLAG: Self;
    fn idx(self) -> usize;
    fn of(i: usize) -> Self;
    /// A permuted-LCP value: `len` (below the high bit: the text is shorter) and its flag.
    #[inline(always)]
    fn pack(len: usize, stop: bool) -> Self {
        Self::of(len | if stop { Self::FLAG.idx() } else { 0 })
    }
    /// `(len, flag)` of a packed value.
    #[inline(always)]
    fn unpack(self) -> (usize, bool) {
        let (v, f) = (self.idx(), Self::FLAG.idx());
        (v & !f, v & f != 0)
    }
}

impl Entry for u32 {
    const NONE: Self = u32::MAX;
    const FLAG: Self = 1 << 31;
    #[inline(always)]
    fn idx(self) -> usize {
        self as usize
    }
    #[inline(always)]
    fn of(i: usize) -> Self {
        i as u32
    }
}

impl Entry for u64 {
    const NONE: Self = u64::MAX;
    const FLAG: Self = 1 << 63;
    #[inline(always)]
    fn idx(self) -> usize {
        self as usize
    }
    #[inline(always)]
    fn of(i: usize) -> Self {
        i as u64
    }
}

/// The suffix array, with entries as wide as the text needs.
pub(crate) enum Sa {
    Narrow(Store<u32>),
    Wide(Store<u64>),
}

/// Evaluates `$body` with `$s` bound to the suffix array's slice, of whichever width.
macro_rules! with_sa {
    ($sa:expr, |$s:ident| $body:expr) => {
        match $sa {
            $crate::suffix::store::Sa::Narrow(st) => {
                let $s = st.as_slice();
                $body
            }
            $crate::suffix::store::Sa::Wide(st) => {
                let $s = st.as_slice();
                $body
            }
        }
    };
}
pub(crate) use with_sa;

impl Sa {
    pub fn len(&self) -> usize {
        with_sa!(self, |s| s.len())
    }

    /// Bytes per entry.
    pub fn width(&self) -> usize {
        match self {
            Sa::Narrow(_) => 4,
            Sa::Wide(_) => 8,
        }
    }

    pub fn owned_bytes(&self) -> usize {
        match self {
            Sa::Narrow(s) => s.owned_bytes(),
            Sa::Wide(s) => s.owned_bytes(),
        }
    }
}

/// Owned values (in a vector, or the first `len` of a buffer mapped from the kernel and
/// advised onto huge pages: the suffix sort and the LCP passes access them at random, and
/// 4 KiB pages cost a TLB miss nearly every access), or `len` values at byte `offset` of a
/// shared mapping of the index file.
pub(crate) enum Store<T: Plain> {
    Owned(Vec<T>),
    Buf(KeyBuf<T>, usize),
    Mapped {
        map: Arc<Mmap>,
        offset: usize,
        len: usize,
    },
}

impl<T: Plain> Store<T> {
    pub fn as_slice(&self) -> &[T] {
        match self {
            Store::Owned(v) => v,
            Store::Buf(b, len) => &b.as_slice()[..*len],
            Store::Mapped { map, offset, len } => {
                let bytes = &map[*offset..*offset + len * size_of::<T>()];
                assert_eq!(bytes.as_ptr().align_offset(align_of::<T>()), 0);
                // SAFETY: in bounds (sliced above), aligned (asserted), `T: Plain`; the
                // mapping lives as long as `self` holds the `Arc`.
                unsafe { std::slice::from_raw_parts(bytes.as_ptr().cast::<T>(), *len) }
            }
        }
    }

    /// Bytes this array holds in memory (mapped arrays are paged in by the kernel on demand
    /// and count as none of the index's own).
    pub fn owned_bytes(&self) -> usize {
        match self {
            Store::Owned(v) => v.len() * size_of::<T>(),
            Store::Buf(_, len) => len * size_of::<T>(),
            Store::Mapped { .. } => 0,
        }
    }
}

/// `values` as bytes (for writing and hashing).
pub(crate) fn bytes_of<T: Copy>(values: &[T]) -> &[u8] {
    // SAFETY: callers pass integer slices: initialised, no padding, any alignment for u8.
    unsafe {
        std::slice::from_raw_parts(values.as_ptr().cast::<u8>(), std::mem::size_of_val(values))
    }
}
