//! How a long call runs: on how many threads, how it is cancelled, where its progress goes.
//!
//! The rule every long call of the core follows: it takes one [`Control`], does its work in
//! chunks small enough that one takes well under a second, calls [`Control::check`] between
//! chunks (returning [`Error::Cancelled`] as soon as the caller's flag is set), reports
//! `(done, total)` through [`Control::report`] in increasing order, and runs its parallel
//! parts inside [`Control::run`], so the caller's thread count is obeyed; its result is the
//! same bits for any thread count. Work with no parallel part (one random stream, one
//! running sum) still checks and reports between chunks. The core never polls anything
//! itself: a caller (the Python binding, through `run::detached`) owns the flag and the
//! callback and sets the flag from wherever it learns of an interrupt.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::error::{Error, Result};

/// The most worker threads a call may ask for. Far more than any machine has cores; it only
/// stops a typo (`threads=10**6`) from starting a million OS threads that never finish
/// starting.
pub const MAX_THREADS: usize = 1024;

/// Threads, cancellation and progress of one long call. `Default`: all cores, never
/// cancelled, no progress.
#[derive(Clone, Copy, Default)]
pub struct Control<'a> {
    /// Worker threads; `None` uses all cores.
    pub threads: Option<usize>,
    /// When set, the work stops at its next chunk with [`Error::Cancelled`].
    pub cancel: Option<&'a AtomicBool>,
    /// Called with `(done, total)` in the work's own units, `done` never decreasing.
    pub progress: Option<&'a (dyn Fn(u64, u64) + Sync)>,
}

impl Control<'_> {
    /// A control with `threads` workers and neither cancellation nor progress.
    pub fn with_threads(threads: Option<usize>) -> Self {
        Self {
            threads,
            ..Self::default()
        }
    }

    /// `Err(Cancelled)` once the caller's flag is set.
    ///
    /// # Errors
    /// [`Error::Cancelled`].
    #[inline]
    pub fn check(&self) -> Result<()> {
        match self.cancel {
            Some(flag) if flag.load(Ordering::Relaxed) => Err(Error::Cancelled),
            _ => Ok(()),
        }
    }

    /// Reports `done` of `total` units of work to the caller, if it asked.
    #[inline]
    pub fn report(&self, done: u64, total: u64) {
        if let Some(f) = self.progress {
            f(done, total);
        }
    }

    /// The thread count to use: `threads` checked against `1..=MAX_THREADS`, or the number
    /// of cores.
    ///
    /// # Errors
    /// A count of 0 or above [`MAX_THREADS`].
    pub fn thread_count(&self) -> Result<usize> {
        match self.threads {
            None => Ok(rayon::current_num_threads()),
            Some(t) if (1..=MAX_THREADS).contains(&t) => Ok(t),
            Some(t) => Err(Error::Invalid(format!(
                "threads = {t} is out of range: give 1..={MAX_THREADS}, or None for all cores"
            ))),
        }
    }

    /// Runs `work` so that rayon's parallel iterators inside it use exactly the threads asked
    /// for: in a pool of that many threads for `Some(threads)` (the last one built is kept,
    /// so a run of calls with the same count starts its threads once), in the current pool
    /// (rayon's global one, all cores, from outside any pool) for `None`.
    ///
    /// # Errors
    /// A bad thread count, a pool that cannot start, or whatever `work` returns.
    pub fn run<R: Send>(&self, work: impl FnOnce() -> Result<R> + Send) -> Result<R> {
        if self.threads.is_none() {
            return work();
        }
        pool(self.thread_count()?)?.install(work)
    }
}

/// The pool of the last `Some(threads)` call. One pool only: calls that alternate counts
/// rebuild, but idle threads never pile up (a dropped pool's threads exit).
static LAST_POOL: Mutex<Option<(usize, Arc<rayon::ThreadPool>)>> = Mutex::new(None);

/// A pool of `threads` workers, reused from the last call when the count is the same.
fn pool(threads: usize) -> Result<Arc<rayon::ThreadPool>> {
    let mut last = LAST_POOL.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((n, pool)) = last.as_ref() {
        if *n == threads {
            return Ok(Arc::clone(pool));
        }
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::Invalid(format!("cannot start {threads} threads: {e}")))?;
    let pool = Arc::new(pool);
    *last = Some((threads, Arc::clone(&pool)));
    Ok(pool)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_follows_the_flag() {
        let flag = AtomicBool::new(false);
        let ctl = Control {
            cancel: Some(&flag),
            ..Control::default()
        };
        assert_eq!(ctl.check(), Ok(()));
        flag.store(true, Ordering::Relaxed);
        assert_eq!(ctl.check(), Err(Error::Cancelled));
        assert_eq!(Control::default().check(), Ok(()));
    }

    #[test]
    fn run_uses_the_threads_asked_for() {
        for t in [1, 3] {
            let n = Control::with_threads(Some(t))
                .run(|| Ok(rayon::current_num_threads()))
                .unwrap();
            assert_eq!(n, t);
        }
    }

    #[test]
    fn thread_counts_out_of_range_are_refused() {
        for t in [0, MAX_THREADS + 1, usize::MAX] {
            let err = Control::with_threads(Some(t)).run(|| Ok(())).unwrap_err();
            assert!(err.to_string().contains("out of range"), "{err}");
        }
    }

    #[test]
    fn report_reaches_the_callback() {
        let seen = std::sync::Mutex::new(Vec::new());
        let record = |d, t| seen.lock().unwrap().push((d, t));
        let ctl = Control {
            progress: Some(&record),
            ..Control::default()
        };
        ctl.report(1, 4);
        ctl.report(4, 4);
        Control::default().report(9, 9);
        assert_eq!(*seen.lock().unwrap(), vec![(1, 4), (4, 4)]);
    }
}
