//! Suffix-array construction by induced sorting (SA-IS: Nong, Zhang & Chan, "Two efficient
//! algorithms for linear time suffix array construction", IEEE Trans. Computers 2011), as
//! engineered in Grebnov's libsais (Apache-2.0, bundled and built by the `libsais-sys`
//! crate with OpenMP): linear time, and about the suffix array itself as working memory.
//!
//! libsais sorts 16-bit symbols directly and 32-bit ones given the alphabet size, so the ids
//! are first remapped to dense ranks (the n-gram counter's remap, [`crate::ngram::vocab`]):
//! ranks keep the order of the ids and put the separator first, so the array sorts the
//! suffixes as [`super::text`] compares them. Entries are 32-bit below
//! [`MAX_NARROW_TOKENS`] (libsais's 32-bit interface takes up to 2^31 - 1 symbols) and 64-bit
//! beyond (libsais16x64 for 16-bit ranks, libsais64 on ranks widened to 64 bits for larger
//! alphabets).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use libsais_sys::{libsais, libsais16, libsais16x64, libsais64};
use rayon::prelude::*;

use super::bucket::{self, Neighbours, Sorted};
use super::store::{Entry, Sa, Store};
use super::CHUNK;
use crate::control::Control;
use crate::error::{Error, Result};
use crate::ngram::buffer::{KeyBuf, Zeroed};
use crate::ngram::vocab::{self, IdRank, Ranks};
use crate::tokens::Token;

/// The most tokens an index with 32-bit entries holds (libsais's 32-bit interface, less its
/// extra space); longer texts get 64-bit entries.
pub const MAX_NARROW_TOKENS: usize = i32::MAX as usize - (1 << 20);

/// Extra space handed to libsais for large alphabets: it asks for 4k-6k entries (k the
/// alphabet size) for its best speed; capped so the extra stays small beside the array.
fn extra_space(alphabet: usize) -> usize {
    (6 * alphabet).min(1 << 20)
}

/// The text handed to the sort, owned: 16-bit symbols (the remap's ranks, or ids copied),
/// or 32-bit ranks. Both in buffers advised onto huge pages: the sort reads them at random.
enum Symbols {
    Narrow(KeyBuf<u16>),
    Ranks(KeyBuf<u32>),
}

/// Ids below 2^16 copied as the sort's 16-bit text (reversed when `reversed`), in parallel
/// into a huge-page buffer: induced sorting reads the text at random, and 4 KiB pages cost
/// a TLB miss nearly every read.
fn narrow_copy<U: Copy + Into<u32> + Sync>(
    ids: &[U],
    reversed: bool,
    limit: Option<usize>,
    ctl: &Control<'_>,
) -> Result<KeyBuf<u16>> {
    let n = ids.len();
    let mut text = KeyBuf::<u16>::new(n, limit)?;
    text.as_mut_slice()
        .par_chunks_mut(CHUNK)
        .enumerate()
        .try_for_each(|(c, out)| {
            ctl.check()?;
            let first = c * CHUNK;
            // Ids here are below 2^16: they were counted per id.
            if reversed {
                for (k, o) in out.iter_mut().enumerate() {
                    *o = ids[n - 1 - (first + k)].into() as u16;
                }
            } else {
                for (o, &id) in out.iter_mut().zip(&ids[first..]) {
                    *o = id.into() as u16;
                }
            }
            Ok(())
        })?;
    Ok(text)
}

/// The text a sort ran on, handed back for the LCP: ranks (or ids) in buffers on huge pages,
/// where random reads cost a cache miss and no page walk (the caller's tokens are often a
/// file mapped in 4 KiB pages: an LCP pass over them was 3x slower). `separator` is what a
/// separator became in them (rank 0), if the text holds any.
pub(crate) struct SortText {
    pub symbols: SortSymbols,
    pub separator: Option<u64>,
    /// The LCP bytes the bucket sort found beside the array, if it finished with room for
    /// them.
    pub neighbours: Option<Neighbours>,
}

/// The symbols of a [`SortText`], as wide as the sort needed them.
pub(crate) enum SortSymbols {
    U16(KeyBuf<u16>),
    U32(KeyBuf<u32>),
    U64(KeyBuf<u64>),
    /// No text (an empty input).
    Empty,
}

/// The suffix array of `tokens` (of their reversal when `reversed`), in the order of
/// [`super::text`], with 64-bit entries when `wide`, and the text it was sorted on (in the
/// same order: reversed when `reversed`). Runs in the caller's thread pool; `progress` is
/// told of tokens remapped.
///
/// # Errors
/// A negative id, an unmet memory limit, cancellation, or a failure inside libsais.
pub(crate) fn suffix_array<T: Token>(
    tokens: &[T],
    separator: Option<u64>,
    reversed: bool,
    wide: bool,
    limit: Option<usize>,
    ctl: &Control<'_>,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(Sa, SortText)> {
    let n = tokens.len();
    if n > MAX_NARROW_TOKENS && !wide {
        return Err(Error::Invalid(format!(
            "{n} tokens need 64-bit suffix-array entries"
        )));
    }
    wait_for_orphans(ctl)?;
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
        let sa = if wide {
            Sa::Wide(Store::Owned(Vec::new()))
        } else {
            Sa::Narrow(Store::Owned(Vec::new()))
        };
        let text = SortText {
            symbols: SortSymbols::Empty,
            separator: None,
            neighbours: None,
        };
        return Ok((sa, text));
    }
    // Remapped ranks put a separator at 0; ids read as their own ranks hold none.
    let separator = separator.and(match vocab.ranks {
        Ranks::Narrow(_) | Ranks::Wide(_) => Some(0),
        Ranks::Ids16(_) | Ranks::Ids32(_) => None,
    });
    let threads = rayon::current_num_threads();
    let alphabet = vocab.distinct() + 1;
    // The sort runs on a thread of its own that owns its text, so that the caller can leave
    // it on Ctrl-C: ids read in place are copied (2 bytes/token, less than the LCP's peak).
    let symbols = match vocab.ranks {
        Ranks::Narrow(mut ranks) => {
            if reversed {
                ranks.as_mut_slice().reverse();
            }
            Symbols::Narrow(ranks)
        }
        Ranks::Ids16(ids) => Symbols::Narrow(narrow_copy(IdRank::ids(ids), reversed, limit, ctl)?),
        // Only ids below 2^16 are read in place as ranks.
        Ranks::Ids32(ids) => Symbols::Narrow(narrow_copy(IdRank::ids(ids), reversed, limit, ctl)?),
        Ranks::Wide(mut ranks) => {
            if reversed {
                ranks.as_mut_slice().reverse();
            }
            Symbols::Ranks(ranks)
        }
    };
    let sort = Sort {
        n,
        alphabet,
        separator: separator.map(|s| s as usize),
        threads,
        limit,
    };
    let (sa, symbols, neighbours) = if wide {
        let (sa, text, lcp) = sort.run(symbols, ctl)?;
        (Sa::Wide(Store::Buf(sa, n)), text, lcp)
    } else {
        let (sa, text, lcp) = sort.run(symbols, ctl)?;
        (Sa::Narrow(Store::Buf(sa, n)), text, lcp)
    };
    Ok((
        sa,
        SortText {
            symbols,
            separator,
            neighbours,
        },
    ))
}

/// One sort's sizes: `n` symbols, ranks below `alphabet`, on `threads`, within `limit`.
struct Sort {
    n: usize,
    /// What the symbols stay below: ranks, or ids read as ranks (every id up to the largest
    /// is seen, so they are below it too).
    alphabet: usize,
    /// The separator's symbol, if the text may hold one.
    separator: Option<usize>,
    threads: usize,
    limit: Option<usize>,
}

impl Sort {
    /// The suffix array of `symbols`, with entries of `E`'s width, by leading tokens
    /// ([`bucket`], with the LCP bytes if it found them) or else sorted on a thread of its
    /// own ([`background`]).
    fn run<E: Sais>(
        &self,
        symbols: Symbols,
        ctl: &Control<'_>,
    ) -> Result<(KeyBuf<E>, SortSymbols, Option<Neighbours>)> {
        let Self {
            n,
            alphabet,
            separator,
            threads,
            limit,
        } = *self;
        let limits = &bucket::Limits::AUTO;
        match symbols {
            Symbols::Narrow(text) => {
                let mut sa = KeyBuf::new(n, limit)?;
                let t = text.as_slice();
                let head = sa.as_mut_slice();
                if let Sorted::Done(lcp) =
                    bucket::sort(t, alphabet, separator, head, limits, limit, ctl)?
                {
                    return Ok((sa, SortSymbols::U16(text), lcp));
                }
                let (sa, text) = background(n, sa, ctl, move |sa| {
                    let t = text.as_slice();
                    assert!(t.len() == n && n <= sa.len());
                    (E::sort16(t, sa, threads), SortSymbols::U16(text))
                })?;
                Ok((sa, text, None))
            }
            Symbols::Ranks(ranks) => {
                let fs = extra_space(alphabet);
                let mut sa = KeyBuf::new(n + fs, limit)?;
                let t = ranks.as_slice();
                let head = &mut sa.as_mut_slice()[..n];
                if let Sorted::Done(lcp) =
                    bucket::sort(t, alphabet, separator, head, limits, limit, ctl)?
                {
                    return Ok((sa, SortSymbols::U32(ranks), lcp));
                }
                let mut text = E::rank_text(ranks, limit, ctl)?;
                let (sa, text) = background(n, sa, ctl, move |sa| {
                    let t = text.as_mut_slice();
                    assert!(t.len() == n && sa.len() == n + fs);
                    (
                        E::sort_ranks(t, sa, alphabet, fs, threads),
                        E::symbols(text),
                    )
                })?;
                Ok((sa, text, None))
            }
        }
    }
}

/// libsais's interface for suffix-array entries of one width: 32-bit (up to 2^31 - 1
/// symbols) or 64-bit.
trait Sais: Entry + Send + 'static {
    /// The integer text of the rank sort: the ranks themselves (32-bit), or widened to
    /// 64 bits (libsais64 takes no narrower integer text).
    type Int: Zeroed + Send + 'static;

    /// Sorts the suffixes of `text` into `sa[..text.len()]`; libsais's return code.
    fn sort16(text: &[u16], sa: &mut [Self], threads: usize) -> i64;

    /// The rank sort's text from the 32-bit ranks, which are freed before it returns.
    ///
    /// # Errors
    /// An unmet memory limit, or cancellation.
    fn rank_text(
        ranks: KeyBuf<u32>,
        limit: Option<usize>,
        ctl: &Control<'_>,
    ) -> Result<KeyBuf<Self::Int>>;

    /// The rank text handed back after the sort.
    fn symbols(text: KeyBuf<Self::Int>) -> SortSymbols;

    /// Sorts the suffixes of `text` (ranks below `alphabet`, restored before it returns)
    /// into `sa`, `fs` entries longer than the text (libsais's extra space); the return code.
    fn sort_ranks(
        text: &mut [Self::Int],
        sa: &mut [Self],
        alphabet: usize,
        fs: usize,
        threads: usize,
    ) -> i64;
}

impl Sais for u32 {
    type Int = u32;

    fn sort16(text: &[u16], sa: &mut [u32], threads: usize) -> i64 {
        let n = text.len();
        assert!(n <= MAX_NARROW_TOKENS && n <= sa.len());
        // SAFETY: `text` holds n entries and `sa` at least n (n < 2^31, checked above);
        // libsais writes suffix positions 0..n, valid as u32.
        i64::from(unsafe {
            libsais16::libsais16_omp(
                text.as_ptr(),
                sa.as_mut_ptr().cast::<i32>(),
                n as i32,
                0,
                std::ptr::null_mut(),
                threads as i32,
            )
        })
    }

    fn rank_text(ranks: KeyBuf<u32>, _: Option<usize>, _: &Control<'_>) -> Result<KeyBuf<u32>> {
        Ok(ranks)
    }

    fn symbols(text: KeyBuf<u32>) -> SortSymbols {
        SortSymbols::U32(text)
    }

    fn sort_ranks(
        text: &mut [u32],
        sa: &mut [u32],
        alphabet: usize,
        fs: usize,
        threads: usize,
    ) -> i64 {
        let n = text.len();
        assert!(n <= MAX_NARROW_TOKENS && alphabet <= n + 1 && sa.len() == n + fs);
        // SAFETY: ranks are below `alphabet` <= n + 1 < 2^31, so they are valid non-negative
        // i32s in the same memory; `sa` holds n + fs entries; libsais restores the text
        // before it returns.
        i64::from(unsafe {
            libsais::libsais_int_omp(
                text.as_mut_ptr().cast::<i32>(),
                sa.as_mut_ptr().cast::<i32>(),
                n as i32,
                alphabet as i32,
                fs as i32,
                threads as i32,
            )
        })
    }
}

impl Sais for u64 {
    type Int = u64;

    fn sort16(text: &[u16], sa: &mut [u64], threads: usize) -> i64 {
        let n = text.len();
        assert!(n <= sa.len());
        // SAFETY: `text` holds n entries and `sa` at least n (n < 2^63); libsais writes
        // suffix positions 0..n, valid as u64.
        unsafe {
            libsais16x64::libsais16x64_omp(
                text.as_ptr(),
                sa.as_mut_ptr().cast::<i64>(),
                n as i64,
                0,
                std::ptr::null_mut(),
                threads as i64,
            )
        }
    }

    fn rank_text(
        ranks: KeyBuf<u32>,
        limit: Option<usize>,
        ctl: &Control<'_>,
    ) -> Result<KeyBuf<u64>> {
        let mut text = KeyBuf::<u64>::new(ranks.as_slice().len(), limit)?;
        text.as_mut_slice()
            .par_chunks_mut(CHUNK)
            .zip(ranks.as_slice().par_chunks(CHUNK))
            .try_for_each(|(out, r)| {
                ctl.check()?;
                out.iter_mut().zip(r).for_each(|(o, &r)| *o = u64::from(r));
                Ok(())
            })?;
        Ok(text)
    }

    fn symbols(text: KeyBuf<u64>) -> SortSymbols {
        SortSymbols::U64(text)
    }

    fn sort_ranks(
        text: &mut [u64],
        sa: &mut [u64],
        alphabet: usize,
        fs: usize,
        threads: usize,
    ) -> i64 {
        let n = text.len();
        assert!(alphabet <= n + 1 && sa.len() == n + fs);
        // SAFETY: ranks are below `alphabet` <= n + 1 < 2^63, valid non-negative i64s in
        // the same memory; `sa` holds n + fs entries; libsais restores the text before it
        // returns.
        unsafe {
            libsais64::libsais64_long_omp(
                text.as_mut_ptr().cast::<i64>(),
                sa.as_mut_ptr().cast::<i64>(),
                n as i64,
                alphabet as i64,
                fs as i64,
                threads as i64,
            )
        }
    }
}

/// Sorts running, and those of them whose caller was cancelled and left.
static RUNNING: AtomicUsize = AtomicUsize::new(0);
static ORPHANS: AtomicUsize = AtomicUsize::new(0);

/// How often a caller waiting on a sort checks for cancellation.
const POLL: Duration = Duration::from_millis(20);

/// Suffix sorts running in this process, and how many of them were left by a cancelled
/// caller: those still hold their memory, which goes back to the system when each finishes;
/// a new build waits for them first.
pub fn background_sorts() -> (usize, usize) {
    (
        RUNNING.load(Ordering::SeqCst),
        ORPHANS.load(Ordering::SeqCst),
    )
}

/// Whether a sort's thread has finished, and whether its caller left it.
#[derive(Default)]
struct Fate {
    finished: bool,
    abandoned: bool,
}

/// Drop guard of a sort's thread: marks it finished, and uncounts it if it was left.
struct Finished(Arc<Mutex<Fate>>);

impl Drop for Finished {
    fn drop(&mut self) {
        let mut fate = self.0.lock().unwrap_or_else(|e| e.into_inner());
        fate.finished = true;
        // Running first: once no sort is left, none of them counts as running either.
        RUNNING.fetch_sub(1, Ordering::SeqCst);
        if fate.abandoned {
            ORPHANS.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Runs `sort` (libsais: one call that cannot be interrupted) on `sa` on a thread of its
/// own, which owns the text (inside `sort`, which hands it back with its return code) and
/// the array. The caller waits, checking for
/// cancellation every [`POLL`]; when cancelled it returns at once and the thread, left
/// running, frees both buffers when the sort ends ([`background_sorts`] counts it until
/// then). Progress is not reported during the sort: libsais gives none.
fn background<E: Entry, S: Send + 'static>(
    n: usize,
    mut sa: KeyBuf<E>,
    ctl: &Control<'_>,
    sort: impl FnOnce(&mut [E]) -> (i64, S) + Send + 'static,
) -> Result<(KeyBuf<E>, S)> {
    let fate = Arc::new(Mutex::new(Fate::default()));
    let (tx, rx) = mpsc::channel();
    RUNNING.fetch_add(1, Ordering::SeqCst);
    // Marks the sort finished when dropped: after the sort and its buffers, if it panicked,
    // or if its thread never starts.
    let done = Finished(Arc::clone(&fate));
    let job = move || {
        let _done = done;
        #[cfg(test)]
        super::tests::hold(n);
        let (code, text) = sort(sa.as_mut_slice());
        // The array and text go with a failed send (no one is waiting).
        drop(tx.send((sa, code, text)));
    };
    let thread = std::thread::Builder::new()
        .name("fastentropy-sais".into())
        .spawn(job)
        .map_err(|e| Error::Invalid(format!("cannot start the suffix-sort thread: {e}")))?;
    let (sa, code, text) = loop {
        match rx.recv_timeout(POLL) {
            Ok(done) => {
                // The thread ends right after sending: wait for it, so that it no longer
                // counts as running once this returns.
                drop(thread.join());
                break done;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Err(e) = ctl.check() {
                    let mut fate = fate.lock().unwrap_or_else(|e| e.into_inner());
                    if !fate.finished {
                        fate.abandoned = true;
                        ORPHANS.fetch_add(1, Ordering::SeqCst);
                    }
                    return Err(e);
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(Error::Invalid(
                    "the suffix-sort thread ended without a result (a panic inside it)".into(),
                ))
            }
        }
    };
    if code != 0 {
        return Err(Error::Invalid(format!(
            "suffix-array construction failed inside libsais (code {code}) on {n} tokens"
        )));
    }
    ctl.check()?;
    Ok((sa, text))
}

/// Waits (checking for cancellation) until no cancelled sort is still running, so that
/// memory held by one does not add to a new build's.
fn wait_for_orphans(ctl: &Control<'_>) -> Result<()> {
    while background_sorts().1 > 0 {
        ctl.check()?;
        std::thread::sleep(POLL);
    }
    Ok(())
}

/// Counts tokens remapped, for progress reports from inside the remap.
pub(crate) struct Remapped(pub AtomicU64);

impl Remapped {
    pub fn add(&self, n: u64) -> u64 {
        self.0.fetch_add(n, Ordering::Relaxed) + n
    }
}
