//! Suffix-array construction by induced sorting (SA-IS: Nong, Zhang & Chan, "Two efficient
//! algorithms for linear time suffix array construction", IEEE Trans. Computers 2011), as
//! engineered in Grebnov's libsais (Apache-2.0, bundled and built by the `libsais-sys`
//! crate with OpenMP): linear time, and about the suffix array itself as working memory.
//!
//! libsais sorts 16-bit symbols directly and 32-bit ones given the alphabet size, so the ids
//! are first remapped to dense ranks (the n-gram counter's remap, [`crate::ngram::vocab`]):
//! ranks keep the order of the ids and put the separator first, so the array sorts the
//! suffixes as [`super::text`] compares them. `u16` tokens without a separator that use every
//! id up to the largest are sorted in place. Entries are 32-bit: libsais's 32-bit interface
//! takes up to 2^31 - 1 symbols.

use std::sync::atomic::{AtomicU64, Ordering};

use libsais_sys::{libsais, libsais16};

use crate::control::Control;
use crate::error::{Error, Result};
use crate::ngram::vocab::{self, IdRank, Ranks};
use crate::tokens::Token;

/// The most tokens an index holds (libsais's 32-bit interface, less its extra space).
pub const MAX_TOKENS: usize = i32::MAX as usize - (1 << 20);

/// Extra space handed to libsais for large alphabets: it asks for 4k-6k entries (k the
/// alphabet size) for its best speed; capped so the extra stays small beside the array.
fn extra_space(alphabet: usize) -> usize {
    (6 * alphabet).min(1 << 20)
}

/// The suffix array of `tokens` (of their reversal when `reversed`), in the order of
/// [`super::text`]. Runs in the caller's thread pool; `progress` is told of tokens remapped.
///
/// # Errors
/// A negative id, more than [`MAX_TOKENS`] tokens, an unmet memory limit, cancellation, or
/// a failure inside libsais.
pub(crate) fn suffix_array<T: Token>(
    tokens: &[T],
    separator: Option<u64>,
    reversed: bool,
    limit: Option<usize>,
    ctl: &Control<'_>,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Vec<u32>> {
    let n = tokens.len();
    if n > MAX_TOKENS {
        return Err(Error::Invalid(format!(
            "{n} tokens is more than the suffix index takes ({MAX_TOKENS}): its suffix array \
             has 32-bit entries; split the corpus"
        )));
    }
    let vocab = vocab::remap(
        tokens,
        &vocab::Pass {
            separator,
            mask: None,
            ctl,
            limit,
            progress,
        },
    )?;
    ctl.check()?;
    if n == 0 {
        return Ok(Vec::new());
    }
    let threads = rayon::current_num_threads() as i32;
    let alphabet = vocab.distinct() + 1;
    let mut sa: Vec<u32>;
    let code = match vocab.ranks {
        Ranks::Narrow(mut ranks) => {
            let ranks = ranks.as_mut_slice();
            if reversed {
                ranks.reverse();
            }
            sa = vec![0; n];
            sort16(ranks, &mut sa, threads)
        }
        Ranks::Ids16(ids) if !reversed => {
            sa = vec![0; n];
            sort16(IdRank::ids(ids), &mut sa, threads)
        }
        Ranks::Ids16(ids) => {
            let ids: Vec<u16> = IdRank::ids(ids).iter().rev().copied().collect();
            sa = vec![0; n];
            sort16(&ids, &mut sa, threads)
        }
        Ranks::Ids32(ids) => {
            // Only ids below 2^16 are read in place as ranks.
            let narrow = |&id: &u32| id as u16;
            let ids: Vec<u16> = if reversed {
                IdRank::ids(ids).iter().rev().map(narrow).collect()
            } else {
                IdRank::ids(ids).iter().map(narrow).collect()
            };
            sa = vec![0; n];
            sort16(&ids, &mut sa, threads)
        }
        Ranks::Wide(mut ranks) => {
            let ranks = ranks.as_mut_slice();
            if reversed {
                ranks.reverse();
            }
            let fs = extra_space(alphabet);
            sa = vec![0; n + fs];
            // SAFETY: ranks are below `alphabet` <= n + 1 < 2^31, so they are valid
            // non-negative i32s in the same memory; `sa` holds n + fs entries; libsais
            // restores the text before it returns.
            let code = unsafe {
                libsais::libsais_int_omp(
                    ranks.as_mut_ptr().cast::<i32>(),
                    sa.as_mut_ptr().cast::<i32>(),
                    n as i32,
                    alphabet as i32,
                    fs as i32,
                    threads,
                )
            };
            sa.truncate(n);
            sa.shrink_to_fit();
            code
        }
    };
    if code != 0 {
        return Err(Error::Invalid(format!(
            "suffix-array construction failed inside libsais (code {code}) on {n} tokens"
        )));
    }
    ctl.check()?;
    Ok(sa)
}

/// libsais on 16-bit symbols into `sa` (as long as `text`).
fn sort16(text: &[u16], sa: &mut [u32], threads: i32) -> i32 {
    debug_assert_eq!(text.len(), sa.len());
    // SAFETY: `text` and `sa` hold n entries each (n < 2^31, checked by the caller); libsais
    // writes suffix positions 0..n, valid as u32.
    unsafe {
        libsais16::libsais16_omp(
            text.as_ptr(),
            sa.as_mut_ptr().cast::<i32>(),
            text.len() as i32,
            0,
            std::ptr::null_mut(),
            threads,
        )
    }
}

/// Counts tokens remapped, for progress reports from inside the remap.
pub(crate) struct Remapped(pub AtomicU64);

impl Remapped {
    pub fn add(&self, n: u64) -> u64 {
        self.0.fetch_add(n, Ordering::Relaxed) + n
    }
}
