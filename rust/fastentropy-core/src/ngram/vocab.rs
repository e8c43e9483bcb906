//! Remapping token ids to dense ranks `1..=V` in id order (0 stands for a separator), and
//! the unigram histogram that sizes the partitions.
//!
//! Ranks in id order keep sorted keys in the n-gram order of the original ids, so ties in
//! `most_common` break by n-gram ascending without a second look-up.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use super::{cancelled, CHUNK};
use crate::error::{Error, Result};
use crate::tokens::{negative_token, Token};

/// Ids up to this bound (or up to the input length, if larger) get a dense rank table.
const DENSE_IDS: u64 = 1 << 22;
/// Vocabularies up to this size are histogrammed with per-thread arrays, above it with
/// atomics (per-thread copies of a huge histogram would cost more than contention).
const LOCAL_HISTOGRAM: usize = 1 << 16;

/// The tokens as ranks, with what is needed to map back and to size partitions.
pub(crate) struct Vocab {
    /// `ids[r - 1]` is the original id of rank `r`.
    pub ids: Vec<u64>,
    /// One rank per token; 0 marks a separator.
    pub ranks: Vec<u32>,
    /// `counts[r]`: occurrences of rank `r` (index 0 unused).
    pub counts: Vec<u64>,
    /// `masked[r]`: occurrences of rank `r` that are masked in (equal to `counts` without a
    /// mask).
    pub masked: Vec<u64>,
}

impl Vocab {
    /// Number of distinct ids (separator excluded).
    pub fn distinct(&self) -> usize {
        self.ids.len()
    }

    /// Bytes held beside the ranks: id table and the two histograms.
    pub fn table_bytes(&self) -> usize {
        8 * self.ids.len() + 16 * self.counts.len()
    }
}

/// Validates ids and remaps them. The first negative id (lowest position) is reported.
pub(crate) fn remap<T: Token>(
    tokens: &[T],
    separator: Option<u64>,
    mask: Option<&[bool]>,
    cancel: Option<&AtomicBool>,
) -> Result<Vocab> {
    let max_id = max_id(tokens, separator, cancel)?;
    let Some(max_id) = max_id else {
        return Ok(Vocab {
            ids: Vec::new(),
            ranks: vec![0; tokens.len()],
            counts: vec![0],
            masked: vec![0],
        });
    };
    let mut ranks = vec![0u32; tokens.len()];
    let ids = if max_id < DENSE_IDS.max(tokens.len() as u64) {
        dense_ranks(tokens, separator, max_id, &mut ranks, cancel)?
    } else {
        sparse_ranks(tokens, separator, &mut ranks, cancel)?
    };
    let (counts, masked) = histogram(&ranks, ids.len(), mask, cancel)?;
    Ok(Vocab {
        ids,
        ranks,
        counts,
        masked,
    })
}

/// Largest non-separator id, `None` if there is none; the first negative id is an error.
fn max_id<T: Token>(
    tokens: &[T],
    separator: Option<u64>,
    cancel: Option<&AtomicBool>,
) -> Result<Option<u64>> {
    tokens
        .par_chunks(CHUNK)
        .enumerate()
        .map(|(c, chunk)| {
            cancelled(cancel)?;
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

/// Ranks through a table indexed by id; returns the id of each rank.
fn dense_ranks<T: Token>(
    tokens: &[T],
    separator: Option<u64>,
    max_id: u64,
    ranks: &mut [u32],
    cancel: Option<&AtomicBool>,
) -> Result<Vec<u64>> {
    let words = (max_id as usize) / 64 + 1;
    let seen = tokens
        .par_chunks(CHUNK)
        .try_fold(
            || vec![0u64; words],
            |mut seen, chunk| {
                cancelled(cancel)?;
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
    fill_ranks(tokens, ranks, cancel, |id| {
        if Some(id) == separator {
            0
        } else {
            table[id as usize]
        }
    })?;
    Ok(ids)
}

/// Ranks through a hash map, for ids too spread out for a table.
fn sparse_ranks<T: Token>(
    tokens: &[T],
    separator: Option<u64>,
    ranks: &mut [u32],
    cancel: Option<&AtomicBool>,
) -> Result<Vec<u64>> {
    let seen = tokens
        .par_chunks(CHUNK)
        .try_fold(FxHashSet::default, |mut seen, chunk| {
            cancelled(cancel)?;
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
    fill_ranks(tokens, ranks, cancel, |id| {
        table.get(&id).copied().unwrap_or(0)
    })?;
    Ok(ids)
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

fn fill_ranks<T: Token>(
    tokens: &[T],
    ranks: &mut [u32],
    cancel: Option<&AtomicBool>,
    rank: impl Fn(u64) -> u32 + Sync,
) -> Result<()> {
    ranks
        .par_chunks_mut(CHUNK)
        .zip(tokens.par_chunks(CHUNK))
        .try_for_each(|(out, chunk)| {
            cancelled(cancel)?;
            for (r, &t) in out.iter_mut().zip(chunk) {
                *r = rank(t.id().unwrap_or(0));
            }
            Ok(())
        })
}

/// Occurrences and masked-in occurrences per rank.
fn histogram(
    ranks: &[u32],
    distinct: usize,
    mask: Option<&[bool]>,
    cancel: Option<&AtomicBool>,
) -> Result<(Vec<u64>, Vec<u64>)> {
    let len = distinct + 1;
    let in_mask = |c: usize, i: usize| mask.is_none_or(|m| m[c * CHUNK + i]);
    let (counts, masked) = if distinct <= LOCAL_HISTOGRAM {
        ranks
            .par_chunks(CHUNK)
            .enumerate()
            .try_fold(
                || (vec![0u64; len], vec![0u64; len]),
                |(mut counts, mut masked), (c, chunk)| {
                    cancelled(cancel)?;
                    for (i, &r) in chunk.iter().enumerate() {
                        counts[r as usize] += 1;
                        masked[r as usize] += in_mask(c, i) as u64;
                    }
                    Ok::<_, Error>((counts, masked))
                },
            )
            .try_reduce(
                || (vec![0u64; len], vec![0u64; len]),
                |(mut a, mut am), (b, bm)| {
                    a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
                    am.iter_mut().zip(&bm).for_each(|(x, y)| *x += y);
                    Ok((a, am))
                },
            )?
    } else {
        let counts: Vec<AtomicU64> = (0..len).map(|_| AtomicU64::new(0)).collect();
        let masked: Vec<AtomicU64> = (0..len).map(|_| AtomicU64::new(0)).collect();
        ranks
            .par_chunks(CHUNK)
            .enumerate()
            .try_for_each(|(c, chunk)| {
                cancelled(cancel)?;
                for (i, &r) in chunk.iter().enumerate() {
                    counts[r as usize].fetch_add(1, Ordering::Relaxed);
                    if in_mask(c, i) {
                        masked[r as usize].fetch_add(1, Ordering::Relaxed);
                    }
                }
                Ok::<_, Error>(())
            })?;
        let plain = |v: Vec<AtomicU64>| v.into_iter().map(AtomicU64::into_inner).collect();
        (plain(counts), plain(masked))
    };
    Ok((counts, masked))
}
