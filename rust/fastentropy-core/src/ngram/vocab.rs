//! Remapping token ids to dense ranks `1..=V` in id order (0 stands for a separator), and
//! the unigram histogram that sizes the partitions.
//!
//! Ranks in id order keep sorted keys in the n-gram order of the original ids, so ties in
//! `most_common` break by n-gram ascending without a second look-up. Ranks take two bytes
//! each when at most 65,535 ids can occur (ids below that, as in most tokenizers'
//! vocabularies, or a short input), four otherwise: the ranks are the largest buffer beside
//! the keys, written once and read by every partition.
//!
//! Passes over the tokens, after one that validates them and finds the largest id: ids below
//! 2^16 (most tokenizers' vocabularies) are counted per id, which also tells which occur,
//! then the ranks are written through a table (measured ~35% faster than the general path),
//! or not at all when `u16` or `u32` tokens without a separator use every id up to the
//! largest: the ranks are then the ids plus one, read in place ([`IdRank`]); larger ids are
//! first marked in a bitmap (or, spread out, a hash set), then the ranks are written and
//! counted per rank.

use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use super::buffer::{KeyBuf, Zeroed};
use super::{all_differ, check_limit, CHUNK};
use crate::control::Control;
use crate::error::{Error, Result};
use crate::tokens::{negative_token, Narrow, Token};

/// Ids up to this bound (or up to the input length, if larger) get a dense rank table.
pub(crate) const DENSE_IDS: u64 = 1 << 22;
/// Ids below this are counted per id in the pass that finds them (per-thread arrays of at
/// about 512 KiB), so the pass that writes the ranks needs no histogram.
const COUNTED_IDS: u64 = 1 << 16;
/// Vocabularies up to this size are histogrammed with per-thread arrays, above it with
/// atomics (per-thread copies of a huge histogram would cost more than contention).
const LOCAL_HISTOGRAM: usize = 1 << 16;

/// A token's rank, read from the ranks of a job.
pub(crate) trait Rank: Copy + Send + Sync + 'static {
    fn get(self) -> u32;
}

/// A rank as written by the remap: `u16` when every rank fits, else `u32`.
pub(crate) trait Stored: Rank + Zeroed {
    /// `r` must fit (the width is chosen from the largest possible rank).
    fn from_rank(r: u32) -> Self;
}

impl Rank for u16 {
    #[inline(always)]
    fn get(self) -> u32 {
        self.into()
    }
}

impl Stored for u16 {
    #[inline(always)]
    fn from_rank(r: u32) -> Self {
        r as u16
    }
}

impl Rank for u32 {
    #[inline(always)]
    fn get(self) -> u32 {
        self
    }
}

impl Stored for u32 {
    #[inline(always)]
    fn from_rank(r: u32) -> Self {
        r
    }
}

/// A token id read as its own rank less one: when every id up to the largest occurs and
/// there is no separator, rank `id + 1` is what the table would give, so `u16` and `u32`
/// tokens serve as ranks in place. That spares writing the ranks (a pass, and fresh memory
/// the kernel must zero): ~2% of a count of 1e8 tokens of a 50k vocabulary, 2 bytes a
/// token less memory.
#[repr(transparent)]
#[derive(Clone, Copy)]
pub(crate) struct IdRank<U>(U);

impl<U: Copy + Into<u32> + Send + Sync + 'static> Rank for IdRank<U> {
    #[inline(always)]
    fn get(self) -> u32 {
        self.0.into() + 1
    }
}

impl<U> IdRank<U> {
    /// The ids these ranks were read from (the suffix index sorts them directly: the same
    /// order as their ranks).
    pub(crate) fn ids(ranks: &[Self]) -> &[U] {
        // SAFETY: `IdRank<U>` is `repr(transparent)` over `U`, as in `of`.
        unsafe { std::slice::from_raw_parts(ranks.as_ptr().cast(), ranks.len()) }
    }

    /// `ids` as ranks (the counted ids, all below 2^16: `id + 1` cannot overflow).
    fn of(ids: &[U]) -> &[Self] {
        // SAFETY: `IdRank<U>` is `repr(transparent)` over `U`: same size, alignment and
        // valid values, so the slice reads the same memory as the same number of elements.
        unsafe { std::slice::from_raw_parts(ids.as_ptr().cast(), ids.len()) }
    }
}

/// One rank per token; 0 marks a separator. Written ranks are mapped from the kernel
/// ([`KeyBuf`]); ids that are their own ranks are the caller's tokens.
pub(crate) enum Ranks<'t> {
    Narrow(KeyBuf<u16>),
    Wide(KeyBuf<u32>),
    Ids16(&'t [IdRank<u16>]),
    Ids32(&'t [IdRank<u32>]),
}

/// Bytes per rank for `len` tokens whose ids are at most `max_id`: the ranks are `1..=V`
/// with V at most both.
pub(crate) fn rank_bytes(len: usize, max_id: Option<u64>) -> usize {
    let most = max_id.map_or(0, |m| m.saturating_add(1)).min(len as u64);
    if most <= u64::from(u16::MAX) {
        2
    } else {
        4
    }
}

/// The tokens as ranks, with what is needed to map back and to size partitions.
pub(crate) struct Vocab<'t> {
    /// `ids[r - 1]` is the original id of rank `r`.
    pub ids: Vec<u64>,
    pub ranks: Ranks<'t>,
    /// `counts[r]`: occurrences of rank `r` (index 0 unused).
    pub counts: Vec<u64>,
    /// `masked[r]`: occurrences of rank `r` that are masked in (equal to `counts` without a
    /// mask).
    pub masked: Vec<u64>,
}

impl Vocab<'_> {
    /// Number of distinct ids (separator excluded).
    pub fn distinct(&self) -> usize {
        self.ids.len()
    }

    /// Bytes the ranks take beside the tokens.
    pub fn rank_bytes(&self) -> usize {
        match &self.ranks {
            Ranks::Narrow(r) => 2 * r.as_slice().len(),
            Ranks::Wide(r) => 4 * r.as_slice().len(),
            Ranks::Ids16(_) | Ranks::Ids32(_) => 0,
        }
    }

    /// Bytes held beside the ranks: id table and the two histograms.
    pub fn table_bytes(&self) -> usize {
        8 * self.ids.len() + 16 * self.counts.len()
    }
}

/// What the remap pass needs besides the tokens.
pub(crate) struct Pass<'a> {
    pub separator: Option<u64>,
    pub mask: Option<&'a [bool]>,
    /// Cancellation (the caller's progress goes through `progress`, not this).
    pub ctl: &'a Control<'a>,
    /// The caller's memory limit: the ranks must fit, and the dense id table in what is left.
    pub limit: Option<usize>,
    /// Called with the number of tokens of each chunk remapped.
    pub progress: &'a (dyn Fn(u64) + Sync),
}

/// Validates ids and remaps them, tallying the histogram in the same pass. The first
/// negative id (lowest position) is reported.
pub(crate) fn remap<'t, T: Token>(tokens: &'t [T], pass: &Pass<'_>) -> Result<Vocab<'t>> {
    let max_id = max_id(tokens, pass.separator, pass.ctl)?;
    let width = rank_bytes(tokens.len(), max_id);
    let rank_bytes = width * tokens.len();
    check_limit(
        pass.limit,
        rank_bytes,
        &format!("the ranks of the tokens ({width} bytes each)"),
    )?;
    let Some(max_id) = max_id else {
        return Ok(Vocab {
            ids: Vec::new(),
            ranks: Ranks::Narrow(KeyBuf::new(tokens.len(), None)?),
            counts: vec![0],
            masked: vec![0],
        });
    };
    let room = pass
        .limit
        .map_or(usize::MAX, |l| l.saturating_sub(rank_bytes));
    // The table and the per-thread histograms by id live beside the ranks (sized only once
    // `max_id` is known to be small: no overflow).
    let by_id = max_id < COUNTED_IDS && {
        let ids = max_id as usize + 1;
        let per_id = 8 * (1 + pass.mask.is_some() as usize);
        4 * ids + rayon::current_num_threads() * per_id * (ids + 1) <= room
    };
    let counted = if by_id {
        Some(counted_ids(tokens, max_id, pass)?)
    } else {
        None
    };
    let own = (counted.as_ref())
        .and_then(|((ids, ..), _)| ids_as_ranks(tokens, ids.len(), max_id, pass.separator));
    let counted = match (own, counted) {
        (Some(ranks), Some(((ids, counts, masked), _))) => {
            return Ok(Vocab {
                ids,
                ranks,
                counts,
                masked,
            })
        }
        (_, counted) => counted,
    };
    let ((ids, counts, masked), ranks) = if width == 2 {
        let (remapped, ranks) = ranked::<T, u16>(tokens, max_id, counted, room, pass)?;
        (remapped, Ranks::Narrow(ranks))
    } else {
        let (remapped, ranks) = ranked::<T, u32>(tokens, max_id, counted, room, pass)?;
        (remapped, Ranks::Wide(ranks))
    };
    Ok(Vocab {
        ids,
        ranks,
        counts,
        masked,
    })
}

/// The tokens themselves as ranks, when the table of counted ids would map every id to
/// `id + 1`: `u16` or `u32` tokens, no separator, and all of the ids up to `max_id` seen.
fn ids_as_ranks<T: Token>(
    tokens: &[T],
    seen: usize,
    max_id: u64,
    separator: Option<u64>,
) -> Option<Ranks<'_>> {
    if separator.is_some() || seen as u64 != max_id + 1 {
        return None;
    }
    match T::as_narrow(tokens) {
        Narrow::U16(ids) => Some(Ranks::Ids16(IdRank::of(ids))),
        Narrow::U32(ids) => Some(Ranks::Ids32(IdRank::of(ids))),
        Narrow::Other => None,
    }
}

/// The ranks of `tokens` (ids at most `max_id`) as `R`: through the table of `counted` when
/// the ids were counted, else with the dense tables in `room` bytes when they fit.
fn ranked<T: Token, R: Stored>(
    tokens: &[T],
    max_id: u64,
    counted: Option<(Remapped, Vec<u32>)>,
    room: usize,
    pass: &Pass<'_>,
) -> Result<(Remapped, KeyBuf<R>)> {
    let mut ranks = KeyBuf::new(tokens.len(), None)?;
    // The table and the per-thread bitmaps of ids seen live beside the ranks.
    let threads = rayon::current_num_threads();
    let dense = max_id < DENSE_IDS.max(tokens.len() as u64) && {
        let ids = max_id as usize + 1;
        4 * ids + threads * (ids / 8 + 8) <= room
    };
    let remapped = if let Some((remapped, table)) = counted {
        table_ranks(tokens, &table, ranks.as_mut_slice(), pass.ctl)?;
        remapped
    } else if dense {
        dense_ranks(tokens, max_id, ranks.as_mut_slice(), pass)?
    } else {
        sparse_ranks(tokens, ranks.as_mut_slice(), pass)?
    };
    Ok((remapped, ranks))
}

/// Largest non-separator id, `None` if there is none; the first negative id is an error.
fn max_id<T: Token>(
    tokens: &[T],
    separator: Option<u64>,
    ctl: &Control<'_>,
) -> Result<Option<u64>> {
    tokens
        .par_chunks(CHUNK)
        .enumerate()
        .map(|(c, chunk)| {
            ctl.check()?;
            let mut max = None;
            for (i, &t) in chunk.iter().enumerate() {
                let id = t.id().ok_or_else(|| negative_token(c * CHUNK + i, t))?;
                if Some(id) != separator {
                    max = max.max(Some(id));
                }
            }
            Ok(max)
        })
        // Ordered reduction keeps the error of the earliest chunk: the message is stable.
        .reduce(
            || Ok(None),
            |a, b| match (a, b) {
                (Ok(a), Ok(b)) => Ok(a.max(b)),
                (Err(e), _) | (Ok(_), Err(e)) => Err(e),
            },
        )
}

/// The id of each rank, and the histograms of [`Vocab`].
type Remapped = (Vec<u64>, Vec<u64>, Vec<u64>);

/// Small ids counted: one pass counts occurrences (and masked-in ones) per id, which also
/// tells the ids seen and gives their rank table (the separator past its end or at rank 0).
/// Spares the dense path's bitmap pass.
fn counted_ids<T: Token>(
    tokens: &[T],
    max_id: u64,
    pass: &Pass<'_>,
) -> Result<(Remapped, Vec<u32>)> {
    let (separator, ctl, mask) = (pass.separator, pass.ctl, pass.mask);
    let len = max_id as usize + 1;
    // One histogram (two with a mask) per thread over a contiguous share of whole chunks:
    // exactly as many as the limit was checked for, mapped so that none outlives the pass.
    // Each has a spare last counter for the separator (counted, never read).
    let slot = |t: &T| match t.id() {
        Some(id) if Some(id) != separator => id as usize,
        // Every id but the separator is at most `max_id`.
        _ => len,
    };
    let per = (len + 1) * (1 + mask.is_some() as usize);
    let threads = rayon::current_num_threads();
    let share = tokens.len().div_ceil(threads * CHUNK).max(1) * CHUNK;
    let mut hists = KeyBuf::<u64>::new(threads * per, None)?;
    (hists.as_mut_slice().par_chunks_mut(per))
        .zip(tokens.par_chunks(share))
        .enumerate()
        .try_for_each(|(t, (hist, part))| {
            let (counts, masked) = hist.split_at_mut(len + 1);
            for (c, chunk) in part.chunks(CHUNK).enumerate() {
                ctl.check()?;
                tally(chunk, counts, slot);
                if let Some(m) = mask {
                    for (t, &on) in chunk.iter().zip(&m[t * share + c * CHUNK..]) {
                        masked[slot(t)] += on as u64;
                    }
                }
                // The remap's progress: the pass that writes ranks (if any) is shorter.
                (pass.progress)(chunk.len() as u64);
            }
            Ok::<_, Error>(())
        })?;
    let hists = hists.as_slice();
    let total = |slot: usize| hists.chunks(per).map(|h| h[slot]).sum::<u64>();
    let mut table = vec![0u32; len];
    let (mut ids, mut counts, mut masked) = (Vec::new(), vec![0], vec![0]);
    for (id, rank) in table.iter_mut().enumerate() {
        let n = total(id);
        if n > 0 {
            ids.push(id as u64);
            *rank = rank_of(ids.len())?;
            counts.push(n);
            masked.push(if mask.is_some() {
                total(len + 1 + id)
            } else {
                n
            });
        }
    }
    Ok(((ids, counts, masked), table))
}

/// Adds one to `counts[slot(t)]` for each token t, four at a time when the four slots
/// differ ([`all_differ`]): 2x faster (1e8 tokens of 50k ids, one thread: 0.35 -> 0.17 s).
pub(crate) fn tally<T>(tokens: &[T], counts: &mut [u64], slot: impl Fn(&T) -> usize) {
    let mut quads = tokens.chunks_exact(4);
    for quad in quads.by_ref() {
        let [a, b, c, d] = [&quad[0], &quad[1], &quad[2], &quad[3]].map(&slot);
        if all_differ([a, b, c, d]) {
            let [x, y, z, w] = [counts[a], counts[b], counts[c], counts[d]];
            (counts[a], counts[b], counts[c], counts[d]) = (x + 1, y + 1, z + 1, w + 1);
        } else {
            for s in [a, b, c, d] {
                counts[s] += 1;
            }
        }
    }
    for t in quads.remainder() {
        counts[slot(t)] += 1;
    }
}

/// Writes the ranks of `tokens` through the table of [`counted_ids`] (which reported the
/// progress).
fn table_ranks<T: Token, R: Stored>(
    tokens: &[T],
    table: &[u32],
    ranks: &mut [R],
    ctl: &Control<'_>,
) -> Result<()> {
    ranks
        .par_chunks_mut(CHUNK)
        .zip(tokens.par_chunks(CHUNK))
        .try_for_each(|(out, chunk)| {
            ctl.check()?;
            // The separator, counted nowhere, has rank 0 (or lies past the table).
            for (r, &t) in out.iter_mut().zip(chunk) {
                *r = R::from_rank(
                    table
                        .get(t.id().unwrap_or(0) as usize)
                        .copied()
                        .unwrap_or(0),
                );
            }
            Ok::<_, Error>(())
        })
}

/// Ranks through a table indexed by id.
fn dense_ranks<T: Token, R: Stored>(
    tokens: &[T],
    max_id: u64,
    ranks: &mut [R],
    pass: &Pass<'_>,
) -> Result<Remapped> {
    let (separator, ctl) = (pass.separator, pass.ctl);
    let words = (max_id as usize) / 64 + 1;
    let seen = tokens
        .par_chunks(CHUNK)
        .try_fold(
            || vec![0u64; words],
            |mut seen, chunk| {
                ctl.check()?;
                for &t in chunk {
                    let id = t.id().unwrap_or(0);
                    if Some(id) != separator {
                        seen[(id / 64) as usize] |= 1 << (id % 64);
                    }
                }
                Ok::<_, Error>(seen)
            },
        )
        .try_reduce(
            || vec![0u64; words],
            |mut a, b| {
                a.iter_mut().zip(&b).for_each(|(x, y)| *x |= y);
                Ok(a)
            },
        )?;
    let mut table = vec![0u32; max_id as usize + 1];
    let mut ids = Vec::new();
    for (w, &bits) in seen.iter().enumerate() {
        let mut bits = bits;
        while bits != 0 {
            let id = w * 64 + bits.trailing_zeros() as usize;
            ids.push(id as u64);
            table[id] = rank_of(ids.len())?;
            bits &= bits - 1;
        }
    }
    let (counts, masked) = fill_ranks(tokens, ranks, ids.len(), pass, |id| {
        if Some(id) == separator {
            0
        } else {
            table[id as usize]
        }
    })?;
    Ok((ids, counts, masked))
}

/// Ranks through a hash map, for ids too spread out for a table.
fn sparse_ranks<T: Token, R: Stored>(
    tokens: &[T],
    ranks: &mut [R],
    pass: &Pass<'_>,
) -> Result<Remapped> {
    let (separator, ctl) = (pass.separator, pass.ctl);
    let seen = tokens
        .par_chunks(CHUNK)
        .try_fold(FxHashSet::default, |mut seen, chunk| {
            ctl.check()?;
            seen.extend(chunk.iter().filter_map(|t| t.id()));
            Ok::<_, Error>(seen)
        })
        .try_reduce(FxHashSet::default, |mut a, b| {
            a.extend(b);
            Ok(a)
        })?;
    let mut ids: Vec<u64> = seen
        .into_iter()
        .filter(|&id| Some(id) != separator)
        .collect();
    ids.sort_unstable();
    let mut table = FxHashMap::default();
    table.reserve(ids.len());
    for (r, &id) in ids.iter().enumerate() {
        table.insert(id, rank_of(r + 1)?);
    }
    let (counts, masked) = fill_ranks(tokens, ranks, ids.len(), pass, |id| {
        table.get(&id).copied().unwrap_or(0)
    })?;
    Ok((ids, counts, masked))
}

fn rank_of(r: usize) -> Result<u32> {
    u32::try_from(r)
        .ok()
        .filter(|&r| r < u32::MAX)
        .ok_or_else(|| {
            Error::Invalid(format!(
                "more than {} distinct token ids: the counting engine ranks ids in 32 bits",
                u32::MAX - 1
            ))
        })
}

/// Writes the rank of every token and, while the chunk is in cache, tallies occurrences and
/// masked-in occurrences per rank.
fn fill_ranks<T: Token, R: Stored>(
    tokens: &[T],
    ranks: &mut [R],
    distinct: usize,
    pass: &Pass<'_>,
    rank: impl Fn(u64) -> u32 + Sync,
) -> Result<(Vec<u64>, Vec<u64>)> {
    let len = distinct + 1;
    let mask = pass.mask;
    // Per-thread arrays for small vocabularies; shared atomics above (per-thread copies of
    // a huge histogram would cost more than contention).
    let local = if distinct <= LOCAL_HISTOGRAM { len } else { 0 };
    let shared: Vec<AtomicU64> = (0..len - local).map(|_| AtomicU64::new(0)).collect();
    let shared_masked: Vec<AtomicU64> = (0..if mask.is_some() { len - local } else { 0 })
        .map(|_| AtomicU64::new(0))
        .collect();
    let masked_len = if mask.is_some() { local } else { 0 };
    let add = |(mut a, mut am): (Vec<u64>, Vec<u64>), (b, bm): (Vec<u64>, Vec<u64>)| {
        a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
        am.iter_mut().zip(&bm).for_each(|(x, y)| *x += y);
        Ok((a, am))
    };
    let (counts, masked) = ranks
        .par_chunks_mut(CHUNK)
        .zip(tokens.par_chunks(CHUNK))
        .enumerate()
        .try_fold(
            || (vec![0u64; local], vec![0u64; masked_len]),
            |(mut counts, mut masked), (c, (out, chunk))| {
                pass.ctl.check()?;
                for (r, &t) in out.iter_mut().zip(chunk) {
                    *r = R::from_rank(rank(t.id().unwrap_or(0)));
                }
                let flags = mask.map(|m| &m[c * CHUNK..c * CHUNK + out.len()]);
                match (local > 0, flags) {
                    (true, None) => out.iter().for_each(|&r| counts[r.get() as usize] += 1),
                    (true, Some(f)) => {
                        for (&r, &on) in out.iter().zip(f) {
                            counts[r.get() as usize] += 1;
                            masked[r.get() as usize] += on as u64;
                        }
                    }
                    (false, None) => out.iter().for_each(|&r| {
                        shared[r.get() as usize].fetch_add(1, Ordering::Relaxed);
                    }),
                    (false, Some(f)) => {
                        for (&r, &on) in out.iter().zip(f) {
                            shared[r.get() as usize].fetch_add(1, Ordering::Relaxed);
                            if on {
                                shared_masked[r.get() as usize].fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                }
                (pass.progress)(out.len() as u64);
                Ok::<_, Error>((counts, masked))
            },
        )
        .try_reduce(|| (vec![0u64; local], vec![0u64; masked_len]), add)?;
    let plain = |v: Vec<AtomicU64>| v.into_iter().map(AtomicU64::into_inner).collect();
    let (counts, masked) = if local > 0 {
        (counts, masked)
    } else {
        (plain(shared), plain(shared_masked))
    };
    // Without a mask every occurrence is masked in.
    let masked = if mask.is_some() {
        masked
    } else {
        counts.clone()
    };
    Ok((counts, masked))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tally_counts_repeats_within_a_quad() {
        // Every pattern of equal slots among four tokens, then a remainder of 1..3.
        let tokens: Vec<u8> = (0..4 * 4u32.pow(4) + 7)
            .map(|i| ((i / 4) >> (2 * (i % 4)) & 3) as u8)
            .collect();
        for len in [tokens.len() - 3, tokens.len() - 1, tokens.len()] {
            let mut counts = [0u64; 5];
            // Slot 4 stands for the separator 3.
            tally(&tokens[..len], &mut counts, |&t| {
                if t == 3 {
                    4
                } else {
                    t.into()
                }
            });
            let mut want = [0u64; 5];
            for &t in &tokens[..len] {
                want[if t == 3 { 4 } else { t as usize }] += 1;
            }
            assert_eq!(counts, want, "{len}");
        }
    }
}
