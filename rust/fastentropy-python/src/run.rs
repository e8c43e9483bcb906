//! The one way into long core work from Python.
//!
//! [`detached`] runs the work on a scoped worker thread with the GIL released, while the
//! calling thread waits for it and, every [`POLL`], re-attaches to check for signals (Ctrl-C)
//! and to hand progress to the Python callable. Signals are polled from the calling (main)
//! thread because CPython runs signal handlers only there: `check_signals` on a worker thread
//! is a no-op. A pending exception (Ctrl-C, or one raised by the progress callable) sets the
//! [`Control`]'s cancel flag, the core stops at its next chunk, and the exception is raised in
//! place of the result. Every long call of the bindings goes through here; a call whose input
//! is small enough that the work is known to take far less than [`POLL`] may use [`short`]
//! instead, which spares it the worker thread (what a thread start and hand-back cost is
//! most of a small call's time).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use fastentropy_core::{Control, Result as CoreResult};
use pyo3::prelude::*;

use crate::error::CoreError;

/// How often the waiting thread checks signals and reports progress: often enough that
/// Ctrl-C feels immediate, rarely enough to cost nothing.
const POLL: Duration = Duration::from_millis(100);

/// Runs `work` with the GIL released on a scoped thread, with a [`Control`] of `threads`
/// workers whose cancel flag follows Ctrl-C and whose progress reaches `progress` (called
/// with `(done, total)`). Returns the work's result, or the Python exception that stopped it.
pub fn detached<T, F>(
    py: Python<'_>,
    threads: Option<usize>,
    progress: Option<&Py<PyAny>>,
    work: F,
) -> PyResult<T>
where
    T: Send,
    F: FnOnce(&Control<'_>) -> CoreResult<T> + Send,
{
    let cancel = AtomicBool::new(false);
    let last = Last::default();
    let (result, raised) = with_control(threads, Some(&cancel), &last, |ctl| {
        py.detach(|| {
            let mut raised: Option<PyErr> = None;
            let mut reported: Option<u64> = None;
            // Checks signals, then reports progress if it moved; the first error cancels.
            let mut poll = |finished: bool| {
                if raised.is_some() {
                    return;
                }
                Python::attach(|py| {
                    let outcome = py.check_signals().and_then(|()| {
                        let (d, t) = last.now();
                        let moved = match reported {
                            None => d > 0 || finished,
                            Some(r) => d > r,
                        };
                        match progress {
                            Some(cb) if moved => {
                                reported = Some(d);
                                cb.call1(py, (d, t)).map(drop)
                            }
                            _ => Ok(()),
                        }
                    });
                    if let Err(e) = outcome {
                        cancel.store(true, Ordering::Relaxed);
                        raised = Some(e);
                    }
                });
            };
            let result = std::thread::scope(|scope| {
                let (tx, rx) = mpsc::channel::<()>();
                let worker = scope.spawn(move || {
                    let r = work(ctl);
                    drop(tx);
                    r
                });
                while let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(POLL) {
                    poll(false);
                }
                worker.join()
            });
            if let Ok(Ok(_)) = &result {
                poll(true);
            }
            (result, raised)
        })
    });
    if let Some(e) = raised {
        return Err(e);
    }
    match result {
        Ok(r) => r.map_err(|e| CoreError(e).into()),
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// As [`detached`], for work known to take far less than [`POLL`]: run on the calling thread
/// with the GIL released and no polling (a Ctrl-C is seen by Python as soon as it returns);
/// `progress` hears the last report once, at the end.
pub fn short<T, F>(
    py: Python<'_>,
    threads: Option<usize>,
    progress: Option<&Py<PyAny>>,
    work: F,
) -> PyResult<T>
where
    T: Send,
    F: FnOnce(&Control<'_>) -> CoreResult<T> + Send,
{
    let last = Last::default();
    let result = with_control(threads, None, &last, |ctl| py.detach(|| work(ctl)));
    let result = result.map_err(CoreError)?;
    if let (Some(cb), Some(done)) = (progress, last.last()) {
        cb.call1(py, done)?;
    }
    Ok(result)
}

/// The work's last progress report, kept for the calling thread to hand to Python.
#[derive(Default)]
struct Last {
    done: AtomicU64,
    total: AtomicU64,
    any: AtomicBool,
}

impl Last {
    fn record(&self, done: u64, total: u64) {
        self.done.store(done, Ordering::Relaxed);
        self.total.store(total, Ordering::Relaxed);
        self.any.store(true, Ordering::Relaxed);
    }

    /// `(done, total)` so far: `(0, 0)` before any report.
    fn now(&self) -> (u64, u64) {
        (
            self.done.load(Ordering::Relaxed),
            self.total.load(Ordering::Relaxed),
        )
    }

    /// The last report, if there was one.
    fn last(&self) -> Option<(u64, u64)> {
        self.any.load(Ordering::Relaxed).then(|| self.now())
    }
}

/// Runs `run` with the [`Control`] both ways in share: `threads` workers, `cancel`, and
/// progress recorded in `last`.
fn with_control<R>(
    threads: Option<usize>,
    cancel: Option<&AtomicBool>,
    last: &Last,
    run: impl FnOnce(&Control<'_>) -> R,
) -> R {
    let record = |d: u64, t: u64| last.record(d, t);
    run(&Control {
        threads,
        cancel,
        progress: Some(&record),
    })
}
