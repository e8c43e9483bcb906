//! Key buffers mapped straight from the kernel, so that the memory limit is kept.
//!
//! Key buffers are the engine's largest allocations. From the global allocator, a freed
//! buffer may stay in the process: glibc raises its mmap threshold (up to 32 MiB) after a
//! large free and keeps smaller chunks in per-thread arenas, so buffers sized per partition
//! piled up past the limit on skewed text. A private anonymous mapping holds no memory until
//! it is written, is advised onto huge pages, and goes back to the kernel when dropped.
//! The ranks of the tokens live in one too: on huge pages, writing them faults 512 times
//! less often (measured ~10% of the remap pass).

use crate::error::{Error, Result};

/// Plain integers, which a zero-filled mapping holds validly.
///
/// # Safety
/// All-zero bytes must be a valid value of the type.
pub(crate) unsafe trait Zeroed: Copy + Default {}

// SAFETY: integers: every bit pattern is a valid value.
unsafe impl Zeroed for u8 {}
// SAFETY: as above.
unsafe impl Zeroed for u16 {}
// SAFETY: as above.
unsafe impl Zeroed for u32 {}
// SAFETY: as above.
unsafe impl Zeroed for u64 {}
// SAFETY: as above.
unsafe impl Zeroed for u128 {}

/// A zero-initialised buffer of `len` keys (or of their first tokens' offsets).
pub(crate) struct KeyBuf<K: Zeroed> {
    #[cfg(target_os = "linux")]
    map: Mapping,
    #[cfg(not(target_os = "linux"))]
    vec: Vec<K>,
    len: usize,
    _key: std::marker::PhantomData<K>,
}

impl<K: Zeroed> KeyBuf<K> {
    /// # Errors
    /// [`Error::MemoryLimit`] when the system refuses the mapping.
    pub fn new(len: usize, limit: Option<usize>) -> Result<Self> {
        let bytes = len.max(1) * size_of::<K>();
        #[cfg(target_os = "linux")]
        let buf = Self {
            map: Mapping::new(bytes).ok_or_else(|| Error::MemoryLimit {
                limit: limit.unwrap_or(0) as u64,
                needed: bytes as u64,
                reason: format!("the system refused to map {bytes} bytes for the counting buffers"),
            })?,
            len,
            _key: std::marker::PhantomData,
        };
        #[cfg(not(target_os = "linux"))]
        let buf = {
            let _ = (bytes, limit);
            Self {
                vec: vec![K::default(); len],
                len,
                _key: std::marker::PhantomData,
            }
        };
        Ok(buf)
    }

    pub fn as_slice(&self) -> &[K] {
        #[cfg(target_os = "linux")]
        {
            // SAFETY: as in `as_mut_slice`, borrowed shared through `self`.
            unsafe { std::slice::from_raw_parts(self.map.start.cast::<K>(), self.len) }
        }
        #[cfg(not(target_os = "linux"))]
        {
            &self.vec[..self.len]
        }
    }

    pub fn as_mut_slice(&mut self) -> &mut [K] {
        #[cfg(target_os = "linux")]
        {
            // SAFETY: the mapping is at least `len` values long, aligned to a page,
            // zero-filled by the kernel (zero is a valid `K`: `Zeroed`), and borrowed
            // mutably through `self` only.
            unsafe { std::slice::from_raw_parts_mut(self.map.start.cast::<K>(), self.len) }
        }
        #[cfg(not(target_os = "linux"))]
        {
            &mut self.vec[..self.len]
        }
    }
}

#[cfg(target_os = "linux")]
struct Mapping {
    /// What `mmap` returned, and its length (unmapped on drop).
    base: *mut libc::c_void,
    size: usize,
    /// The first huge-page boundary inside it, where the keys start.
    start: *mut u8,
}

// SAFETY: the mapping is plain memory owned by this value alone.
#[cfg(target_os = "linux")]
unsafe impl Send for Mapping {}
// SAFETY: shared access only reads (`as_slice`); writes need `&mut` (`as_mut_slice`).
#[cfg(target_os = "linux")]
unsafe impl Sync for Mapping {}

#[cfg(target_os = "linux")]
impl Mapping {
    /// Transparent huge pages back only 2 MiB-aligned ranges.
    const HUGE: usize = 2 << 20;

    fn new(bytes: usize) -> Option<Self> {
        // One huge page of slack to align the start; untouched, it never becomes resident.
        let size = bytes.checked_add(Self::HUGE)?;
        // SAFETY: a fresh private anonymous mapping; no existing memory is affected.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return None;
        }
        let offset = (base as usize).next_multiple_of(Self::HUGE) - base as usize;
        // SAFETY: `offset < HUGE`, so `start..start + bytes` lies inside the mapping.
        let start = unsafe { base.cast::<u8>().add(offset) };
        // Scattering into thousands of buckets touches pages at random: with 4 KiB pages
        // nearly every write would miss the TLB. Only whole huge pages inside the buffer:
        // a write to its last, partial one would make all 2 MiB resident, past the limit.
        // Failure only costs speed.
        // SAFETY: advice over the mapping's own range; it never changes its contents.
        unsafe {
            libc::madvise(
                start.cast(),
                bytes / Self::HUGE * Self::HUGE,
                libc::MADV_HUGEPAGE,
            )
        };
        Some(Self { base, size, start })
    }
}

#[cfg(target_os = "linux")]
impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly what `mmap` returned; no slice of it outlives `self`.
        unsafe { libc::munmap(self.base, self.size) };
    }
}
