//! An array the index owns, or reads in place from its memory-mapped file.

use std::sync::Arc;

use memmap2::Mmap;

/// Plain integers that any bytes of the right length and alignment are a valid slice of.
///
/// # Safety
/// Every bit pattern must be a valid value, with no padding.
pub(crate) unsafe trait Plain: Copy + Send + Sync + 'static {}
// SAFETY: integers.
unsafe impl Plain for u8 {}
// SAFETY: integers.
unsafe impl Plain for u32 {}

/// Owned values, or `len` values at byte `offset` of a shared mapping.
pub(crate) enum Store<T: Plain> {
    Owned(Vec<T>),
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
