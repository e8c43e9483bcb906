//! The LCP array of the suffix array, capped at separators, one byte per entry.
//!
//! `lcp[i]` is the length of the longest common prefix of the suffixes at `sa[i - 1]` and
//! `sa[i]` that holds no separator (`lcp[0] = 0`). It is computed through the permuted LCP
//! by the Φ method (Kärkkäinen, Manzini & Puglisi, "Permuted longest-common-prefix array",
//! CPM 2009): in text order, `plcp[p + 1] >= plcp[p] - 1`, so each comparison resumes where
//! the last one left off and the whole pass is linear. The cap keeps that property: a
//! separator-free match of `p` shortened by one is one of `p + 1`.
//!
//! Storage: one byte per entry, the low seven bits the value (127 = "look it up in the
//! overflow table", sorted by position) and the high bit a *stop flag*: whether the match
//! stopped at a separator or the end of the text on either side rather than at two different
//! ids. The flag gives the LCP of the (n-1)-token contexts of n-grams ([`super::scan`]).
//! Peak memory while building: the array (4 bytes/token), Φ (4) and the bytes (1).

use rayon::prelude::*;

use super::store::{Entry, Store};
use super::text::{common, prefetch_at, prefetch_ptr, Text};
use super::{Progress, CHUNK};
use crate::control::Control;
use crate::error::{Error, Result};
use crate::ngram::buffer::KeyBuf;

const FLAG: u8 = 0x80;
const BIG: u8 = 0x7f;
/// Passes over the array a build makes (Φ, PLCP, bytes), each reported as it goes.
pub(super) const PASSES: u64 = 3;
/// How many positions ahead the PLCP pass prefetches (enough to cover a memory latency).
const AHEAD: usize = 16;

/// The capped LCP array: bytes with an overflow table.
pub(crate) struct Lcp {
    pub bytes: Store<u8>,
    /// Positions (increasing) whose value is 127 or more, and those values.
    pub over_at: Store<u64>,
    pub over_val: Store<u32>,
    /// The largest value.
    pub max: u32,
}

impl Lcp {
    /// `(lcp[i], stop flag of i)`.
    #[inline]
    pub fn get(&self, i: usize) -> (u32, bool) {
        let b = self.bytes.as_slice()[i];
        let v = b & BIG;
        let h = if v == BIG {
            let at = self.over_at.as_slice();
            let k = at.partition_point(|&x| (x as usize) < i);
            self.over_val.as_slice()[k]
        } else {
            u32::from(v)
        };
        (h, b & FLAG != 0)
    }

    /// Calls `f(i, lcp, flag)` for each `i` of `range` in order, reading the overflow table
    /// with a cursor.
    #[inline]
    pub fn walk(&self, range: std::ops::Range<usize>, mut f: impl FnMut(usize, u32, bool)) {
        let (bytes, at, val) = (
            self.bytes.as_slice(),
            self.over_at.as_slice(),
            self.over_val.as_slice(),
        );
        let mut k = at.partition_point(|&x| (x as usize) < range.start);
        for i in range {
            let b = bytes[i];
            let v = b & BIG;
            let h = if v == BIG {
                let h = val[k];
                k += 1;
                h
            } else {
                u32::from(v)
            };
            f(i, h, b & FLAG != 0);
        }
    }

    pub fn owned_bytes(&self) -> usize {
        self.bytes.owned_bytes() + self.over_at.owned_bytes() + self.over_val.owned_bytes()
    }
}

/// Unsynchronised writes to distinct slots of one array from many threads.
#[derive(Clone, Copy)]
struct Slots<E>(*mut E);
// SAFETY: used only for writes to distinct indices (a permutation), see `phi`.
unsafe impl<E: Send> Send for Slots<E> {}
// SAFETY: as above.
unsafe impl<E: Sync> Sync for Slots<E> {}

impl<E: Entry> Slots<E> {
    /// # Safety
    /// `i` in bounds of the array, and no other thread touching slot `i`.
    #[inline]
    unsafe fn write(self, i: usize, v: E) {
        // SAFETY: the caller's contract.
        unsafe { *self.0.add(i) = v };
    }

    /// Asks the CPU to bring slot `i` (in bounds) into cache.
    #[inline]
    fn prefetch(self, i: usize) {
        prefetch_ptr(self.0.wrapping_add(i).cast_const());
    }
}

/// Φ: `phi[sa[i]] = sa[i - 1]`, and [`Entry::NONE`] for `sa[0]`.
fn phi<E: Entry>(sa: &[E], ctl: &Control<'_>, progress: &Progress<'_>) -> Result<KeyBuf<E>> {
    let n = sa.len();
    let mut phi = KeyBuf::<E>::new(n, None)?;
    let slots = Slots(phi.as_mut_slice().as_mut_ptr());
    sa.par_chunks(CHUNK)
        .enumerate()
        .try_for_each(|(c, chunk)| {
            ctl.check()?;
            let base = c * CHUNK;
            for (k, &p) in chunk.iter().enumerate() {
                let i = base + k;
                // Scattered writes: fetch a later one's line ahead of time.
                if let Some(&ahead) = sa.get(i + AHEAD) {
                    if ahead.idx() < n {
                        slots.prefetch(ahead.idx());
                    }
                }
                let prev = if i == 0 { E::NONE } else { sa[i - 1] };
                assert!(p.idx() < n, "suffix array entry out of range");
                // SAFETY: `sa` is a permutation of 0..n (checked in range above), so each slot is
                // written by exactly one iteration, and `phi` outlives the loop.
                unsafe { slots.write(p.idx(), prev) };
            }
            progress.add(chunk.len() as u64);
            Ok(())
        })?;
    Ok(phi)
}

/// Builds the capped LCP array of `text` and its suffix array `sa`, telling `progress` of
/// entries done in each of its [`PASSES`].
///
/// # Errors
/// Cancellation, or a common prefix of 2^32 - 1 tokens or more (possible only past 2^32
/// tokens: values are kept in 32 bits).
pub(crate) fn build<X: Text, E: Entry>(
    text: &X,
    sa: &[E],
    ctl: &Control<'_>,
    progress: &Progress<'_>,
) -> Result<Lcp> {
    let n = sa.len();
    let mut buf = phi(sa, ctl, progress)?;
    let plcp = buf.as_mut_slice();
    // Φ becomes the PLCP in place: each slot is read once, then overwritten.
    plcp.par_chunks_mut(CHUNK)
        .enumerate()
        .try_for_each(|(c, chunk)| {
            ctl.check()?;
            let mut l = 0usize;
            for k in 0..chunk.len() {
                // Each comparison starts where the last one left off, so its first load
                // waits on the one before: fetch where a later one starts, ahead of time.
                if let Some(&ahead) = chunk.get(k + AHEAD) {
                    let at = ahead.idx().wrapping_add(l.saturating_sub(AHEAD));
                    if ahead != E::NONE && at < n {
                        text.prefetch(at);
                    }
                }
                let p = c * CHUNK + k;
                let j = chunk[k];
                if j == E::NONE {
                    chunk[k] = E::of(0);
                    l = 0;
                    continue;
                }
                let (len, stop) = common(text, p, j.idx(), l);
                chunk[k] = E::pack(len, stop);
                l = len.saturating_sub(1);
            }
            progress.add(chunk.len() as u64);
            Ok(())
        })?;
    let plcp: &[E] = plcp;
    let mut bytes = KeyBuf::<u8>::new(n, None)?;
    let parts: Vec<(Vec<u64>, Vec<u32>, u32)> = bytes
        .as_mut_slice()
        .par_chunks_mut(CHUNK)
        .zip(sa.par_chunks(CHUNK))
        .enumerate()
        .map(|(c, (out, chunk))| {
            ctl.check()?;
            let (mut at, mut val, mut max) = (Vec::new(), Vec::new(), 0u32);
            for (k, (b, &p)) in out.iter_mut().zip(chunk).enumerate() {
                let i = c * CHUNK + k;
                // Reads of the PLCP in array order are scattered: fetch ahead.
                if let Some(&ahead) = sa.get(i + AHEAD) {
                    if let Some(slot) = plcp.get(ahead.idx()) {
                        prefetch_at(slot);
                    }
                }
                let (h, flag) = if i == 0 {
                    (0, false)
                } else {
                    plcp[p.idx()].unpack()
                };
                let h = u32::try_from(h)
                    .ok()
                    .filter(|&h| h < u32::MAX)
                    .ok_or_else(|| {
                        Error::Invalid(format!(
                            "a repeat of {h} tokens: the suffix index keeps common prefixes \
                         below 2^32 - 1 tokens"
                        ))
                    })?;
                max = max.max(h);
                let low = if h >= u32::from(BIG) {
                    at.push(i as u64);
                    val.push(h);
                    BIG
                } else {
                    h as u8
                };
                *b = low | if flag { FLAG } else { 0 };
            }
            progress.add(chunk.len() as u64);
            Ok((at, val, max))
        })
        .collect::<Result<_>>()?;
    drop(buf);
    let (mut at, mut val, mut max) = (Vec::new(), Vec::new(), 0);
    for (a, v, m) in parts {
        at.extend(a);
        val.extend(v);
        max = max.max(m);
    }
    Ok(Lcp {
        bytes: Store::Buf(bytes, n),
        over_at: Store::Owned(at),
        over_val: Store::Owned(val),
        max,
    })
}
