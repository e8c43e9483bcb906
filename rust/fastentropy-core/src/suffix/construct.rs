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

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use libsais_sys::{libsais, libsais16};

use super::store::Store;
use crate::control::Control;
use crate::error::{Error, Result};
use crate::ngram::buffer::KeyBuf;
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
) -> Result<Store<u32>> {
    let n = tokens.len();
    if n > MAX_TOKENS {
        return Err(Error::Invalid(format!(
            "{n} tokens is more than the suffix index takes ({MAX_TOKENS}): its suffix array \
             has 32-bit entries; split the corpus"
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
        return Ok(Store::Owned(Vec::new()));
    }
    let threads = rayon::current_num_threads() as i32;
    let alphabet = vocab.distinct() + 1;
    // The sort runs on a thread of its own that owns its text, so that the caller can leave
    // it on Ctrl-C: ids read in place are copied (2 bytes/token, less than the LCP's peak).
    let sa = match vocab.ranks {
        Ranks::Narrow(mut ranks) => {
            if reversed {
                ranks.as_mut_slice().reverse();
            }
            let sa = KeyBuf::new(n, limit)?;
            background(n, sa, ctl, move |sa| sort16(ranks.as_slice(), sa, threads))?
        }
        Ranks::Ids16(ids) => {
            let ids = IdRank::ids(ids);
            let ids: Vec<u16> = if reversed {
                ids.iter().rev().copied().collect()
            } else {
                ids.to_vec()
            };
            let sa = KeyBuf::new(n, limit)?;
            background(n, sa, ctl, move |sa| sort16(&ids, sa, threads))?
        }
        Ranks::Ids32(ids) => {
            // Only ids below 2^16 are read in place as ranks.
            let narrow = |&id: &u32| id as u16;
            let ids: Vec<u16> = if reversed {
                IdRank::ids(ids).iter().rev().map(narrow).collect()
            } else {
                IdRank::ids(ids).iter().map(narrow).collect()
            };
            let sa = KeyBuf::new(n, limit)?;
            background(n, sa, ctl, move |sa| sort16(&ids, sa, threads))?
        }
        Ranks::Wide(mut ranks) => {
            if reversed {
                ranks.as_mut_slice().reverse();
            }
            let fs = extra_space(alphabet);
            let sa = KeyBuf::new(n + fs, limit)?;
            background(n, sa, ctl, move |sa| {
                let ranks = ranks.as_mut_slice();
                // SAFETY: ranks are below `alphabet` <= n + 1 < 2^31, so they are valid
                // non-negative i32s in the same memory; `sa` holds n + fs entries; libsais
                // restores the text before it returns.
                unsafe {
                    libsais::libsais_int_omp(
                        ranks.as_mut_ptr().cast::<i32>(),
                        sa.as_mut_ptr().cast::<i32>(),
                        n as i32,
                        alphabet as i32,
                        (sa.len() - n) as i32,
                        threads,
                    )
                }
            })?
        }
    };
    Ok(Store::Buf(sa, n))
}

/// libsais on 16-bit symbols into the first `text.len()` entries of `sa`.
fn sort16(text: &[u16], sa: &mut [u32], threads: i32) -> i32 {
    assert!(text.len() <= sa.len());
    // SAFETY: `text` holds n entries and `sa` at least n (n < 2^31, checked by the caller);
    // libsais writes suffix positions 0..n, valid as u32.
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
/// own, which owns the text (inside `sort`) and the array. The caller waits, checking for
/// cancellation every [`POLL`]; when cancelled it returns at once and the thread, left
/// running, frees both buffers when the sort ends ([`background_sorts`] counts it until
/// then). Progress is not reported during the sort: libsais gives none.
fn background(
    n: usize,
    mut sa: KeyBuf<u32>,
    ctl: &Control<'_>,
    sort: impl FnOnce(&mut [u32]) -> i32 + Send + 'static,
) -> Result<KeyBuf<u32>> {
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
        let code = sort(sa.as_mut_slice());
        // The text went with `sort`; the array goes with a failed send (no one is waiting).
        drop(tx.send((sa, code)));
    };
    let thread = std::thread::Builder::new()
        .name("fastentropy-sais".into())
        .spawn(job)
        .map_err(|e| Error::Invalid(format!("cannot start the suffix-sort thread: {e}")))?;
    let (sa, code) = loop {
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
    Ok(sa)
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
